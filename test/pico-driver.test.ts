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
/** Called before every register access of the firmware, with the access's number (from 0) and address. */
let onAccess: ((n: number, address: number, write: boolean) => void) | null = null;
let accesses = 0;

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
  if (onAccess) onAccess(accesses, a, false);
  accesses++;
  s.t += ACCESS_SECONDS;
  sync();
  const p = periph(a);
  return p.read32(a - p.base) >>> 0;
}
/** A register write that costs no time and is not the firmware's (a test setting the scene). */
function poke32Direct(a: number, v: number): void {
  sync();
  const p = periph(a);
  p.write32(a - p.base, v >>> 0);
}
function advance(seconds: number): void {
  s.t += seconds;
  sync();
}

const g = globalThis as unknown as Record<string, unknown>;
g.peek32 = peek;
g.poke32 = (a: number, v: number) => {
  a = a >>> 0;
  if (onAccess) onAccess(accesses, a, true);
  accesses++;
  s.t += ACCESS_SECONDS;
  sync();
  const p = periph(a);
  p.write32(a - p.base, v >>> 0);
};
g.getTime = () => s.t;
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

const logModule = new URL("../firmware/log.ts", import.meta.url).href;
const log = (await import(logModule)) as { ring: { counts: Int32Array }; KIND_NAMES: string[] };
/** Log records of a kind ("late-refill") made so far. */
function logged(kind: string): number {
  const k = log.KIND_NAMES.indexOf(kind);
  assert.ok(k >= 0, `log kind ${kind} exists`);
  return log.ring.counts[k];
}

function fresh(options: { codecAbsent?: boolean } = {}): Board {
  s = new FakeServices();
  m = createPicoModels(s, options);
  tasks = [];
  notFlat = false;
  onAccess = null;
  accesses = 0;
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

test("the interrupt is an EXEC timer task at half the period, re-installed faster for a faster rate; a run with no block ended stops at DMA1_HISR", () => {
  const board = fresh();
  let runs = 0;
  const how = board.startInterrupt(() => runs++);
  assert.match(how, /timer task every 8 ms/);
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].interval, 8);
  const a0 = accesses;
  tasks[0].fn();
  assert.equal(runs, 0, "no TCIF: the handler does not run");
  assert.equal(accesses - a0, 1, "one register read");
  const d = bringUp(board, "spk", 48000);
  assert.equal(tasks.length, 1, "replaced, not added");
  assert.ok(Math.abs(tasks[0].interval - (128 / 48000) * 500) < 1e-9, `interval ${tasks[0].interval}`);
  d.trigger(Cmd.Start);
  advance(1.5 * (128 / 48000));
  tasks[0].fn();
  assert.equal(runs, 1, "a block ended: TCIF set, the handler runs");
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

// ---- issue 10: the driver against ST's reference sequences ---------------------------

const DMA1_HISR = 0x40026004;
const S4CR = 0x40026010 + 0x18 * 4;
const S5CR = 0x40026010 + 0x18 * 5;
const SPI2_BASE = 0x40003800;
const I2SCFGR = 0x1c;
const CR2 = 0x04;
const SR = 0x08;
const TCIF5 = 1 << 11;
const PERIOD = 128 / 8000;

/** Stereo test pattern: every left sample positive, every right one negative. */
function stereoPattern(buf: Int16Array, level = 1000): void {
  for (let i = 0; i < buf.length; i++) buf[i] = i & 1 ? -level : level;
}

/**
 * Fault 1. The poll's completions against the DMA model's block ends, with
 * the poll timer phase-locked to the I2S clock (both from the Pico's crystal):
 * every other poll has a block end placed before its register access number
 * `at`. The elapsed callback does what the card does: it asks for the next
 * buffer and fills it. Returns the periods reported for spk and the real ones.
 */
function phaseLocked(at: number, periods: number): { counted: number; real: number } {
  const board = fresh();
  const d = bringUp(board, "spk");
  let counted = 0;
  const elapsed = (i: number): void => {
    if (i !== 1) return;
    counted++;
    d.nextBuffer().fill(counted);
  };
  d.trigger(Cmd.Start);
  advance(PERIOD / 2);
  const start = m.dma.blockEnds(5);
  for (let p = 0; p < 2 * periods; p++) {
    accesses = 0;
    let placed = p % 2 !== 0;
    onAccess = placed ? null : (n) => {
      if (n === at) placed = m.spi3.finishBlock();
    };
    board.pollCompletions(elapsed);
    onAccess = null;
    if (!placed) m.spi3.finishBlock(); // past the poll's last access: at its end
    advance(0.0075); // under half a period: the placed block ends come before the natural ones
  }
  const pending = peek(DMA1_HISR) & TCIF5 ? 1 : 0;
  return { counted, real: m.dma.blockEnds(5) - start - pending };
}

test("fault 1: a block end between any two register accesses of the poll is counted once (99 periods, phase-locked)", () => {
  const board = fresh();
  const d = bringUp(board, "spk");
  d.trigger(Cmd.Start);
  advance(PERIOD + 0.001);
  accesses = 0;
  board.pollCompletions((i) => i === 1 && void d.nextBuffer());
  const perPoll = accesses;
  assert.ok(perPoll >= 3, `a poll makes ${perPoll} register accesses`);
  for (let at = 0; at <= perPoll; at++) {
    const { counted, real } = phaseLocked(at, 99);
    assert.ok(real >= 98 && real <= 100, `block end at access ${at}: ${real} real periods`);
    assert.equal(counted, real, `block end before access ${at}: counted ${counted} periods for ${real} real ones`);
  }
  assert.deepEqual(s.faults, []);
});

test("fault 2: stop stops the DMA, waits for TXE=1 and BSY=0, then clears I2SE, then TXDMAEN; a restart keeps left and right", () => {
  for (let phase = 0; phase < 8; phase++) {
    const board = fresh();
    const d = bringUp(board, "codec");
    for (const b of d.periodBuffers()) stereoPattern(b);
    d.trigger(Cmd.Start);
    advance(0.003 + (phase / 8) / 8000); // anywhere in a frame
    const writes: Array<[number, number]> = [];
    onAccess = (_n, a, write) => {
      if (write) writes.push([a, s.t]);
    };
    d.trigger(Cmd.Stop);
    onAccess = null;
    const order = writes.map(([a]) => a);
    const enOff = order.indexOf(S4CR);
    const i2seOff = order.indexOf(SPI2_BASE + I2SCFGR);
    const dmaReqOff = order.indexOf(SPI2_BASE + CR2);
    assert.ok(enOff >= 0 && enOff < i2seOff && i2seOff < dmaReqOff, `phase ${phase}: order EN, I2SE, TXDMAEN: ${order.map((a) => a.toString(16))}`);
    assert.deepEqual(s.faults, [], `phase ${phase}`);
    assert.equal(peek(SPI2_BASE + SR) & ((1 << 1) | (1 << 7)), 1 << 1, "TXE=1, BSY=0");
    // Restart: the first frames out are left positive, right negative.
    d.trigger(Cmd.Start);
    const before = m.codec.recorder.samples().length;
    advance(0.004);
    const after = m.codec.recorder.samples().slice(before);
    assert.ok(after.length >= 32, "played again");
    assert.ok(after.every((v, i) => (i & 1 ? v < 0 : v > 0)), `phase ${phase}: left and right kept after the restart`);
    assert.deepEqual(s.faults, [], `phase ${phase} restart`);
  }
});

test("fault 2: pause (and suspend) freezes the hardware position; release resumes it with left and right kept, fault-free", () => {
  for (const [push, release] of [[Cmd.PausePush, Cmd.PauseRelease], [Cmd.Suspend, Cmd.Resume]] as const) {
    for (let phase = 0; phase < 8; phase++) {
      const board = fresh();
      const d = bringUp(board, "codec");
      for (const b of d.periodBuffers()) stereoPattern(b);
      d.trigger(Cmd.Start);
      advance(0.005 + (phase / 8) / 8000);
      d.trigger(push);
      const ndtr = peek(S4CR + 4);
      const ct = peek(S4CR) & (1 << 19);
      const frames = m.spi2.framesSent();
      advance(0.05);
      assert.equal(peek(S4CR + 4), ndtr, "NDTR frozen while paused");
      assert.equal(peek(S4CR) & (1 << 19), ct, "CT frozen while paused");
      assert.equal(m.spi2.framesSent(), frames, "no frames while paused");
      d.trigger(release);
      const before = m.codec.recorder.samples().length;
      advance(0.01);
      const after = m.codec.recorder.samples().slice(before);
      assert.ok(after.length > 100, "resumed");
      assert.ok(after.slice(2).every((v, i) => (i & 1 ? v < 0 : v > 0)), `phase ${phase}: left and right kept after the release`);
      assert.deepEqual(s.faults, [], `command ${push} phase ${phase}`);
    }
  }
});

test("fault 3: the stream is reprogrammed only after EN reads back 0 (stop then start at once, prepare while running)", () => {
  const board = fresh();
  const d = bringUp(board, "codec");
  d.trigger(Cmd.Start);
  advance(0.005);
  d.trigger(Cmd.Stop);
  d.trigger(Cmd.Start);
  advance(0.005);
  assert.equal(d.prepare(params()), "");
  d.trigger(Cmd.Start);
  advance(0.02);
  assert.deepEqual(s.faults, []);
  assert.equal(m.codec.silentReason(), "");
});

test("fault 4: PLLI2S found at another setting is switched off, waited for (PLLI2SRDY = 0), then reprogrammed", () => {
  fresh();
  // Someone else (Espruino, a user's code) left PLLI2S on at N=200, R=2.
  poke32Direct(0x40023884, (2 << 28) | (200 << 6));
  poke32Direct(0x40023800, peek(0x40023800) | (1 << 26));
  advance(0.001);
  const board = createPicoBoard();
  bringUp(board, "spk");
  assert.equal(m.rcc.plli2sN(), 384);
  assert.deepEqual(s.faults, []);
});

test("fault 4: PLLI2S is not reprogrammed under the other port while it streams: prepare refuses with a clear error", () => {
  const board = fresh();
  const spk = bringUp(board, "spk");
  spk.trigger(Cmd.Start);
  advance(0.005);
  // As if something reprogrammed PLLI2S behind the driver's back (the model's register, not the bus).
  (m.rcc as unknown as { regs: Record<number, number> }).regs[0x84] = (2 << 28) | (200 << 6);
  const codec = be(board, "codec");
  assert.equal(codec.startup(), "");
  assert.match(codec.prepare(params()), /^codec: PLLI2S .*I2S3/);
  assert.deepEqual(s.faults, [], "PLLI2S left alone");
  assert.ok(m.spi3.isRunning(), "the speaker still plays");
});

test("fault 5: a period buffer moved by the defragmenter is detected within a period, re-pointed, and logged", () => {
  const board = fresh();
  const d = bringUp(board, "codec");
  let fills = 0;
  const elapsed = (i: number): void => {
    if (i !== 0) return;
    fills++;
    stereoPattern(d.nextBuffer(), 500 + fills);
  };
  for (const b of d.periodBuffers()) stereoPattern(b, 500);
  d.trigger(Cmd.Start);
  advance(0.004);
  // E.defrag(): both buffers move; their old blocks read 0 from now on.
  for (const b of d.periodBuffers()) s.move(b);
  for (let p = 0; p < 8; p++) {
    advance(PERIOD / 2);
    board.pollCompletions(elapsed);
  }
  const out = m.codec.recorder.samples();
  const tail = out.slice(out.length - 256);
  assert.ok(tail.every((v) => v !== 0), "after the re-pointing the DMA plays the buffers where they are now, not the freed blocks");
  assert.ok(logged("buffer-moved") >= 2, "both moves logged");
  assert.deepEqual(s.faults, []);
});

test("fault 6: a refill that ends after its block began is re-checked and logged as late-refill", () => {
  const board = fresh();
  const d = bringUp(board, "codec");
  for (const b of d.periodBuffers()) stereoPattern(b, 100);
  d.trigger(Cmd.Start);
  let slow = false;
  let fills = 0;
  const elapsed = (i: number): void => {
    if (i !== 0) return;
    fills++;
    const b = d.nextBuffer();
    b.fill(fills, 0, b.length / 2);
    if (slow) {
      m.spi2.finishBlock(); // the block ends before the fill is done,
      advance(0.001); // and the DMA reads on while it goes on
    }
    b.fill(fills, b.length / 2);
  };
  const before = logged("late-refill");
  for (let p = 0; p < 4; p++) {
    advance(PERIOD / 2);
    board.pollCompletions(elapsed);
  }
  assert.equal(logged("late-refill"), before, "in time: nothing logged");
  assert.equal(m.dma.rewrittenBlocks(4), 0);
  slow = true;
  for (let p = 0; p < 3 && m.dma.rewrittenBlocks(4) === 0; p++) {
    advance(PERIOD / 2);
    board.pollCompletions(elapsed);
  }
  assert.ok(m.dma.rewrittenBlocks(4) >= 1, "the DMA read a buffer while it was filled");
  assert.ok(logged("late-refill") - before >= m.dma.rewrittenBlocks(4), "each one logged");
  assert.deepEqual(s.faults, []);
});

test("the watchdog's hint names each thing that stops a started port's periods (issue 10, item 5)", () => {
  const breakers: Array<[string, RegExp, () => void]> = [
    ["the stream disabled", /S4CR\.EN/, () => poke32Direct(S4CR, peek(S4CR) & ~1)],
    ["a transfer error", /TEIF4 in DMA1_HISR/, () => poke32Direct(S4CR + 0x0c, 0x10000000)],
    ["the DMA request off", /SPI2 CR2\.TXDMAEN/, () => poke32Direct(SPI2_BASE + CR2, 0)],
    ["the I2S off", /I2SCFGR\.I2SE/, () => poke32Direct(SPI2_BASE + I2SCFGR, peek(SPI2_BASE + I2SCFGR) & ~(1 << 10))],
    ["PLLI2S off", /PLLI2S \(RCC_CR\.PLLI2SRDY\)/, () => poke32Direct(0x40023800, peek(0x40023800) & ~(1 << 26))],
  ];
  for (const [what, named, breakIt] of breakers) {
    const board = fresh();
    const hint = board.backEnds[0].checkHint ?? "";
    assert.match(hint, named, `the hint names ${what}`);
    const d = bringUp(board, "codec");
    d.trigger(Cmd.Start);
    advance(0.02);
    if (what === "a transfer error") {
      // M0AR/M1AR point where no memory is: the stream's next read fails (TEIF) and it stops.
      d.trigger(Cmd.PausePush);
      poke32Direct(S4CR, peek(S4CR) & ~1);
      peek(S4CR);
      peek(S4CR);
      poke32Direct(S4CR + 0x0c, 0x10000000);
      poke32Direct(S4CR + 0x10, 0x10000000);
      poke32Direct(0x4002600c, 0x3d);
      poke32Direct(S4CR, peek(S4CR) | 1);
      d.trigger(Cmd.PauseRelease);
    } else {
      breakIt();
    }
    advance(0.005);
    const ends = m.dma.blockEnds(4);
    advance(0.1);
    assert.equal(m.dma.blockEnds(4), ends, `${what}: no more periods`);
  }
  // A wrong pin silences the output, but the DMA runs on: no period is missed, so the hint does not send the user there.
  assert.doesNotMatch(fresh().backEnds[0].checkHint ?? "", /pins/, "a pin problem does not stop the DMA on the board");
});
