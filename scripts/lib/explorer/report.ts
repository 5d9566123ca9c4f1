// Text and JSON reports of the explorer's searches and replays.

import { readFileSync } from "node:fs";
import type { FirstFinding, PhaseReport, SearchReport } from "./search.ts";
import type { Landing, RunResult } from "./runner.ts";

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

export function describeLanding(l: Landing): string {
  const src = sourceLine(l.location);
  return `boundary ${l.boundary} (t=${l.time.toFixed(6)} s), before ${l.location}${src ? "   " + src : ""}`;
}

function rate(p: PhaseReport): string {
  return p.seconds > 0 ? `${Math.round(p.schedules / p.seconds)}/s` : "-";
}

function phaseLine(name: string, p: PhaseReport, extra = ""): string {
  const beyond = p.withFinding > 0 ? ` (${p.withNewFinding} beyond the baseline, ${p.withExpected} with the expected finding)` : "";
  return `    ${name.padEnd(7)} ${String(p.schedules).padStart(6)} schedules${extra}, ${p.withFinding} with a finding${beyond}; ${p.seconds.toFixed(2)} s, ${rate(p)}`;
}

function expectedText(r: SearchReport): string {
  return r.scenario.expect.join(" or ") + (r.scenario.expectCtx ? ` (ctx=${r.scenario.expectCtx})` : "");
}

/** The first finding of every kind: the expected kinds first, the baseline's kinds last. */
function orderedFirsts(r: SearchReport): FirstFinding[] {
  const all = Object.values(r.first);
  const score = (f: FirstFinding): number => (r.scenario.expect.includes(f.kind) ? 0 : r.kinds[f.kind]?.inBaseline ? 2 : 1);
  return all.sort((a, b) => score(a) - score(b));
}

export function formatSearch(r: SearchReport): string {
  const out: string[] = [];
  out.push(`  [${r.mode}] window: ${r.windowLength} main-loop statements (boundaries 0..${r.windowLength - 1})`);
  if (r.single) out.push(phaseLine("single", r.single, " (every boundary)"));
  if (r.pairs) {
    const how =
      r.pairs.nearest === Infinity
        ? "every pair"
        : `${r.pairs.covered} of ${r.pairs.total} pairs: ${r.pairs.firstBoundaries} first boundaries x their ${r.pairs.nearest} nearest successors`;
    out.push(phaseLine("pairs", r.pairs, ` (${how})`));
  }
  if (r.random) out.push(phaseLine("random", r.random, ` (seed ${r.random.seed}, 1-4 interrupts each)`));
  const kinds = Object.entries(r.kinds);
  if (kinds.length === 0) {
    out.push(`    findings: none over ${r.total.schedules} schedules`);
  } else {
    out.push(`    findings by kind (schedules / records):`);
    for (const [k, v] of kinds) {
      const note = v.inBaseline ? "   (also with no interrupt in the window: the unguarded list change itself)" : "";
      out.push(`      ${k.padEnd(22)} ${String(v.schedules).padStart(6)} / ${v.records}${note}`);
    }
  }
  if (r.mode === "unsafe") {
    out.push(`    expected ${expectedText(r)}: ${r.expectedFound ? "FOUND" : "NOT FOUND"}`);
  }
  const firsts = orderedFirsts(r);
  for (const f of firsts) {
    out.push(`    first ${f.kind}: ${f.schedule}`);
    if (f.landed.length === 0) out.push(`      no interrupt in the window`);
    for (const l of f.landed) out.push(`      interrupt at ${describeLanding(l)}`);
    for (const line of f.lines) out.push(`      | ${line}`);
    for (const p of f.endState) out.push(`      end state: ${p}`);
    out.push(`      replay: npm run explore -- --replay ${f.schedule}`);
  }
  return out.join("\n");
}

export interface RunSummary {
  board: string;
  bundle: string;
  reports: SearchReport[];
  wallSeconds: number;
}

/** Problems that make the exit status 1: any finding in safe mode, an expected finding missing in unsafe mode. */
export function verdictProblems(reports: SearchReport[]): string[] {
  const problems: string[] = [];
  for (const r of reports) {
    if (r.mode === "safe" && r.total.withFinding > 0) {
      problems.push(`s${r.scenario.id} safe: ${r.total.withFinding} schedule(s) with a finding (${Object.keys(r.kinds).join(", ")})`);
    }
    if (r.mode === "unsafe" && !r.expectedFound) problems.push(`s${r.scenario.id} unsafe: expected ${expectedText(r)} not found`);
  }
  return problems;
}

export function formatSummary(s: RunSummary): string {
  const out: string[] = [];
  let lastScenario = -1;
  for (const r of s.reports) {
    if (r.scenario.id !== lastScenario) {
      out.push("");
      out.push(`s${r.scenario.id} ${r.scenario.key}: ${r.scenario.title}`);
      out.push(`  window line: ${r.window}`);
      lastScenario = r.scenario.id;
    }
    out.push(formatSearch(r));
  }
  out.push("");
  out.push("summary");
  out.push("  scenario  mode    window  schedules  with finding  single-boundary search   kinds beyond the baseline");
  let singleSchedules = 0;
  let singleSeconds = 0;
  let schedules = 0;
  let seconds = 0;
  for (const r of s.reports) {
    const beyond = Object.entries(r.kinds)
      .filter(([, v]) => !v.inBaseline)
      .map(([k]) => k)
      .join(", ");
    const single = r.single ? `${String(r.single.schedules).padStart(5)} in ${r.single.seconds.toFixed(2)} s` : "-";
    out.push(
      `  s${r.scenario.id}        ${r.mode.padEnd(7)} ${String(r.windowLength).padStart(6)}  ${String(r.total.schedules).padStart(9)}  ${String(r.total.withFinding).padStart(12)}  ${single.padEnd(22)}  ${beyond || "-"}`,
    );
    if (r.single) {
      singleSchedules += r.single.schedules;
      singleSeconds += r.single.seconds;
    }
    schedules += r.total.schedules;
    seconds += r.total.seconds;
  }
  out.push(
    `  single-boundary searches: ${singleSchedules} schedules in ${singleSeconds.toFixed(2)} s; ` +
      `all searches: ${schedules} schedules in ${seconds.toFixed(2)} s, ${Math.round(schedules / Math.max(seconds, 1e-9))} schedules/s ` +
      `(board ${s.board}, ${s.bundle}; wall ${s.wallSeconds.toFixed(2)} s)`,
  );
  const problems = verdictProblems(s.reports);
  // Say only what ran: a --mode safe run says nothing of unsafe scenarios.
  const ran = new Set(s.reports.map((r) => r.mode));
  const clean = [ran.has("safe") ? "safe mode clean" : "unsafe mode only (safe mode not run)", ran.has("unsafe") ? "every unsafe scenario found its race" : "unsafe mode not run"];
  out.push(problems.length === 0 ? "  verdict: " + clean.join(", ") : "  verdict: " + problems.join("; "));
  return out.join("\n");
}

/** The JSON form: everything but the first findings' whole logs (replay them for those). */
export function summaryJson(s: RunSummary): unknown {
  return {
    board: s.board,
    bundle: s.bundle,
    wallSeconds: s.wallSeconds,
    problems: verdictProblems(s.reports),
    reports: s.reports.map((r) => ({
      ...r,
      pairs: r.pairs ? { ...r.pairs, nearest: r.pairs.nearest === Infinity ? "all" : r.pairs.nearest } : null,
      first: Object.fromEntries(
        Object.entries(r.first).map(([k, f]) => [k, { ...f, log: undefined, landed: f.landed.map((l) => ({ ...l, source: sourceLine(l.location) })) }]),
      ),
    })),
  };
}

export function formatReplay(schedule: string, result: RunResult): string {
  const out: string[] = [];
  out.push(`replay ${schedule}: window of ${result.windowLength} main-loop statements`);
  if (result.landed.length === 0) out.push(`  no interrupt in the window`);
  for (const l of result.landed) out.push(`  interrupt at ${describeLanding(l)}`);
  for (const b of result.missed) out.push(`  boundary ${b}: past the end of the window, not fired`);
  const kinds = Object.entries(result.findings);
  out.push(`  findings: ${kinds.length ? kinds.map(([k, n]) => `${k} ${n}`).join(", ") : "none"}`);
  for (const p of result.endState) out.push(`  end state: ${p}`);
  out.push(`--- serial log of the run (byte for byte what the search saw) ---`);
  return out.join("\n");
}
