// firmware/log.ts: the interrupt-safe log ring. When full, new records are
// dropped (never overwriting unread ones) and the loss is reported exactly.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { irq, irqEntry, irqSave, irqRestore } from "../firmware/irq.ts";
import { ring, record, raceTotal, Kind, Site, CAPACITY_RECORDS, KIND_NAMES, RACE_KINDS } from "../firmware/log.ts";
import { drain } from "../firmware/log-print.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

const FES = ["media", "alert"];
const BES = ["line", "bt"];
function drainLines(): string[] {
  const lines: string[] = [];
  const n = drain(FES, BES, (line) => lines.push(line));
  assert.equal(n, lines.length, "drain returns the number of lines it printed");
  return lines;
}

test("overflow: LOST n= reports exactly the records dropped; kept records are the oldest, not overwritten", () => {
  const extra = 13;
  const total = CAPACITY_RECORDS + extra;
  for (let i = 0; i < total; i++) record(Kind.Xrun, 0, 1, -1, 0, Site.PeriodWalk, i);
  assert.equal(ring.lost, extra);
  const lines = drainLines();
  assert.equal(lines[0], "LOST n=" + extra);
  assert.equal(lines.length, 1 + CAPACITY_RECORDS);
  const values = lines.slice(1).map((l) => Number(/ n=(\d+)$/.exec(l)?.[1]));
  assert.deepEqual(values, Array.from({ length: CAPACITY_RECORDS }, (_, i) => i), "the first CAPACITY records survive in order");
  assert.equal(ring.counts[Kind.Xrun], total, "per-kind counts include the lost records");
  // The loss is reported once; the ring is usable again.
  record(Kind.Drained, 0, -1, -1, 0, Site.FeAdvance, 7);
  const next = drainLines();
  assert.equal(next.length, 1);
  assert.match(next[0], /^EVT .* kind=drained .* n=7$/);
  assert.deepEqual(drainLines(), []);
});

test("overflow with a partial drain in between: lost counts only what had no room", () => {
  for (let i = 0; i < CAPACITY_RECORDS; i++) record(Kind.Xrun, -1, 0, -1, 0, Site.BeStart, i);
  assert.equal(drainLines().length, CAPACITY_RECORDS);
  for (let i = 0; i < CAPACITY_RECORDS + 1; i++) record(Kind.UseAfterFree, 0, 0, 2, 5, Site.PeriodWalk, 0);
  const lines = drainLines();
  assert.equal(lines[0], "LOST n=1");
  assert.equal(lines.length, CAPACITY_RECORDS + 1);
  assert.equal(ring.counts[Kind.UseAfterFree], CAPACITY_RECORDS + 1);
  assert.equal(raceTotal(), CAPACITY_RECORDS + 1, "raceTotal counts races only, lost ones included");
});

test("RACE line format", () => {
  env.now = 12.3456789;
  record(Kind.UseAfterFree, 0, 1, 3, 7, Site.PeriodWalk, 99);
  const lines = drainLines();
  assert.deepEqual(lines, ["RACE t=12.345679 kind=use-after-free ctx=main fe=media be=bt link=3#7 at=period-walk"]);
});

test("EVT line format, with '-' for absent FE, BE and link", () => {
  env.now = 2;
  record(Kind.Xrun, -1, -1, -1, 0, Site.FeAdvance, 512);
  assert.deepEqual(drainLines(), ["EVT t=2.000000 kind=xrun ctx=main fe=- be=- link=- at=fe-advance n=512"]);
});

test("a record made in the handler says ctx=irq", () => {
  irq.handler = () => record(Kind.PoisonedWalk, 1, 0, -1, 0, Site.TriggerWalk, 0);
  irqEntry();
  assert.deepEqual(drainLines(), ["RACE t=0.000000 kind=poisoned-walk ctx=irq fe=alert be=line link=- at=trigger-walk"]);
});

test("every race kind prints as RACE, every event kind as EVT, with a parseable line", () => {
  const pattern = /^(RACE|EVT) t=\d+\.\d{6} kind=([a-z-]+) ctx=(main|irq) fe=(\S+) be=(\S+) link=(\d+#\d+|-) at=([a-z-]+)( n=-?\d+)?$/;
  for (let k = 0; k < KIND_NAMES.length; k++) {
    record(k as Kind, 0, 0, 1, 2, Site.Handler, 3);
    const lines = drainLines();
    assert.equal(lines.length, 1);
    const m = pattern.exec(lines[0]);
    assert.ok(m, "unparseable: " + lines[0]);
    assert.equal(m[1], k < RACE_KINDS ? "RACE" : "EVT");
    assert.equal(m[2], KIND_NAMES[k]);
    assert.equal(m[8] !== undefined, k >= RACE_KINDS, "only events carry n=");
  }
});

test("while capturing, records are counted in captured only", () => {
  ring.capturing++;
  record(Kind.DoubleStart, 0, 0, -1, 0, Site.Selftest, 0);
  ring.capturing--;
  assert.equal(ring.captured[Kind.DoubleStart], 1);
  assert.equal(ring.counts[Kind.DoubleStart], 0);
  assert.equal(raceTotal(), 0);
  assert.deepEqual(drainLines(), []);
});

test("record() inside a critical section leaves it masked; outside, leaves the handler unmasked", () => {
  let runs = 0;
  irq.handler = () => {
    runs++;
  };
  const was = irqSave();
  irqEntry();
  record(Kind.Xrun, 0, 0, -1, 0, Site.PeriodWalk, 0);
  assert.equal(irq.masked, true, "a record must not end the caller's section");
  assert.equal(runs, 0, "nor run the completion held by it");
  irqRestore(was);
  assert.equal(runs, 1);
  irq.unsafe = true; // the ring itself stays guarded in unsafe mode
  record(Kind.Xrun, 0, 0, -1, 0, Site.PeriodWalk, 0);
  assert.equal(irq.masked, false);
  assert.equal(ring.written, 2);
});
