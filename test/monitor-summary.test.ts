// The monitor's summary of a captured log (scripts/lib/race-log.ts): only
// what the log shows, with the firmware starts and resets it saw, the
// board's own count explained against them, kind names kept whole in JSON,
// and times for a page placed from the board's own t= stamps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { formatSummary, summarize, terminalLines, timeLogLines } from "../scripts/lib/race-log.ts";

const RESTARTS = "test/fixtures/serial/monitor-restarts.capture";

test("a log with load(), reset() and E.reboot(): starts and resets counted, the board's total=0 explained", () => {
  const s = summarize(terminalLines(readFileSync(RESTARTS, "latin1")));
  assert.equal(s.boots.length, 3, "three READY lines: load(), load(), E.reboot()");
  assert.equal(s.resets, 2, "two banners: reset() and the reboot's power-on");
  assert.equal(s.races, 3);
  assert.equal(s.boardCount?.total, 0);
  assert.equal(s.boardCount?.linesSinceStart, 0);
  assert.equal(s.boardCount?.restartedBefore, true);
  const text = formatSummary(s, RESTARTS);
  assert.match(text, /firmware starts seen \(READY lines\): 3 /);
  assert.match(text, /board resets seen \(Espruino banner: power-on or reset\(\)\): 2/);
  assert.match(text, /races logged: 3\n/);
  assert.match(text, /total=0, counted since the firmware last started; this log has 0 RACE line\(s\) since the last start or reset before that answer \(the other 3 came before it/);
});

test("a capture that began after the firmware started says so instead of comparing", () => {
  const s = summarize(terminalLines(readFileSync("test/fixtures/serial/raw-capture.serial", "latin1")));
  // raw-capture.serial starts with READY, so a start was seen; drop it to see the other case.
  const noStart = summarize(terminalLines(readFileSync("test/fixtures/serial/raw-capture.serial", "latin1")).filter((l) => !l.includes("READY")));
  assert.equal(s.boardCount?.restartedBefore, true);
  assert.equal(noStart.boots.length, 0);
  assert.match(formatSummary(noStart, "x"), /firmware starts seen \(READY lines\): 0\n/);
  assert.match(formatSummary(noStart, "x"), /the log saw no start or reset before it/);
});

test("--summary --json keeps hyphenated kind names whole", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/monitor.ts", "--summary", "test/fixtures/serial/raw-capture.serial", "--json", "--no-page"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { boardCount: { kinds: Record<string, number> }; byKind: Array<{ kind: string }> };
  const keys = Object.keys(json.boardCount.kinds);
  assert.equal(keys.length, 7, keys.join(" "));
  for (const cut of ["free", "walk", "change", "start", "running", "trigger", "stop"]) assert.ok(!keys.includes(cut), `"${cut}" is a cut kind name`);
  assert.equal(json.boardCount.kinds["use-after-free"], 1);
  assert.equal(json.boardCount.kinds["unmasked-list-change"], 5);
  assert.deepEqual(
    json.byKind.map((k) => k.kind),
    ["unmasked-list-change", "use-after-free"],
  );
});

test("times for a log: RACE/EVT at their t=, other lines between them, a new stretch at each start", () => {
  const { lines, estimated, stretches } = timeLogLines([
    "OK route media bt true",
    "RACE t=8.5 kind=unmasked-list-change ctx=main fe=media be=bt link=0#0 at=link-add",
    "OK route media line true",
    "RACE t=9.5 kind=unmasked-list-change ctx=main fe=media be=line link=1#0 at=link-add",
    "READY dpcm-espruino 0.1.0 board=generic",
    "EVT t=0.25 kind=xrun ctx=irq fe=media be=- link=- at=fe-advance n=128",
  ]);
  assert.deepEqual(
    lines.map((l) => l.t),
    [0, 0, 0.5, 1, 1.05, 1.05],
  );
  assert.equal(estimated, 3);
  assert.equal(stretches, 2);
});
