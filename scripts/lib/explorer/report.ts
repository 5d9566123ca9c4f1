// Text and JSON reports of the explorer's searches and replays.

import { readFileSync } from "node:fs";
import type { FirstFinding, PairCoverage, PhaseReport, SearchReport } from "./search.ts";
import type { Landing, RunResult } from "./runner.ts";
import { MODES, SCENARIOS, type Expectation } from "./scenarios.ts";

const sourceCache = new Map<string, string[] | null>();

/** The TypeScript line at "file.ts:line:col", trimmed ("" when unreadable). */
export function sourceLine(location: string): string {
  const m = /^(.*\.ts):(\d+):\d+$/.exec(location);
  if (!m) return "";
  let lines = sourceCache.get(m[1]);
  if (lines === undefined) {
    try {
      lines = readFileSync(m[1], "utf8").split("\n");
    } catch {
      lines = null;
    }
    sourceCache.set(m[1], lines);
  }
  const text = lines?.[Number(m[2]) - 1]?.trim() ?? "";
  return text.length > 90 ? text.slice(0, 87) + "..." : text;
}

const EVENT_NAMES: Record<string, string> = { irq: "interrupt", dma: "DMA block end", nak: "I2C NAK" };

export function describeLanding(l: Landing): string {
  const src = sourceLine(l.location);
  const where = l.kind === "irq" ? "" : l.inTask ? ", in the interrupt" : ", in the main loop";
  const idle = l.took ? "" : " (nothing to act on)";
  return `${EVENT_NAMES[l.kind] ?? l.kind} at boundary ${l.boundary} (t=${l.time.toFixed(6)} s${where})${idle}, before ${l.location}${src ? "   " + src : ""}`;
}

function rate(p: PhaseReport): string {
  return p.seconds > 0 ? `${Math.round(p.schedules / p.seconds)}/s` : "-";
}

function phaseLine(name: string, p: PhaseReport, extra = ""): string {
  const beyond = p.withFinding > 0 ? ` (${p.withNewFinding} beyond the baseline, ${p.withExpected} with the expected finding)` : "";
  return `    ${name.padEnd(12)} ${String(p.schedules).padStart(6)} schedules${extra}, ${p.withFinding} with a finding${beyond}; ${p.seconds.toFixed(2)} s, ${rate(p)}`;
}

export function expectedText(e: Expectation): string {
  return e.none ? "no finding" : e.any.join(" or ") + (e.ctx ? ` (ctx=${e.ctx})` : "");
}

function scenarioLabel(r: SearchReport): string {
  return r.scenario.id !== null ? `s${r.scenario.id}` : r.scenario.key;
}

/** The first finding of every kind: the expected kinds first, the baseline's kinds last. */
function orderedFirsts(r: SearchReport): FirstFinding[] {
  const all = Object.values(r.first);
  const score = (f: FirstFinding): number => (r.expect.any.includes(f.kind) ? 0 : r.kinds[f.kind]?.inBaseline ? 2 : 1);
  return all.sort((a, b) => score(a) - score(b));
}

export function formatSearch(r: SearchReport): string {
  const out: string[] = [];
  const fixed = r.scenario.fixed.length ? `; every schedule has ${r.scenario.fixed.map((e) => `${e.kind}@${e.boundary}`).join(", ")}` : "";
  out.push(
    `  [${r.mode}] window: ${r.windowLength} main-loop statements (irq boundaries 0..${r.windowLength - 1}), ` +
      `${r.windowStatements} in all (hardware boundaries 0..${r.windowStatements - 1})${fixed}`,
  );
  for (const kind of r.scenario.events) {
    const single = r.single[kind];
    if (single) out.push(phaseLine(`${kind} single`, single, " (every boundary)"));
    const pairs = r.pairs[kind];
    if (pairs) {
      const how =
        pairs.nearest === Infinity
          ? "every pair"
          : `${pairs.covered} of ${pairs.total} pairs: ${pairs.firstBoundaries} first boundaries x their ${pairs.nearest} nearest successors`;
      out.push(phaseLine(`${kind} pairs`, pairs, ` (${how})`));
    }
  }
  if (r.random) out.push(phaseLine("random", r.random, ` (seed ${r.random.seed}, 1-4 events each)`));
  for (const [kind, e] of Object.entries(r.events)) {
    out.push(
      `    ${(EVENT_NAMES[kind] ?? kind) + ":"} ${e.schedules} schedules, ${e.landed} placed in the window (${e.took} with something to act on), ` +
        `${e.withFinding} schedules with a finding`,
    );
  }
  const kinds = Object.entries(r.kinds);
  if (kinds.length === 0) {
    out.push(`    findings: none over ${r.total.schedules} schedules`);
  } else {
    out.push(`    findings by kind (schedules / records):`);
    for (const [k, v] of kinds) {
      const note = v.inBaseline ? "   (also with no event in the window: the unguarded change itself)" : "";
      out.push(`      ${k.padEnd(22)} ${String(v.schedules).padStart(6)} / ${v.records}${note}`);
    }
  }
  out.push(`    expected ${expectedText(r.expect)}: ${verdictOf(r) ? "FAILED" : r.expect.none ? "held" : "FOUND"}`);
  const firsts = orderedFirsts(r);
  for (const f of firsts) {
    out.push(`    first ${f.kind}: ${f.schedule}`);
    if (f.landed.length === 0) out.push(`      no event in the window`);
    for (const l of f.landed) out.push(`      ${describeLanding(l)}`);
    for (const line of f.lines) out.push(`      | ${line}`);
    for (const p of f.endState) out.push(`      end state: ${p}`);
    for (const p of f.hwFaults) out.push(`      model fault: ${p}`);
    for (const p of f.checks) out.push(`      check: ${p}`);
    const builtin = SCENARIOS.some((x) => x.source === r.scenario.source);
    out.push(`      replay: npm run explore -- ${builtin ? "" : `--scenario-file ${r.scenario.source} `}--replay ${f.schedule}`);
  }
  return out.join("\n");
}

export interface RunSummary {
  board: string;
  bundle: string;
  reports: SearchReport[];
  /** Scenarios not run on this board, or (mode set) not in a mode asked for by name, and why. */
  skipped: { scenario: string; mode?: string; reason: string }[];
  wallSeconds: number;
}

/** Why a search does not meet its mode's expectation, or "". */
function verdictOf(r: SearchReport): string {
  if (r.expect.none && r.total.withFinding > 0) return `${r.total.withFinding} schedule(s) with a finding (${Object.keys(r.kinds).join(", ")})`;
  if (!r.expect.none && !r.expectedFound) return `expected ${expectedText(r.expect)} not found`;
  return "";
}

/**
 * What a clean run showed, naming only the modes that ran: "safe mode clean"
 * when every safe search expected and had no finding, "every unsafe scenario
 * found its race" when every unsafe search found what it expects, "<mode>
 * mode not run" for a mode that did not run.
 */
function verdictText(reports: SearchReport[]): string {
  return MODES.map((mode) => {
    const ran = reports.filter((r) => r.mode === mode);
    if (ran.length === 0) return `${mode} mode not run`;
    if (ran.every((r) => r.expect.none)) return `${mode} mode clean`;
    if (ran.every((r) => !r.expect.none)) return `every ${mode} scenario found its race`;
    return `every ${mode} scenario showed what it expects`;
  }).join(", ");
}

/** Problems that make the exit status 1: a mode whose expectation does not hold (a finding where none may be, an expected finding missing). */
export function verdictProblems(reports: SearchReport[]): string[] {
  const problems: string[] = [];
  for (const r of reports) {
    const v = verdictOf(r);
    if (v) problems.push(`${scenarioLabel(r)} ${r.mode}: ${v}`);
  }
  return problems;
}

export function formatSummary(s: RunSummary): string {
  const out: string[] = [];
  let last = "";
  for (const r of s.reports) {
    if (r.scenario.key !== last) {
      out.push("");
      out.push(`${r.scenario.id !== null ? `s${r.scenario.id} ` : ""}${r.scenario.key}: ${r.scenario.title}`);
      out.push(`  window line: ${r.window}`);
      last = r.scenario.key;
    }
    out.push(formatSearch(r));
  }
  for (const k of s.skipped) out.push("", k.mode ? `${k.scenario} ${k.mode}: skipped: ${k.reason}` : `${k.scenario}: skipped on ${s.board}: ${k.reason}`);
  out.push("");
  out.push("summary");
  out.push("  scenario                 mode    events    window  schedules  with finding  single-boundary search   kinds beyond the baseline");
  let singleSchedules = 0;
  let singleSeconds = 0;
  let schedules = 0;
  let seconds = 0;
  for (const r of s.reports) {
    const beyond = Object.entries(r.kinds)
      .filter(([, v]) => !v.inBaseline)
      .map(([k]) => k)
      .join(", ");
    const singles = Object.values(r.single);
    const n = singles.reduce((a, p) => a + p.schedules, 0);
    const t = singles.reduce((a, p) => a + p.seconds, 0);
    const single = singles.length ? `${String(n).padStart(5)} in ${t.toFixed(2)} s` : "-";
    const win = r.scenario.events.includes("irq") ? r.windowLength : r.windowStatements;
    out.push(
      `  ${scenarioLabel(r).padEnd(24)} ${r.mode.padEnd(7)} ${r.scenario.events.join("+").padEnd(8)} ${String(win).padStart(6)}  ${String(r.total.schedules).padStart(9)}  ${String(r.total.withFinding).padStart(12)}  ${single.padEnd(22)}  ${beyond || "-"}`,
    );
    singleSchedules += n;
    singleSeconds += t;
    schedules += r.total.schedules;
    seconds += r.total.seconds;
  }
  out.push(
    `  single-boundary searches: ${singleSchedules} schedules in ${singleSeconds.toFixed(2)} s; ` +
      `all searches: ${schedules} schedules in ${seconds.toFixed(2)} s, ${Math.round(schedules / Math.max(seconds, 1e-9))} schedules/s ` +
      `(board ${s.board}, ${s.bundle}; wall ${s.wallSeconds.toFixed(2)} s)`,
  );
  const problems = verdictProblems(s.reports);
  out.push(problems.length === 0 ? "  verdict: " + verdictText(s.reports) : "  verdict: " + problems.join("; "));
  return out.join("\n");
}

/** The JSON form: everything but the first findings' whole logs (replay them for those). */
export function summaryJson(s: RunSummary): unknown {
  const inf = (x: PairCoverage) => ({ ...x, nearest: x.nearest === Infinity ? "all" : x.nearest });
  return {
    board: s.board,
    bundle: s.bundle,
    wallSeconds: s.wallSeconds,
    problems: verdictProblems(s.reports),
    skipped: s.skipped,
    reports: s.reports.map((r) => ({
      ...r,
      pairs: Object.fromEntries(Object.entries(r.pairs).map(([k, v]) => [k, inf(v)])),
      first: Object.fromEntries(
        Object.entries(r.first).map(([k, f]) => [k, { ...f, log: undefined, landed: f.landed.map((l) => ({ ...l, source: sourceLine(l.location) })) }]),
      ),
    })),
  };
}

/** The options a search ran with, as the first line of its text report. */
export interface SearchSettings {
  board: string;
  bundle: string;
  scenarios: number;
  modes: readonly string[];
  /** Pair limit per event kind: Infinity for every pair, 0 when pairs are skipped. */
  pairs: number;
  /** Random schedules per scenario and mode; 0 when skipped. */
  random: number;
  seed: number;
}

/** "race explorer: board ..., pair schedules skipped, ...": what the search was asked to run. */
export function searchHeader(s: SearchSettings): string {
  const pairs =
    s.pairs === 0 ? "pair schedules skipped" : s.pairs === Infinity ? "every pair schedule" : `up to ${s.pairs} pair schedules per event kind, scenario and mode`;
  const random = s.random === 0 ? "random schedules skipped" : `${s.random} random schedule${s.random === 1 ? "" : "s"} per scenario and mode (seed ${s.seed})`;
  return `race explorer: board ${s.board} (${s.bundle}), ${s.scenarios} scenario(s), modes ${s.modes.join("+")}, ${pairs}, ${random}`;
}

/** Why a replay's schedule was not all placed: "irq boundary 99999 past the end of the window (irq boundaries 0..201)". */
export function missedText(result: RunResult): string {
  const range = (kind: string): string => {
    const n = kind === "irq" ? result.windowLength : result.windowStatements;
    return n > 0 ? `${kind} boundaries 0..${n - 1}` : `no ${kind} boundary`;
  };
  return result.missed
    .map((e) => `${e.kind} boundary ${e.boundary} is past the end of the window (${range(e.kind)}), not placed`)
    .join("; ");
}

export function formatReplay(schedule: string, result: RunResult): string {
  const out: string[] = [];
  out.push(`replay ${schedule}: window of ${result.windowLength} main-loop statements, ${result.windowStatements} in all`);
  if (result.landed.length === 0) out.push(`  no event in the window`);
  for (const l of result.landed) out.push(`  ${describeLanding(l)}`);
  for (const e of result.missed) out.push(`  ${e.kind} at boundary ${e.boundary}: past the end of the window, not placed`);
  const kinds = Object.entries(result.findings);
  out.push(`  findings: ${kinds.length ? kinds.map(([k, n]) => `${k} ${n}`).join(", ") : "none"}`);
  for (const p of result.endState) out.push(`  end state: ${p}`);
  for (const p of result.hwFaults) out.push(`  model fault: ${p}`);
  for (const p of result.checks) out.push(`  check: ${p}`);
  out.push(`--- serial log of the run (byte for byte what the search saw) ---`);
  return out.join("\n");
}
