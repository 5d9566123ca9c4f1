// The race explorer (npm run explore): on the emulated boards, unsafe mode
// reproduces each scenario's historical race on at least one schedule, safe
// mode has no finding over the exhaustive single-boundary search and the
// bounded pair search, a replay gives the search's serial log byte for byte,
// and the trace export is trace-event JSON with the tracks the docs list.
// Needs the bundles (npm test builds them first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCENARIOS, findScenario } from "../scripts/lib/explorer/scenarios.ts";
import { loadBoardRig, runSchedule, type BoardRig } from "../scripts/lib/explorer/runner.ts";
import { searchScenario, choosePairs, type SearchReport } from "../scripts/lib/explorer/search.ts";
import { parseSchedule, formatSchedule } from "../scripts/lib/explorer/schedule.ts";
import { TraceRecorder, validateTrace } from "../scripts/lib/explorer/trace.ts";

/** Pair schedules per scenario in the safe-mode test (the CLI's default is 1000). */
const SAFE_PAIRS = 300;

const rigs = new Map<string, Promise<BoardRig>>();
function rig(board: string): Promise<BoardRig> {
  let r = rigs.get(board);
  if (!r) rigs.set(board, (r = loadBoardRig(board)));
  return r;
}

const unsafeReports = new Map<string, SearchReport>();

for (const board of ["generic", "pico-wm8731"]) {
  const skip = existsSync(`dist/${board}.js`) ? false : `dist/${board}.js not built`;

  for (const scenario of SCENARIOS) {
    test(`${board} s${scenario.id} unsafe: the single-boundary search reproduces ${scenario.expect.join(" or ")}`, { skip }, async () => {
      const r = await searchScenario(await rig(board), scenario, "unsafe", { pairs: 0, random: 0, seed: 1 });
      unsafeReports.set(`${board}/${scenario.id}`, r);
      assert.equal(r.single?.schedules, r.windowLength, "every boundary of the window was tried");
      assert.ok(r.windowLength > 50, `window of ${r.windowLength} statements`);
      assert.ok(r.expectedFound, `expected ${scenario.expect.join("/")}; found ${JSON.stringify(r.kinds)}`);
      const kind = scenario.expect.find((k) => r.first[k]);
      assert.ok(kind);
      const first = r.first[kind];
      assert.equal(first.landed.length, 1);
      assert.match(first.landed[0].location, /^(firmware|drivers|boards)\/.+\.ts:\d+:\d+$/, "the landing maps to TypeScript");
      const ctx = scenario.expectCtx ? ` ctx=${scenario.expectCtx} ` : " ";
      assert.ok(
        first.lines.some((l) => l.startsWith("RACE ") && l.includes(` kind=${kind}${ctx}`)),
        `a RACE line of kind ${kind}${ctx}in ${first.lines.join("\n")}`,
      );
      if (scenario.id === 1) {
        // The 2014 report: the freed link is walked from interrupt context, by the
        // stop that follows the xrun (the trigger walk of the FE's BE clients).
        // (The xrun's EVT line comes when the dropout ends: this FE never writes again.)
        assert.ok(first.lines.some((l) => /^RACE .*kind=use-after-free ctx=irq .*at=trigger-walk$/.test(l)), first.lines.join("\n"));
      }
    });

    test(`${board} s${scenario.id} safe: no finding over every single boundary and ${SAFE_PAIRS} pairs`, { skip }, async () => {
      const r = await searchScenario(await rig(board), scenario, "safe", { pairs: SAFE_PAIRS, random: 0, seed: 1 });
      assert.equal(r.single?.schedules, r.windowLength);
      assert.ok(r.pairs && r.pairs.schedules === r.pairs.covered && r.pairs.covered <= SAFE_PAIRS, "the pair bound was kept");
      assert.ok(r.pairs.covered >= SAFE_PAIRS - r.windowLength && r.pairs.nearest >= 1, `pairs covered: ${r.pairs.covered} of ${r.pairs.total}`);
      assert.deepEqual(r.kinds, {}, `safe-mode findings: ${JSON.stringify(Object.values(r.first).map((f) => [f.schedule, f.lines]))}`);
      assert.equal(r.total.withFinding, 0);
    });
  }
}

test("replay: each first finding of the generic unsafe searches gives the same serial log, byte for byte", async () => {
  const board = await rig("generic");
  let replayed = 0;
  for (const scenario of SCENARIOS) {
    const report = unsafeReports.get(`generic/${scenario.id}`) ?? (await searchScenario(board, scenario, "unsafe", { pairs: 0, random: 0, seed: 1 }));
    const kind = scenario.expect.find((k) => report.first[k])!;
    const first = report.first[kind];
    const schedule = parseSchedule(first.schedule);
    assert.equal(schedule.board, "generic");
    const again = await runSchedule(board, schedule.scenario, schedule.mode, schedule.boundaries);
    assert.equal(again.log, first.log, `${first.schedule}: the replayed log differs`);
    replayed++;
  }
  assert.equal(replayed, 4);
});

test("npm run explore --replay prints the log a search found, and --trace writes trace-event JSON with every track", async () => {
  const report = unsafeReports.get("generic/1") ?? (await searchScenario(await rig("generic"), SCENARIOS[0], "unsafe", { pairs: 0, random: 0, seed: 1 }));
  const first = report.first["use-after-free"];
  const dir = mkdtempSync(join(tmpdir(), "explore-"));
  try {
    const tracePath = join(dir, "trace.json");
    const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/explore.ts", "--replay", first.schedule, "--trace", tracePath, "--no-progress"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const marker = "--- serial log of the run (byte for byte what the search saw) ---\n";
    assert.ok(out.includes(marker), out);
    assert.equal(out.slice(out.indexOf(marker) + marker.length), first.log);
    assert.match(out, /interrupt at boundary \d+ .*before firmware\/dpcm\/\w+\.ts:\d+:\d+/);

    const trace = JSON.parse(readFileSync(tracePath, "utf8")) as { traceEvents: { cat?: string; ph: string; name: string; args?: Record<string, unknown> }[] };
    assert.deepEqual(validateTrace(trace), []);
    const cats = new Set(trace.traceEvents.map((e) => e.cat));
    for (const cat of ["interrupt", "handler", "masked", "routing", "be-state", "be-start-count", "fe-state", "window", "race", "log"]) {
      assert.ok(cats.has(cat), `trace has ${cat} events`);
    }
    const forced = trace.traceEvents.find((e) => e.ph === "X" && e.cat === "interrupt" && e.args?.forced === true);
    assert.ok(forced, "the forced interrupt is a span");
    assert.match(String(forced.args?.landed), /^firmware\/dpcm\/\w+\.ts:\d+:\d+$/);
    const threads = trace.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => String(e.args?.name));
    for (const t of ["main loop", "interrupt (EXEC timer task)", "irq mask (main-loop critical sections)", "FE media routing update", "BE line state"]) {
      assert.ok(threads.includes(t), `track ${t}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a traced run gives the same log as an untraced one", async () => {
  const board = await rig("generic");
  const scenario = findScenario("trigger-during-update")!;
  const plain = await runSchedule(board, scenario, "safe", [20, 90]);
  const trace = new TraceRecorder("t");
  const traced = await runSchedule(board, scenario, "safe", [20, 90], { trace });
  assert.equal(traced.log, plain.log);
  assert.deepEqual(validateTrace(trace.toJSON()), []);
});

test("schedules: the compact string round-trips; pairs within the limit are all pairs, beyond it the nearest successors", () => {
  const s = parseSchedule("s3:unsafe:40,12,12@pico-wm8731");
  assert.equal(s.scenario.id, 3);
  assert.deepEqual(s.boundaries, [12, 40]);
  assert.equal(formatSchedule(s.scenario, s.mode, s.boundaries, s.board!), "s3:unsafe:12,40@pico-wm8731");
  assert.deepEqual(parseSchedule("close-path:safe:").boundaries, []);
  assert.equal(parseSchedule("s2:safe:7").board, null);
  assert.throws(() => parseSchedule("s9:safe:1"), /no scenario/);
  assert.throws(() => parseSchedule("s1:risky:1"), /bad schedule/);

  const lengths = [5, 5, 6, 5, 5];
  const all = choosePairs(lengths, 100);
  assert.equal(all.coverage.total, 4 + 3 + 3 + 1 + 0);
  assert.equal(all.pairs.length, all.coverage.total);
  assert.equal(all.coverage.nearest, Infinity);
  const near = choosePairs(lengths, 7);
  assert.equal(near.coverage.nearest, 2);
  assert.deepEqual(near.pairs, [
    [0, 1], [0, 2], [1, 2], [1, 3], [2, 3], [2, 4], [3, 4],
  ]);
  const sparse = choosePairs([100, 100, 100, 100], 2);
  assert.equal(sparse.pairs.length, 2);
  assert.equal(sparse.coverage.nearest, 1);
});
