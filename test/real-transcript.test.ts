// Each bundle that runs on Linux (generic, bench) on the real Espruino 2v29
// interpreter (the stock build, its timer task never firing: the firmware
// polls from setInterval), the bundle run as built (as a file: why not from
// Storage is in real-transcript.ts): selftest() all PASS, then one route
// script whose console transcript must equal the emulator's line for line,
// the fields named in TIME_FIELDS masked (scripts/lib/real-transcript.ts
// says why the rest can be exact). Skipped, saying why, where the
// interpreter is absent.

import { test } from "node:test";
import assert from "node:assert/strict";
import { findEspruino } from "../scripts/lib/real-espruino.ts";
import {
  TIME_FIELDS,
  compareTranscripts,
  disturbances,
  emulatorTranscript,
  maskTimeFields,
  realTranscript,
  routeScript,
  sequencerLine,
} from "../scripts/lib/real-transcript.ts";

const stock = findEspruino("stock");
if (stock.misconfigured) throw new Error(stock.reason!);

test("time fields: t=, handler runs and the measured durations, the cpu and memory figures are masked; counts are not", () => {
  const a = "EVT t=0.489123 kind=drained ctx=irq fe=alert be=- link=- at=fe-advance n=4096";
  const b = "EVT t=1795989415.373982 kind=drained ctx=irq fe=alert be=- link=- at=fe-advance n=4096";
  assert.equal(maskTimeFields(a), maskTimeFields(b));
  assert.notEqual(maskTimeFields(a), maskTimeFields(b.replace("n=4096", "n=3968")), "a count is compared");
  const irq = (runs: number, us: number): string =>
    `STATS irq runs=${runs} deferred=0 longest_handler=${us} us longest_latency=2857 us longest_masked=24 us errors=0 mode="x"`;
  assert.equal(maskTimeFields(irq(143, 329)), maskTimeFields(irq(93, 24120)));
  assert.notEqual(maskTimeFields(irq(143, 329)), maskTimeFields(irq(143, 329).replace("errors=0", "errors=1")));
  const be = (periods: number, played: number): string => `STATS be=line state=CLOSE users=0 periods=${periods} played.media=${played} dropped.media=512`;
  assert.notEqual(maskTimeFields(be(60, 7936)), maskTimeFields(be(61, 7936)), "periods are exact");
  assert.notEqual(maskTimeFields(be(60, 7936)), maskTimeFields(be(60, 8064)), "frames played per route are exact");
  assert.equal(maskTimeFields("STATS memory free=2581 usage=1515 total=4096 blocksize=27"), "STATS memory *");
  assert.ok(TIME_FIELDS.length <= 6, "the list stays short");
  const diff = compareTranscripts(["OK a", "STATS fe=media written=9984"], ["OK a", "STATS fe=media written=10112", "extra"]);
  assert.deepEqual(
    diff.differences.map((d) => d.line),
    [2, 3],
  );
});

test("the sequencer: one step a stream position, a late one said, then SCRIPT done", () => {
  const script = routeScript(["media", "alert"], ["line", "bt"]);
  assert.deepEqual(
    script.steps.map((s) => s.commands.join("; ")),
    [
      'route("media", "bt", true); play("media", 440)',
      'route("media", "line", true)',
      'route("media", "bt", false)',
      'route("alert", "line", true); play("alert", 660, 0.25)',
      'stop("media")',
      "stats(); races(); routes()",
    ],
  );
  const line = sequencerLine(script);
  assert.match(line, /LATE step/);
  assert.match(line, /SCRIPT done/);
  assert.deepEqual(disturbances(["OK route media line true", "LATE step 2", "EVT t=1 kind=xrun ctx=irq n=5", "WARN irq: x"]), [
    "LATE step 2",
    "EVT t=1 kind=xrun ctx=irq n=5",
    "WARN irq: x",
  ]);
});

for (const board of ["generic", "bench"]) {
  test(`${board}: on the real interpreter, selftest() passes and the route script prints what the emulator prints`, async (t) => {
    if (!stock.path) {
      t.skip(stock.reason!);
      return;
    }
    const bundle = `dist/${board}.js`;
    const emulator = emulatorTranscript(bundle);
    const { run, disturbedRuns } = await realTranscript(stock.path, bundle);
    for (const d of disturbedRuns) t.diagnostic(`a run disturbed by the host, run again: ${d.join("; ")}`);
    assert.deepEqual(run.disturbed, [], `every run was disturbed by the host; the last: ${run.disturbed.join("; ")}`);
    const real = run.lines;
    // Loaded, and the interrupt on setInterval, said so.
    assert.match(real[0]!, new RegExp(`^READY dpcm-espruino \\S+ board=${board} espruino=2v29 .*irq="setInterval every 8 ms: the timer task did not fire, so no preemption"$`));
    const selftest = real.filter((l) => l.startsWith("SELFTEST "));
    const done = /^SELFTEST done pass=(\d+) fail=0$/.exec(selftest[selftest.length - 1] ?? "");
    assert.ok(done && Number(done[1]) > 0, selftest.join("\n"));
    assert.deepEqual(
      selftest.filter((l) => !/^SELFTEST (PASS|done) /.test(l)),
      [],
    );
    const { compared, differences } = compareTranscripts(emulator, real);
    const shown = differences.slice(0, 10).map((d) => `line ${d.line}\n  emulator: ${d.emulator}\n  real:     ${d.real}`);
    assert.equal(differences.length, 0, `${differences.length} of ${compared} lines differ:\n${shown.join("\n")}`);
    // What must be exact is there to compare: a BE's periods, an FE's frames written, frames played per route.
    assert.ok(real.some((l) => /^STATS be=\S+ .* periods=[1-9]\d* .* played\.\S+=[1-9]/.test(l)));
    assert.ok(real.some((l) => /^STATS fe=\S+ .* written=[1-9]/.test(l)));
    assert.ok(real.some((l) => /^RACES total=0 /.test(l)));
    t.diagnostic(`${board}: ${compared} lines compared, all equal (${TIME_FIELDS.length} time fields masked)`);
  });
}
