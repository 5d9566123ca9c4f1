// npm run explore: the race explorer. Runs race scenarios (scenarios/*.json,
// or files given with --scenario-file) on an emulated board, placing events
// at chosen statement boundaries of each scenario's window (the period
// interrupt, and on the Pico a DMA block end or an I2C NAK): every single
// boundary, then pairs (all, or a bounded subset), then seeded random
// schedules; in the modes each scenario names. Reports what the firmware's
// race detectors, the register models and the hardware checks found, where
// each first finding's events landed (TypeScript file and line), and its log.
// --replay runs one schedule alone (same serial log, byte for byte) and
// --trace exports it as Chrome trace-event JSON for Perfetto.
//
// Exit status: 0 when every mode of every scenario showed what it expects
// (or a replay placed every event of its schedule); 1 otherwise; 2 for bad
// arguments or a bad scenario file, a replay's event past the end of the
// window or of a kind the board cannot place included.
// See ARCHITECTURE.md, "The race explorer" and "Scenario files".

import { createRequire } from "node:module";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import {
  SCENARIOS, checkUnique, findScenario, loadScenarioFile, scenarioName, MODES, type Mode, type Scenario,
} from "./lib/explorer/scenarios.ts";
import { EXPLORER_BOARDS, loadBoardRig, runSchedule, unplaceableKinds, unsupported, windowLog, type BoardRig } from "./lib/explorer/runner.ts";
import { searchScenario, type SearchReport } from "./lib/explorer/search.ts";
import { parseSchedule, formatSchedule } from "./lib/explorer/schedule.ts";
import { formatReplay, formatSummary, missedText, searchHeader, summaryJson, verdictProblems } from "./lib/explorer/report.ts";
import { TraceRecorder } from "./lib/explorer/trace.ts";
import { buildBundles } from "./lib/bundles.ts";

const require = createRequire(import.meta.url);

function count(name: string, allowAll: boolean) {
  return (v: string): number => {
    if (allowAll && v === "all") return Infinity;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number${allowAll ? ' or "all"' : ""}`);
    return n;
  };
}

const defaultBoard = existsSync("dist/pico-wm8731.js") || existsSync("boards/pico-wm8731/main.ts") ? "pico-wm8731" : "generic";

const program = new Command()
  .name("npm run explore --")
  .description(
    "Search the statement boundaries of race scenarios: place the period interrupt (and on the Pico a DMA block end\n" +
      "or an I2C NAK) at every single boundary of each scenario's window, then at pairs, then at seeded random\n" +
      "schedules, in the modes the scenario names. Scenarios are JSON files (ARCHITECTURE.md, \"Scenario files\").",
  )
  .option("--scenario <which>", `a number, a key (${SCENARIOS.map((s) => s.key).join(", ")}) or all`, "all")
  .option("--scenario-file <path...>", "scenario file(s) to run (then only these, unless --scenario says otherwise)")
  .option("--mode <mode>", "safe, unsafe or both (each scenario runs the modes it names)", "both")
  .option("--board <name>", `emulated board (${EXPLORER_BOARDS.join(", ")})`, defaultBoard)
  .option("--pairs <limit>", 'pair schedules per scenario and mode: a limit, "all" or 0 to skip', count("--pairs", true), 1000)
  .option("--random <count>", "seeded random schedules per scenario and mode (0 to skip)", count("--random", false), 200)
  .option("--seed <n>", "seed of the random schedules", count("--seed", false), 1)
  .option("--replay <schedule>", 'run one schedule alone and print its serial log, e.g. "s1:unsafe:72@generic"')
  .option("--trace <file.json>", "with --replay: write the run as Chrome trace-event JSON (open it in ui.perfetto.dev)")
  .option("--window-log", "with --replay: print the serial log from the window on, not the whole run")
  .option("--json", "print machine-readable JSON instead of text")
  .option("--progress", "show the progress bar even when stderr is not a terminal")
  .option("--no-progress", "never show the progress bar")
  .addHelpText(
    "after",
    "\nExit status: 0 when the search's verdict holds (safe mode clean, every unsafe scenario found its race) or the replay ran;\n" +
      "1 when it does not, nothing ran, the build failed or a trace could not be written; 2 for bad arguments or a schedule\n" +
      "that cannot be placed.",
  )
  .parse();

interface Options {
  scenario: string;
  scenarioFile?: string[];
  mode: string;
  board: string;
  pairs: number;
  random: number;
  seed: number;
  replay?: string;
  trace?: string;
  windowLog?: boolean;
  json?: boolean;
  progress?: boolean;
}

const opts = program.opts<Options>();

function usage(message: string): never {
  process.stderr.write(`npm run explore: ${message}\n`);
  process.exit(2);
}

interface Bar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}

/** A progress bar on stderr: when it is a terminal, or when --progress asks for one. */
function progressReporter(): ((phase: string, done: number, total: number) => void) & { stop(): void } {
  const explicit = process.argv.includes("--progress");
  const show = opts.progress !== false && (explicit || process.stderr.isTTY === true);
  let bar: Bar | null = null;
  let phase = "";
  const report = ((name: string, done: number, total: number) => {
    if (!show) return;
    if (!bar) {
      const cliProgress = require("cli-progress") as {
        SingleBar: new (options: Record<string, unknown>, preset: unknown) => Bar;
        Presets: Record<string, unknown>;
      };
      bar = new cliProgress.SingleBar(
        {
          format: "{phase} [{bar}] {value}/{total} schedules, eta {eta_formatted}",
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
          noTTYOutput: !process.stderr.isTTY,
          notTTYSchedule: 2000,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done, { phase: name.padEnd(16) });
      phase = name;
      return;
    }
    if (name !== phase) {
      phase = name;
      bar.setTotal(total);
      bar.update(done, { phase: name.padEnd(16) });
    } else if (done === total || done % 16 === 0) {
      bar.update(done);
    }
  }) as ((phase: string, done: number, total: number) => void) & { stop(): void };
  report.stop = () => {
    bar?.stop();
    bar = null;
  };
  return report;
}

/** The built-in scenarios and those of --scenario-file (a bad file is a usage error naming the file, line and field). */
function knownScenarios(): { all: Scenario[]; fromFiles: Scenario[] } {
  let fromFiles: Scenario[] = [];
  try {
    fromFiles = (opts.scenarioFile ?? []).map((f) => loadScenarioFile(f));
    const all = checkUnique([...SCENARIOS.filter((s) => !fromFiles.some((f) => f.key === s.key || (f.id !== null && f.id === s.id))), ...fromFiles]);
    return { all, fromFiles };
  } catch (e) {
    usage((e as Error).message);
  }
}

async function replay(rig: BoardRig, text: string, scenarios: Scenario[]): Promise<void> {
  const schedule = parseSchedule(text, scenarios);
  const why = unsupported(rig, schedule.scenario);
  if (why) usage(`scenario ${schedule.scenario.key} does not run on ${rig.name}: ${why}`);
  if (!schedule.scenario.expect[schedule.mode]) usage(`scenario ${schedule.scenario.key} has no ${schedule.mode} mode`);
  const unplaceable = unplaceableKinds(rig, schedule.events);
  if (unplaceable.length > 0) {
    usage(`schedule "${text}": board ${rig.name} has no register model to place ${unplaceable.join(", ")} events (it places ${["irq", ...rig.hardwareKinds].join(", ")})`);
  }
  const trace = opts.trace ? new TraceRecorder(`dpcm-espruino ${rig.name} (emulated): ${text}`) : null;
  const result = await runSchedule(rig, schedule.scenario, schedule.mode, schedule.events, { trace });
  const name = formatSchedule(schedule.scenario, schedule.mode, schedule.events, rig.name);
  // An event the window never reached was not replayed: the run is not the
  // schedule asked for, so neither its log nor its trace is given.
  if (result.missed.length > 0) usage(`schedule "${text}": ${missedText(result)}: nothing replayed`);
  if (trace && opts.trace) {
    try {
      writeFileSync(
        opts.trace,
        JSON.stringify(trace.toJSON({ schedule: name, scenario: schedule.scenario.key, mode: schedule.mode, board: rig.name, findings: result.findings })),
      );
    } catch (e) {
      process.stderr.write(`npm run explore: cannot write the trace ${opts.trace}: ${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  const log = opts.windowLog ? windowLog(result) : result.log;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ schedule: name, ...result, log }, null, 2) + "\n");
  } else {
    process.stdout.write(formatReplay(name, result) + "\n");
    process.stdout.write(log);
    if (opts.trace) process.stderr.write(`trace: ${opts.trace} (open it in https://ui.perfetto.dev)\n`);
  }
}

/** "s1 close-path", or the key alone for a scenario file without an id. */
function fullName(s: Scenario): string {
  return s.id !== null ? `${scenarioName(s)} ${s.key}` : s.key;
}

async function search(rig: BoardRig, known: { all: Scenario[]; fromFiles: Scenario[] }): Promise<void> {
  let scenarios: Scenario[];
  const named = program.getOptionValueSource("scenario") === "cli";
  if (known.fromFiles.length > 0 && !named) scenarios = known.fromFiles;
  else if (opts.scenario === "all") scenarios = known.all;
  else {
    const s = findScenario(opts.scenario, known.all);
    if (!s) usage(`no scenario "${opts.scenario}" (${known.all.map(fullName).join(", ")}, all)`);
    scenarios = [s];
  }
  let modes: Mode[];
  if (opts.mode === "both") modes = [...MODES];
  else if ((MODES as readonly string[]).includes(opts.mode)) modes = [opts.mode as Mode];
  else usage(`--mode must be safe, unsafe or both`);
  if (opts.trace) usage("--trace needs --replay <schedule> (the report prints a replay command for each first finding)");
  if (opts.windowLog) usage("--window-log needs --replay <schedule> (a search prints no serial log)");

  const progress = progressReporter();
  const started = performance.now();
  const reports: SearchReport[] = [];
  const skipped: { scenario: string; mode?: string; reason: string }[] = [];
  try {
    for (const scenario of scenarios) {
      const why = unsupported(rig, scenario);
      if (why) {
        skipped.push({ scenario: fullName(scenario), reason: why });
        continue;
      }
      for (const mode of modes) {
        if (!scenario.expect[mode]) {
          // With --mode both a scenario runs the modes it names; a mode asked for by name and missing is said.
          if (opts.mode !== "both") {
            const has = MODES.filter((m) => scenario.expect[m]).join(", ") || "none";
            skipped.push({ scenario: fullName(scenario), mode, reason: `its file names no ${mode} mode (modes: ${has})` });
          }
          continue;
        }
        reports.push(await searchScenario(rig, scenario, mode, { pairs: opts.pairs, random: opts.random, seed: opts.seed, onProgress: progress }));
      }
    }
  } finally {
    progress.stop();
  }
  const summary = { board: rig.name, bundle: rig.bundlePath, reports, skipped, wallSeconds: (performance.now() - started) / 1000 };
  if (opts.json) process.stdout.write(JSON.stringify(summaryJson(summary), null, 2) + "\n");
  else {
    const header = searchHeader({ board: rig.name, bundle: rig.bundlePath, scenarios: scenarios.length, modes, pairs: opts.pairs, random: opts.random, seed: opts.seed });
    process.stdout.write(header + "\n" + formatSummary(summary) + "\n");
  }
  if (reports.length === 0) {
    process.stderr.write(`npm run explore: nothing ran on ${rig.name}: ${skipped.map((k) => `${k.scenario}${k.mode ? " " + k.mode : ""}: ${k.reason}`).join("; ") || "no mode asked for"}\n`);
    process.exitCode = 1;
  }
  if (verdictProblems(reports).length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  let board = opts.board;
  const known = knownScenarios();
  if (opts.trace) {
    // Refuse before a run that could not be saved: a clear message, not a stack.
    const dir = dirname(resolve(opts.trace));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) usage(`--trace ${opts.trace}: no such directory ${dir}`);
  }
  if (opts.replay) {
    let named: string | null;
    try {
      named = parseSchedule(opts.replay, known.all).board;
    } catch (e) {
      usage((e as Error).message);
    }
    const explicit = program.getOptionValueSource("board") === "cli";
    if (named && explicit && named !== opts.board) usage(`the schedule names board ${named}, --board says ${opts.board}`);
    if (named) board = named;
  }
  // Build the board's bundle if its inputs changed (after argument checks: --help never builds).
  if ((EXPLORER_BOARDS as readonly string[]).includes(board)) {
    const built = buildBundles([board], { onlyStale: true });
    if (!built.ok) {
      process.stderr.write(`npm run explore: build failed: ${built.message}\n`);
      process.exit(1);
    }
  }
  let rig: BoardRig;
  try {
    rig = await loadBoardRig(board);
  } catch (e) {
    usage((e as Error).message);
  }
  if (opts.replay) await replay(rig, opts.replay, known.all);
  else await search(rig, known);
}

main().catch((e: unknown) => {
  process.stderr.write(`npm run explore: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
