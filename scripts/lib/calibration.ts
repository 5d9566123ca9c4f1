// The cost model's measurements (npm run calibrate, test/cost-model.test.ts):
// the firmware's own code paths run N times on the real Espruino 2v29
// interpreter under valgrind's callgrind, which counts the x86-64
// instructions it executes, and the same paths run N times in the emulator,
// which counts the statements it charges. Each figure is the difference
// between two run lengths divided by the difference in N, so start-up (the
// interpreter's, the bundle's boot, the scene's setup) cancels.
//
// A workload is JavaScript appended to the bundle (dist/bench.js: four FEs,
// four virtual sinks, a 128-frame stereo period at 8 kHz): `setup` sets the
// scene with the console commands, `step` is one iteration, driven without
// timers so the count is deterministic. The stock interpreter's timer task
// never fires and the emulator runs with timer tasks off, so nothing else
// runs meanwhile. The driver silences `print` (the console's "OK ..." lines:
// on the board print is native work the emulator does not charge) and ends
// by printing one CALIBRATE line of integers that must be the same from both
// runs: proof that both did the same work.
//
// Converting instructions to Pico time (../shared/espruino-2v29-facts.md,
// "Speed, calibrated"): a public measurement timed a loop on a Pico in
// December 2017 at 458 us an iteration; counting that loop here gives the
// Pico's cycles per counted instruction, at 84 MHz.
//  - Pessimistic: the loop counted on the interpreter measured here (2v29),
//    i.e. today's firmware is assumed no faster on a Pico than 2017's.
//  - Optimistic: the loop counted on that year's firmware, 1v95 (released
//    November 2017; the Linux build of RELEASE_1V95 with the same -Os),
//    which spends more instructions on it: the same code on both sides, so
//    2v29's savings carry over to the Pico in full.
// Instructions whose cost differs between the two CPUs hardly matter here:
// the loop's double-precision arithmetic is software on the Pico's
// single-precision FPU (a few hundred cycles of the 38,472), and the
// firmware's paths are integer code.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createGenericMachine } from "../../emulator/boards/generic.ts";
import { loadBundle, readBundleFile } from "../../emulator/load-bundle.ts";
import type { CalibratedWorkload, Range } from "../../emulator/cost-model.ts";

/** The repository root (this file is scripts/lib/calibration.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The bundle the workloads run: the bench board (four FEs f0..f3, four sinks s0..s3). */
export const CALIBRATION_BUNDLE = "dist/bench.js";

/** The Pico's core clock as Espruino runs it (STM32F401 at 84 MHz), Hz. */
export const PICO_HZ = 84_000_000;

/**
 * The public timing: Espruino forum, "Float Speed: Espruino Pico vs
 * Pyboard", December 2017: 1,000,000 iterations of FORUM_LOOP in 458 s on a
 * Pico. Microseconds an iteration.
 */
export const FORUM_LOOP_PICO_US = 458;

/** That loop, at top level as posted, `iterations` times. */
export function forumLoop(iterations: number): string {
  return (
    `var iterations = ${iterations}; var x = 1; var pi = 1;\n` +
    `for (i = 2; i < iterations + 2; i++) { x = x * -1; pi = pi + (x / (2 * i - 1)); }\n` +
    `pi = pi * 4; console.log("CALIBRATE " + (i - 2));\n`
  );
}

/** One code path of the firmware, run `n` times by a driver appended to the bundle. */
export interface Workload {
  name: string;
  /** What one iteration is, for the table. */
  description: string;
  /** Console commands and locals before the loop (top level of the driver). */
  setup: string;
  /** One iteration (the loop body). */
  step: string;
  /** An expression of integers naming the end state, printed by both runs (must agree). */
  state: string;
  /** The two run lengths. */
  runs: [number, number];
}

// Locals every workload has: the card, the player, the log ring, sinks and FEs by index.
const SCENE =
  "global.print = function () {};\n" +
  "var card = DPCM.card, player = DPCM.player, ring = DPCM.ring;\n" +
  "var s0 = card.bes[0].driver, s1 = card.bes[1].driver, f0 = card.fes[0], f1 = card.fes[1];\n";

/**
 * The firmware's paths. A period is called as the sink board's
 * pollCompletions does (the sink moves to its other buffer, then the card's
 * period path runs for it) and the FEs' appl_ptr moves on a period, as if the
 * player had refilled, so the FEs never run dry; the refill is its own
 * workload, with hw_ptr moved on a period as if one had played.
 */
export const WORKLOADS: Workload[] = [
  {
    name: "period-1",
    description: "interrupt: one BE period, one FE on it (copy)",
    setup: 'route("f0", "s0", true); play("f0", 440);',
    step: "s0.advance(); card.onPeriod(0, 0); f0.applPtr += 128;",
    state: "[card.bes[0].periods, f0.hwPtr, f0.state, card.bes[0].state]",
    runs: [10, 50],
  },
  {
    name: "period-2-mix",
    description: "interrupt: one BE period, two FEs mixed (JavaScript mixer)",
    setup: 'route("f0", "s0", true); route("f1", "s0", true); play("f0", 440); play("f1", 660);',
    step: "s0.advance(); card.onPeriod(0, 0); f0.applPtr += 128; f1.applPtr += 128;",
    state: "[card.bes[0].periods, f0.hwPtr, f1.hwPtr, f0.state, f1.state, s0.buffers[0][7]]",
    runs: [4, 16],
  },
  {
    name: "refill",
    description: "main loop: the player refills one period of one FE",
    setup: 'route("f0", "s0", true); play("f0", 440);',
    step: "f0.hwPtr += 128; player.service();",
    state: "[f0.applPtr, f0.written, f0.state]",
    runs: [10, 50],
  },
  {
    name: "route",
    description: "main loop: route a running FE to a second BE and back",
    setup: 'route("f0", "s0", true); play("f0", 440);',
    step: 'route("f0", "s1", true); route("f0", "s1", false); ring.read = ring.written;',
    state: "[card.links.allocated, card.bes[1].state, s1.triggers[0], ring.written, f0.state]",
    runs: [4, 16],
  },
];

/** The driver appended to the bundle: the scene, `n` iterations, the CALIBRATE line, then every timer cleared so the interpreter exits. */
export function driverScript(w: Workload, n: number): string {
  return (
    SCENE +
    w.setup +
    "\n" +
    `for (var iteration = 0; iteration < ${n}; iteration++) { ${w.step} }\n` +
    `console.log("CALIBRATE " + ${w.state}.join(","));\n` +
    "clearInterval(); clearTimeout();\n"
  );
}

// ---- the real interpreter under callgrind -------------------------------------

export interface Tools {
  /** The stock interpreter (ESPRUINO_BIN, else ../shared/espruino-2v29/espruino). */
  interpreter: string;
  valgrind: string;
}

/** Where the interpreter and valgrind are, or why they cannot be used (a sentence). */
export function findTools(env: NodeJS.ProcessEnv = process.env): Tools | string {
  const fromEnv = env.ESPRUINO_BIN;
  const interpreter = fromEnv ? resolve(fromEnv) : resolve(REPO_ROOT, "..", "shared", "espruino-2v29", "espruino");
  try {
    accessSync(interpreter, constants.X_OK);
  } catch {
    return fromEnv
      ? `ESPRUINO_BIN=${fromEnv} is not an executable file`
      : `the real Espruino interpreter is absent (ESPRUINO_BIN unset, no ${interpreter})`;
  }
  const v = spawnSync("valgrind", ["--version"], { encoding: "utf8" });
  if (v.error || v.status !== 0) return "valgrind is not installed (Debian package valgrind)";
  return { interpreter, valgrind: "valgrind" };
}

/** SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export interface CountedRun {
  /** x86-64 instructions executed (callgrind's Ir), start-up included. */
  instructions: number;
  /** The CALIBRATE line's payload. */
  state: string;
}

/**
 * Run `code` as a file on the interpreter under callgrind, in a fresh
 * directory (Storage is a file there); stdin at end of file. Killed with
 * SIGKILL after `timeoutMs`. Throws with the output when there is no
 * CALIBRATE line or no count.
 */
export async function countInstructions(tools: Tools, code: string, timeoutMs = 300_000): Promise<CountedRun> {
  const dir = mkdtempSync(join(tmpdir(), "dpcm-calibrate-"));
  try {
    writeFileSync(join(dir, "run.js"), code);
    const child = spawn(tools.valgrind, ["--tool=callgrind", "--callgrind-out-file=/dev/null", tools.interpreter, "run.js"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    await new Promise<void>((done) => child.on("close", () => done()));
    clearTimeout(timer);
    const collected = /Collected\s*:\s*(\d+)/.exec(err);
    const state = /^CALIBRATE (.*?)\r?$/m.exec(out);
    if (timedOut || !collected || !state) {
      throw new Error(
        `the interpreter run ${timedOut ? `timed out after ${timeoutMs} ms` : "gave no count or no CALIBRATE line"}:\n` +
          out.slice(-1500) + "\n" + err.slice(-800),
      );
    }
    return { instructions: Number(collected[1]), state: state[1] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the emulator --------------------------------------------------------------

export interface EmulatedRun {
  /** Statements the emulator executed (and would charge), start-up included. */
  statements: number;
  state: string;
}

/**
 * The same driver in the emulator: the bundle and then the driver loaded on a
 * generic machine (BOARD GENERIC: the JavaScript mixer, as on the Linux
 * build) with timer tasks off. The statement cost does not change the count.
 */
export function countStatements(bundle: { code: string; map: string | null; fileName: string }, driver: string): EmulatedRun {
  const { machine } = createGenericMachine({ execTasksFire: false, statementCostUs: 0.001, maxCallbackSeconds: 1e6 });
  const loaded = loadBundle(machine, bundle);
  if (!loaded.ok) throw new Error(`${bundle.fileName} failed to load in the emulator: ${loaded.message}`);
  const ran = loadBundle(machine, { code: driver, fileName: "calibration-driver.js" });
  if (!ran.ok) throw new Error(`the calibration driver failed in the emulator: ${ran.message}`);
  machine.console.flush();
  const line = machine.console.lines().find((l) => l.startsWith("CALIBRATE "));
  if (!line) throw new Error("the calibration driver printed no CALIBRATE line in the emulator");
  return { statements: machine.stats.statements, state: line.slice("CALIBRATE ".length) };
}

// ---- the derivation ------------------------------------------------------------

/** Per-iteration figures of one workload, as the model keeps them (emulator/cost-model.ts). */
export type WorkloadFigures = CalibratedWorkload;

/** Pico cycles per counted x86-64 instruction at both ends, from the forum loop's counts. */
export function cyclesPerInstruction(forumLoopNow: number, forumLoop2017: number): Range {
  const cycles = FORUM_LOOP_PICO_US * 1e-6 * PICO_HZ;
  const a = cycles / forumLoopNow;
  const b = cycles / forumLoop2017;
  return { optimistic: Math.min(a, b), pessimistic: Math.max(a, b) };
}

/** Per-iteration figures of one workload from its two runs on each side. */
export function deriveWorkload(
  w: Workload,
  real: [CountedRun, CountedRun],
  emulated: [EmulatedRun, EmulatedRun],
  cpi: Range,
): WorkloadFigures {
  for (let k = 0; k < 2; k++) {
    if (real[k]!.state !== emulated[k]!.state) {
      throw new Error(
        `${w.name}, ${w.runs[k]} iterations: the interpreter ended in state ${real[k]!.state}, the emulator in ${emulated[k]!.state}: they did not do the same work`,
      );
    }
  }
  const dn = w.runs[1] - w.runs[0];
  const instructions = (real[1].instructions - real[0].instructions) / dn;
  const statements = (emulated[1].statements - emulated[0].statements) / dn;
  const us = (c: number) => (instructions * c * 1e6) / PICO_HZ;
  return {
    name: w.name,
    description: w.description,
    runs: w.runs,
    instructionsPerIteration: Math.round(instructions),
    statementsPerIteration: statements,
    state: real[1].state,
    picoUs: { optimistic: round(us(cpi.optimistic), 1), pessimistic: round(us(cpi.pessimistic), 1) },
    usPerStatement: {
      optimistic: round(us(cpi.optimistic) / statements, 1),
      pessimistic: round(us(cpi.pessimistic) / statements, 1),
    },
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Instructions per iteration of the forum loop on an interpreter (two run lengths). */
export async function countForumLoop(tools: Tools, runs: [number, number] = [1000, 4000]): Promise<number> {
  const a = await countInstructions(tools, forumLoop(runs[0]));
  const b = await countInstructions(tools, forumLoop(runs[1]));
  if (a.state !== String(runs[0]) || b.state !== String(runs[1])) throw new Error("the forum loop ran the wrong number of iterations");
  return Math.round((b.instructions - a.instructions) / (runs[1] - runs[0]));
}

/** Both sides of one workload (real runs one after the other: the machine has two cores, shared). */
export async function measureWorkload(
  tools: Tools,
  bundle: { code: string; map: string | null; fileName: string },
  w: Workload,
  cpi: Range,
): Promise<WorkloadFigures> {
  const real: CountedRun[] = [];
  const emulated: EmulatedRun[] = [];
  for (const n of w.runs) {
    const driver = driverScript(w, n);
    emulated.push(countStatements(bundle, driver));
    real.push(await countInstructions(tools, bundle.code + "\n" + driver));
  }
  return deriveWorkload(w, [real[0]!, real[1]!], [emulated[0]!, emulated[1]!], cpi);
}

/** The bundle the workloads load, read from the repository's dist/. */
export function readCalibrationBundle(): { code: string; map: string | null; fileName: string } {
  const b = readBundleFile(join(REPO_ROOT, CALIBRATION_BUNDLE));
  return { ...b, fileName: CALIBRATION_BUNDLE };
}
