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

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createGenericMachine } from "../../emulator/boards/generic.ts";
import { loadBundle, readBundleFile } from "../../emulator/load-bundle.ts";
import type { CalibratedWorkload, Range, TargetFigures } from "../../emulator/cost-model.ts";
import { copyCycles, mixCycles } from "../../emulator/native-code.ts";

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
 * SIGKILL after `timeoutMs`. `preload`: a shared object for LD_PRELOAD (the
 * Pico's registers, picoRegisterShim). Throws with the output when there is
 * no CALIBRATE line or no count.
 */
export async function countInstructions(tools: Tools, code: string, timeoutMs = 300_000, preload?: string): Promise<CountedRun> {
  const dir = mkdtempSync(join(tmpdir(), "dpcm-calibrate-"));
  try {
    writeFileSync(join(dir, "run.js"), code);
    const child = spawn(tools.valgrind, ["--tool=callgrind", "--callgrind-out-file=/dev/null", tools.interpreter, "run.js"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: preload ? { ...process.env, LD_PRELOAD: preload } : process.env,
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

// ---- the Pico's own bundle: the targets of issue 11 ----------------------------
//
// The figures above are per statement, for the emulator's cost model. The
// ones below answer a different question: does the Pico's firmware, as
// flashed (dist/pico-wm8731.js), fit its periods on the real interpreter?
// They are counted in instructions only, so no emulator count is taken.
//
// How the Linux interpreter runs the Pico's bundle:
//  - Registers. The driver reads and writes the STM32's registers with
//    peek32/poke32. On the Linux build every peek32 reads the word at
//    address 0 and every poke32 writes its address (pico-registers.c says
//    why): the shim maps both, and the script sets the word at 0 to what the
//    registers show at each point (DMA1_HISR's TCIF and SxCR.CT of the
//    stream, RCC's PLL settings during set-up). NDTR reads the same word, so
//    the latency the driver computes is meaningless; it changes no path.
//  - Time. The shim also serves the clock (gettimeofday, clock_gettime)
//    from the word at 8, which the script moves half a period at each run
//    of the timer task: the load meter and the watchdog see a Pico's time,
//    not valgrind's (some fifty times slower), and runs are repeatable.
//  - The codec's and amplifier's start-up (I2C, pins) are main-loop work the
//    Linux build has no hardware for: set-up replaces them with no-ops.
//  - The timer task and the service tick: a prologue before the bundle keeps
//    the function boot hands to require("timer").add (the EXEC task) and the
//    first one it hands to setInterval (the service tick), and the script
//    calls them as the board would: the task twice a period (every half
//    period), the tick twice a period.
//  - Native code. The Linux build cannot run Thumb-2, and process.env.BOARD
//    is LINUX, so boot keeps the JavaScript operations. Set-up installs the
//    native operations (DPCM.nativeSampleOps, the wrappers boot installs on a
//    Pico) around a stand-in routine, E.clip: a built-in of three arguments,
//    called through the same jsnCallFunction path as an E.nativeCall
//    function, doing no per-sample work. The routines' own cycles come from
//    their listings (emulator/native-code.ts, checked instruction for
//    instruction under QEMU) and are added to the Pico time.
//  - The driver's own statements (setting the word at 0, moving a pointer
//    that stands for work measured in another workload) are measured alone
//    (`baseline`) and subtracted.

/** The Pico's bundle, as flashed. */
export const PICO_BUNDLE = "dist/pico-wm8731.js";

/** The shim's source (LD_PRELOAD). */
export const PICO_REGISTER_SHIM = "scripts/lib/pico-registers.c";

/** 48 kHz stereo, 960-frame periods: the longest period the target allows (20 ms). */
export const TARGET_RATE = 48000;
export const TARGET_PERIOD_FRAMES = 960;
export const TARGET_PERIOD_US = (TARGET_PERIOD_FRAMES / TARGET_RATE) * 1e6;
/** The Pico's timer task interval, us: half its board's 16 ms period (boards/pico-wm8731/board.ts). */
export const PICO_TIMER_US = 8000;
/** The target of issue 11: all the period's JavaScript and native work within 30% of the period, at the pessimistic end. */
export const TARGET_LOAD = 0.3;

/** Keeps the functions boot installs as the timer task and the service tick (before the bundle). */
const PICO_PROLOGUE =
  // The shim's clock (pico-registers.c): getTime() is 1 s until the script moves it.
  "poke32(8, 1000000);\n" +
  "var CAL = { irq: null, tick: null };\n" +
  "(function () {\n" +
  "  var si = setInterval, timer = require(\"timer\");\n" +
  "  global.setInterval = function (fn, ms) { if (!CAL.tick) CAL.tick = fn; return si(fn, ms); };\n" +
  "  global.require = function (name) {\n" +
  "    if (name !== \"timer\") throw new Error(\"calibration prologue: no module \" + name);\n" +
  "    return { add: function (o) { CAL.irq = o.fn; return timer.add(o); }, remove: function (id) { return timer.remove(id); } };\n" +
  "  };\n" +
  "})();\n";

/**
 * RCC as Espruino leaves it on a Pico, as the word at 0 during set-up:
 * RCC_PLLCFGR PLLM = 8 (bits 5:0) from HSE (bit 22), so a 1 MHz VCO input;
 * RCC_CR PLLI2SON (26) and PLLI2SRDY (27); RCC_PLLI2SCFGR at the driver's
 * setting, PLLI2SN 384 (bits 14:6), PLLI2SR 5 (bits 30:28), so startPllI2s
 * finds it running; DMA SxCR EN clear. (SPI_SR.TXE is bit 1, inside PLLM:
 * the driver's waits for it in set-up run out of polls, which only costs
 * set-up time.)
 */
const PICO_SETUP_REGISTERS = (5 << 28) | (1 << 27) | (1 << 26) | (1 << 22) | (384 << 6) | 8;

/** The set-up every Pico workload shares, then `routes` (console commands). */
function picoScene(routes: string): string {
  return (
    "var said = [];\n" +
    "global.print = function (line) { said.push(line); };\n" +
    "var card = DPCM.card, irq = DPCM.irq;\n" +
    "var media = card.feByName(\"media\"), alert = card.feByName(\"alert\"), spkBe = card.beByName(\"spk\"), spk = spkBe.driver;\n" +
    `poke32(0, ${PICO_SETUP_REGISTERS});\n` +
    "var quiet = { startup: function () { return \"\"; }, hwParams: function () { return \"\"; }, prepare: function () { return \"\"; }, shutdown: function () {} };\n" +
    "card.bes[0].driver.codec = quiet; spk.codec = quiet;\n" +
    "card.ops = DPCM.nativeSampleOps({ mix: E.clip, copy: E.clip, zero: E.clip });\n" +
    routes +
    "\nvar IRQ = CAL.irq, TICK = CAL.tick, TC = spk.tcMask, CT = 1 << 19;\n" +
    // The word at 0 for the timer task's two runs of a period: the first finds
    // the stream's TCIF set (one block ended: CT moved on), the second none.
    // Each moves the clock on by the timer task's interval (8 ms), so
    // getTime() advances as on the board.
    `var NOW = 1000000, STEP = ${PICO_TIMER_US};\n` +
    "function DONE() { poke32(8, NOW += STEP); poke32(0, TC | ((spk.played + 1) & 1 ? CT : 0)); }\n" +
    "function IDLE() { poke32(8, NOW += STEP); poke32(0, spk.played & 1 ? CT : 0); }\n" +
    "if (media.state !== 4 || spkBe.state !== 4 || !spk.running || media.params.periodFrames !== " + TARGET_PERIOD_FRAMES + ")\n" +
    "  throw new Error(\"calibration set-up failed: media \" + media.state + \", spk \" + spkBe.state + \"; \" + said.join(\" | \"));\n" +
    // Four whole periods first: the rings and the tone tables in their steady state.
    "for (var w = 0; w < 4; w++) { DONE(); IRQ(); IDLE(); IRQ(); TICK(); TICK(); }\n" +
    "global.print = function () {};\n" +
    "var P0 = spkBe.periods, A0 = media.applPtr, B0 = alert.applPtr, E0 = irq.handlerErrors, L0 = spk.lateRefills;\n"
  );
}

const ONE_FE = `route("media", "spk", true); open("media", ${TARGET_RATE}, ${TARGET_PERIOD_FRAMES}); play("media", 440);`;
const TWO_FES = ONE_FE + ` route("alert", "spk", true); open("alert", ${TARGET_RATE}, ${TARGET_PERIOD_FRAMES}); play("alert", 880);`;
/** spk periods, frames written to media and alert, both states, handler errors and late refills since the steady state began. */
const PICO_STATE = "[spkBe.periods - P0, media.applPtr - A0, alert.applPtr - B0, media.state, alert.state, irq.handlerErrors - E0, spk.lateRefills - L0]";

/** Cycles of the native routines in one iteration, both ends. */
function cycles(parts: Range[]): Range {
  return { optimistic: parts.reduce((a, p) => a + p.optimistic, 0), pessimistic: parts.reduce((a, p) => a + p.pessimistic, 0) };
}
const SAMPLES = TARGET_PERIOD_FRAMES * 2;
/** A tone refill of one period: at most two copies from the table (fillTone), so the whole period plus one call's fixed cost. */
const REFILL_CYCLES = cycles([copyCycles(SAMPLES), copyCycles(0)]);

/** One code path of the Pico's bundle at the target (see above). */
export interface TargetWorkload {
  name: string;
  description: string;
  /** Console commands of set-up (after the common scene). */
  routes: string;
  step: string;
  /** The driver's own statements of `step`, measured alone and subtracted. */
  baseline: string;
  /** What PICO_STATE must print after n iterations: the proof the work was done n times. */
  expect: (n: number) => string;
  runs: [number, number];
  /** The native routines' cycles an iteration. */
  nativeCycles: Range;
  /** Periods of the stream an iteration: the figures are per period. */
  periods: number;
}

/**
 * The Pico's timer task and service tick both run every 8 ms (half its
 * board's 16 ms period: boards/pico-wm8731/board.ts, firmware/boot.ts; a
 * 20 ms stream does not re-install them), so two 20 ms periods hold five of
 * each. In steady state, with a block ending every 20 ms: two runs of the
 * timer task find a block ended (copy, mix), three stop at the HISR read;
 * the tick after each completion refills, the other three find nothing to
 * write. A whole-period iteration is those two periods in that order, and
 * its figures are halved.
 */
const TWO_PERIODS = "DONE(); IRQ(); TICK(); IDLE(); IRQ(); TICK(); IDLE(); IRQ(); TICK(); DONE(); IRQ(); TICK(); IDLE(); IRQ(); TICK();";
const TWO_PERIODS_DRIVER = "DONE(); IDLE(); IDLE(); DONE(); IDLE();";

const TWO = (media: boolean, alert: boolean, periods = 2) => (n: number): string =>
  `${n * periods},${media ? n * periods * TARGET_PERIOD_FRAMES : 0},${alert ? n * periods * TARGET_PERIOD_FRAMES : 0},4,${alert ? 4 : 0},0,0`;
const MOVE = (fe: string) => `${fe}.applPtr += ${2 * TARGET_PERIOD_FRAMES};`;

/** The targets: whole periods (what the verdict uses) and their parts. */
export const TARGET_WORKLOADS: TargetWorkload[] = [
  {
    name: "pico48-period-2x1",
    description:
      "a whole 20 ms period, media and alert mixed on spk: 2.5 runs of the timer task (one finds the block ended: copy, mix) and 2.5 service ticks (one refills both FEs), averaged over two periods",
    routes: TWO_FES,
    step: TWO_PERIODS,
    baseline: TWO_PERIODS_DRIVER,
    expect: TWO(true, true),
    runs: [2, 10],
    periods: 2,
    nativeCycles: cycles([copyCycles(SAMPLES), mixCycles(SAMPLES), REFILL_CYCLES, REFILL_CYCLES]),
  },
  {
    name: "pico48-period-1x1",
    description: "a whole 20 ms period, media alone on spk: 2.5 runs of the timer task (one copies) and 2.5 service ticks (one refills), averaged over two periods",
    routes: ONE_FE,
    step: TWO_PERIODS,
    baseline: TWO_PERIODS_DRIVER,
    expect: TWO(true, false),
    runs: [2, 10],
    periods: 2,
    nativeCycles: cycles([copyCycles(SAMPLES), REFILL_CYCLES]),
  },
  {
    name: "pico48-irq-2x1",
    description: "the timer task alone, 2.5 runs a period (media and alert on spk; appl_ptr moved as if refilled)",
    routes: TWO_FES,
    step: `DONE(); IRQ(); IDLE(); IRQ(); IDLE(); IRQ(); DONE(); IRQ(); IDLE(); IRQ(); ${MOVE("media")} ${MOVE("alert")}`,
    baseline: `${TWO_PERIODS_DRIVER} ${MOVE("media")} ${MOVE("alert")}`,
    expect: TWO(true, true),
    runs: [2, 10],
    periods: 2,
    nativeCycles: cycles([copyCycles(SAMPLES), mixCycles(SAMPLES)]),
  },
  {
    name: "pico48-refill",
    description: "a service tick that refills one period of media (alert running with nothing to write; hw_ptr moved as if played)",
    routes: TWO_FES,
    step: `media.hwPtr += ${TARGET_PERIOD_FRAMES}; TICK();`,
    baseline: `media.hwPtr += ${TARGET_PERIOD_FRAMES};`,
    expect: (n) => `0,${n * TARGET_PERIOD_FRAMES},0,4,4,0,0`,
    runs: [2, 10],
    periods: 1,
    nativeCycles: REFILL_CYCLES,
  },
  {
    name: "pico48-tick-idle",
    description: "a service tick with nothing to refill (media and alert running; the watchdog looks every second tick)",
    routes: TWO_FES,
    step: "TICK();",
    baseline: "",
    expect: () => "0,0,0,4,4,0,0",
    runs: [2, 10],
    periods: 1,
    nativeCycles: { optimistic: 0, pessimistic: 0 },
  },
];

/** The script for `n` iterations of `step`: prologue, bundle, scene, loop, CALIBRATE line. */
export function targetScript(bundleCode: string, w: TargetWorkload, step: string, n: number): string {
  return (
    PICO_PROLOGUE +
    bundleCode +
    "\n" +
    picoScene(w.routes) +
    `for (var iteration = 0; iteration < ${n}; iteration++) { ${step} }\n` +
    `console.log("CALIBRATE " + ${PICO_STATE}.join(","));\n` +
    "clearInterval(); clearTimeout();\n"
  );
}

/** Build the register shim (needs a C compiler: cc); returns the .so path, or why not (a sentence). Delete `dir` afterwards. */
export function buildRegisterShim(dir: string): string {
  const out = join(dir, "pico-registers.so");
  try {
    execFileSync("cc", ["-shared", "-fPIC", "-O2", "-o", out, join(REPO_ROOT, PICO_REGISTER_SHIM)], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`cannot build ${PICO_REGISTER_SHIM} with cc (a C compiler is needed): ${(e as Error).message}`);
  }
  return out;
}

/** One target workload on the real interpreter: step and baseline at both run lengths. */
export async function measureTarget(tools: Tools, shim: string, bundleCode: string, w: TargetWorkload, cpi: Range): Promise<TargetFigures> {
  const counted: number[] = [];
  const baseline: number[] = [];
  let state = "";
  for (const n of w.runs) {
    const run = await countInstructions(tools, targetScript(bundleCode, w, w.step, n), 600_000, shim);
    if (run.state !== w.expect(n)) {
      throw new Error(`${w.name}, ${n} iterations: ended in state ${run.state}, not ${w.expect(n)} (spk periods, media and alert frames, states, errors, late refills): it did not do the work`);
    }
    counted.push(run.instructions);
    state = run.state;
    baseline.push(w.baseline ? (await countInstructions(tools, targetScript(bundleCode, w, w.baseline, n), 600_000, shim)).instructions : 0);
  }
  const dn = w.runs[1] - w.runs[0];
  const instructions = (counted[1]! - counted[0]!) / dn;
  const base = (baseline[1]! - baseline[0]!) / dn;
  const net = (instructions - base) / w.periods;
  const us = (end: "optimistic" | "pessimistic") => ((net * cpi[end] + w.nativeCycles[end]) * 1e6) / PICO_HZ;
  const picoUs = { optimistic: round(us("optimistic"), 1), pessimistic: round(us("pessimistic"), 1) };
  return {
    name: w.name,
    description: w.description,
    runs: w.runs,
    instructionsPerIteration: Math.round(net),
    baselineInstructions: Math.round(base / w.periods),
    nativeCycles: w.nativeCycles,
    state,
    picoUs,
    periodUs: TARGET_PERIOD_US,
    load: { optimistic: round(picoUs.optimistic / TARGET_PERIOD_US, 4), pessimistic: round(picoUs.pessimistic / TARGET_PERIOD_US, 4) },
  };
}

// ---- memory at the target ----------------------------------------------------
//
// What the 2-FE configuration's buffers take, on the real interpreter:
// process.memory().usage (it collects garbage first) after boot and after
// both FEs play at 48 kHz, and E.getSizeOf of each buffer. The Linux build's
// JsVars are 27 bytes, a Pico's 16 (../shared/espruino-2v29/README.md), so a
// flat buffer of b bytes takes about b/27 JsVars here and b/16 on a Pico:
// picoJsVars converts each buffer by its bytes and keeps the rest of what it
// takes (its headers, the views' JsVars) as counted.

/** JsVar sizes, bytes: the Linux build's and a Pico's; a Pico's JsVars. */
export const LINUX_JSVAR_BYTES = 27;
export const PICO_JSVAR_BYTES = 16;
export const PICO_JSVARS = 5100;

export interface TargetMemory {
  /** JsVars in use after boot, and after both FEs play at the target (the Linux build's). */
  usageBoot: number;
  usagePlaying: number;
  /** Each buffer of the configuration: bytes, JsVars on the Linux build (E.getSizeOf), the same converted to a Pico's. */
  buffers: { name: string; bytes: number; linuxJsVars: number; picoJsVars: number }[];
  /** The buffers' JsVars on a Pico, summed; the Pico's total. */
  picoBufferJsVars: number;
  picoTotal: number;
}

/** JsVars a flat buffer of `bytes` bytes takes on a Pico, from its count on the Linux build. */
export function picoJsVars(bytes: number, linuxJsVars: number): number {
  const dataLinux = Math.ceil(bytes / LINUX_JSVAR_BYTES);
  return Math.max(0, linuxJsVars - dataLinux) + Math.ceil(bytes / PICO_JSVAR_BYTES);
}

/** Measure TargetMemory with the plain interpreter (no valgrind: memory is not time). */
export function measureTargetMemory(tools: Tools, shim: string, bundleCode: string): TargetMemory {
  const script =
    PICO_PROLOGUE +
    bundleCode +
    "\nvar U0 = process.memory().usage;\n" +
    picoScene(TWO_FES) +
    "var voices = DPCM.player.voices;\n" +
    "var bufs = [['media ring', media.ring], ['alert ring', alert.ring], ['media tone table', voices[media.index].tone.table], " +
    "['alert tone table', voices[alert.index].tone.table], ['spk DMA buffer 0', spk.bufs[0]], ['spk DMA buffer 1', spk.bufs[1]]];\n" +
    "console.log('MEMORY ' + JSON.stringify({ u0: U0, u1: process.memory().usage, b: bufs.map(function (b) { return [b[0], b[1].byteLength, E.getSizeOf(b[1])]; }) }));\n" +
    "clearInterval(); clearTimeout();\n";
  const dir = mkdtempSync(join(tmpdir(), "dpcm-memory-"));
  try {
    writeFileSync(join(dir, "run.js"), script);
    const r = spawnSync(tools.interpreter, ["run.js"], { cwd: dir, input: "", encoding: "utf8", timeout: 120_000, env: { ...process.env, LD_PRELOAD: shim } });
    const line = /^MEMORY (.*?)\r?$/m.exec(r.stdout ?? "");
    if (!line) throw new Error(`memory run printed no MEMORY line:\n${(r.stdout ?? "").slice(-2000)}${r.stderr ?? ""}`);
    const m = JSON.parse(line[1]!) as { u0: number; u1: number; b: [string, number, number][] };
    const buffers = m.b.map(([name, bytes, linuxJsVars]) => ({ name, bytes, linuxJsVars, picoJsVars: picoJsVars(bytes, linuxJsVars) }));
    return {
      usageBoot: m.u0,
      usagePlaying: m.u1,
      buffers,
      picoBufferJsVars: buffers.reduce((a, b) => a + b.picoJsVars, 0),
      picoTotal: PICO_JSVARS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
