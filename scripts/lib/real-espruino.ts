// The real Espruino 2v29 interpreter, built for Linux, run from the host:
// where to find it, running a script or a bundle on it, and a console
// session to type lines into (../shared/espruino-2v29/README.md).
//
// Where it is. Two builds: "stock" (`espruino`: its utility timer is a no-op,
// so EXEC timer tasks never fire) and "timer" (`espruino-timer`: they fire and
// preempt). Each is found through its own environment variable, else beside
// the repository:
//   ESPRUINO_BIN        the stock build   (default ../shared/espruino-2v29/espruino)
//   ESPRUINO_TIMER_BIN  the timer build   (default ../shared/espruino-2v29/espruino-timer)
// One variable per file rather than one folder, so a user can point at any
// build of either kind (a debug build, another version) without renaming it.
// A variable that is set but names no executable file is a mistake, reported
// as such (`misconfigured`), never a quiet skip.
//
// How the Linux build behaves (read from targets/linux/main.c at
// RELEASE_2V29 and measured here; ../shared/espruino-2v29/README.md's
// "exits when its standard input ends" holds for neither mode exactly):
//  - `espruino FILE` prints the banner, runs the file, then runs its event
//    loop while timers exist, taking console lines from stdin meanwhile; it
//    exits once no timer is left, whether stdin is open or not. An uncaught
//    exception while the file itself runs ends the process at once (timers
//    set before it never run).
//  - `espruino` alone is the interactive REPL: it never exits at the end of
//    stdin (both builds, measured); Ctrl-D (0x04) on stdin exits it at once,
//    as does `quit()`. So a session holds stdin open and ends with Ctrl-D.
//  - Storage lives in `espruino.flash` in the working directory, so every run
//    here gets a fresh temporary directory, deleted afterwards.
//  - Console output uses "\r\n" and a line-editing prompt: ">" is printed
//    when idle and erased with "\r" + ESC "[J" before anything else is
//    printed. cleanConsole() turns that into plain "\n" lines.
//  - It handles SIGTERM only between events; SIGKILL always works, so a run
//    that outlives its timeout is killed with SIGKILL.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "../../emulator/storage.ts";

export type EspruinoBuild = "stock" | "timer";

/** The repository root (this file is scripts/lib/real-espruino.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const BUILDS: Record<EspruinoBuild, { variable: string; file: string }> = {
  stock: { variable: "ESPRUINO_BIN", file: "espruino" },
  timer: { variable: "ESPRUINO_TIMER_BIN", file: "espruino-timer" },
};

/** Where a build of the interpreter is, or why there is none. */
export interface EspruinoLocation {
  build: EspruinoBuild;
  /** Absolute path of the executable, or null. */
  path: string | null;
  /** "ESPRUINO_BIN" or "../shared/espruino-2v29" (where it was looked for). */
  source: string;
  /** Why path is null (for a test's skip message); null when found. */
  reason: string | null;
  /** True when the environment variable is set but names no executable: an error, not a skip. */
  misconfigured: boolean;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Find a build: its environment variable if set, else ../shared/espruino-2v29/ beside the repository. */
export function findEspruino(build: EspruinoBuild = "stock", env: NodeJS.ProcessEnv = process.env): EspruinoLocation {
  const { variable, file } = BUILDS[build];
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== "") {
    const path = resolve(fromEnv);
    if (executable(path)) return { build, path, source: variable, reason: null, misconfigured: false };
    return {
      build,
      path: null,
      source: variable,
      reason: `${variable}=${fromEnv} is not an executable file`,
      misconfigured: true,
    };
  }
  const path = resolve(REPO_ROOT, "..", "shared", "espruino-2v29", file);
  if (executable(path)) return { build, path, source: "../shared/espruino-2v29", reason: null, misconfigured: false };
  return {
    build,
    path: null,
    source: "../shared/espruino-2v29",
    reason: `the real Espruino interpreter (${build} build) is absent: ${variable} is unset and ${path} does not exist`,
    misconfigured: false,
  };
}

/**
 * Plain console text from the interpreter's raw output: the start-up banner
 * removed, "\r\n" as "\n", every prompt or input line the interpreter erased
 * (text up to "\r" ESC "[J") removed, and a final idle ">" prompt dropped.
 */
export function cleanConsole(raw: string, options: { keepBanner?: boolean } = {}): string {
  let s = raw;
  if (!options.keepBanner) s = stripBanner(s);
  s = cleanLines(s);
  if (s.endsWith(">")) s = s.slice(0, -1);
  return s;
}

/** "\r\n" as "\n", and every erased prompt or input line (text up to "\r" ESC "[J") removed. */
function cleanLines(s: string): string {
  return s.replace(/\r\n/g, "\n").replace(/[^\n]*\r\x1b\[J/g, "");
}

/** The banner printed at start-up, ending with the donation URL and a blank line. */
const BANNER = /^(?:\r?\n)? ____[\s\S]*?http:\/\/espruino\.com\/Donate\r?\n\r?\n/;

function stripBanner(raw: string): string {
  return raw.replace(BANNER, "");
}

/** What one run of the interpreter did. */
export interface EspruinoRun {
  /** Console output, cleaned (see cleanConsole). */
  output: string;
  /** Exactly what it wrote to stdout. */
  raw: string;
  /** Its stderr (the Linux build's own "espruino: ..." notes). */
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when it was still running at the timeout and was killed. */
  timedOut: boolean;
  /** Wall time, milliseconds. */
  ms: number;
}

export interface RunScriptOptions {
  /** Which build (default "stock"); ignored when `path` is given. */
  build?: EspruinoBuild;
  /** The executable, instead of findEspruino(build). */
  path?: string;
  /** Kill with SIGKILL after this many milliseconds. Default 10000. */
  timeoutMs?: number;
  /** Extra files to put in the working directory (name -> text). */
  files?: Record<string, string>;
}

/** Interpreters still running, killed when this process exits whatever the reason (none is left orphaned). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.on("close", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
}

function binaryFor(options: { build?: EspruinoBuild; path?: string }): string {
  if (options.path) return options.path;
  const loc = findEspruino(options.build ?? "stock");
  if (!loc.path) throw new Error(loc.reason ?? "no Espruino interpreter");
  return loc.path;
}

/**
 * Run `code` as a file (`espruino script.js`) in a fresh temporary directory
 * and collect what it printed. Resolves when the process exits or is killed
 * at the timeout; rejects only when it cannot be started.
 */
export function runEspruinoScript(code: string, options: RunScriptOptions = {}): Promise<EspruinoRun> {
  const bin = binaryFor(options);
  const dir = mkdtempSync(join(tmpdir(), "espruino-run-"));
  writeFileSync(join(dir, "script.js"), code);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  const started = Date.now();
  const child = spawn(bin, ["script.js"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
  track(child);
  let raw = "";
  let stderr = "";
  child.stdout.setEncoding("latin1").on("data", (d: string) => (raw += d));
  child.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
  child.stdin.on("error", () => {}); // it may exit before reading stdin
  child.stdin.end(); // no console input: the run ends when its last timer has run
  let timedOut = false;
  const killTimer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 10000);
  return new Promise((resolvePromise, reject) => {
    child.on("error", (e) => {
      clearTimeout(killTimer);
      rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(killTimer);
      rmSync(dir, { recursive: true, force: true });
      resolvePromise({ output: cleanConsole(raw), raw, stderr, exitCode, signal, timedOut, ms: Date.now() - started });
    });
  });
}

export interface SessionOptions {
  build?: EspruinoBuild;
  path?: string;
  /**
   * Run this code as a file (`espruino script.js`) and take console lines
   * while it runs: the process ends when its last timer has. Default: the
   * bare REPL, which runs until close().
   */
  script?: string;
  /** Extra command-line arguments (e.g. ["--telnet"]). */
  args?: string[];
  /** A command the interpreter is started through, e.g. ["ip", "netns", "exec", "<name>"] (it must exec it). */
  wrapper?: string[];
  /** Run in this directory (its espruino.flash is the Storage) and keep it; default: a fresh temporary one, deleted after. */
  cwd?: string;
  /** Kill with SIGKILL after this many milliseconds whatever happens. Default 60000. */
  timeoutMs?: number;
}

/**
 * A running interpreter with its stdin held open: type console lines, wait
 * for output, close. Output is kept whole; `mark()`/`since()` read what came
 * after a point. Start one, `await idle()`, then `command()` or
 * `type()` + `waitFor()`; always `close()` (or `kill()`).
 */
export class EspruinoSession {
  private raw = "";
  /**
   * The cleaned text of raw[0, stableRaw): whole lines, which no later
   * output can change (an erased prompt reaches back to its line's start
   * only), kept in pieces with their offsets so that since() costs what it
   * returns, not the whole session (a soak prints megabytes).
   */
  private stableParts: string[] = [];
  private stableStarts: number[] = [];
  private stableLength = 0;
  private stableRaw = 0;
  private bannerChecked = false;
  private stderrText = "";
  private exited: Promise<EspruinoRun>;
  private waiters: Array<() => void> = [];
  private done = false;
  private timedOut = false;
  private readonly started = Date.now();
  private readonly dir: string;
  private readonly ownDir: boolean;
  private readonly child: ChildProcess;
  private readonly killTimer: NodeJS.Timeout;

  /** Start the interpreter in a fresh temporary directory. */
  constructor(options: SessionOptions = {}) {
    const bin = binaryFor(options);
    this.ownDir = options.cwd === undefined;
    this.dir = options.cwd ?? mkdtempSync(join(tmpdir(), "espruino-session-"));
    const args = [...(options.args ?? [])];
    if (options.script !== undefined) {
      writeFileSync(join(this.dir, "script.js"), options.script);
      args.push("script.js");
    }
    const wrapper = options.wrapper ?? [];
    const child = wrapper.length
      ? spawn(wrapper[0]!, [...wrapper.slice(1), bin, ...args], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] })
      : spawn(bin, args, { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    track(child);
    this.child = child;
    child.stdout!.setEncoding("latin1").on("data", (d: string) => {
      this.raw += d;
      this.advanceStable();
      this.wake();
    });
    child.stderr!.setEncoding("latin1").on("data", (d: string) => (this.stderrText += d));
    child.stdin!.on("error", () => {});
    this.killTimer = setTimeout(() => {
      this.timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60000);
    this.exited = new Promise((resolvePromise, reject) => {
      child.on("error", (e) => {
        this.finish();
        reject(e);
      });
      child.on("close", (exitCode, signal) => {
        this.finish();
        resolvePromise({
          output: cleanConsole(this.raw),
          raw: this.raw,
          stderr: this.stderrText,
          exitCode,
          signal,
          timedOut: this.timedOut,
          ms: Date.now() - this.started,
        });
      });
    });
    this.exited.catch(() => {}); // surfaced by close()
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.killTimer);
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The process id (to stop it by id). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process has exited. */
  get exitedAlready(): boolean {
    return this.done;
  }

  /** Move whole lines of raw output into the stable, cleaned pieces. */
  private advanceStable(): void {
    if (!this.bannerChecked) {
      // The banner ends in a blank line; until it is whole (or clearly absent) nothing is stable.
      const m = BANNER.exec(this.raw);
      if (m) this.stableRaw = m[0].length;
      else if (this.raw.length < 600 && /^(?:\r?\n)? ____/.test(this.raw)) return;
      this.bannerChecked = true;
    }
    const end = this.raw.lastIndexOf("\n") + 1;
    if (end <= this.stableRaw) return;
    const piece = cleanLines(this.raw.slice(this.stableRaw, end));
    this.stableRaw = end;
    if (!piece) return;
    this.stableStarts.push(this.stableLength);
    this.stableParts.push(piece);
    this.stableLength += piece.length;
  }

  /** The cleaned text of the output not yet stable (the current line). */
  private tailText(): string {
    if (!this.bannerChecked) return cleanConsole(this.raw);
    let s = cleanLines(this.raw.slice(this.stableRaw));
    if (s.endsWith(">")) s = s.slice(0, -1);
    return s;
  }

  /** All console output so far, cleaned (see cleanConsole). */
  text(): string {
    return this.stableParts.join("") + this.tailText();
  }

  /** A position in the output (for since()). */
  mark(): number {
    return this.stableLength + this.tailText().length;
  }

  /** Cleaned output after a mark. */
  since(mark: number): string {
    if (mark >= this.stableLength) return this.tailText().slice(mark - this.stableLength);
    // The last piece starting at or before the mark.
    let lo = 0;
    let hi = this.stableParts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.stableStarts[mid]! <= mark) lo = mid;
      else hi = mid - 1;
    }
    return this.stableParts[lo]!.slice(mark - this.stableStarts[lo]!) + this.stableParts.slice(lo + 1).join("") + this.tailText();
  }

  /** Send one console line (a "\n" is added). */
  type(line: string): void {
    this.child.stdin!.write(line + "\n");
  }

  /** Send raw characters (e.g. "\x03" for Ctrl-C). */
  send(chars: string): void {
    this.child.stdin!.write(chars);
  }

  /**
   * Wait until the cleaned output after `fromMark` (default: all of it)
   * matches `pattern`. Resolves with the match; rejects after `timeoutMs` or
   * when the process exits first, quoting what it printed.
   */
  waitFor(pattern: string | RegExp, timeoutMs = 5000, fromMark = 0): Promise<RegExpMatchArray> {
    const re = typeof pattern === "string" ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : pattern;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`espruino: no ${re} within ${timeoutMs} ms; output so far:\n${this.since(fromMark)}`));
      }, timeoutMs);
      const check = (): void => {
        const m = this.since(fromMark).match(re);
        if (m) {
          clearTimeout(timer);
          resolvePromise(m);
        } else if (this.done) {
          clearTimeout(timer);
          reject(new Error(`espruino exited before ${re}; output:\n${this.since(fromMark)}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Wait until the interpreter is idle at its prompt (the raw output ends with ">"). */
  idle(timeoutMs = 5000): Promise<void> {
    return new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`espruino: not idle at its prompt within ${timeoutMs} ms; output so far:\n${this.text()}`)),
        timeoutMs,
      );
      const check = (): void => {
        if (this.raw.endsWith(">")) {
          clearTimeout(timer);
          resolvePromise();
        } else if (this.done) {
          clearTimeout(timer);
          reject(new Error(`espruino exited; output:\n${this.text()}`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /**
   * Type a line at the idle prompt and wait for the prompt to come back;
   * returns what the line printed, without its echo (">line").
   */
  async command(line: string, timeoutMs = 5000): Promise<string> {
    await this.idle(timeoutMs);
    const mark = this.mark();
    const rawBefore = this.raw.length;
    this.type(line);
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`espruino: "${line}" did not finish within ${timeoutMs} ms:\n${this.since(mark)}`)),
        timeoutMs,
      );
      const check = (): void => {
        if (/\n>$/.test(this.raw.slice(rawBefore)) || this.done) {
          clearTimeout(timer);
          resolvePromise();
        } else this.waiters.push(check);
      };
      check();
    });
    const out = this.since(mark);
    const echo = ">" + line + "\n";
    return out.startsWith(echo) ? out.slice(echo.length) : out;
  }

  /**
   * End the session: Ctrl-D (the Linux build exits on it at once), stdin
   * closed, then SIGKILL if it is still running after `graceMs`.
   */
  async close(graceMs = 2000): Promise<EspruinoRun> {
    if (!this.done) {
      this.child.stdin!.write("\x04");
      this.child.stdin!.end();
      const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(t);
      }
    }
    return this.exited;
  }

  /** Stop it now with SIGKILL. */
  async kill(): Promise<EspruinoRun> {
    if (!this.done) this.child.kill("SIGKILL");
    return this.exited;
  }
}

/** A network namespace of its own (`ip netns`, root only), so a `--telnet` console's fixed port 2323 is ours alone. */
export interface NetworkNamespace {
  name: string;
  /** Prefix a command with this to run it inside: ["ip", "netns", "exec", name]. */
  exec: string[];
  /** Delete the namespace (kill what runs in it first). */
  close(): void;
}

/**
 * Make a network namespace with its loopback up, or say why not (not root,
 * no `ip`, no permission): `espruino --telnet` always listens on port 2323,
 * so two of them (two tests, two engineers) must not share one network.
 */
export function networkNamespace(prefix = "dpcm"): NetworkNamespace | { reason: string } {
  const name = `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const add = spawnSync("ip", ["netns", "add", name], { encoding: "utf8" });
  if (add.error || add.status !== 0) return { reason: `ip netns add failed: ${add.error?.message ?? add.stderr.trim()}` };
  const up = spawnSync("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"], { encoding: "utf8" });
  if (up.status !== 0) {
    spawnSync("ip", ["netns", "del", name]);
    return { reason: `the namespace's loopback would not come up: ${up.stderr.trim()}` };
  }
  return {
    name,
    exec: ["ip", "netns", "exec", name],
    close: () => void spawnSync("ip", ["netns", "del", name]),
  };
}

/**
 * Store `code` as Storage's `.bootcde` in `dir` (its espruino.flash), as
 * `npm run flash` leaves a board (SAVE_ON_SEND=1): an interpreter started
 * there afterwards boots it. Runs `espruino` once with a script that writes
 * it; rejects when the stored text is not the code.
 */
export async function storeBootCode(bin: string, dir: string, code: string): Promise<void> {
  const session = new EspruinoSession({
    path: bin,
    cwd: dir,
    script: `require("Storage").write(".bootcde", ${JSON.stringify(code)}); print("STORED " + E.CRC32(require("Storage").read(".bootcde")));`,
    timeoutMs: 20000,
  });
  try {
    const m = await session.waitFor(/^STORED (-?\d+)\n/m, 15000);
    const want = crc32(code);
    if (Number(m[1]) >>> 0 !== want) throw new Error(`.bootcde in ${dir} is not the code (CRC32 ${Number(m[1]) >>> 0}, want ${want})`);
  } finally {
    await session.kill();
  }
}
