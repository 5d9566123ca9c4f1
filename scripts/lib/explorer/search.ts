// The search over schedules of one scenario in one mode:
//
//  1. the baseline: no interrupt in the window (what the window does alone);
//  2. single: every boundary of the window, one interrupt each (exhaustive);
//  3. pairs: two interrupts, at boundaries i < j. Window lengths differ per
//     schedule (an interrupt changes the path the main loop takes), so the
//     pairs of first boundary i are j = i+1 .. len(i)-1 where len(i) is the
//     window length the single run at i measured. When there are more pairs
//     than the limit, the subset is: every first boundary i paired with its d
//     nearest following boundaries, d the largest that fits the limit (two
//     interrupts close together are the ones that can both land inside one
//     multi-statement window); if even d = 1 does not fit, evenly spaced first
//     boundaries with d = 1. The report gives pairs covered out of the total.
//  4. random: seeded schedules of 1 to 4 interrupts at boundaries drawn
//     uniformly below the longest window seen.

import { seededRandom } from "../session.ts";
import { formatSchedule } from "./schedule.ts";
import { findingLines, runSchedule, type BoardRig, type Landing, type RunResult } from "./runner.ts";
import type { Mode, Scenario } from "./scenarios.ts";

export interface SearchOptions {
  /** Pair limit; Infinity for every pair; 0 to skip. */
  pairs: number;
  /** Random schedules; 0 to skip. */
  random: number;
  seed: number;
  /** Skip the single-boundary search (only with replays of explicit lists). */
  singles?: boolean;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface PhaseReport {
  schedules: number;
  /** Schedules with any finding. */
  withFinding: number;
  /** Schedules with a finding the baseline does not have (more of a kind than the baseline made). */
  withNewFinding: number;
  /** Schedules with the scenario's expected finding (kind, and context when the scenario names one). */
  withExpected: number;
  seconds: number;
}

export interface PairCoverage {
  covered: number;
  total: number;
  /** Nearest following boundaries per first boundary (Infinity: all). */
  nearest: number;
  firstBoundaries: number;
}

export interface KindReport {
  /** Schedules on which the kind was seen. */
  schedules: number;
  /** Records of the kind, over all schedules. */
  records: number;
  /** The baseline (no interrupt in the window) makes it too. */
  inBaseline: boolean;
}

export interface FirstFinding {
  kind: string;
  schedule: string;
  boundaries: number[];
  landed: Landing[];
  /** RACE/EVT/LOST/ERROR lines from the window on. */
  lines: string[];
  /** What the explorer's end-state check found. */
  endState: string[];
  /** The whole serial log of the run (replay gives it back byte for byte). */
  log: string;
}

export interface SearchReport {
  board: string;
  scenario: { id: number; key: string; title: string; expect: string[]; expectCtx: string | null };
  mode: Mode;
  window: string;
  /** Window length of the baseline run, in main-loop statements (= single-boundary schedules). */
  windowLength: number;
  baseline: Record<string, number>;
  single: PhaseReport | null;
  pairs: (PhaseReport & PairCoverage) | null;
  random: (PhaseReport & { seed: number }) | null;
  total: PhaseReport;
  kinds: Record<string, KindReport>;
  first: Record<string, FirstFinding>;
  /** The scenario's expected finding was seen (the unsafe-mode test). */
  expectedFound: boolean;
  schedulesPerSecond: number;
}

/** A small seeded generator (mulberry32): the same one the demo jitters with. */
export const seeded = seededRandom;

/** The pairs searched, given the window length len[i] that each single run at i measured. */
export function choosePairs(lengths: readonly number[], limit: number): { pairs: [number, number][]; coverage: PairCoverage } {
  const after = lengths.map((len, i) => Math.max(0, len - i - 1));
  const total = after.reduce((a, b) => a + b, 0);
  const pairs: [number, number][] = [];
  if (limit <= 0 || total === 0) return { pairs, coverage: { covered: 0, total, nearest: 0, firstBoundaries: 0 } };
  if (total <= limit) {
    for (let i = 0; i < lengths.length; i++) for (let j = i + 1; j < lengths[i]; j++) pairs.push([i, j]);
    return { pairs, coverage: { covered: pairs.length, total, nearest: Infinity, firstBoundaries: lengths.length } };
  }
  const fits = (d: number): number => after.reduce((n, a) => n + Math.min(a, d), 0);
  let d = 0;
  while (fits(d + 1) <= limit) d++;
  let firsts: number[];
  if (d === 0) {
    d = 1;
    const candidates = after.map((a, i) => (a > 0 ? i : -1)).filter((i) => i >= 0);
    const step = candidates.length / limit;
    firsts = [];
    for (let k = 0; k < limit; k++) firsts.push(candidates[Math.floor(k * step)]);
  } else {
    firsts = lengths.map((_, i) => i);
  }
  for (const i of firsts) for (let j = i + 1; j < Math.min(lengths[i], i + 1 + d); j++) pairs.push([i, j]);
  return { pairs, coverage: { covered: pairs.length, total, nearest: d, firstBoundaries: firsts.length } };
}

/** Whether a run shows the scenario's expected finding (the kind, from the interrupt when the scenario says so). */
export function hasExpected(scenario: Scenario, result: RunResult): boolean {
  if (!scenario.expect.some((k) => (result.findings[k] ?? 0) > 0)) return false;
  if (!scenario.expectCtx) return true;
  const ctx = scenario.expectCtx;
  return findingLines(result).some((l) => scenario.expect.some((k) => l.startsWith("RACE ") && l.includes(` kind=${k} `) && l.includes(` ctx=${ctx} `)));
}

class Tally {
  phase: PhaseReport = { schedules: 0, withFinding: 0, withNewFinding: 0, withExpected: 0, seconds: 0 };
  constructor(
    private readonly report: SearchReport,
    private readonly scenario: Scenario,
    private readonly board: string,
  ) {}
  add(boundaries: number[], result: RunResult, isBaseline: boolean): void {
    const p = this.phase;
    p.schedules++;
    const kinds = Object.keys(result.findings);
    if (kinds.length > 0) p.withFinding++;
    if (kinds.some((k) => result.findings[k] > (this.report.baseline[k] ?? 0))) p.withNewFinding++;
    const expected = hasExpected(this.scenario, result);
    if (expected) p.withExpected++;
    if (expected) this.report.expectedFound = true;
    for (const k of kinds) {
      const kr = (this.report.kinds[k] ??= { schedules: 0, records: 0, inBaseline: false });
      kr.schedules++;
      kr.records += result.findings[k];
      if (isBaseline) kr.inBaseline = true;
      if (!this.report.first[k]) {
        this.report.first[k] = {
          kind: k,
          schedule: formatSchedule(this.scenario, this.report.mode, boundaries, this.board),
          boundaries: [...boundaries],
          landed: result.landed,
          lines: findingLines(result),
          endState: result.endState,
          log: result.log,
        };
      }
    }
  }
}

function sumPhases(phases: (PhaseReport | null)[]): PhaseReport {
  const t: PhaseReport = { schedules: 0, withFinding: 0, withNewFinding: 0, withExpected: 0, seconds: 0 };
  for (const p of phases) {
    if (!p) continue;
    t.schedules += p.schedules;
    t.withFinding += p.withFinding;
    t.withNewFinding += p.withNewFinding;
    t.withExpected += p.withExpected;
    t.seconds += p.seconds;
  }
  return t;
}

export async function searchScenario(rig: BoardRig, scenario: Scenario, mode: Mode, options: SearchOptions): Promise<SearchReport> {
  const progress = options.onProgress ?? (() => {});
  const label = `s${scenario.id} ${mode}`;
  const t0 = performance.now();
  const baselineRun = await runSchedule(rig, scenario, mode, []);
  const report: SearchReport = {
    board: rig.name,
    scenario: { id: scenario.id, key: scenario.key, title: scenario.title, expect: scenario.expect, expectCtx: scenario.expectCtx },
    mode,
    window: "",
    windowLength: baselineRun.windowLength,
    baseline: baselineRun.findings,
    single: null,
    pairs: null,
    random: null,
    total: { schedules: 0, withFinding: 0, withNewFinding: 0, withExpected: 0, seconds: 0 },
    kinds: {},
    first: {},
    expectedFound: false,
    schedulesPerSecond: 0,
  };
  const echoed = /^>(.*)$/m.exec(baselineRun.log.slice(baselineRun.windowLogStart));
  report.window = echoed ? echoed[1] : "";
  const base = new Tally(report, scenario, rig.name);
  base.add([], baselineRun, true);
  base.phase.seconds = (performance.now() - t0) / 1000;

  // Single boundaries: every one, exhaustively.
  const L = baselineRun.windowLength;
  const lengths: number[] = [];
  let single: Tally | null = null;
  if (options.singles !== false) {
    single = new Tally(report, scenario, rig.name);
    const t1 = performance.now();
    progress(`${label} single`, 0, L);
    for (let i = 0; i < L; i++) {
      const r = await runSchedule(rig, scenario, mode, [i]);
      lengths.push(r.windowLength);
      single.add([i], r, false);
      progress(`${label} single`, i + 1, L);
    }
    single.phase.seconds = (performance.now() - t1) / 1000;
    report.single = single.phase;
  }

  // Pairs: all, or the nearest-successor subset.
  if (options.pairs > 0 && lengths.length > 0) {
    const { pairs, coverage } = choosePairs(lengths, options.pairs);
    const tally = new Tally(report, scenario, rig.name);
    const t2 = performance.now();
    progress(`${label} pairs`, 0, pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      const r = await runSchedule(rig, scenario, mode, pairs[k]);
      tally.add(pairs[k], r, false);
      progress(`${label} pairs`, k + 1, pairs.length);
    }
    tally.phase.seconds = (performance.now() - t2) / 1000;
    report.pairs = { ...tally.phase, ...coverage };
  }

  // Random schedules.
  if (options.random > 0) {
    const rand = seeded(options.seed * 1000003 + scenario.id * 7919 + (mode === "unsafe" ? 1 : 0));
    const longest = Math.max(L, ...lengths);
    const tally = new Tally(report, scenario, rig.name);
    const t3 = performance.now();
    progress(`${label} random`, 0, options.random);
    for (let k = 0; k < options.random; k++) {
      const n = 1 + Math.floor(rand() * 4);
      const set = new Set<number>();
      while (set.size < Math.min(n, longest)) set.add(Math.floor(rand() * longest));
      const boundaries = [...set].sort((a, b) => a - b);
      const r = await runSchedule(rig, scenario, mode, boundaries);
      tally.add(boundaries, r, false);
      progress(`${label} random`, k + 1, options.random);
    }
    tally.phase.seconds = (performance.now() - t3) / 1000;
    report.random = { ...tally.phase, seed: options.seed };
  }

  report.total = sumPhases([base.phase, report.single, report.pairs, report.random]);
  report.schedulesPerSecond = report.total.schedules / Math.max(1e-9, report.total.seconds);
  return report;
}
