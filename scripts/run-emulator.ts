// npm start: run a board's bundle on its emulator. By default the demo on the
// emulated Pico: a 440 Hz tone rerouted live while an alert beeps, then a
// summary measured from what each output recorded, one WAV per output (what
// its pin did over the whole run, silence included), a page with the run
// on one time axis (report.html), and an exit status that says whether the
// run did what was asked (scripts/lib/session.ts runProblems).
//
// The output folder (--out, default out/): every run rewrites serial.log,
// report.html and run.json, and removes the files the previous run listed
// in run.json before writing its own, so no WAV of an earlier run is left
// beside this run's. Files this tool did not list there are never touched.
// A served board (--serve) logs to serve-<date>-<time>.log instead.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import wavefile from "wavefile";
import {
  collectResult,
  demoScript,
  readScript,
  runProblems,
  runSession,
  type ScriptStep,
  type SessionResult,
} from "./lib/session.ts";
import { createEmulatedBoard, isBoardName, BOARD_NAMES, type BoardName, type EmulatedBoard } from "../emulator/boards/registry.ts";
import type { MachineOptions } from "../emulator/machine.ts";
import { serveBoard } from "./lib/serve.ts";
import { buildBundles } from "./lib/bundles.ts";
import { writeReport } from "./lib/report-page.ts";
import { runInteractive } from "./lib/interactive.ts";
import { startProgram } from "./lib/start-options.ts";
import { PICO_STATEMENT_COST_US } from "../emulator/cost-model.ts";

interface Options {
  board: string;
  tone: number;
  rate?: number;
  script?: string;
  demo?: boolean;
  duration?: number;
  unsafe?: boolean;
  seed?: number;
  statementCost?: number;
  interactive?: boolean;
  out: string;
  quiet?: boolean;
  serve?: string | boolean;
  blank?: boolean;
  espruino: string;
}

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

/** Build the board's bundle if its inputs changed (scripts/lib/bundles.ts). */
function ensureBundle(board: BoardName): void {
  const outcome = buildBundles([board], { onlyStale: true });
  if (!outcome.ok) fail(`build failed: ${outcome.message}`);
}

// ---- the output folder ------------------------------------------------------------

const MANIFEST = "run.json";

/** Remove the files the previous run listed in <out>/run.json (and only those). */
function removePreviousOutputs(outDir: string): void {
  const path = join(outDir, MANIFEST);
  if (!existsSync(path)) return;
  let files: unknown;
  try {
    files = (JSON.parse(readFileSync(path, "utf8")) as { files?: unknown }).files;
  } catch {
    return;
  }
  if (!Array.isArray(files)) return;
  for (const f of files) {
    // Only plain names inside the folder: a hand-edited manifest cannot reach outside it.
    if (typeof f === "string" && /^[\w.-]+$/.test(f) && f !== MANIFEST) rmSync(join(outDir, f), { force: true });
  }
}

function writeWavs(result: SessionResult, outDir: string): string[] {
  const written: string[] = [];
  for (const o of result.outputs) {
    const rec = o.recording;
    if (rec.rate <= 0) continue;
    const wav = new wavefile.WaveFile();
    wav.fromScratch(2, Math.round(rec.rate), "16", rec.samples);
    const name = `${o.name}.wav`;
    writeFileSync(join(outDir, name), wav.toBuffer());
    written.push(name);
  }
  return written;
}

// ---- the summary --------------------------------------------------------------------

function summaryLines(result: SessionResult, extra: string[], interactive: boolean): string[] {
  const out: string[] = [];
  const virtual = result.endAt - result.readyAt;
  out.push(
    interactive
      ? `== summary: board ${result.board.name}, ${virtual.toFixed(2)} virtual s after READY, at the prompt in real time`
      : `== summary: board ${result.board.name}, ${virtual.toFixed(2)} virtual s after READY in ${result.wallSeconds.toFixed(2)} wall s ` +
          `(${(virtual / Math.max(result.wallSeconds, 1e-9)).toFixed(1)}x real time)`,
  );
  if (result.outputs.length === 0) out.push("outputs: none on this board (its back ends are virtual sinks)");
  for (const o of result.outputs) {
    const meant = o.intended.reduce((n, iv) => n + iv.end - iv.start, 0);
    if (o.framesPlayed === 0) {
      out.push(`output ${o.name.padEnd(6)}       0 frames: it never played (no clock), so no WAV; meant to sound ${meant.toFixed(2)} s`);
      continue;
    }
    out.push(
      `output ${o.name.padEnd(6)} ${String(o.framesPlayed).padStart(7)} frames played (${o.seconds.toFixed(2)} s at ${o.sampleRate} Hz), ` +
        `meant to sound ${meant.toFixed(2)} s; recording ${(o.recording.samples.length / 2 / Math.max(o.recording.rate, 1)).toFixed(2)} s` +
        `  tone ${o.frequency ? o.frequency.toFixed(2) + " Hz" : "-"}  dropouts ${o.gaps}${o.gaps ? ` (${o.gapFrames} frames)` : ""}`,
    );
  }
  out.push(`xruns: ${result.xruns}`);
  const races = [...result.races.entries()].map(([k, n]) => `${k}=${n}`).join(" ");
  out.push(`races logged: ${[...result.races.values()].reduce((a, b) => a + b, 0)}${races ? ` (${races})` : ""}${result.unsafe ? " (started in unsafe mode)" : ""}`);
  if (result.errors.length) out.push(`console errors: ${result.errors.length} (first: ${result.errors[0]})`);
  const faults = result.board.machine.faults;
  if (faults.length) {
    out.push(`hardware faults: ${faults.length}`);
    for (const f of faults.slice(0, 10)) out.push(`  t=${f.time.toFixed(6)} ${f.register}: ${f.message}`);
  }
  const peak = result.cpu.load.length ? Math.max(...result.cpu.load) : 0;
  const mean = result.cpu.load.length ? result.cpu.load.reduce((a, b) => a + b, 0) / result.cpu.load.length : 0;
  const costUs = result.board.machine.statementCostNs / 1000;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const starved = result.board.machine.stats.watchdogInterrupts;
  if (starved) {
    // The sampler's periods average the stretch where the handler ran back to
    // back with those where it no longer ran: no share stands for the run.
    out.push(
      `interrupt CPU share per period (emulator estimate at ${costUs} us a statement): not given: the interrupt ran back to back and ` +
        `starved the main loop ${starved} time(s), so it needed more than every period`,
    );
  } else out.push(`interrupt CPU share per period (emulator estimate at ${costUs} us a statement): mean ${pct(mean)}, peak ${pct(peak)}`);
  if (result.board.name === "pico-wm8731" && !starved) {
    // The same statements at the calibrated Pico cost (emulator/cost-model.json);
    // a projection: the run itself charged costUs.
    const lo = PICO_STATEMENT_COST_US.optimistic / costUs;
    const hi = PICO_STATEMENT_COST_US.pessimistic / costUs;
    out.push(
      `  the same statements at the calibrated Pico cost (${PICO_STATEMENT_COST_US.optimistic}-${PICO_STATEMENT_COST_US.pessimistic} us): ` +
        `mean ${pct(mean * lo)}-${pct(mean * hi)}, peak ${pct(peak * lo)}-${pct(peak * hi)}` +
        (peak * hi > 1 ? " -- more than a period: a real Pico would not keep up (npm run bench)" : ""),
    );
  }
  out.push(...extra);
  return out;
}

// ---- main ---------------------------------------------------------------------------

/** serial.log and, unless --quiet, the terminal: where the machine's console text goes. */
class ConsoleSink {
  toTerminal: boolean;
  private readonly fd: number;
  constructor(path: string, toTerminal: boolean) {
    this.fd = openSync(path, "w");
    this.toTerminal = toTerminal;
  }
  write(s: string): void {
    writeSync(this.fd, s);
    if (this.toTerminal) process.stdout.write(s);
  }
  close(): void {
    closeSync(this.fd);
  }
}

async function main(): Promise<void> {
  const program = startProgram().parse();
  const opts = program.opts<Options>();
  if (!isBoardName(opts.board)) fail(`unknown board "${opts.board}" (known: ${BOARD_NAMES.join(", ")})`);
  const board: BoardName = opts.board;
  if (opts.script && opts.demo) fail("give --script or --demo, not both");
  if (opts.rate && opts.script) fail("--rate sets the demo's rate; a --script opens its FEs itself (open(fe, hz))");
  if (opts.serve !== undefined) return serve(opts, board);
  // Options that only a served board reads: refused rather than ignored.
  if (opts.blank) fail("--blank needs --serve (it starts the served board with empty Storage)");
  if (program.getOptionValueSource("espruino") === "cli") fail("--espruino needs --serve (the version the served board reports)");
  let steps: ScriptStep[];
  try {
    steps = opts.script ? readScript(opts.script) : opts.interactive && !opts.demo ? [] : demoScript(board, opts.tone, opts.rate);
  } catch (e) {
    fail((e as Error).message);
  }
  ensureBundle(board);
  mkdirSync(opts.out, { recursive: true });
  removePreviousOutputs(opts.out);
  const sink = new ConsoleSink(join(opts.out, "serial.log"), !opts.quiet);
  const machineOptions: MachineOptions = opts.statementCost ? { statementCostUs: opts.statementCost, printFaults: true } : { printFaults: true };
  const session = await runSession({
    board,
    steps,
    duration: opts.interactive && steps.length === 0 ? (opts.duration ?? 0) : opts.duration,
    unsafe: opts.unsafe,
    seed: opts.seed,
    jitter: 0.008,
    machine: machineOptions,
    console: { stream: sink },
  }).catch((e: Error) => fail(e.message));
  let result: SessionResult = session;
  // What was asked before any prompt decides the exit status.
  const problems = runProblems(result);
  const extra: string[] = [];
  if (opts.interactive) {
    sink.toTerminal = false; // the board's console now reaches the terminal through its line discipline
    let current: EmulatedBoard = session.board;
    let since = session.readyAt;
    const bundle = readFileSync(session.board.bundlePath, "utf8");
    const mapPath = session.board.bundlePath + ".map";
    const started = performance.now();
    const ran = await runInteractive({
      machine: session.board.machine,
      create: async () => {
        current = await createEmulatedBoard(board, { ...machineOptions, console: { stream: sink } });
        return current.machine;
      },
      bundle,
      map: existsSync(mapPath) ? readFileSync(mapPath, "utf8") : null,
      input: process.stdin,
      output: process.stdout,
      onStep: () => session.sampler.sampleIfDue(),
      onBoot: (m) => {
        // A new interpreter: measure it from its start; the lines before stay in serial.log.
        session.clock.lines.length = 0;
        session.clock.follow(m);
        session.sampler.series.t.length = 0;
        session.sampler.series.load.length = 0;
        session.sampler.follow(m);
        since = 0;
      },
    });
    session.sampler.sample();
    // After a boot the figures start at that interpreter's READY (its clock starts at 0).
    if (ran.boots.length) since = session.clock.lines.find((l) => l.text.startsWith("READY "))?.t ?? 0;
    result = collectResult(
      { board: current, readyAt: since, endAt: current.machine.now(), wallSeconds: (performance.now() - started) / 1000 + session.wallSeconds, typed: session.typed, unsafe: session.unsafe },
      session.clock,
      session.sampler,
    );
    if (ran.boots.length) {
      extra.push(`the board booted ${ran.boots.length} time(s) during the session (${ran.boots.join(", ")}): the figures, recordings and page cover the last boot only; serial.log has everything`);
    }
    const later = runProblems(result).filter((p) => !problems.includes(p));
    if (later.length) extra.push(`at the prompt (not counted in the exit status): ${later.join("; ")}`);
  }
  sink.close();
  const files = ["serial.log", ...writeWavs(result, opts.out)];
  const lines = summaryLines(result, extra, opts.interactive === true);
  writeReport(join(opts.out, "report.html"), {
    title: `dpcm-espruino on the emulated ${result.board.name} board`,
    summary: lines,
    problems,
    xLabel: "virtual s since power-on",
    end: result.endAt,
    outputs: result.outputs.map((o) => ({ name: o.name, recording: o.recording, gaps: o.gapList })),
    noOutputs: result.outputs.length === 0 ? "This board has no audio outputs to record: its back ends are virtual sinks clocked by the firmware." : undefined,
    events: result.events,
    cpu: result.cpu,
    notes: [
      "Times are the emulator's virtual time. Routing switches are the firmware's OK route lines at the time it printed them; xruns and races are at the t= the firmware logged.",
      "CPU load: the emulator's estimate (statements run inside the interrupt x the statement cost, per period), not a figure the firmware measured.",
    ],
  });
  files.push("report.html");
  writeFileSync(
    join(opts.out, MANIFEST),
    JSON.stringify({ tool: "npm start", board: result.board.name, files, problems, summary: lines }, null, 2) + "\n",
  );
  const p = (s: string) => process.stdout.write(s + "\n");
  p("");
  for (const l of lines) p(l);
  for (const f of files) p(`wrote ${join(opts.out, f)}`);
  if (problems.length) {
    p(`result: FAILED (${problems.length} problem(s))`);
    process.stderr.write(`npm start: the run did not do what was asked: ${problems.join("; ")}\n`);
    process.exitCode = 1;
  } else {
    p("result: OK");
  }
  if (opts.interactive) process.exit(process.exitCode ?? 0); // stdin may keep the event loop alive
}

/** --serve: serve the board's console on loopback TCP and run in real time until Ctrl-C. */
async function serve(opts: Options, board: BoardName): Promise<void> {
  const port = opts.serve === true ? 2323 : Number(opts.serve);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail("--serve takes a TCP port number (0 picks a free one)");
  if (!/^\d+v\d+/.test(opts.espruino)) fail(`--espruino must look like 2v29, not "${opts.espruino}"`);
  let steps;
  try {
    steps = opts.script ? readScript(opts.script) : [];
  } catch (e) {
    fail((e as Error).message);
  }
  ensureBundle(board);
  const served = await serveBoard({
    board,
    port,
    blank: opts.blank,
    steps,
    unsafe: opts.unsafe,
    machine: { printFaults: true, env: { VERSION: opts.espruino }, ...(opts.statementCost ? { statementCostUs: opts.statementCost } : {}) },
    outDir: opts.out,
    quiet: opts.quiet,
  }).catch((e: Error) => fail(/EADDRINUSE/.test(e.message) ? `port ${port} is in use: try --serve 0 for any free port` : e.message));
  const url = served.server.url;
  process.stderr.write(
    `[serve] the ${board} board's console is on ${url} (loopback only), running in real time; Ctrl-C stops\n` +
      `[serve]   flash:   npm run flash -- --board ${board} --port ${url}\n` +
      `[serve]   monitor: npm run monitor -- --port ${url}\n` +
      `[serve]   serial log: ${served.logFile}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await served.stop();
  process.stderr.write(`[serve] stopped; serial log: ${served.logFile}\n`);
  process.exit(0);
}

await main();
