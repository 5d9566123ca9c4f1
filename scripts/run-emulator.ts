// npm start: run a board's bundle on its emulator. By default the demo on the
// emulated Pico: a 440 Hz tone rerouted live while an alert beeps, then a
// summary measured from what each output recorded.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Command, InvalidArgumentError } from "commander";
import wavefile from "wavefile";
import { demoScript, readScript, runSession, summarizeOutputs, countRaces, type SessionResult } from "./lib/session.ts";
import { isBoardName, BOARD_NAMES, type BoardName } from "../emulator/boards/registry.ts";
import { serveBoard } from "./lib/serve.ts";
import { PICO_STATEMENT_COST_US, parseStatementCost } from "../emulator/cost-model.ts";

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0`);
    return n;
  };
}

const program = new Command()
  .name("npm start --")
  .description("Run a board's firmware bundle on the host emulator and summarize what it played.")
  .option("--board <name>", `board to emulate (${BOARD_NAMES.join(", ")})`, "pico-wm8731")
  .option("--tone <hz>", "media tone frequency", positive("--tone"), 440)
  .option("--script <file>", "route script: one '<seconds> <console command>' per line")
  .option("--duration <s>", "virtual seconds to run after the firmware is ready", positive("--duration"))
  .option("--unsafe", "start with unsafe(true): no critical sections, no trigger deferral")
  .option("--seed <n>", "jitter each scripted command by up to half a period, reproducibly", (v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError("--seed must be an integer");
    return n;
  })
  .option(
    "--statement-cost <cost>",
    `virtual CPU time per JavaScript statement: pessimistic (${PICO_STATEMENT_COST_US.pessimistic} us, the default), ` +
      `optimistic (${PICO_STATEMENT_COST_US.optimistic} us) or microseconds; the ends of emulator/cost-model.json (npm run calibrate)`,
    (v) => {
      const us = parseStatementCost(v);
      if (us instanceof Error) throw new InvalidArgumentError(us.message);
      return us;
    },
  )
  .option("--interactive", "after the script, type console commands at a prompt (Ctrl-D ends)")
  .option("--out <dir>", "directory for WAV files and serial.log", "out")
  .option("--quiet", "do not echo the serial console while running")
  // --serve: the emulated board as a dev board (scripts/lib/serve.ts)
  .option("--serve [port]", "serve the board's console on 127.0.0.1:PORT (default 2323, 0 = any free port) and run in real time until Ctrl-C")
  .option("--blank", "with --serve: start with empty Storage, a bare Espruino to flash with npm run flash")
  .option("--espruino <version>", "with --serve: the Espruino version the emulated board reports (process.env.VERSION)", "2v29")
  .parse();

interface Options {
  board: string;
  tone: number;
  script?: string;
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

function writeWavs(result: SessionResult, outDir: string): string[] {
  const written: string[] = [];
  for (const out of result.board.outputs) {
    const rate = out.sampleRate();
    if (rate <= 0) continue;
    const wav = new wavefile.WaveFile();
    wav.fromScratch(2, rate, "16", out.samples());
    const path = join(outDir, `${out.name}.wav`);
    writeFileSync(path, wav.toBuffer());
    written.push(path);
  }
  return written;
}

function printSummary(result: SessionResult, wavs: string[]): void {
  const virtual = result.endAt - result.readyAt;
  const p = (s: string) => process.stdout.write(s + "\n");
  p("");
  p(`== summary: board ${result.board.name}, ${virtual.toFixed(2)} virtual s in ${result.wallSeconds.toFixed(2)} wall s (${(virtual / result.wallSeconds).toFixed(1)}x real time)`);
  if (result.outputs.length === 0) p("outputs: none on this board (its back ends are virtual sinks)");
  for (const o of result.outputs) {
    p(
      `output ${o.name.padEnd(6)} ${String(o.framesPlayed).padStart(7)} frames (${o.seconds.toFixed(2)} s at ${o.sampleRate} Hz)` +
        `  tone ${o.frequency ? o.frequency.toFixed(2) + " Hz" : "-"}  gaps ${o.gaps}${o.gaps ? ` (${o.gapFrames} frames)` : ""}`,
    );
  }
  p(`xruns: ${result.xruns}`);
  const races = [...result.races.entries()].map(([k, n]) => `${k}=${n}`).join(" ");
  p(`races found: ${[...result.races.values()].reduce((a, b) => a + b, 0)}${races ? ` (${races})` : ""}`);
  if (result.errors.length) p(`console errors: ${result.errors.length}`);
  const faults = result.board.machine.faults;
  if (faults.length) {
    p(`hardware faults: ${faults.length}`);
    for (const f of faults.slice(0, 10)) p(`  t=${f.time.toFixed(6)} ${f.register}: ${f.message}`);
  }
  for (const w of wavs) p(`wrote ${w}`);
}

async function interactive(result: SessionResult): Promise<void> {
  const { machine } = result.board;
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "" });
  process.stdout.write("Interactive: type console commands (help() lists them); Ctrl-D ends.\n");
  let open = true;
  rl.on("line", (line) => machine.console.type(line));
  rl.on("close", () => (open = false));
  // Keep virtual time in step with the wall clock while the user types.
  let last = performance.now();
  while (open) {
    await new Promise((r) => setTimeout(r, 20));
    const now = performance.now();
    machine.runFor((now - last) / 1000);
    last = now;
  }
  machine.console.flush();
  result.lines = machine.console.lines();
  result.races = countRaces(result.lines);
  result.xruns = result.lines.filter((l) => /^EVT .*\bkind=xrun\b/.test(l)).length;
  result.endAt = machine.now();
  result.outputs = summarizeOutputs(result.board, 128);
}

async function main(): Promise<void> {
  const opts = program.opts<Options>();
  if (!isBoardName(opts.board)) fail(`unknown board "${opts.board}" (known: ${BOARD_NAMES.join(", ")})`);
  const board: BoardName = opts.board;
  if (opts.serve !== undefined) return serve(opts, board);
  let steps;
  try {
    steps = opts.script ? readScript(opts.script) : demoScript(board, opts.tone);
  } catch (e) {
    fail((e as Error).message);
  }
  mkdirSync(opts.out, { recursive: true });
  const result = await runSession({
    board,
    steps,
    duration: opts.duration,
    unsafe: opts.unsafe,
    seed: opts.seed,
    jitter: 0.008,
    machine: opts.statementCost ? { statementCostUs: opts.statementCost, printFaults: true } : { printFaults: true },
    console: { logFile: join(opts.out, "serial.log"), stream: opts.quiet ? undefined : process.stdout },
  }).catch((e: Error) => fail(e.message));
  if (opts.interactive) await interactive(result);
  const wavs = writeWavs(result, opts.out);
  printSummary(result, wavs);
  process.stdout.write(`serial log: ${join(opts.out, "serial.log")}\n`);
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
      `[serve]   monitor: npm run monitor -- --port ${url}\n`,
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
