// npm run monitor -- --port <port>          a terminal on a board's console, with a log
// npm run monitor -- --summary <log file>   the races in a saved log, by kind
// See scripts/lib/monitor.ts. Exit codes: 0 the session ran; 1 bad arguments,
// or script commands not sent because the port was down; 2 the port was never
// reached, or no such --summary log.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { runMonitor } from "./lib/monitor.ts";
import { readScript, type ScriptStep } from "./lib/session.ts";
import { formatSummary, summarize, terminalLines, timeLogLines } from "./lib/race-log.ts";
import { parseEvents } from "./lib/console-events.ts";
import { writeReport } from "./lib/report-page.ts";

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0`);
    return n;
  };
}

const program = new Command()
  .name("npm run monitor --")
  .description("A serial terminal for a board's console: shows it, sends what you type, logs it, highlights race lines.")
  .option("--port <port>", "serial device (e.g. /dev/ttyACM0) or tcp://HOST:PORT")
  .option("-b, --baud <rate>", "serial baud rate (USB ignores it)", positive("--baud"), 9600)
  .option("--log <file>", "log file (default out/monitor-<date>-<time>.log)")
  .option("--no-log", "do not write a log file")
  .option("--script <file>", "send '<seconds> <command>' lines at those times after connecting, then quit once the board is quiet")
  .option("--duration <s>", "quit after this many seconds", positive("--duration"))
  .option("--color <when>", "colour race lines: auto, always or never", "auto")
  .option("--retry-ms <ms>", "how often to retry while the port is gone", positive("--retry-ms"), 500)
  .option("--no-wait", "exit (code 2) instead of waiting when the port is not there at start")
  .option("--summary <file>", "print the races in a saved log by kind, with counts, and exit")
  .option("--json", "with --summary: print the summary as JSON")
  .option("--page <file>", "with --summary: where to write the page of the log (default: the log's name with .html)")
  .option("--no-page", "with --summary: do not write the page")
  .addHelpText(
    "after",
    "\nKeys: what you type goes to the board; Ctrl-] (or Ctrl-C twice) quits.\n" +
      "Piped input is sent as it comes; the monitor quits once it ends and the board is quiet.\n" +
      "Exit codes: 0 the session ran; 1 bad arguments, or script commands not sent because the port was down;\n" +
      "2 the port was never reached (or, with --no-wait, not there at start), or no such --summary log.",
  )
  .parse();

const opts = program.opts<{
  port?: string;
  baud: number;
  log: string | boolean;
  script?: string;
  duration?: number;
  color: string;
  retryMs: number;
  wait: boolean;
  summary?: string;
  json?: boolean;
  page: string | boolean;
}>();

/** The page of a captured log: what the log shows, on the board's own clock where it gives one. */
function writeLogPage(path: string, source: string, lines: string[], summaryText: string): void {
  const timed = timeLogLines(lines.filter((l) => !l.startsWith("--- ")));
  const end = timed.lines.length ? Math.max(...timed.lines.map((l) => l.t)) + 0.05 : 1;
  writeReport(path, {
    title: `dpcm-espruino console log ${source}`,
    summary: summaryText.split("\n"),
    problems: null,
    xLabel: "board time, s (see the note above)",
    end,
    outputs: [],
    noOutputs: "A console log carries no audio: no waveform. npm start records the emulated outputs.",
    events: parseEvents(timed.lines, true),
    cpu: null,
    notes: [
      "Times: RACE and EVT lines are at the t= the board logged; other lines (OK route, errors, READY) carry no time and are placed between their stamped neighbours " +
        `(${timed.estimated} of ${timed.lines.length} lines placed so); each firmware start or reset begins a new stretch of the axis (${timed.stretches} here).`,
      "CPU load: not in a console log (the firmware prints only its longest handler time, in stats()).",
    ],
  });
}

function fail(message: string, code = 1): never {
  process.stderr.write(`monitor: ${message}\n`);
  process.exit(code);
}

if (opts.summary) {
  if (!existsSync(opts.summary)) fail(`no such log file: ${opts.summary}`, 2);
  const lines = terminalLines(readFileSync(opts.summary, "latin1"));
  const summary = summarize(lines);
  const text = formatSummary(summary, opts.summary);
  process.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + "\n" : text + "\n");
  if (opts.page !== false) {
    const page = typeof opts.page === "string" ? opts.page : opts.summary.replace(/(\.log)?$/, ".html");
    try {
      writeLogPage(page, opts.summary, lines, text);
    } catch (e) {
      fail(`cannot write the page ${page}: ${(e as Error).message}`);
    }
    process.stderr.write(`page: ${page}\n`);
  }
  process.exit(0);
}
for (const o of ["json", "page"]) {
  if (program.getOptionValueSource(o) === "cli") fail(`--${o === "page" && opts.page === false ? "no-page" : o} goes with --summary <log file>`);
}
if (!opts.port) fail("give --port <port> (a serial device or tcp://HOST:PORT), or --summary <log file>");
if (!["auto", "always", "never"].includes(opts.color)) fail("--color must be auto, always or never");
let script: ScriptStep[] | undefined;
if (opts.script) {
  try {
    script = readScript(opts.script);
  } catch (e) {
    fail((e as Error).message);
  }
}
const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
const logFile = opts.log === false ? null : typeof opts.log === "string" ? opts.log : join("out", `monitor-${stamp}.log`);

const result = await runMonitor({
  port: opts.port,
  baudRate: opts.baud,
  logFile,
  script,
  durationSeconds: opts.duration,
  color: opts.color === "auto" ? "auto" : opts.color === "always",
  retryMs: opts.retryMs,
  waitForPort: opts.wait,
  input: process.stdin,
});
process.exit(result.code);
