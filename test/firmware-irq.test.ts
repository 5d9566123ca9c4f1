// firmware/irq.ts: critical sections that nest like a saved PRIMASK, and a
// completion that fires while masked runs once, at the outermost restore.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { irq, irqSave, irqRestore, irqSaveAlways, irqEntry, handlerExcluded } from "../firmware/irq.ts";

const env = installEspruinoEnv();
after(() => env.restore());

let runs = 0;
beforeEach(() => {
  resetFirmwareState();
  runs = 0;
  irq.handler = () => {
    runs++;
  };
});

test("a completion while masked is held through the inner restore and runs once at the outermost", () => {
  const outer = irqSave();
  const inner = irqSave();
  assert.equal(outer, false, "the outer save returns the unmasked state");
  assert.equal(inner, true, "the inner save returns the masked state");
  irqEntry();
  irqEntry();
  irqEntry();
  assert.equal(runs, 0, "masked: the handler must not run");
  assert.equal(irq.pending, true);
  irqRestore(inner);
  assert.equal(runs, 0, "the inner restore must not run the held completion");
  assert.equal(irq.masked, true, "the inner restore must leave the section masked");
  irqRestore(outer);
  assert.equal(runs, 1, "three firings while masked run the handler exactly once");
  assert.equal(irq.masked, false);
  assert.equal(irq.pending, false);
  assert.equal(irq.deferredRuns, 1);
  irqEntry();
  assert.equal(runs, 2, "unmasked: a firing runs at once");
  assert.equal(irq.deferredRuns, 1, "an immediate run is not a deferred one");
});

test("three levels of nesting: only the outermost restore unmasks", () => {
  const a = irqSave();
  const b = irqSave();
  const c = irqSave();
  irqEntry();
  irqRestore(c);
  irqRestore(b);
  assert.equal(irq.masked, true);
  assert.equal(runs, 0);
  irqRestore(a);
  assert.equal(runs, 1);
  assert.equal(irq.masked, false);
});

test("the handler runs masked; a section inside it neither unmasks nor re-runs it", () => {
  const seen: boolean[] = [];
  irq.handler = () => {
    runs++;
    seen.push(irq.masked, irq.inHandler, handlerExcluded());
    const was = irqSave();
    irqEntry(); // a completion arriving while the handler runs
    irqRestore(was);
    seen.push(irq.masked);
  };
  irqEntry();
  assert.deepEqual(seen, [true, true, true, true]);
  assert.equal(irq.masked, false);
  assert.equal(irq.inHandler, false);
  assert.equal(handlerExcluded(), false);
});

test("a completion arriving during a deferred run is run before the restore returns", () => {
  irq.handler = () => {
    runs++;
    if (runs === 1) irqEntry(); // the timer task fires while the deferred handler runs in the main loop
  };
  const was = irqSave();
  irqEntry();
  irqRestore(was);
  assert.equal(runs, 2);
  assert.equal(irq.pending, false);
  assert.equal(irq.masked, false);
});

test("unsafe mode: irqSave masks nothing, a completion runs at once", () => {
  irq.unsafe = true;
  const was = irqSave();
  assert.equal(was, false);
  assert.equal(irq.masked, false, "unsafe irqSave must not mask");
  assert.equal(handlerExcluded(), false);
  irqEntry();
  assert.equal(runs, 1, "the handler preempts the unguarded section");
  irqRestore(was);
  assert.equal(runs, 1);
  assert.equal(irq.deferredRuns, 0);
});

test("irqSaveAlways masks even in unsafe mode (the log ring stays guarded)", () => {
  irq.unsafe = true;
  const was = irqSaveAlways();
  assert.equal(irq.masked, true);
  irqEntry();
  assert.equal(runs, 0);
  irqRestore(was);
  assert.equal(runs, 1);
  assert.equal(irq.masked, false);
});

test("a throwing handler is counted and never leaves the mask set", () => {
  irq.handler = () => {
    throw new Error("boom");
  };
  irqEntry();
  assert.equal(irq.masked, false);
  assert.equal(irq.inHandler, false);
  assert.equal(irq.handlerErrors, 1);
  assert.match(String(irq.lastError), /boom/);
});

test("the longest masked time is measured on getTime()", () => {
  env.now = 10;
  const was = irqSave();
  env.now = 10.25;
  irqRestore(was);
  assert.ok(Math.abs(irq.longestMasked - 0.25) < 1e-9, "longestMasked " + irq.longestMasked);
});
