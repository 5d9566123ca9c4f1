// The race explorer (npm run explore): on the emulated boards, unsafe mode
// reproduces each historical scenario's race on at least one schedule, safe
// mode has no finding over the exhaustive single-boundary search and the
// bounded pair search; on the Pico a DMA block end at every statement of the
// period interrupt is counted once (and the poll logic before issue 10 is
// caught miscounting), and an I2C NAK anywhere in a connect leaves things
// consistent; scenarios are files a user writes, checked with errors naming
// the line and field; a replay gives the search's serial log byte for byte,
// and the trace export is trace-event JSON with the tracks the docs list.
// Needs the bundles (npm test builds them first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { SCENARIOS, findScenario, parseScenario, type Scenario } from "../scripts/lib/explorer/scenarios.ts";
import { loadBoardRig, runSchedule, type BoardRig } from "../scripts/lib/explorer/runner.ts";
import { searchScenario, choosePairs, type SearchReport } from "../scripts/lib/explorer/search.ts";
import { parseSchedule, formatSchedule, irqEvents } from "../scripts/lib/explorer/schedule.ts";
import { TraceRecorder, validateTrace } from "../scripts/lib/explorer/trace.ts";
import { searchHeader } from "../scripts/lib/explorer/report.ts";

/** Pair schedules per scenario in the safe-mode test (the CLI's default is 1000). */
const SAFE_PAIRS = 120;
/** The historical scenarios: the interrupt is the event they place. */
const HISTORICAL = SCENARIOS.filter((s) => s.events.includes("irq") && s.expect.unsafe);

const rigs = new Map<string, Promise<BoardRig>>();
function rig(board: string): Promise<BoardRig> {
  let r = rigs.get(board);
  if (!r) rigs.set(board, (r = loadBoardRig(board)));
  return r;
}

const unsafeReports = new Map<string, SearchReport>();

for (const board of ["generic", "pico-wm8731"]) {
  const skip = existsSync(`dist/${board}.js`) ? false : `dist/${board}.js not built`;

  for (const scenario of HISTORICAL) {
    const expect = scenario.expect.unsafe!;
    test(`${board} s${scenario.id} unsafe: the single-boundary search reproduces ${expect.any.join(" or ")}`, { skip }, async () => {
      const r = await searchScenario(await rig(board), scenario, "unsafe", { pairs: 0, random: 0, seed: 1 });
      unsafeReports.set(`${board}/${scenario.id}`, r);
      assert.equal(r.single.irq?.schedules, r.windowLength, "every boundary of the window was tried");
      assert.ok(r.windowLength > 50, `window of ${r.windowLength} statements`);
      assert.ok(r.expectedFound, `expected ${expect.any.join("/")}; found ${JSON.stringify(r.kinds)}`);
      const kind = expect.any.find((k) => r.first[k]);
      assert.ok(kind);
      const first = r.first[kind];
      assert.equal(first.landed.length, 1);
      assert.match(first.landed[0].location, /^(firmware|drivers|boards)\/.+\.ts:\d+:\d+$/, "the landing maps to TypeScript");
      const ctx = expect.ctx ? ` ctx=${expect.ctx} ` : " ";
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
      assert.equal(r.single.irq?.schedules, r.windowLength);
      const pairs = r.pairs.irq;
      assert.ok(pairs && pairs.schedules === pairs.covered && pairs.covered <= SAFE_PAIRS, "the pair bound was kept");
      assert.ok(pairs.covered >= SAFE_PAIRS - r.windowLength && pairs.nearest >= 1, `pairs covered: ${pairs.covered} of ${pairs.total}`);
      assert.deepEqual(r.kinds, {}, `safe-mode findings: ${JSON.stringify(Object.values(r.first).map((f) => [f.schedule, f.lines]))}`);
      assert.equal(r.total.withFinding, 0);
    });
  }
}

test("replay: each first finding of the generic unsafe searches gives the same serial log, byte for byte", async () => {
  const board = await rig("generic");
  let replayed = 0;
  for (const scenario of HISTORICAL) {
    const report = unsafeReports.get(`generic/${scenario.id}`) ?? (await searchScenario(board, scenario, "unsafe", { pairs: 0, random: 0, seed: 1 }));
    const kind = scenario.expect.unsafe!.any.find((k) => report.first[k])!;
    const first = report.first[kind];
    const schedule = parseSchedule(first.schedule);
    assert.equal(schedule.board, "generic");
    const again = await runSchedule(board, schedule.scenario, schedule.mode, schedule.events);
    assert.equal(again.log, first.log, `${first.schedule}: the replayed log differs`);
    replayed++;
  }
  assert.equal(replayed, 4);
});

test("npm run explore --replay prints the log a search found, and --trace writes trace-event JSON with every track", async () => {
  const report = unsafeReports.get("generic/1") ?? (await searchScenario(await rig("generic"), HISTORICAL[0], "unsafe", { pairs: 0, random: 0, seed: 1 }));
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
  const plain = await runSchedule(board, scenario, "safe", irqEvents([20, 90]));
  const trace = new TraceRecorder("t");
  const traced = await runSchedule(board, scenario, "safe", irqEvents([20, 90]), { trace });
  assert.equal(traced.log, plain.log);
  assert.deepEqual(validateTrace(trace.toJSON()), []);
});

test("schedules: the compact string round-trips; pairs within the limit are all pairs, beyond it the nearest successors", () => {
  const s = parseSchedule("s3:unsafe:40,12,12@pico-wm8731");
  assert.equal(s.scenario.id, 3);
  assert.deepEqual(s.events, irqEvents([12, 40]));
  assert.equal(formatSchedule(s.scenario, s.mode, s.events, s.board!), "s3:unsafe:12,40@pico-wm8731");
  const hw = parseSchedule("s5:safe:dma37,irq3,nak2");
  assert.deepEqual(hw.events, [{ kind: "nak", boundary: 2 }, { kind: "irq", boundary: 3 }, { kind: "dma", boundary: 37 }]);
  assert.equal(formatSchedule(hw.scenario, hw.mode, hw.events, "pico-wm8731"), "s5:safe:nak2,3,dma37@pico-wm8731");
  assert.deepEqual(parseSchedule("close-path:safe:").events, []);
  assert.equal(parseSchedule("s2:safe:7").board, null);
  assert.throws(() => parseSchedule("s99:safe:1"), /no scenario/);
  assert.throws(() => parseSchedule("s1:risky:1"), /bad schedule/);
  assert.throws(() => parseSchedule("s1:safe:dmx3"), /not an event/);

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

// ---- hardware events (issue 10) -------------------------------------------------------------

const picoSkip = existsSync("dist/pico-wm8731.js") ? false : "dist/pico-wm8731.js not built";

/**
 * The Pico's poll as it was before issue 10 (boards/pico-wm8731/board.ts
 * pollCompletions and drivers/stm32f4/i2s-dma.ts poll at commit 2e96e16),
 * typed at the console over the fixed one: the period counted from a CT
 * change, two from a TCIF with CT unchanged.
 */
const OLD_POLL = [
  "DPCM.oldPoll = function (d, hisr, index, elapsed) { if (!d.running) return; var ct = peek32(d.cr) & 0x80000 ? 1 : 0; " +
    "var n = ct !== d.lastCt ? 1 : hisr & d.tcMask ? 2 : 0; d.lastCt = ct; if (!n) return; var latency = (d.items - peek32(d.cr + 4)) / 2 / d.rate; " +
    "if (n === 2) elapsed(index, latency + d.items / 2 / d.rate); elapsed(index, latency); }",
  "DPCM.card.board.pollCompletions = function (elapsed) { var bes = DPCM.card.bes; var mask = 0; " +
    "for (var i = 0; i < bes.length; i++) { mask |= bes[i].driver.tcMask; bes[i].driver.lastCt = bes[i].driver.lastCt || 0; } " +
    "var hisr = peek32(0x40026004); var seen = hisr & mask; if (seen) poke32(0x4002600c, seen); " +
    "for (var j = 0; j < bes.length; j++) DPCM.oldPoll(bes[j].driver, hisr, j, elapsed); }",
];

test("pico s5: a DMA block end before every statement of the window, the interrupt's included, is counted once: no finding", { skip: picoSkip }, async () => {
  const scenario = findScenario("block-end-in-poll")!;
  const r = await searchScenario(await rig("pico-wm8731"), scenario, "safe", { pairs: 0, random: 0, seed: 1 });
  assert.ok(r.windowStatements > r.windowLength + 50, `the interrupt runs inside the window: ${r.windowStatements} statements, ${r.windowLength} in the main loop`);
  assert.equal(r.single.dma?.schedules, r.windowStatements, "every boundary tried");
  assert.equal(r.events.dma?.landed, r.windowStatements, "every block end placed in the window");
  assert.equal(r.events.dma?.took, r.windowStatements, "with a stream running each time");
  assert.deepEqual(r.kinds, {}, JSON.stringify(Object.values(r.first).map((f) => [f.schedule, f.checks, f.hwFaults])));
});

test("pico s5 on the poll before issue 10: the same search finds the period miscount (fault 1)", { skip: picoSkip }, async () => {
  const base = findScenario("block-end-in-poll")!;
  const old: Scenario = { ...base, setup: [...OLD_POLL, ...base.setup] };
  const r = await searchScenario(await rig("pico-wm8731"), old, "safe", { pairs: 0, random: 0, seed: 1 });
  assert.deepEqual(Object.keys(r.baseline), [], "the baseline counts right: the fault needs the block end between two reads");
  const f = r.first["period-count"];
  assert.ok(f, `period-count found: ${JSON.stringify(r.kinds)}`);
  assert.match(f.checks.join("\n"), /period-count: codec: the card was told of (\d+) periods; its DMA completed (\d+)/);
  const [, told, real] = /told of (\d+) periods; its DMA completed (\d+)/.exec(f.checks[0])!;
  assert.ok(Number(told) > Number(real), `${told} told, ${real} real`);
  const dma = f.landed.find((l) => l.kind === "dma")!;
  assert.ok(dma.inTask, "the block end that is miscounted lands inside the interrupt");
});

test("pico s6: an I2C NAK at every statement of a connect leaves a clean error and consistent state: no finding", { skip: picoSkip }, async () => {
  const board = await rig("pico-wm8731");
  const scenario = findScenario("codec-nak-on-connect")!;
  const r = await searchScenario(board, scenario, "safe", { pairs: 0, random: 0, seed: 1 });
  assert.equal(r.single.nak?.schedules, r.windowStatements);
  assert.deepEqual(r.kinds, {}, JSON.stringify(Object.values(r.first).map((f) => [f.schedule, f.lines, f.endState, f.hwFaults])));
  // The NAK takes effect: at boundary 0 the codec's first write fails and the route is refused.
  const early = await runSchedule(board, scenario, "safe", [{ kind: "nak", boundary: 0 }]);
  assert.match(early.log.slice(early.windowLogStart), /^ERROR .*codec.*(NAK|no ACK|did not answer)/m);
  assert.equal(r.baseline["hw-fault"], undefined);
});

test("a DMA replay gives the search's log byte for byte, and its trace shows the block end on the hardware track", { skip: picoSkip }, async () => {
  const board = await rig("pico-wm8731");
  const scenario = findScenario("block-end-in-poll")!;
  const a = await runSchedule(board, scenario, "safe", [{ kind: "dma", boundary: 20 }]);
  const trace = new TraceRecorder("t");
  const b = await runSchedule(board, scenario, "safe", [{ kind: "dma", boundary: 20 }], { trace });
  assert.equal(b.log, a.log);
  const file = trace.toJSON();
  assert.deepEqual(validateTrace(file), []);
  const hw = file.traceEvents.filter((e) => e.cat === "hardware");
  assert.equal(hw.length, 1);
  assert.match(hw[0].name, /^DMA block end at boundary 20$/);
  assert.ok(a.landed.some((l) => l.kind === "dma" && l.inTask), "boundary 20 is inside the interrupt");
});

test("scenario files: each problem is named by file, line and field", () => {
  const good = readFileSync("scenarios/4-trigger-during-update.json", "utf8");
  const bad = (edit: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(good) as Record<string, unknown>;
    edit(o);
    return JSON.stringify(o, null, 2);
  };
  const cases: Array<[string, RegExp]> = [
    ['{ "key": "x", ', /u\.json:1:\d+: not valid JSON/],
    [good.replace('"window"', '"windw"'), /u\.json: line \d+, field "windw": unknown field/],
    [bad((o) => delete o.window), /field "window": missing/],
    [bad((o) => (o.events = ["irq", "dmaa"])), /line \d+, field "events\[1\]": unknown event "dmaa" \(known: irq, dma, nak\)/],
    [bad((o) => (o.setup = ["route($A, $Z, true)"])), /field "setup\[0\]": unknown placeholder \$Z/],
    [bad((o) => (o.expect = { unsafe: { any: ["lost-trigers"] } })), /field "expect\.unsafe\.any\[0\]": unknown finding kind "lost-trigers"/],
    [bad((o) => (o.expect = { risky: "none" })), /field "expect\.risky": unknown mode/],
    [bad((o) => (o.fixed = ["irq0"])), /field "fixed\[0\]": "irq0" is not an event/],
    [bad((o) => (o.dry = "A")), /field "dry": must be "\$A", "\$B" or null/],
    [bad((o) => (o.boards = ["pico"])), /field "boards\[0\]": unknown board "pico"/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseScenario(text, "u.json"), re, text.slice(0, 60));
  const ok = parseScenario(good, "u.json");
  assert.equal(ok.key, "trigger-during-update");
  assert.deepEqual(ok.events, ["irq"]);
});

test("npm run explore --scenario-file runs a scenario a user wrote, with no code change; a bad file exits 2 naming the field", () => {
  const dir = mkdtempSync(join(tmpdir(), "scenario-"));
  try {
    // A user's own scenario: A is paused on X while the interrupt may land anywhere in the pause.
    const mine: Record<string, unknown> = {
      key: "my-pause",
      title: "A pauses on X",
      setup: ["route($A, $X, true)", "play($A, 440)"],
      overdue: 1,
      window: "pause($A, true)",
      events: ["irq"],
      expect: { safe: "none" },
    };
    const path = join(dir, "mine.json");
    writeFileSync(path, JSON.stringify(mine, null, 2));
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "scripts/explore.ts", "--scenario-file", path, "--board", "generic", "--pairs", "0", "--random", "0", "--no-progress"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    assert.match(out, /^race explorer: board generic .*, pair schedules skipped, random schedules skipped$/m, "the header says what was skipped");
    assert.doesNotMatch(out, /<= 0/);
    assert.match(out, /^my-pause: A pauses on X$/m);
    assert.match(out, /irq single +\d+ schedules \(every boundary\), 0 with a finding/);
    assert.match(out, /verdict: safe mode clean, unsafe mode not run$/m);
    // a mode asked for by name that the file does not name: nothing ran, and the reason is that
    const unsafe = explore(["--scenario-file", path, "--board", "generic", "--mode", "unsafe"]);
    assert.equal(unsafe.status, 1, unsafe.stdout + unsafe.stderr);
    assert.match(unsafe.stdout, /^my-pause unsafe: skipped: its file names no unsafe mode \(modes: safe\)$/m);
    assert.match(unsafe.stderr, /^npm run explore: nothing ran on generic: my-pause unsafe: its file names no unsafe mode \(modes: safe\)$/m);
    mine.events = ["irq", "dmaa"];
    writeFileSync(path, JSON.stringify(mine, null, 2));
    let status = 0;
    let err = "";
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/explore.ts", "--scenario-file", path, "--board", "generic"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      status = (e as { status: number }).status;
      err = String((e as { stderr: string }).stderr);
    }
    assert.equal(status, 2);
    assert.match(err, /mine\.json: line \d+, field "events\[1\]": unknown event "dmaa"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Run the explorer's command line; its status and stderr (execFileSync throws on a non-zero status). */
function explore(args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "scripts/explore.ts", ...args, "--no-progress"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: 0, stdout, stderr: "" };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { status: x.status, stdout: String(x.stdout), stderr: String(x.stderr) };
  }
}

test("npm run explore --replay of a schedule it cannot place exits 2 with one line saying why, and prints no log", () => {
  const past = explore(["--replay", "s1:unsafe:99999@generic"]);
  assert.equal(past.status, 2, past.stdout + past.stderr);
  assert.match(past.stderr, /^npm run explore: schedule "s1:unsafe:99999@generic": irq boundary 99999 is past the end of the window \(irq boundaries 0\.\.\d+\), not placed: nothing replayed\n$/);
  assert.equal(past.stdout, "", "no log of a run that is not the schedule asked for");
  const kind = explore(["--replay", "s1:unsafe:5,dma5@generic"]);
  assert.equal(kind.status, 2, kind.stdout + kind.stderr);
  assert.match(kind.stderr, /^npm run explore: schedule "s1:unsafe:5,dma5@generic": board generic has no register model to place dma events \(it places irq\)\n$/);
  const windowLog = explore(["--window-log", "--board", "generic"]);
  assert.equal(windowLog.status, 2);
  assert.match(windowLog.stderr, /--window-log needs --replay/);
  // and a schedule inside the window still replays
  const ok = explore(["--replay", "s1:unsafe:5@generic", "--window-log"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^  interrupt at boundary 5 /m);
});

test("the search's header says what it runs: pair and random schedules skipped, bounded or every pair", () => {
  const base = { board: "generic", bundle: "dist/generic.js", scenarios: 4, modes: ["safe", "unsafe"], seed: 7 };
  assert.equal(
    searchHeader({ ...base, pairs: 0, random: 0 }),
    "race explorer: board generic (dist/generic.js), 4 scenario(s), modes safe+unsafe, pair schedules skipped, random schedules skipped",
  );
  assert.match(searchHeader({ ...base, pairs: 1000, random: 200 }), /up to 1000 pair schedules per event kind, scenario and mode, 200 random schedules per scenario and mode \(seed 7\)$/);
  assert.match(searchHeader({ ...base, pairs: Infinity, random: 1 }), /, every pair schedule, 1 random schedule per scenario and mode \(seed 7\)$/);
});
