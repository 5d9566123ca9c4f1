// The CPU load meter (firmware/load.ts): the shares of each period spent in
// the interrupt handler and in the main loop's audio work, and the largest.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { CpuLoad } from "../firmware/load.ts";
import { irq, irqEntry } from "../firmware/irq.ts";

const env = installEspruinoEnv();
after(() => env.restore());

test("per period: the handler's share, the audio work's share without the interrupts inside it, and the maxima", () => {
  resetFirmwareState();
  env.now = 0;
  const load = new CpuLoad(0.016);
  // The handler takes 2 ms of each run.
  irq.handler = () => {
    env.now += 0.002;
  };
  // Period 1: two handler runs (4 ms), audio work of 3 ms with one handler run (2 ms) inside it.
  irqEntry();
  env.now += 0.004;
  load.measure(() => {
    env.now += 0.0015;
    irqEntry();
    env.now += 0.0015;
  });
  env.now = 0.016;
  load.close();
  assert.equal(load.windows, 1);
  assert.ok(Math.abs(load.irqLoad - 4 / 16) < 1e-9, "irq " + load.irqLoad);
  assert.ok(Math.abs(load.audioLoad - 3 / 16) < 1e-9, "audio " + load.audioLoad);
  // Period 2: lighter; the maxima keep period 1.
  irqEntry();
  env.now = 0.032;
  load.close();
  assert.ok(Math.abs(load.irqLoad - 2 / 16) < 1e-9);
  assert.equal(load.audioLoad, 0);
  assert.ok(Math.abs(load.irqMax - 4 / 16) < 1e-9);
  assert.ok(Math.abs(load.totalMax - 7 / 16) < 1e-9);
  // A window does not close before a period has passed.
  env.now = 0.04;
  load.close();
  assert.equal(load.windows, 2);
});
