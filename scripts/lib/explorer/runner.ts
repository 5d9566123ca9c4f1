// Runs one schedule of one scenario on a fresh emulated board and reports
// what the firmware's race detectors, the register models and the
// explorer's own checks found.
//
// A schedule is a list of events at window boundaries (scenarios.ts). For
// the period interrupt (irq), boundary k is the point just before the k-th
// main-loop statement of the scenario's window line (0 is before its first
// statement): the explorer fires the board's EXEC timer task there and
// nowhere else in the window. For a hardware event (dma, nak), boundary k is
// the point just before the k-th statement the window runs in either
// context, the interrupt's included (the hardware does not wait for the main
// loop). Before the window the timer task fires on its own; it is held off
// from the scenario's "overdue" periods before the window until the window's
// line has returned; after the window it fires on its own again
// for TAIL_SECONDS, so the main loop prints the log ring. Each run starts
// from a fresh machine, so a schedule always produces the same serial log,
// byte for byte.

import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TraceMap, type SourceMapInput } from "@jridgewell/trace-mapping";
import { Machine, type StatementHook } from "../../../emulator/machine.ts";
import { loadBundle, type BundleSource } from "../../../emulator/load-bundle.ts";
import { createGenericMachine } from "../../../emulator/boards/generic.ts";
import { createPicoMachine } from "../../../emulator/boards/pico-wm8731.ts";
import { KIND_NAMES, RACE_KINDS, Kind } from "../../../firmware/log.ts";
import { BeState, FeState, LinkState } from "../../../firmware/dpcm/dpcm.ts";
import { Cmd } from "../../../firmware/pcm.ts";
import {
  END_STATE, HANDLER_ERROR, HARDWARE_EVENTS, HW_FAULT, PERIOD_COUNT, UNCAUGHT, UNREPORTED_LATE_REFILL, dryLine, planScenario,
  type EventKind, type Mode, type Scenario, type ScenarioPlan, type ScheduleEvent,
} from "./scenarios.ts";
import { picoHardware, type BeTruth, type ExplorerHardware } from "./hardware.ts";
import type { TraceRecorder } from "./trace.ts";

/** Boards the explorer runs: the emulator model and the bundle. */
export const EXPLORER_BOARDS = ["generic", "bench", "pico-wm8731"] as const;

export { FINDING_KINDS, HANDLER_ERROR, UNCAUGHT, END_STATE } from "./scenarios.ts";
const HANDLER_ERROR_INDEX = Kind.HandlerError;
const LATE_REFILL_INDEX = KIND_NAMES.indexOf("late-refill");

/** Virtual seconds the set-up commands run before the dry FE stops being written. */
const SETTLE_SECONDS = 0.05;
/** Longest wait for the dry FE's ring to be played out. */
const DRAIN_LIMIT_SECONDS = 1;
/** Longest a window line may run (virtual). */
const WINDOW_LIMIT_SECONDS = 2;
/** After the window: the timer task runs on its own, the main loop prints the log ring. */
export const TAIL_SECONDS = 0.06;

// ---- the firmware as the host sees it (DPCM global) ----------------------------

export interface FwFe {
  index: number;
  name: string;
  state: number;
  applPtr: number;
  hwPtr: number;
  updating: boolean;
  params: { rate: number; periodFrames: number };
  beClients: FwNode;
}
export interface FwNode {
  next: FwNode;
  owner: { state: number; pos: number; emptyPeriods: number; fe: { name: string } } | null;
  poison: boolean;
}
export interface FwBe {
  index: number;
  name: string;
  state: number;
  startCount: number;
  pauseCount: number;
  suspendCount: number;
  /** Periods the card was told of (periodElapsed calls) since boot. */
  periods: number;
  /** Hardware triggers sent, by command. */
  hwTriggers: Int32Array;
  feClients: FwNode;
  params: { rate: number; periodFrames: number };
}
export interface FwDpcm {
  card: { fes: FwFe[]; bes: FwBe[]; feNames: string[]; beNames: string[] };
  irq: { masked: boolean; inHandler: boolean; unsafe: boolean; handlerRuns: number; handler: () => void };
  ring: { counts: Int32Array };
  player: { voices: { tone: unknown }[] };
}

/**
 * The explorer's own detector, run on the firmware's state when a run ends
 * (the race detectors see a moment; this sees what was left behind): each
 * BE's start, pause and suspend counts must equal its running, paused and
 * suspended links, and a BE with no running link must not be started.
 */
export function endStateProblems(dpcm: FwDpcm): string[] {
  const problems: string[] = [];
  for (const be of dpcm.card.bes) {
    let running = 0;
    let paused = 0;
    let suspended = 0;
    const head = be.feClients;
    let steps = 0;
    for (let n = head.next; n !== head && !n.poison && steps < 1000; n = n.next, steps++) {
      if (n.owner?.state === LinkState.Running) running++;
      else if (n.owner?.state === LinkState.Paused) paused++;
      else if (n.owner?.state === LinkState.Suspended) suspended++;
    }
    if (be.startCount !== running) problems.push(`${be.name}: start count ${be.startCount}, running links ${running}`);
    if (be.pauseCount !== paused) problems.push(`${be.name}: pause count ${be.pauseCount}, paused links ${paused}`);
    if (be.suspendCount !== suspended) problems.push(`${be.name}: suspend count ${be.suspendCount}, suspended links ${suspended}`);
    if (be.state === BeState.Start && running === 0) problems.push(`${be.name}: started with no running link (no STOP)`);
    if (be.state !== BeState.Start && running > 0) problems.push(`${be.name}: ${running} running link(s) but the BE is not started`);
  }
  return problems;
}

// ---- boards -----------------------------------------------------------------------

/** A fresh machine for one run, and the hardware events and truth its models offer (none on generic and bench). */
export interface RigRun {
  machine: Machine;
  hardware: ExplorerHardware | null;
}

export interface BoardRig {
  name: string;
  bundlePath: string;
  source: BundleSource;
  /** Hardware events this board can place. */
  hardwareKinds: readonly EventKind[];
  createRun(): RigRun;
}

/** Read a board's bundle once (its source map parsed once) for many runs. */
export async function loadBoardRig(name: string, distDir = "dist"): Promise<BoardRig> {
  if (!(EXPLORER_BOARDS as readonly string[]).includes(name)) {
    throw new Error(`unknown board "${name}" (known: ${EXPLORER_BOARDS.join(", ")})`);
  }
  const bundlePath = join(distDir, name + ".js");
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run npm run build first`);
  const code = readFileSync(bundlePath, "utf8");
  let map: TraceMap | null = null;
  if (existsSync(bundlePath + ".map")) {
    map = new TraceMap(JSON.parse(readFileSync(bundlePath + ".map", "utf8")) as SourceMapInput, bundlePath + ".map");
  }
  const source: BundleSource = { code, map, fileName: bundlePath };
  // The bench board is the generic board's machine model with a wider bundle.
  const createRun = (): RigRun => {
    if (name !== "pico-wm8731") return { machine: createGenericMachine().machine, hardware: null };
    const board = createPicoMachine();
    return { machine: board.machine, hardware: picoHardware(board) };
  };
  // Fail early (and once) if the model cannot be made.
  const first = createRun();
  return { name, bundlePath, source, hardwareKinds: first.hardware?.kinds ?? [], createRun };
}

/** Why a scenario does not run on a board ("" when it does). */
export function unsupported(rig: BoardRig, scenario: Scenario): string {
  if (scenario.boards && !scenario.boards.includes(rig.name)) return `it runs on ${scenario.boards.join(", ")} only`;
  const missing = [...scenario.events, ...scenario.fixed.map((e) => e.kind)].filter(
    (k) => (HARDWARE_EVENTS as readonly string[]).includes(k) && !rig.hardwareKinds.includes(k),
  );
  if (missing.length > 0) return `board ${rig.name} has no register model to place ${[...new Set(missing)].join(", ")} events`;
  return "";
}

/** The hardware event kinds among `events` that the board has no register model to place (irq is always placeable). */
export function unplaceableKinds(rig: BoardRig, events: readonly ScheduleEvent[]): EventKind[] {
  const kinds = new Set(events.map((e) => e.kind).filter((k) => k !== "irq" && !rig.hardwareKinds.includes(k)));
  return [...kinds];
}

// ---- one run ------------------------------------------------------------------------

/** Where one event of the schedule landed. */
export interface Landing {
  kind: EventKind;
  boundary: number;
  siteId: number;
  /** Virtual seconds. */
  time: number;
  /** It landed inside the interrupt (hardware events only). */
  inTask: boolean;
  /** It had something to act on (a dma event with no stream running does nothing). */
  took: boolean;
  /** "firmware/dpcm/fe.ts:512:5", through the bundle's source map. */
  location: string;
}

export interface RunResult {
  /** Main-loop statements the window line ran in this schedule (irq boundaries). */
  windowLength: number;
  /** Statements the window ran in either context (hardware boundaries). */
  windowStatements: number;
  landed: Landing[];
  /** Events at or past the window's end: not placed. */
  missed: ScheduleEvent[];
  /** Finding counts by kind (window and tail), only kinds above 0. */
  findings: Record<string, number>;
  /** What endStateProblems found when the run ended. */
  endState: string[];
  /** Faults the register models recorded from the window on ("DMA1.S4NDTR: ..."). */
  hwFaults: string[];
  /** What the hardware checks found (period counts, late refills), one line each. */
  checks: string[];
  /** The whole serial log of the run. */
  log: string;
  /** Offset in `log` where the window began (its echoed line). */
  windowLogStart: number;
  /** Virtual seconds at the window's start and end, and at the end of the run. */
  windowStart: number;
  windowEnd: number;
  end: number;
  statements: number;
}

export class ScenarioSetupError extends Error {}

export interface RunOptions {
  trace?: TraceRecorder | null;
}

function firmware(machine: Machine): FwDpcm {
  const dpcm = machine.global.DPCM as FwDpcm | undefined;
  if (!dpcm || !dpcm.player) throw new ScenarioSetupError("the bundle has no DPCM global with a player: rebuild it (npm run build)");
  return dpcm;
}

function setupErrors(text: string): string[] {
  return text.split("\n").filter((l) => /^ERROR |^Uncaught /.test(l));
}

/** The plan of a scenario on a board, from the firmware's own names. */
export function planFor(scenario: Scenario, dpcm: FwDpcm): ScenarioPlan {
  const rt = dpcm.card;
  try {
    return planScenario(scenario, rt.feNames, rt.beNames);
  } catch (e) {
    throw new ScenarioSetupError(`scenario ${scenario.key}: ${(e as Error).message}`);
  }
}

/** The scenario's fixed events and the schedule's, by boundary, without repeats. */
export function allEvents(scenario: Scenario, events: readonly ScheduleEvent[]): ScheduleEvent[] {
  const seen = new Set<string>();
  const out: ScheduleEvent[] = [];
  for (const e of [...scenario.fixed, ...events]) {
    const k = `${e.kind}@${e.boundary}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  }
  return out.sort((a, b) => a.boundary - b.boundary || a.kind.localeCompare(b.kind));
}

/** The hardware truth and the card's counts of every BE, at one moment. */
interface Snapshot {
  truth: (BeTruth | null)[];
  periods: number[];
  state: number[];
  starts: number[];
  stops: number[];
  lateRefills: number;
}

function snapshot(dpcm: FwDpcm, hw: ExplorerHardware | null): Snapshot {
  const bes = dpcm.card.bes;
  return {
    truth: bes.map((be) => (hw ? hw.truth(be.name) : null)),
    periods: bes.map((be) => be.periods),
    state: bes.map((be) => be.state),
    starts: bes.map((be) => be.hwTriggers[Cmd.Start]),
    stops: bes.map((be) => be.hwTriggers[Cmd.Stop]),
    lateRefills: LATE_REFILL_INDEX >= 0 ? dpcm.ring.counts[LATE_REFILL_INDEX] : 0,
  };
}

/**
 * The hardware checks between two snapshots: every BE that stayed started
 * (no START or STOP in between) was told of exactly the blocks its DMA
 * completed (a completion still flagged at either end is counted on the side
 * that has it); and every block the DMA read while it was rewritten was
 * logged as late-refill.
 */
function hardwareChecks(dpcm: FwDpcm, a: Snapshot, b: Snapshot, findings: Record<string, number>, widestGap: number[]): string[] {
  const lines: string[] = [];
  let rewritten = 0;
  dpcm.card.bes.forEach((be, i) => {
    const t0 = a.truth[i];
    const t1 = b.truth[i];
    if (!t0 || !t1) return;
    rewritten += t1.rewritten - t0.rewritten;
    const steady = a.state[i] === BeState.Start && b.state[i] === BeState.Start && a.starts[i] === b.starts[i] && a.stops[i] === b.stops[i];
    if (!steady) return;
    const counted = b.periods[i] - a.periods[i];
    const real = t1.blockEnds - t0.blockEnds + (t0.pending ? 1 : 0) - (t1.pending ? 1 : 0);
    // One flag and CT's parity tell apart at most two block ends between
    // polls: after a gap of three or more the card may be told of fewer (the
    // firmware logs late-refill), never of more.
    const gap = widestGap[i];
    if (counted > real || (counted < real && gap <= 2)) {
      findings[PERIOD_COUNT] = (findings[PERIOD_COUNT] ?? 0) + 1;
      lines.push(`${PERIOD_COUNT}: ${be.name}: the card was told of ${counted} periods; its DMA completed ${real} (at most ${gap} between two polls)`);
    }
  });
  const logged = b.lateRefills - a.lateRefills;
  if (rewritten > logged) {
    findings[UNREPORTED_LATE_REFILL] = rewritten - logged;
    lines.push(`${UNREPORTED_LATE_REFILL}: the DMA read ${rewritten} block(s) while they were rewritten; ${logged} late-refill record(s)`);
  }
  return lines;
}

/** Run one schedule (its events any order; the scenario's fixed events are added) of a scenario in a mode. */
export async function runSchedule(
  rig: BoardRig,
  scenario: Scenario,
  mode: Mode,
  events: readonly ScheduleEvent[],
  options: RunOptions = {},
): Promise<RunResult> {
  const why = unsupported(rig, scenario);
  if (why) throw new ScenarioSetupError(`scenario ${scenario.key} does not run on ${rig.name}: ${why}`);
  const { machine, hardware } = rig.createRun();
  const trace = options.trace ?? null;
  trace?.attach(machine);
  const loaded = loadBundle(machine, rig.source);
  if (!loaded.ok) throw new ScenarioSetupError(`${rig.bundlePath} failed to load: ${loaded.message}`);
  if (!/^READY /m.test(machine.console.text()) && !machine.runUntilOutput(/^READY /m, 2)) {
    throw new ScenarioSetupError(`${rig.bundlePath}: no READY within 2 virtual seconds`);
  }
  const dpcm = firmware(machine);
  trace?.bind(dpcm);
  const plan = planFor(scenario, dpcm);
  const fe0 = dpcm.card.fes[0].params;
  const period = fe0.periodFrames / fe0.rate;

  // 1. Set-up, with the timer task firing on its own.
  for (const line of plan.setup) machine.console.type(line);
  machine.runFor(SETTLE_SECONDS);
  let errors = setupErrors(machine.console.text());
  if (errors.length > 0) throw new ScenarioSetupError(`scenario ${scenario.key} set-up failed on ${rig.name}: ${errors.join("; ")}`);
  // 2. A dry FE's application stops writing; the ring plays out until no
  // running link of the FE has a whole period left to copy: every output's
  // next fill will be silence. (The links of an FE need not be in step: a BE
  // added later was primed with two periods at once.)
  if (plan.dryFe !== null) {
    const fe = dpcm.card.fes[plan.dryFe];
    if (fe.state !== FeState.Running) throw new ScenarioSetupError(`scenario ${scenario.key} set-up failed on ${rig.name}: ${fe.name} is not running`);
    machine.console.type(dryLine(plan.dryFe));
    const frames = fe.params.periodFrames;
    const dryEverywhere = (): boolean => {
      let running = 0;
      for (let n = fe.beClients.next; n !== fe.beClients && n.owner; n = n.next) {
        if (n.owner.state !== LinkState.Running) continue;
        running++;
        if (fe.applPtr - n.owner.pos >= frames) return false;
      }
      return running > 0;
    };
    machine.runFor(DRAIN_LIMIT_SECONDS, { until: dryEverywhere });
    if (!dryEverywhere() || fe.state !== FeState.Running) {
      throw new ScenarioSetupError(`scenario ${scenario.key} on ${rig.name}: ${fe.name} did not play out its ring while running`);
    }
  }
  // The hardware checks start here, between two polls of the timer task
  // (every half period): a completion not yet reported is then still flagged.
  const before0 = snapshot(dpcm, hardware);
  const faultsBefore = machine.faults.length;
  // From here on, an upper bound of the block ends each BE's DMA made between
  // two polls: a poll reads the flags somewhere inside a handler run, so it
  // sees at most the block ends from the previous run's start to its own
  // run's end (the host wraps the handler: no statement is added).
  const ends = (): number[] => dpcm.card.bes.map((be) => hardware?.truth(be.name)?.blockEnds ?? 0);
  let prevStart = ends();
  const widestGap = prevStart.map(() => 0);
  const noteGap = (): void => {
    ends().forEach((n, i) => (widestGap[i] = Math.max(widestGap[i], n - prevStart[i])));
  };
  if (hardware) {
    const handler = dpcm.irq.handler;
    dpcm.irq.handler = function (): void {
      const start = ends();
      try {
        handler();
      } finally {
        noteGap();
        prevStart = start;
      }
    };
  }
  // 3. Hold the timer task off for the scenario's overdue periods (two for
  // the historical ones: two completions are then overdue on every running
  // BE, so the first interrupt the explorer fires, wherever it lands, queues
  // silence and then starts it playing: the xrun).
  machine.execTasksFire = false;
  if (scenario.overdue > 0) machine.runFor(scenario.overdue * period);
  if (mode === "unsafe") {
    machine.console.type("unsafe(true)");
    machine.runFor(0);
  }
  errors = setupErrors(machine.console.text());
  if (errors.length > 0) throw new ScenarioSetupError(`scenario ${scenario.key} set-up failed on ${rig.name}: ${errors.join("; ")}`);

  // 4. The window: one console line, the events placed at their boundaries.
  const schedule = allEvents(scenario, events);
  const irqs = schedule.filter((e) => e.kind === "irq");
  const hws = schedule.filter((e) => e.kind !== "irq");
  const before = Array.from(dpcm.ring.counts);
  const errorsBefore = machine.errors.length;
  const windowLogStart = machine.console.length;
  const firstSite = machine.sites.length;
  const windowStart = machine.now();
  const landedAt: Omit<Landing, "location">[] = [];
  let started = false;
  let count = 0;
  let all = 0;
  let nextIrq = 0;
  let nextHw = 0;
  const sample = trace ? trace.sampler() : null;
  const hook: StatementHook = (siteId, _index, inTask) => {
    if (sample) sample(siteId, inTask, started);
    if (!started) {
      if (inTask || siteId < firstSite) return false;
      started = true;
      trace?.windowBegins(plan.window);
    }
    const k = all++;
    while (nextHw < hws.length && hws[nextHw].boundary === k) {
      const kind = hws[nextHw++].kind;
      const took = hardware ? hardware.place(kind) : false;
      landedAt.push({ kind, boundary: k, siteId, time: machine.now(), inTask, took });
      trace?.hardware(kind, k, machine.describeSite(siteId)?.text ?? "?", took);
    }
    if (inTask) return false;
    const b = count++;
    if (nextIrq < irqs.length && irqs[nextIrq].boundary === b) {
      nextIrq++;
      landedAt.push({ kind: "irq", boundary: b, siteId, time: machine.now(), inTask: false, took: true });
      trace?.forced(b, machine.describeSite(siteId)?.text ?? "?");
      return true;
    }
    return false;
  };
  machine.console.type(plan.window);
  machine.runFor(WINDOW_LIMIT_SECONDS, { onStatement: hook, until: () => started });
  if (!started) throw new ScenarioSetupError(`scenario ${scenario.key}: the window line never ran`);
  const windowEnd = machine.now();
  trace?.windowEnds();

  // 5. The tail: the timer task on its own again; the main loop drains the log ring.
  machine.execTasksFire = true;
  machine.runFor(TAIL_SECONDS);
  trace?.finish();

  const findings: Record<string, number> = {};
  for (let k = 0; k < RACE_KINDS; k++) {
    const n = dpcm.ring.counts[k] - before[k];
    if (n > 0) findings[KIND_NAMES[k]] = n;
  }
  const handlerErrors = dpcm.ring.counts[HANDLER_ERROR_INDEX] - before[HANDLER_ERROR_INDEX];
  if (handlerErrors > 0) findings[HANDLER_ERROR] = handlerErrors;
  const uncaught = machine.errors.length - errorsBefore;
  if (uncaught > 0) findings[UNCAUGHT] = uncaught;
  const endState = endStateProblems(dpcm);
  if (endState.length > 0) findings[END_STATE] = endState.length;
  const hwFaults = machine.faults.slice(faultsBefore).map((f) => `${f.register}: ${f.message}`);
  if (hwFaults.length > 0) findings[HW_FAULT] = hwFaults.length;
  if (hardware) noteGap();
  const checks = hardware ? hardwareChecks(dpcm, before0, snapshot(dpcm, hardware), findings, widestGap) : [];

  return {
    windowLength: count,
    windowStatements: all,
    landed: landedAt.map((l) => ({ ...l, location: machine.describeSite(l.siteId)?.text ?? "?" })),
    missed: [...irqs.slice(nextIrq), ...hws.slice(nextHw)],
    findings,
    endState,
    hwFaults,
    checks,
    log: machine.console.text(),
    windowLogStart,
    windowStart,
    windowEnd,
    end: machine.now(),
    statements: machine.stats.statements,
  };
}

/** The detector and event lines of a run from its window on (RACE, EVT, LOST, ERROR, Uncaught). */
export function findingLines(result: RunResult): string[] {
  return result.log
    .slice(result.windowLogStart)
    .split("\n")
    .filter((l) => /^(RACE|EVT|LOST|ERROR|Uncaught) /.test(l) || /^ at /.test(l));
}

/** The serial log from the window's echoed line to the end of the run. */
export function windowLog(result: RunResult): string {
  return result.log.slice(result.windowLogStart);
}
