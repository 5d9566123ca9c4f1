// The search over schedules of one scenario in one mode, for each event kind
// the scenario places (irq, dma, nak):
//
//  1. the baseline: only the scenario's fixed events (what the window does alone);
//  2. single: every boundary of the window, one event each (exhaustive). An
//     interrupt's boundaries are the window's main-loop statements; a
//     hardware event's are all the statements the window runs, the
//     interrupt's included;
//  3. pairs: two events of one kind, at boundaries i < j. Window lengths
//     differ per schedule (an event changes the path the firmware takes), so
//     the pairs of first boundary i are j = i+1 .. len(i)-1 where len(i) is
//     the window length the single run at i measured. When there are more
//     pairs than the limit, the subset is: every first boundary i paired with
//     its d nearest following boundaries, d the largest that fits the limit
//     (two events close together are the ones that can both land inside one
//     multi-statement window); if even d = 1 does not fit, evenly spaced first
//     boundaries with d = 1. The report gives pairs covered out of the total.
//  4. random: seeded schedules of 1 to 4 events, each of a kind drawn from the
//     scenario's and at a boundary drawn uniformly below the longest window
//     of that kind seen.

import { seededRandom } from "../session.ts";
import { formatSchedule } from "./schedule.ts";
import { findingLines, runSchedule, type BoardRig, type Landing, type RunResult } from "./runner.ts";
import type { EventKind, Expectation, Mode, Scenario, ScheduleEvent } from "./scenarios.ts";

export interface SearchOptions {
  /** Pair limit per event kind; Infinity for every pair; 0 to skip. */
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
  /** Schedules with the mode's expected finding (kind, and context when the scenario names one). */
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
  /** The baseline (no event but the fixed ones) makes it too. */
  inBaseline: boolean;
}

/** Per event kind: how often the search placed it and what came of it. */
export interface EventReport {
  /** Schedules with at least one event of this kind. */
  schedules: number;
  /** Events of this kind placed inside the window (not past its end). */
  landed: number;
  /** Of those, the ones that had something to act on (a dma event with a stream running). */
  took: number;
  /** Schedules with this kind that had a finding. */
  withFinding: number;
}

export interface FirstFinding {
  kind: string;
  schedule: string;
  events: ScheduleEvent[];
  landed: Landing[];
  /** RACE/EVT/LOST/ERROR lines from the window on. */
  lines: string[];
  /** What the explorer's end-state check found. */
  endState: string[];
  /** Faults the register models recorded. */
  hwFaults: string[];
  /** What the hardware checks found. */
  checks: string[];
  /** The whole serial log of the run (replay gives it back byte for byte). */
  log: string;
}

export interface SearchReport {
  board: string;
  scenario: { id: number | null; key: string; title: string; events: EventKind[]; fixed: ScheduleEvent[]; source: string };
  mode: Mode;
  /** What this mode must show. */
  expect: Expectation;
  window: string;
  /** The baseline's window in main-loop statements (irq boundaries) and in all statements (hardware boundaries). */
  windowLength: number;
  windowStatements: number;
  baseline: Record<string, number>;
  /** Per event kind: every single boundary (null when skipped). */
  single: Partial<Record<EventKind, PhaseReport>>;
  pairs: Partial<Record<EventKind, PhaseReport & PairCoverage>>;
  random: (PhaseReport & { seed: number }) | null;
  total: PhaseReport;
  kinds: Record<string, KindReport>;
  events: Partial<Record<EventKind, EventReport>>;
  first: Record<string, FirstFinding>;
  /** The expected finding was seen (expectations with `any`). */
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

/** Whether a run shows an expected finding (one of the kinds, from the context the expectation names). */
export function hasExpected(expect: Expectation, result: RunResult): boolean {
  if (expect.none || !expect.any.some((k) => (result.findings[k] ?? 0) > 0)) return false;
  if (!expect.ctx) return true;
  const ctx = expect.ctx;
  return findingLines(result).some((l) => expect.any.some((k) => l.startsWith("RACE ") && l.includes(` kind=${k} `) && l.includes(` ctx=${ctx} `)));
}

class Tally {
  phase: PhaseReport = { schedules: 0, withFinding: 0, withNewFinding: 0, withExpected: 0, seconds: 0 };
  constructor(
    private readonly report: SearchReport,
    private readonly scenario: Scenario,
    private readonly board: string,
  ) {}
  add(events: ScheduleEvent[], result: RunResult, isBaseline: boolean): void {
    const p = this.phase;
    const r = this.report;
    p.schedules++;
    const kinds = Object.keys(result.findings);
    if (kinds.length > 0) p.withFinding++;
    if (kinds.some((k) => result.findings[k] > (r.baseline[k] ?? 0))) p.withNewFinding++;
    const expected = hasExpected(r.expect, result);
    if (expected) p.withExpected++;
    if (expected) r.expectedFound = true;
    for (const kind of new Set(events.map((e) => e.kind))) {
      const ev = (r.events[kind] ??= { schedules: 0, landed: 0, took: 0, withFinding: 0 });
      ev.schedules++;
      if (kinds.length > 0) ev.withFinding++;
    }
    for (const l of result.landed) {
      if (!events.some((e) => e.kind === l.kind && e.boundary === l.boundary)) continue; // a fixed event
      const ev = r.events[l.kind]!;
      ev.landed++;
      if (l.took) ev.took++;
    }
    for (const k of kinds) {
      const kr = (r.kinds[k] ??= { schedules: 0, records: 0, inBaseline: false });
      kr.schedules++;
      kr.records += result.findings[k];
      if (isBaseline) kr.inBaseline = true;
      if (!r.first[k]) {
        r.first[k] = {
          kind: k,
          schedule: formatSchedule(this.scenario, r.mode, events, this.board),
          events: [...events],
          landed: result.landed,
          lines: findingLines(result),
          endState: result.endState,
          hwFaults: result.hwFaults,
          checks: result.checks,
          log: result.log,
        };
      }
    }
  }
}

function sumPhases(phases: (PhaseReport | null | undefined)[]): PhaseReport {
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

/** The window length that counts for a kind's boundaries. */
function lengthFor(kind: EventKind, r: RunResult): number {
  return kind === "irq" ? r.windowLength : r.windowStatements;
}

export async function searchScenario(rig: BoardRig, scenario: Scenario, mode: Mode, options: SearchOptions): Promise<SearchReport> {
  const expect = scenario.expect[mode];
  if (!expect) throw new Error(`scenario ${scenario.key} says nothing about ${mode} mode`);
  const progress = options.onProgress ?? (() => {});
  const label = `${scenario.id !== null ? "s" + scenario.id : scenario.key} ${mode}`;
  const t0 = performance.now();
  const baselineRun = await runSchedule(rig, scenario, mode, []);
  const report: SearchReport = {
    board: rig.name,
    scenario: { id: scenario.id, key: scenario.key, title: scenario.title, events: scenario.events, fixed: scenario.fixed, source: scenario.source },
    mode,
    expect,
    window: "",
    windowLength: baselineRun.windowLength,
    windowStatements: baselineRun.windowStatements,
    baseline: baselineRun.findings,
    single: {},
    pairs: {},
    random: null,
    total: { schedules: 0, withFinding: 0, withNewFinding: 0, withExpected: 0, seconds: 0 },
    kinds: {},
    events: {},
    first: {},
    expectedFound: false,
    schedulesPerSecond: 0,
  };
  const echoed = /^>(.*)$/m.exec(baselineRun.log.slice(baselineRun.windowLogStart));
  report.window = echoed ? echoed[1] : "";
  const base = new Tally(report, scenario, rig.name);
  base.add([], baselineRun, true);
  base.phase.seconds = (performance.now() - t0) / 1000;

  const lengths: Partial<Record<EventKind, number[]>> = {};
  for (const kind of scenario.events) {
    // Single boundaries: every one, exhaustively.
    const L = lengthFor(kind, baselineRun);
    const lens: number[] = (lengths[kind] = []);
    if (options.singles !== false) {
      const single = new Tally(report, scenario, rig.name);
      const t1 = performance.now();
      progress(`${label} ${kind}`, 0, L);
      for (let i = 0; i < L; i++) {
        const ev: ScheduleEvent[] = [{ kind, boundary: i }];
        const r = await runSchedule(rig, scenario, mode, ev);
        lens.push(lengthFor(kind, r));
        single.add(ev, r, false);
        progress(`${label} ${kind}`, i + 1, L);
      }
      single.phase.seconds = (performance.now() - t1) / 1000;
      report.single[kind] = single.phase;
    }

    // Pairs: all, or the nearest-successor subset.
    if (options.pairs > 0 && lens.length > 0) {
      const { pairs, coverage } = choosePairs(lens, options.pairs);
      const tally = new Tally(report, scenario, rig.name);
      const t2 = performance.now();
      progress(`${label} ${kind} pairs`, 0, pairs.length);
      for (let k = 0; k < pairs.length; k++) {
        const ev: ScheduleEvent[] = pairs[k].map((boundary) => ({ kind, boundary }));
        const r = await runSchedule(rig, scenario, mode, ev);
        tally.add(ev, r, false);
        progress(`${label} ${kind} pairs`, k + 1, pairs.length);
      }
      tally.phase.seconds = (performance.now() - t2) / 1000;
      report.pairs[kind] = { ...tally.phase, ...coverage };
    }
  }

  // Random schedules: kinds and boundaries drawn from a seeded generator.
  if (options.random > 0) {
    const rand = seeded(options.seed * 1000003 + (scenario.id ?? hashKey(scenario.key)) * 7919 + (mode === "unsafe" ? 1 : 0));
    const longest: Partial<Record<EventKind, number>> = {};
    for (const kind of scenario.events) longest[kind] = Math.max(lengthFor(kind, baselineRun), ...(lengths[kind] ?? []));
    const tally = new Tally(report, scenario, rig.name);
    const t3 = performance.now();
    progress(`${label} random`, 0, options.random);
    for (let k = 0; k < options.random; k++) {
      const n = 1 + Math.floor(rand() * 4);
      const set = new Map<string, ScheduleEvent>();
      for (let tries = 0; set.size < n && tries < 100; tries++) {
        const kind = scenario.events[Math.floor(rand() * scenario.events.length)];
        const boundary = Math.floor(rand() * Math.max(1, longest[kind] ?? 1));
        set.set(`${kind}@${boundary}`, { kind, boundary });
      }
      const ev = [...set.values()].sort((a, b) => a.boundary - b.boundary || a.kind.localeCompare(b.kind));
      const r = await runSchedule(rig, scenario, mode, ev);
      tally.add(ev, r, false);
      progress(`${label} random`, k + 1, options.random);
    }
    tally.phase.seconds = (performance.now() - t3) / 1000;
    report.random = { ...tally.phase, seed: options.seed };
  }

  report.total = sumPhases([base.phase, ...Object.values(report.single), ...Object.values(report.pairs), report.random]);
  report.schedulesPerSecond = report.total.schedules / Math.max(1e-9, report.total.seconds);
  return report;
}

/** A stable number from a key (scenarios with no id seed their random schedules with it). */
function hashKey(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h % 100003;
}
