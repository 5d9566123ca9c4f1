// Runs one schedule of one scenario on a fresh emulated board and reports
// what the firmware's race detectors found.
//
// A schedule is a list of window boundaries: boundary k is the point just
// before the k-th main-loop statement of the scenario's window line (0 is
// before its first statement). The explorer fires the period interrupt (the
// board's EXEC timer task) there and nowhere else in the window; before the
// window the timer task fires on its own, and it is held off from one period
// before the window until the window's line has returned; after the window it
// fires on its own again for TAIL_SECONDS, so the main loop prints the log
// ring. Each run starts from a fresh machine, so a schedule always produces
// the same serial log, byte for byte.

import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TraceMap, type SourceMapInput } from "@jridgewell/trace-mapping";
import { Machine, type StatementHook } from "../../../emulator/machine.ts";
import { loadBundle, type BundleSource } from "../../../emulator/load-bundle.ts";
import { createEmulatedBoard } from "../../../emulator/boards/registry.ts";
import { FUNCTIONAL_STATEMENT_COST_US } from "../../../emulator/cost-model.ts";
import { KIND_NAMES, RACE_KINDS, Kind } from "../../../firmware/log.ts";
import { BeState, FeState, LinkState } from "../../../firmware/dpcm/dpcm.ts";
import { dryLine, type Mode, type Scenario, type ScenarioPlan } from "./scenarios.ts";
import type { TraceRecorder } from "./trace.ts";

/** Boards the explorer runs: the emulator model and the bundle. */
export const EXPLORER_BOARDS = ["generic", "bench", "pico-wm8731"] as const;

/** Finding kinds besides the firmware's RACE kinds. */
export const HANDLER_ERROR = "handler-error";
export const UNCAUGHT = "uncaught";
/** The explorer's own check at the end of a run: see endStateProblems. */
export const END_STATE = "end-state";
export const FINDING_KINDS: readonly string[] = [...KIND_NAMES.slice(0, RACE_KINDS), HANDLER_ERROR, UNCAUGHT, END_STATE];
const HANDLER_ERROR_INDEX = Kind.HandlerError;

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
  feClients: FwNode;
  params: { rate: number; periodFrames: number };
}
export interface FwDpcm {
  card: { fes: FwFe[]; bes: FwBe[]; feNames: string[]; beNames: string[]; periodFrames: number };
  irq: { masked: boolean; inHandler: boolean; unsafe: boolean };
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

export interface BoardRig {
  name: string;
  bundlePath: string;
  source: BundleSource;
  createMachine(): Promise<Machine>;
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
  const model = name === "pico-wm8731" ? "pico-wm8731" : "generic";
  // What the firmware does, not whether a Pico has the time: the nominal cost (emulator/cost-model.ts).
  const createMachine = async (): Promise<Machine> =>
    (await createEmulatedBoard(model, { statementCostUs: FUNCTIONAL_STATEMENT_COST_US }, distDir)).machine;
  // Fail early (and once) if the model cannot be made.
  await createMachine();
  return { name, bundlePath, source, createMachine };
}

// ---- one run ------------------------------------------------------------------------

/** Where one fired interrupt landed. */
export interface Landing {
  boundary: number;
  siteId: number;
  /** Virtual seconds. */
  time: number;
  /** "firmware/dpcm.ts:512:5", through the bundle's source map. */
  location: string;
}

export interface RunResult {
  /** Main-loop statements the window line ran in this schedule. */
  windowLength: number;
  landed: Landing[];
  /** Boundaries at or past the window's end: not fired. */
  missed: number[];
  /** Finding counts by kind (window and tail), only kinds above 0. */
  findings: Record<string, number>;
  /** What endStateProblems found when the run ended. */
  endState: string[];
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
  if (rt.feNames.length < 2 || rt.beNames.length < 2) {
    throw new ScenarioSetupError(`scenario ${scenario.id} needs two front ends and two back ends`);
  }
  return scenario.plan(rt.feNames, rt.beNames);
}

/** Run `boundaries` (ascending, distinct) of a scenario in a mode. */
export async function runSchedule(
  rig: BoardRig,
  scenario: Scenario,
  mode: Mode,
  boundaries: readonly number[],
  options: RunOptions = {},
): Promise<RunResult> {
  const machine = await rig.createMachine();
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

  // 1. Set-up, with the timer task firing on its own.
  for (const line of plan.setup) machine.console.type(line);
  machine.runFor(SETTLE_SECONDS);
  const fe = dpcm.card.fes[plan.dryFe];
  let errors = setupErrors(machine.console.text());
  if (errors.length > 0 || fe.state !== FeState.Running) {
    throw new ScenarioSetupError(`scenario ${scenario.id} set-up failed on ${rig.name}: ${errors.join("; ") || fe.name + " is not running"}`);
  }
  // 2. The application stops writing; the ring plays out until no running
  // link of the FE has a whole period left to copy: every output's next
  // fill is silence. (The scenarios start an FE's BEs together, so its links
  // are in step.)
  machine.console.type(dryLine(plan.dryFe));
  const period = fe.params.periodFrames;
  const dryEverywhere = (): boolean => {
    let running = 0;
    for (let n = fe.beClients.next; n !== fe.beClients && n.owner; n = n.next) {
      if (n.owner.state !== LinkState.Running) continue;
      running++;
      if (fe.applPtr - n.owner.pos >= period) return false;
    }
    return running > 0;
  };
  machine.runFor(DRAIN_LIMIT_SECONDS, { until: dryEverywhere });
  if (!dryEverywhere() || fe.state !== FeState.Running) {
    throw new ScenarioSetupError(`scenario ${scenario.id} on ${rig.name}: ${fe.name} did not play out its ring while running`);
  }
  // 3. Hold the timer task off for two periods: two completions are overdue
  // on every running BE, so the first interrupt the explorer fires, wherever
  // it lands, queues silence on the dry output and then starts it playing:
  // the xrun.
  machine.execTasksFire = false;
  machine.runFor((2 * period) / fe.params.rate);
  if (mode === "unsafe") {
    machine.console.type("unsafe(true)");
    machine.runFor(0);
  }
  errors = setupErrors(machine.console.text());
  if (errors.length > 0) throw new ScenarioSetupError(`scenario ${scenario.id} set-up failed on ${rig.name}: ${errors.join("; ")}`);

  // 4. The window: one console line, the interrupt fired only at the chosen boundaries.
  const before = Array.from(dpcm.ring.counts);
  const errorsBefore = machine.errors.length;
  const windowLogStart = machine.console.length;
  const firstSite = machine.sites.length;
  const windowStart = machine.now();
  const landedAt: { boundary: number; siteId: number; time: number }[] = [];
  let started = false;
  let count = 0;
  let next = 0;
  const sample = trace ? trace.sampler() : null;
  const hook: StatementHook = (siteId, _index, inTask) => {
    if (sample) sample(siteId, inTask, started);
    if (inTask) return false;
    if (!started) {
      if (siteId < firstSite) return false;
      started = true;
      trace?.windowBegins(plan.window);
    }
    const k = count++;
    if (next < boundaries.length && boundaries[next] === k) {
      next++;
      landedAt.push({ boundary: k, siteId, time: machine.now() });
      trace?.forced(k, machine.describeSite(siteId)?.text ?? "?");
      return true;
    }
    return false;
  };
  machine.console.type(plan.window);
  machine.runFor(WINDOW_LIMIT_SECONDS, { onStatement: hook, until: () => started });
  if (!started) throw new ScenarioSetupError(`scenario ${scenario.id}: the window line never ran`);
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

  return {
    windowLength: count,
    landed: landedAt.map((l) => ({ ...l, location: machine.describeSite(l.siteId)?.text ?? "?" })),
    missed: boundaries.slice(next),
    findings,
    endState,
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
