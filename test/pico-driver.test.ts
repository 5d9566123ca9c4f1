// The pico-wm8731 board (boards/pico-wm8731/board.ts and the drivers it builds
// from its wiring, drivers/*: the firmware source itself, run under tsx)
// against the register models: fake Espruino globals
// (peek32/poke32 onto the models, E.getAddressOf, I2C1, digitalWrite,
// require("timer")) stand in for the interpreter. Checks the register
// sequence's outcome: what the models saw, what the outputs played, and the
// errors the driver returns.

import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { FakeServices } from "./support/fake-services.ts";
import { createPicoModels, type PicoModels } from "../emulator/boards/pico-wm8731.ts";
import type { Board } from "../firmware/board.ts";
import { Cmd, type StreamParams } from "../firmware/pcm.ts";
import { CODEC } from "../boards/pico-wm8731/wiring.ts";

interface Task {
  id: number;
  fn: () => void;
  interval: number;
}

/** Virtual time each peek/poke costs: a JavaScript statement on the Pico. */
const ACCESS_SECONDS = 20e-6;

let s: FakeServices;
let m: PicoModels;
let tasks: Task[];
/** Force E.getAddressOf to return 0 (fragmented memory). */
let notFlat = false;

function sync(): void {
  for (const p of m.peripherals) p.advanceTo?.(s.t);
}
function periph(a: number) {
  const p = m.peripherals.find((x) => a >= x.base && a < x.base + x.size);
  if (!p) throw new Error(`firmware touched unmapped 0x${a.toString(16)}`);
  return p;
}
function peek(a: number): number {
  a = a >>> 0;
  s.t += ACCESS_SECONDS;
  sync();
  const p = periph(a);
  return p.read32(a - p.base) >>> 0;
}
function advance(seconds: number): void {
  s.t += seconds;
  sync();
}

const g = globalThis as unknown as Record<string, unknown>;
g.peek32 = peek;
g.poke32 = (a: number, v: number) => {
  a = a >>> 0;
  s.t += ACCESS_SECONDS;
  sync();
  const p = periph(a);
  p.write32(a - p.base, v >>> 0);
};
g.E = { getAddressOf: (v: Int16Array, flat: boolean) => (notFlat && flat ? 0 : s.addressOf(v)) };
g.I2C1 = {
  setup: () => {},
  writeTo: (address: number, data: number[]) => {
    if (address !== 0x1a || !m.codec.write(Uint8Array.from(data))) throw new Error("I2C: no ACK from device 0x" + address.toString(16));
  },
};
for (const p of ["A5", "B6", "B7"]) g[p] = p;
g.pinMode = (pin: string, mode: string) => s.modes.set(pin, mode);
g.digitalWrite = (pin: string, v: boolean | number) => s.drive(pin, !!v);
g.require = (name: string) => {
  if (name !== "timer") throw new Error("no module " + name);
  return {
    add: (o: { fn: () => void; interval: number }) => {
      const id = tasks.length ? tasks[tasks.length - 1].id + 1 : 1;
      tasks.push({ id, fn: o.fn, interval: o.interval });
      return id;
    },
    remove: (id: number) => {
      tasks = tasks.filter((t) => t.id !== id);
    },
  };
};

// Import the firmware source by a computed path: the host type-check must not
// follow it (its globals are Espruino's, declared for the firmware build).
const boardModule = new URL("../boards/pico-wm8731/board.ts", import.meta.url).href;
const { createPicoBoard } = (await import(boardModule)) as { createPicoBoard: () => Board };

function fresh(options: { codecAbsent?: boolean } = {}): Board {
  s = new FakeServices();
  m = createPicoModels(s, options);
  tasks = [];
  notFlat = false;
  return createPicoBoard();
}

beforeEach(() => {
  fresh();
});

function be(board: Board, name: string) {
  const b = board.backEnds.find((x) => x.name === name);
  assert.ok(b, name);
  return b.driver;
}

function params(rate = 8000): StreamParams {
  return { rate, channels: 2, periodFrames: 128 };
}

/** open + hw_params + prepare, each must succeed. */
function bringUp(board: Board, name: string, rate = 8000) {
  const d = be(board, name);
  const p = params(rate);
  assert.equal(d.startup(), "");
  assert.equal(d.hwParams(p), "");
  assert.equal(d.prepare(p), "");
  return d;
}

test("codec: open, hw_params, prepare and start put the period buffers on the WM8731 at 8000 Hz, fault-free", () => {
  const board = fresh();
  const d = bringUp(board, "codec");
  const [first, second] = d.periodBuffers();
  first.fill(1111);
  second.fill(-2222);
  d.trigger(Cmd.Start);
  advance(0.032 + 0.001); // two periods
  assert.deepEqual(s.faults, []);
  assert.equal(m.codec.silentReason(), "");
  const out = m.codec.recorder;
  assert.equal(out.sampleRate(), 8000);
  const played = out.samples();
  assert.ok(out.framesPlayed() >= 256, `played ${out.framesPlayed()}`);
  assert.ok(played.slice(0, 256).every((v) => v === 1111), "M0 first");
  assert.ok(played.slice(256, 512).every((v) => v === -2222), "then M1");
  // The codec setup, in order, each value from the datasheet (see wm8731.ts).
  assert.deepEqual(m.codec.writes, [
    [15, 0x000],
    [6, 0x077],
    [4, 0x012],
    [5, 0x000],
    [7, 0x002],
    [2, 0x179],
    [9, 0x000],
    [8, 0x00d],
    [9, 0x001],
    [6, 0x067],
  ]);
  // Clock tree and link registers.
  assert.equal(m.rcc.plli2sN(), 384);
  assert.equal(m.rcc.plli2sR(), 5);
  assert.equal(m.tim1.ch1Hz(), 12e6);
  assert.equal(peek(0x40003800 + 0x1c), (1 << 11) | (2 << 8) | (1 << 10), "SPI2_I2SCFGR: I2S master TX Philips 16/16, I2SE");
  assert.equal(peek(0x40003800 + 0x20), 150, "SPI2_I2SPR: I2SDIV 150, ODD 0");
  const cr = peek(0x40026010 + 0x18 * 4);
  assert.equal(cr & 0x0ffbffff & ~(1 << 19), ((1 << 18) | (2 << 16) | (1 << 13) | (1 << 11) | (1 << 10) | (1 << 8) | (1 << 6) | 1) & 0x0ffbffff);
  assert.equal(cr >>> 25, 0, "CHSEL 0");
});

test("spk: each supported rate is derived exactly from PLLI2S and I2SPR", () => {
  for (const rate of [8000, 16000, 32000, 48000]) {
    const board = fresh();
    const d = bringUp(board, "spk", rate);
    d.trigger(Cmd.Start);
    advance(0.01);
    assert.equal(m.spi3.sampleRate(), rate, `SPI3 at ${rate}`);
    assert.equal(m.amp.recorder.sampleRate(), rate);
    assert.ok(m.amp.isPlaying());
    assert.deepEqual(s.faults, [], `faults at ${rate}`);
  }
});

test("codec: 8000, 32000 and 48000 Hz play; the WM8731's R8 matches the link each time", () => {
  for (const rate of [8000, 32000, 48000]) {
    const board = fresh();
    const d = bringUp(board, "codec", rate);
    d.trigger(Cmd.Start);
    advance(0.01);
    assert.equal(m.spi2.sampleRate(), rate);
    assert.equal(m.codec.silentReason(), "", `codec at ${rate}`);
    assert.deepEqual(s.faults, []);
  }
});

test("hw_params rejects impossible rates with a clear message and touches nothing", () => {
  const board = fresh();
  const codec = be(board, "codec");
  const spk = be(board, "spk");
  assert.equal(spk.hwParams(params(44100)), "spk: 44100 Hz: PLLI2S (76.8 MHz) cannot make it within 0.1% (nearest 44444 Hz)");
  assert.equal(spk.hwParams(params(11025)), "spk: 11025 Hz: PLLI2S (76.8 MHz) cannot make it within 0.1% (nearest 11009 Hz)");
  assert.match(codec.hwParams(params(16000)), /^codec: 16000 Hz: the WM8731 has no such rate with a 12 MHz MCLK/);
  assert.match(spk.hwParams(params(96000)), /^spk: 96000 Hz: above 48000 Hz/);
  assert.match(spk.hwParams({ rate: 8000, channels: 1, periodFrames: 128 }), /stereo/);
  assert.equal(spk.hwParams(params(16000)), "");
  assert.equal(m.spi3.isRunning(), false);
  assert.deepEqual(s.faults, []);
});

test("codec: open returns an error (no throw) when the WM8731 does not ACK", () => {
  const board = fresh({ codecAbsent: true });
  const err = be(board, "codec").startup();
  assert.match(err, /^codec: WM8731 at 0x1a did not answer on I2C1/);
  assert.match(err, /no ACK/);
});

test("prepare refuses period buffers that are not flat", () => {
  const board = fresh();
  const d = be(board, "spk");
  assert.equal(d.startup(), "");
  notFlat = true;
  assert.match(d.prepare(params()), /^spk: period buffer is not flat/);
});

test("spk: open releases SD_MODE (open-drain high), close pulls it low; sound only in between", () => {
  const board = fresh();
  const d = bringUp(board, "spk");
  assert.equal(s.modes.get("A5"), "opendrain");
  assert.equal(s.levels.get("A5"), true);
  d.periodBuffers()[0].fill(500);
  d.trigger(Cmd.Start);
  advance(0.005);
  const before = m.amp.recorder.framesPlayed();
  assert.ok(before > 0);
  d.shutdown();
  assert.equal(s.levels.get("A5"), false);
  advance(0.005);
  assert.equal(m.amp.recorder.framesPlayed(), before, "shut down");
});

test("nextBuffer is the buffer the DMA is not reading (CT)", () => {
  const board = fresh();
  const d = bringUp(board, "spk");
  const [b0, b1] = d.periodBuffers();
  d.trigger(Cmd.Start);
  advance(0.001);
  assert.equal(d.nextBuffer(), b1, "M0 playing: M1 next");
  advance(0.016);
  assert.equal(d.nextBuffer(), b0, "M1 playing: M0 next");
  advance(0.016);
  assert.equal(d.nextBuffer(), b1);
});

test("pollCompletions reports each completed period once, two when one poll was missed, with latency", () => {
  const board = fresh();
  const d = bringUp(board, "spk");
  d.trigger(Cmd.Start);
  const seen: Array<[number, number]> = [];
  const poll = () => board.pollCompletions((i, lat) => seen.push([i, lat]));
  advance(0.008);
  poll();
  assert.deepEqual(seen, [], "mid-period: nothing");
  advance(0.010); // 18 ms: period 1 ended at 16 ms
  poll();
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], 1, "spk is back end 1");
  assert.ok(Math.abs(seen[0][1] - 0.002) < 0.0005, `latency ${seen[0][1]}`);
  poll();
  assert.equal(seen.length, 1, "flags cleared: not reported again");
  advance(0.032); // periods 2 and 3 end before the next poll
  poll();
  assert.equal(seen.length, 3, "two periods");
  assert.ok(seen[1][1] > seen[2][1] + 0.015, "the older one has the larger latency");
  assert.equal(peek(0x40026004) & (1 << 11), 0, "TCIF5 cleared by the poll");
  d.trigger(Cmd.Stop);
  advance(0.04);
  poll();
  assert.equal(seen.length, 3, "stopping (which sets TCIF) is not a period");
  assert.deepEqual(s.faults, []);
});

test("pause stops the bit clock and release resumes it; stop and hw_free leave no fault", () => {
  const board = fresh();
  const d = bringUp(board, "codec");
  d.trigger(Cmd.Start);
  advance(0.01);
  d.trigger(Cmd.PausePush);
  const frames = m.spi2.framesSent();
  advance(0.02);
  assert.equal(m.spi2.framesSent(), frames, "paused");
  d.trigger(Cmd.PauseRelease);
  advance(0.02);
  assert.ok(m.spi2.framesSent() > frames, "resumed");
  d.trigger(Cmd.Stop);
  assert.equal(m.dma.enabled(4), false);
  assert.equal(m.spi2.isRunning(), false);
  d.hwFree();
  d.shutdown();
  assert.equal(m.codec.register(6), 0xff, "codec powered off");
  assert.equal(m.tim1.ch1Hz(), 0, "MCLK stopped");
  assert.deepEqual(s.faults, []);
  // And it starts again from a clean state.
  assert.equal(d.startup(), "");
  assert.equal(d.prepare(params()), "");
  d.trigger(Cmd.Start);
  advance(0.02);
  assert.equal(m.codec.silentReason(), "");
  assert.deepEqual(s.faults, []);
});

test("both back ends stream at once from the shared PLLI2S, on DMA1 streams 4 and 5", () => {
  const board = fresh();
  const codec = bringUp(board, "codec", 8000);
  const spk = bringUp(board, "spk", 16000);
  codec.trigger(Cmd.Start);
  spk.trigger(Cmd.Start);
  advance(0.05);
  assert.equal(m.spi2.sampleRate(), 8000);
  assert.equal(m.spi3.sampleRate(), 16000);
  assert.ok(m.dma.enabled(4) && m.dma.enabled(5));
  assert.ok(m.codec.recorder.framesPlayed() >= 390);
  assert.ok(m.amp.recorder.framesPlayed() >= 790);
  assert.deepEqual(s.faults, []);
});

test("the interrupt is an EXEC timer task at half the period, re-installed faster for a faster rate", () => {
  const board = fresh();
  let runs = 0;
  const how = board.startInterrupt(() => runs++);
  assert.match(how, /timer task every 8 ms/);
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].interval, 8);
  tasks[0].fn();
  assert.equal(runs, 1);
  bringUp(board, "spk", 48000);
  assert.equal(tasks.length, 1, "replaced, not added");
  assert.ok(Math.abs(tasks[0].interval - (128 / 48000) * 500) < 1e-9, `interval ${tasks[0].interval}`);
});

test("the wiring is shared, the register knowledge is not: a wrong AF number in wiring.ts is a model fault", () => {
  const af = CODEC.i2s.ck.af;
  CODEC.i2s.ck.af = 7; // PB13 carries I2S2_CK on AF5 only
  try {
    const board = fresh();
    const d = bringUp(board, "codec");
    d.trigger(Cmd.Start);
    advance(0.01);
    assert.ok(
      s.faults.some((f) => /PB13 \(I2S2_CK\) selects AF7; I2S2_CK is AF5/.test(f.message)),
      s.faults.map((f) => f.message).join("; ") || "no fault",
    );
    assert.equal(m.codec.recorder.framesPlayed(), 0);
  } finally {
    CODEC.i2s.ck.af = af;
  }
});

test("board and emulator model read the same wiring: I2S2_WS moved to PB12 plays fault-free", () => {
  const pin = CODEC.i2s.ws.pin;
  CODEC.i2s.ws.pin = "B12"; // the other I2S2_WS pin, also AF5 (on the Pico it drives LED2)
  try {
    const board = fresh();
    const d = bringUp(board, "codec");
    d.trigger(Cmd.Start);
    advance(0.01);
    assert.deepEqual(s.faults, []);
    assert.equal(m.gpio.B.mode(12), "alternate");
    assert.equal(m.gpio.B.mode(9), "input", "PB9 untouched");
    assert.equal(m.codec.silentReason(), "");
  } finally {
    CODEC.i2s.ws.pin = pin;
  }
});
