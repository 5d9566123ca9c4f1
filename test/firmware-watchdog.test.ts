// No silent dead interrupt: a started BE that completes no period, or an
// interrupt handler that stops running, is reported in one line naming what
// to check, and again when it recovers (firmware/watchdog.ts). And the
// generic board, whose timer task never fires (as on Espruino's Linux build),
// falls back to setInterval, says so in READY and stats(), and plays.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, openAndStart } from "./support/rig.ts";
import { route } from "../firmware/dpcm/graph.ts";
import { Watchdog, MISSED_PERIODS } from "../firmware/watchdog.ts";
import { irq, irqEntry } from "../firmware/irq.ts";

const env = installEspruinoEnv();
after(() => env.restore());

test("a started BE that completes no period: one WARN naming it and what to check, one OK when it recovers", () => {
  resetFirmwareState();
  env.now = 0;
  const rig = makeRig({ fes: ["a"], periodFrames: 16 }); // 2 ms periods at 8 kHz
  const { card } = rig;
  card.bes[0].checkHint = "DMA1 stream 4";
  irq.handler = () => rig.tick(0);
  const dog = new Watchdog(card, "test task");
  const out: string[] = [];
  const check = (): void => dog.check((l) => out.push(l));
  route(card, rig.fe("a"), card.bes[0], true);
  openAndStart(card, rig.fe("a"));
  check();
  // The handler runs (so the interrupt is alive) but the DMA completes nothing.
  irq.handler = () => {};
  for (let ms = 1; ms <= 4 * MISSED_PERIODS; ms++) {
    env.now += 0.001;
    irqEntry();
    check();
  }
  assert.equal(out.length, 1, out.join("\n"));
  assert.match(out[0], /^WARN be=s0 started but no period completed in \d+ ms \(one is due every 2 ms\): DMA or IRQ trouble\? check DMA1 stream 4$/);
  // It says it once, then again only when periods come back.
  irq.handler = () => rig.tick(0);
  env.now += 0.001;
  irqEntry();
  check();
  assert.equal(out.length, 2);
  assert.match(out[1], /^OK be=s0 completes periods again after \d+ ms$/);
});

test("an interrupt handler that stops running while a BE is started: one WARN for the timer task, not one per BE", () => {
  resetFirmwareState();
  env.now = 0;
  const rig = makeRig({ fes: ["a"], periodFrames: 16 });
  const { card } = rig;
  irq.handler = () => rig.tick(0);
  const dog = new Watchdog(card, "timer task every 1 ms");
  const out: string[] = [];
  route(card, rig.fe("a"), card.bes[0], true);
  openAndStart(card, rig.fe("a"));
  dog.check((l) => out.push(l));
  for (let ms = 1; ms <= 20; ms++) {
    env.now += 0.001;
    dog.check((l) => out.push(l));
  }
  assert.deepEqual(out.length, 1, out.join("\n"));
  assert.match(out[0], /^WARN irq: the interrupt handler has not run for \d+ ms while a BE is started \(timer task every 1 ms\): is the timer task firing\?$/);
  env.now += 0.001;
  irqEntry();
  dog.check((l) => out.push(l));
  assert.equal(out[1], "OK irq: the interrupt handler runs again");
});

test("a handler that throws is reported with what it threw", () => {
  resetFirmwareState();
  env.now = 0;
  const rig = makeRig({ fes: ["a"] });
  irq.handler = () => {
    throw new Error("boom");
  };
  const dog = new Watchdog(rig.card, "t");
  irqEntry();
  const out: string[] = [];
  dog.check((l) => out.push(l));
  assert.deepEqual(out, ["WARN irq: the interrupt handler threw (1 so far): Error: boom"]);
});

test("generic board whose timer task never fires: READY says setInterval and no preemption; it still plays", async () => {
  resetFirmwareState();
  env.now = 0;
  env.take();
  await import("../boards/generic/main.ts");
  assert.deepEqual(env.take(), [], "READY waits to see the timer task fire");
  env.advance(0.04); // the EXEC task is never run: this fake has no hardware timer
  const ready = env.take();
  assert.deepEqual(ready, [
    'READY dpcm-espruino 0.2.0 board=generic espruino=2v29 fes=media,alert bes=line,bt irq="setInterval every 8 ms: the timer task did not fire, so no preemption"',
  ]);
  assert.equal(env.timerTasks[0].removed, true, "the dead timer task is removed");
  env.command("route")("media", "line", true);
  env.command("play")("media", 440);
  env.advance(0.5);
  env.take();
  env.command("stats")();
  const stats = env.take();
  const periods = Number(/periods=(\d+)/.exec(stats.find((l) => l.startsWith("STATS be=line"))!)![1]);
  assert.ok(periods >= 25, "about 31 periods of 16 ms in 0.5 s: " + periods);
  assert.ok(stats.some((l) => /^STATS irq runs=\d+ .* mode="setInterval every 8 ms: the timer task did not fire, so no preemption"$/.test(l)), stats.join("\n"));
  assert.ok(!stats.some((l) => /WARN/.test(l)));
});
