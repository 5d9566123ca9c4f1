// The cost model: what one JavaScript statement, as the emulator counts
// them, costs on an Espruino Pico. The figures are data, in
// emulator/cost-model.json, written by `npm run calibrate`
// (scripts/calibrate.ts, scripts/lib/calibration.ts): the real interpreter's
// instructions for the firmware's own code paths, counted with callgrind and
// converted to Pico time, divided by the statements the emulator counts for
// the same work. The range spans the workloads and both ends of the
// instruction-to-cycle calibration; every verdict uses the pessimistic end.
// The Machine charges FUNCTIONAL_STATEMENT_COST_US unless told otherwise
// (emulator/scheduler.ts says why).

import { readFileSync } from "node:fs";

/** Both ends of a figure. */
export interface Range {
  optimistic: number;
  pessimistic: number;
}

/** One code path as calibrated (see scripts/lib/calibration.ts for the fields). */
export interface CalibratedWorkload {
  name: string;
  description: string;
  runs: [number, number];
  instructionsPerIteration: number;
  statementsPerIteration: number;
  state: string;
  picoUs: Range;
  usPerStatement: Range;
}

/**
 * One code path of the Pico's own bundle at the target rate (issue 11: 48 kHz
 * stereo, 20 ms periods), counted on the real interpreter only
 * (scripts/lib/calibration.ts, TARGET_WORKLOADS).
 */
export interface TargetFigures {
  name: string;
  description: string;
  runs: [number, number];
  /** x86-64 instructions a period of the stream (an iteration covers `periods` of them), the driver's own (baselineInstructions) already taken off. */
  instructionsPerIteration: number;
  baselineInstructions: number;
  /** Cycles of the native routines an iteration, added to the Pico time. */
  nativeCycles: Range;
  state: string;
  /** Pico time an iteration: instructions x cycles per instruction plus the native cycles, at 84 MHz. */
  picoUs: Range;
  /** The stream's period, microseconds. */
  periodUs: number;
  /** picoUs over periodUs. */
  load: Range;
}

/** emulator/cost-model.json. */
export interface CostModel {
  comment: string;
  command: string;
  /** YYYY-MM-DD of the run. */
  date: string;
  interpreter: { file: string; sha256: string };
  bundle: { file: string; sha256: string };
  /** The Pico's core clock, Hz. */
  coreHz: number;
  calibration: {
    forumLoopPicoUs: number;
    /** x86-64 instructions per iteration of the forum loop: on the interpreter measured, and on 2017's firmware. */
    forumLoopInstructions: { now: number; firmware2017: number };
    firmware2017: string;
    cyclesPerInstruction: Range;
  };
  workloads: CalibratedWorkload[];
  /** The Pico's bundle at the target (absent in models written before it was measured). */
  targetBundle?: { file: string; sha256: string };
  targets?: TargetFigures[];
  /** What the 2-FE target configuration's buffers take (scripts/lib/calibration.ts, measureTargetMemory). */
  targetMemory?: {
    usageBoot: number;
    usagePlaying: number;
    buffers: { name: string; bytes: number; linuxJsVars: number; picoJsVars: number }[];
    picoBufferJsVars: number;
    picoTotal: number;
  };
  /** Pico microseconds per emulator statement. */
  statementCostUs: Range;
}

export const COST_MODEL_FILE = new URL("./cost-model.json", import.meta.url);

/** Read and check the committed model; throws naming what is wrong. */
export function loadCostModel(path: URL | string = COST_MODEL_FILE): CostModel {
  const model = JSON.parse(readFileSync(path, "utf8")) as CostModel;
  const cost = model.statementCostUs;
  if (!cost || !(cost.optimistic > 0) || !(cost.pessimistic >= cost.optimistic)) {
    throw new Error(`${String(path)}: statementCostUs must be {optimistic, pessimistic} with 0 < optimistic <= pessimistic`);
  }
  if (!Array.isArray(model.workloads) || model.workloads.length === 0) throw new Error(`${String(path)}: no workloads`);
  return model;
}

/** The committed model. */
export const COST_MODEL: CostModel = loadCostModel();

/** Pico microseconds per statement, both ends (verdicts use the pessimistic end). */
export const PICO_STATEMENT_COST_US: Readonly<Range> = COST_MODEL.statementCostUs;

/**
 * A statement cost as a user gives it: "optimistic", "pessimistic" (the
 * model's ends) or a number of microseconds above 0. Returns microseconds,
 * or an Error saying what is accepted.
 */
export function parseStatementCost(text: string): number | Error {
  const t = text.trim().toLowerCase();
  if (t === "optimistic" || t === "pessimistic") return PICO_STATEMENT_COST_US[t];
  const n = Number(t);
  if (t !== "" && Number.isFinite(n) && n > 0) return n;
  return new Error(
    `statement cost must be "optimistic" (${PICO_STATEMENT_COST_US.optimistic} us), "pessimistic" ` +
      `(${PICO_STATEMENT_COST_US.pessimistic} us) or microseconds above 0, not "${text}"`,
  );
}

/**
 * A statement cost at which today's firmware keeps up on the emulated
 * boards: the figure the emulator charged before it was calibrated. For the
 * tests and tools that check what the firmware does (its logic, the races
 * the explorer searches for, the drivers' register traffic) rather than
 * whether a Pico has the time for it: at the calibrated cost the interrupt
 * alone takes longer than its period, so nothing else would run. Whether it
 * fits is npm run bench's verdict, at the calibrated cost.
 */
export const FUNCTIONAL_STATEMENT_COST_US = 20;
