// npm run monitor: a serial terminal for a board's console that keeps a log
// and points out race lines.
//
//  - shows the console as it arrives; on a terminal the raw bytes pass
//    through (prompt, echo, cursor handling) and RACE/LOST lines are drawn in
//    red, ERROR/Uncaught/WARNING/SELFTEST FAIL in yellow, EVT in cyan; when
//    stdout is not a terminal it gets the clean lines instead
//  - sends what you type: on a terminal key by key (raw mode; the board
//    echoes), Ctrl-] or Ctrl-C twice within a second quits (one Ctrl-C goes to
//    the board and clears its input line); piped input is sent as it comes
//  - --script <file>: "<seconds> <command>" lines (the npm start script
//    format) sent at those times after the first connection
//  - writes a log: the clean text lines (as a terminal shows them), with the
//    monitor's own notes as "--- <time> <note>" lines
//  - survives the board resetting (the stream just goes on) and the port
//    going away (USB unplugged, the emulator stopped): it notes the loss,
//    retries every --retry-ms and carries on when the port is back
//  - on exit prints the race summary of the session (race-log.ts)
//  - exits 2 with one line saying why when it never reached the port, and 1
//    when script commands were due while the port was down (not sent)

import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { openPort, parsePort, PortError, type Connection, type PortSpec, type SerialBinding } from "./serial-port.ts";
import { TerminalText, summarize, formatSummary, type RaceSummary } from "./race-log.ts";
import type { ScriptStep } from "./session.ts";

export interface MonitorOptions {
  port: string;
  baudRate?: number;
  binding?: SerialBinding;
  /** Log file (clean lines); null for none. */
  logFile: string | null;
  /** Commands to send at given seconds after the first connection. */
  script?: ScriptStep[];
  /** Quit after this many seconds (from start). */
  durationSeconds?: number;
  /** With a script and no duration: quit once the script is done and the board has been quiet this long. Default 1 s. */
  quietSeconds?: number;
  /** Colours: true, false, or "auto" (when the output is a terminal). */
  color?: boolean | "auto";
  /** Retry interval while the port is gone. Default 500 ms. */
  retryMs?: number;
  /** Keep retrying when the port is not there at start (default true); false exits with code 2. */
  waitForPort?: boolean;
  /** Keyboard/pipe input. Default process.stdin; null for none. */
  input?: (NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown }) | null;
  /** Where the console goes. Default process.stdout. */
  output?: { write(s: string): unknown; isTTY?: boolean };
  /** Where notes and the summary go. Default process.stderr. */
  notes?: { write(s: string): unknown };
  /** Print the summary at the end. Default true. */
  summary?: boolean;
  /** Resolves the monitor early (tests, signals). */
  stop?: Promise<unknown>;
}

export interface MonitorResult {
  code: number;
  summary: RaceSummary;
  lines: string[];
  connects: number;
  disconnects: number;
}

const RED = "\x1B[1;31m";
const YELLOW = "\x1B[33m";
const CYAN = "\x1B[36m";
const DIM = "\x1B[2m";
const RESET = "\x1B[0m";

const HIGHLIGHTS: Array<[RegExp, string]> = [
  [/^(RACE|LOST) /, RED],
  [/^(ERROR |Uncaught |WARNING |SELFTEST FAIL)/, YELLOW],
  [/^EVT /, CYAN],
];
const KEYWORDS = ["RACE ", "LOST ", "ERROR ", "Uncaught ", "WARNING ", "SELFTEST FAIL", "EVT "];

function colourOf(line: string): string | null {
  for (const [re, c] of HIGHLIGHTS) if (re.test(line)) return c;
  return null;
}

/** Could this partial line still become a highlighted one? */
function mayBecomeHighlighted(partial: string): boolean {
  return KEYWORDS.some((k) => k.startsWith(partial) || partial.startsWith(k));
}

function cleanOne(raw: string): string {
  const t = new TerminalText();
  const lines = t.push(raw);
  return lines.length ? lines[lines.length - 1]! : t.partial;
}

/** Raw pass-through for a terminal, holding back a line that may need colour until it is complete. */
class RawDisplay {
  private cur = "";
  private shown = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(
    private readonly write: (s: string) => void,
    private readonly colour: boolean,
  ) {}

  push(bytes: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.cur += bytes;
    let nl: number;
    while ((nl = this.cur.indexOf("\n")) >= 0) {
      const raw = this.cur.slice(0, nl + 1);
      this.cur = this.cur.slice(nl + 1);
      const line = cleanOne(raw);
      const c = this.colour ? colourOf(line) : null;
      // Part of the line (a prompt) may be on the screen already: redraw the whole line, as the terminal shows it, in colour.
      if (c) this.write((this.shown > 0 ? "\r\x1B[K" : "") + c + line + RESET + "\r\n");
      else this.write(raw.slice(this.shown));
      this.shown = 0;
    }
    if (!this.cur) return;
    if (this.colour && this.shown === 0 && mayBecomeHighlighted(cleanOne(this.cur))) {
      this.timer = setTimeout(() => this.flush(), 150);
      return;
    }
    this.write(this.cur.slice(this.shown));
    this.shown = this.cur.length;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write(this.cur.slice(this.shown));
    this.shown = this.cur.length;
  }
}

export async function runMonitor(o: MonitorOptions): Promise<MonitorResult> {
  let spec: PortSpec;
  const notesOut = o.notes ?? process.stderr;
  try {
    spec = parsePort(o.port);
  } catch (e) {
    notesOut.write(`monitor: ${(e as Error).message}\n`);
    return { code: 1, summary: summarize([]), lines: [], connects: 0, disconnects: 0 };
  }
  const out = o.output ?? process.stdout;
  const input = o.input === undefined ? process.stdin : o.input;
  const useColour = o.color === "auto" || o.color === undefined ? !!out.isTTY : o.color;
  const retryMs = o.retryMs ?? 500;
  const lines: string[] = [];
  const text = new TerminalText();
  let fd: number | null = null;
  if (o.logFile) {
    try {
      mkdirSync(dirname(o.logFile), { recursive: true });
      fd = openSync(o.logFile, "w");
    } catch (e) {
      notesOut.write(`monitor: cannot write the log ${o.logFile}: ${(e as Error).message} (give --log <file> elsewhere, or --no-log)\n`);
      return { code: 1, summary: summarize([]), lines: [], connects: 0, disconnects: 0 };
    }
  }
  const logLine = (l: string): void => {
    lines.push(l);
    if (fd !== null) writeSync(fd, l + "\n");
  };
  const rawDisplay = out.isTTY ? new RawDisplay((s) => out.write(s), useColour) : null;
  const note = (msg: string): void => {
    logLine(`--- ${new Date().toISOString()} ${msg}`);
    const shown = `--- ${msg}`;
    if (out.isTTY) out.write(`\r\n${useColour ? DIM + shown + RESET : shown}\r\n`);
    else out.write(`${useColour ? DIM + shown + RESET : shown}\n`);
  };

  let conn: Connection | null = null;
  let connects = 0;
  let disconnects = 0;
  let lastData = Date.now();
  let stopped = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => (finish = r));
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  const later = (ms: number, fn: () => void): void => void timers.push(setTimeout(fn, ms));

  const onBytes = (bytes: string): void => {
    lastData = Date.now();
    for (const l of text.push(bytes)) {
      logLine(l);
      if (!rawDisplay) {
        const c = useColour ? colourOf(l) : null;
        out.write(c ? c + l + RESET + "\n" : l + "\n");
      }
    }
    rawDisplay?.push(bytes);
  };

  let scriptStarted = false;
  /** Script commands the port was down for. */
  let unsent = 0;
  const startScript = (): void => {
    if (scriptStarted || !o.script?.length) return;
    scriptStarted = true;
    for (const step of o.script) {
      later(step.at * 1000, () => {
        if (conn?.isOpen) void conn.write(step.command + "\n").catch(() => undefined);
        else {
          unsent++;
          note(`not connected: "${step.command}" not sent`);
        }
      });
    }
    if (o.durationSeconds === undefined) {
      const lastAt = Math.max(...o.script.map((s) => s.at));
      const quiet = (o.quietSeconds ?? 1) * 1000;
      const check = (): void => {
        if (Date.now() - lastData >= quiet) finish(0);
        else later(100, check);
      };
      later(lastAt * 1000 + quiet, check);
    }
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      const c = await openPort(spec, { baudRate: o.baudRate, binding: o.binding, timeoutMs: 3000 });
      if (stopped) {
        await c.close();
        return;
      }
      conn = c;
      connects++;
      droppedNoted = false;
      note(connects === 1 ? `connected to ${spec.text}` : `reconnected to ${spec.text}`);
      c.onData(onBytes);
      if (early.length) void c.write(early.splice(0).join("")).catch(() => undefined);
      c.onClose((reason) => {
        if (conn === c) conn = null;
        if (stopped) return;
        disconnects++;
        note(`lost ${spec.text}: ${reason ?? "closed"}; retrying every ${retryMs} ms`);
        later(retryMs, () => void connect());
      });
      startScript();
    } catch (e) {
      const msg = e instanceof PortError ? e.message : String(e);
      lastError = msg;
      if (connects === 0 && o.waitForPort === false) {
        notesOut.write(`monitor: ${msg}\n`);
        reported = true;
        finish(2);
        return;
      }
      if (connects === 0 && !waitingNoted) {
        waitingNoted = true;
        note(`waiting for ${spec.text}: ${msg}`);
      }
      later(retryMs, () => void connect());
    }
  };
  let waitingNoted = false;
  let lastError = "";
  /** The reason for a failing exit is already on notesOut. */
  let reported = false;
  const startedAt = Date.now();

  // ---- input ----
  let lastCtrlC = -Infinity; // no Ctrl-C yet
  let droppedNoted = false;
  const early: string[] = [];
  let rawMode = false;
  const onInput = (chunk: Buffer | string): void => {
    let s = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    if (rawMode) {
      if (s.includes("\x1D")) return finish(0); // Ctrl-]
      if (s.includes("\x03")) {
        const now = Date.now();
        if (now - lastCtrlC < 1000) return finish(0);
        lastCtrlC = now;
        out.write(`\r\n${useColour ? DIM : ""}--- (Ctrl-C again within a second, or Ctrl-], to quit)${useColour ? RESET : ""}\r\n`);
      }
    }
    if (conn?.isOpen) void conn.write(s).catch(() => undefined);
    else if (connects === 0) early.push(s); // sent once the port opens
    else if (s.length > 0 && !droppedNoted) {
      droppedNoted = true;
      note("not connected: typed input is dropped until the port is back");
    }
  };
  const onInputEnd = (): void => {
    if (o.durationSeconds !== undefined || o.script?.length) return;
    const quiet = (o.quietSeconds ?? 1) * 1000;
    const check = (): void => {
      if (Date.now() - lastData >= quiet) finish(0);
      else later(100, check);
    };
    later(quiet, check);
  };
  if (input) {
    if (input.isTTY && input.setRawMode) {
      input.setRawMode(true);
      rawMode = true;
    }
    input.on("data", onInput);
    input.on("end", onInputEnd);
    input.resume();
  }
  const onSigint = (): void => finish(0);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  if (o.durationSeconds !== undefined) later(o.durationSeconds * 1000, () => finish(0));
  void o.stop?.then(() => finish(0));

  void connect();
  const code = await done;

  // ---- shut down ----
  stopped = true;
  for (const t of timers) clearTimeout(t);
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigint);
  if (input) {
    input.off("data", onInput);
    input.off("end", onInputEnd);
    if (rawMode) input.setRawMode?.(false);
    input.pause();
  }
  rawDisplay?.flush();
  const c = conn as Connection | null;
  if (c) await c.close();
  if (text.partial && text.partial !== ">") logLine(text.partial);
  if (connects > 0 || code === 0) note("monitor stopped");
  if (fd !== null) closeSync(fd);
  const summary = summarize(lines);
  if (o.summary !== false && connects > 0) {
    notesOut.write((out.isTTY ? "\r\n" : "\n") + formatSummary(summary, o.logFile ?? "this session") + "\n");
    if (o.logFile) notesOut.write(`log: ${o.logFile}\n`);
  }
  // A session that never reached its port, or whose script was not all sent,
  // did not do what was asked: a failing exit, with the reason as the last line.
  let exit = code;
  if (connects === 0) {
    exit = code === 0 ? 2 : code;
    if (!reported) {
      const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
      notesOut.write(`monitor: never connected to ${spec.text} in ${secs} s of trying${lastError ? `: ${lastError.replace(`${spec.text}: `, "")}` : ""}\n`);
    }
  } else if (unsent > 0 && code === 0) {
    exit = 1;
    notesOut.write(`monitor: ${unsent} of ${o.script!.length} script command(s) not sent: ${spec.text} was not connected when they were due (see the log)\n`);
  }
  return { code: exit, summary, lines, connects, disconnects };
}
