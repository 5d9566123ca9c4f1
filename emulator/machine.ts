// The emulated board: virtual time, a per-statement CPU cost, the memory bus
// with peripheral models, flat SRAM for buffers handed to DMA, GPIO, I2C, the
// serial console, Espruino's two kinds of timers, and statement-level
// preemption by the EXEC timer task.
//
// Time. Virtual time is kept as an integer number of nanoseconds (exact; a
// double holds integers exactly up to 104 days) and reported in seconds. It
// moves only when the firmware executes statements (each costs
// `statementCostUs`), when a native call takes bus time (I2C), when the main
// loop dispatches an event, and when the machine is idle and jumps to the next
// event.
//
// Statement cost. Default 20 microseconds, for the Espruino Pico's STM32F401
// at 84 MHz. The facts file measured the interpreter on a desktop x86 core at
// about 1.9 us per iteration of an empty `for` loop (a loop iteration is a
// handful of statement-level operations: test, update, body), and notes that
// an 84 MHz microcontroller is one to two orders of magnitude slower: 19 to
// 190 us per iteration. Espruino interprets straight from the source text, so
// a typical firmware statement (a property walk, a call, an assignment) costs
// about what a loop iteration does: 20 us sits at the fast end of that range,
// which is the conservative choice for a race search (it packs the most
// statements between two interrupts, not the fewest) and still makes
// per-sample JavaScript at audio rates visibly impossible. Override with
// options.statementCostUs.
//
// Preemption. Every statement of firmware code calls `__p(siteId)` first
// (see preempt.ts). `__p` counts the statement, advances time, and when an
// EXEC timer task is due and none is running, runs it right there, inside the
// paused main-loop code: the task never nests, and firings that fall due
// while a task runs are dropped (counted in `droppedFirings`). The hot path is
// four field updates and one compare; everything else is in `slowPath`, which
// runs only when `nowNs` crosses `checkNs` (the next task due time, the
// watchdog deadline, or -Infinity when a statement hook is installed).

import vm from "node:vm";
import { readFileSync } from "node:fs";
import { types as utilTypes } from "node:util";
import type { TraceMap } from "@jridgewell/trace-mapping";
import type { HardwareFault, I2CDevice, MachineServices, Peripheral } from "./hardware.ts";
import { SerialConsole, uncaughtText, type ConsoleOptions } from "./console.ts";
import { createEspruinoContext, type EspruinoContext } from "./espruino-globals.ts";
import { compileScript, syntaxErrorLocation } from "./load-bundle.ts";
import { formatPosition, mapBundlePosition, type PreemptResult, type Site, type SourcePosition } from "./preempt.ts";

/** Default pin globals: those firmware/types/espruino.d.ts declares. */
export const DEFAULT_PINS: readonly string[] = [
  "B3", "B5", "B6", "B7", "B9", "B10", "B12", "B13", "B15",
  "A4", "A5", "A6", "A7", "A8", "C7", "LED1",
];

export interface MachineOptions {
  /** process.env.BOARD. Default "GENERIC". */
  board?: string;
  /** Virtual CPU time per statement, microseconds. Default 20 (see the header comment). */
  statementCostUs?: number;
  /** Virtual time the idle loop spends dispatching one main-loop event (timeout, console line). Default: one statement. */
  dispatchCostUs?: number;
  /** JsVars the board has (process.memory().total). Default 4096. */
  jsVarTotal?: number;
  /** Bytes per JsVar (process.memory().blocksize). Default 16. */
  jsVarBlockSize?: number;
  /** JsVars in use before any code is loaded. Default 40. */
  memoryBaselineVars?: number;
  /**
   * Where the firmware's code lives, for process.memory(). 0 (the default):
   * in flash, as when uploaded with SAVE_ON_SEND=1 (Espruino runs Storage
   * code in place; a function costs its function var and a flash-string
   * reference). N > 0: uploaded to RAM, N characters of code per JsVar
   * (about 12 with 16-byte JsVars).
   */
  codeCharsPerVar?: number;
  /**
   * ArrayBuffers up to this many bytes are not stored flat (Espruino's
   * JSV_FLAT_STRING_BREAK_EVEN), so E.getAddressOf(buf, true) returns 0 for
   * them, as on the board. Default 20.
   */
  flatThresholdBytes?: number;
  /** Pin globals to define. Default DEFAULT_PINS. */
  pins?: readonly string[];
  /** Pin globals that are another pin's name, e.g. { LED1: "B2" } on the Pico: String(LED1) === "B2". */
  pinAliases?: Record<string, string>;
  /** I2C bus globals. Default ["I2C1", "I2C2"]. */
  i2cBuses?: readonly string[];
  /** Print each hardware fault to stderr as it happens (or give a function). Default false. */
  printFaults?: boolean | ((fault: HardwareFault) => void);
  /** Serial console: echo of typed lines, log file, stream. */
  console?: ConsoleOptions;
  /** Whether EXEC timer tasks fire on their own. Default true; false lets a schedule (onStatement, fireInterrupt) control them. */
  execTasksFire?: boolean;
  /**
   * A main-loop callback (with any timer tasks it hosts) that runs longer
   * than this in virtual seconds is interrupted like Ctrl-C on the board
   * ("Execution Interrupted"). Default 60.
   */
  maxCallbackSeconds?: number;
  /** Reject syntax Espruino 2v29 does not parse (destructuring, spread, ...). Default true. */
  espruinoSyntax?: boolean;
  /** Extra process.env entries. */
  env?: Record<string, unknown>;
}

/** Return true to force the interrupt handler (the EXEC task) to run before this statement. */
export type StatementHook = (siteId: number, statementIndex: number, inTask: boolean) => boolean | void;

export interface RunOptions {
  /** Statement hook for this run only (replaces machine.onStatement while the run lasts). */
  onStatement?: StatementHook | null;
  /** Checked after every event; the run stops early when it returns true. */
  until?: () => boolean;
}

export interface MachineStats {
  /** Statements executed in total (main loop and timer tasks). */
  statements: number;
  /** Statements executed inside EXEC timer tasks (the interrupt). */
  interruptStatements: number;
  /** EXEC timer task runs (natural and forced). */
  taskRuns: number;
  /** Of those, runs forced by a statement hook or fireInterrupt(). */
  forcedTaskRuns: number;
  /** EXEC firings dropped: due while a task ran, or coalesced while the firmware was busy or the line masked. */
  droppedFirings: number;
  /** Main-loop events dispatched (timeouts, intervals, console lines, E events). */
  mainEvents: number;
}

/** An exception nobody caught: printed on the console as "Uncaught ..." and kept here. */
export interface UncaughtError {
  time: number;
  /** Where it surfaced: loading code, a main-loop callback, a timer task, a console line. */
  context: "load" | "main" | "task" | "console";
  error: unknown;
  message: string;
  location: ErrorLocation | null;
}

/** Where an exception was thrown. */
export interface ErrorLocation {
  /** Script file name as loaded (e.g. "dist/generic.js" or "console-3.js"). */
  file: string;
  /** Position in that (untransformed) script: 1-based line, 0-based column. */
  line: number;
  column: number;
  /** The TypeScript position, when the script came with a source map. */
  source: SourcePosition | null;
  /** "firmware/x.ts:12:5", or "dist/generic.js:1:2345" without a map. */
  text: string;
}

/** One script the machine has loaded (a bundle or a console line). */
export interface ScriptRecord {
  fileName: string;
  firstSite: number;
  siteCount: number;
  transform: PreemptResult;
  /** The bundle's own source map (to TypeScript), if any. */
  bundleMap: TraceMap | null;
  chars: number;
}

/** What a site is, for reports: its script, its position, and the TypeScript position. */
export interface SiteInfo {
  siteId: number;
  file: string;
  site: Site;
  source: SourcePosition | null;
  text: string;
}

interface MainTimer {
  id: number;
  fn: (...args: unknown[]) => unknown;
  args: unknown[];
  dueNs: number;
  intervalNs: number;
  recur: boolean;
}

interface ExecTask {
  id: number;
  fn: () => unknown;
  nextNs: number;
  /** 0 for a one-shot task. */
  intervalNs: number;
}

interface ConsoleInput {
  atNs: number;
  seq: number;
  line: string;
}

interface MemoryRegion {
  base: number;
  end: number;
  buffer: ArrayBuffer;
  bytes: Uint8Array;
}

export const SRAM_BASE = 0x20000000;

/** An I2C bus as the firmware sees it (I2C1, I2C2): devices attach by 7-bit address. */
export class I2CBus {
  private readonly devices = new Map<number, I2CDevice>();
  /** Set by the firmware's setup(); null until then. */
  setupOptions: { scl: string | undefined; sda: string | undefined; bitrate: number } | null = null;
  /** Optional check of setup() (e.g. pins that carry this bus on the board); return a fault message or "". */
  validateSetup: ((options: { scl: string | undefined; sda: string | undefined; bitrate: number }) => string) | null = null;

  constructor(readonly name: string) {}

  attach(address7: number, device: I2CDevice): void {
    if (this.devices.has(address7)) throw new Error(`${this.name}: address 0x${hex2(address7)} already in use`);
    this.devices.set(address7, device);
  }
  detach(address7: number): void {
    this.devices.delete(address7);
  }
  device(address7: number): I2CDevice | undefined {
    return this.devices.get(address7);
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}
export function hex32(n: number): string {
  return "0x" + (n >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

const NS_PER_S = 1e9;

export class Machine implements MachineServices {
  // ---- hot fields (touched by __p on every statement) ----------------------
  /** Virtual time, integer nanoseconds. */
  nowNs = 0;
  /** Statements executed. */
  statements = 0;
  /** Site id of the statement most recently started. */
  lastSite = -1;
  /** __p takes the slow path when nowNs reaches this. */
  private checkNs = Infinity;
  /** Virtual time per statement, ns. */
  readonly statementCostNs: number;

  /** The preemption call every firmware statement makes (installed as `__p` in the context). */
  readonly preemptionPoint: (siteId: number) => void;

  // ---- counters --------------------------------------------------------------
  private interruptStatements = 0;
  private taskRuns = 0;
  private forcedTaskRuns = 0;
  private droppedFirings = 0;
  private mainEvents = 0;

  // ---- configuration -----------------------------------------------------------
  readonly board: string;
  readonly dispatchCostNs: number;
  readonly jsVarTotal: number;
  readonly jsVarBlockSize: number;
  readonly memoryBaselineVars: number;
  readonly codeCharsPerVar: number;
  readonly flatThresholdBytes: number;
  readonly espruinoSyntax: boolean;
  readonly maxCallbackNs: number;
  readonly pinAliases: Readonly<Record<string, string>>;
  readonly pinNames: readonly string[];
  readonly env: Record<string, unknown>;
  /** Extra JsVars a board model wants counted in process.memory().usage. */
  memoryExtraVars = 0;

  // ---- state ---------------------------------------------------------------------
  readonly faults: HardwareFault[] = [];
  readonly errors: UncaughtError[] = [];
  readonly console: SerialConsole;
  /** Every preemption site of every script loaded: sites[siteId]. */
  readonly sites: Site[] = [];
  readonly scripts: ScriptRecord[] = [];
  readonly i2c: Readonly<Record<string, I2CBus>>;

  private readonly espruino: EspruinoContext;
  private readonly faultPrinter: ((fault: HardwareFault) => void) | null;

  private readonly peripherals: Peripheral[] = [];
  private advancing: Peripheral[] = [];
  private lastPeripheral: Peripheral | null = null;
  private lastSyncNs = -1;

  private readonly regions: MemoryRegion[] = [];
  private readonly regionOf = new WeakMap<ArrayBuffer, MemoryRegion>();
  private lastRegion: MemoryRegion | null = null;
  private nextAddress = SRAM_BASE;

  private readonly pinLevels = new Map<string, boolean>();
  private readonly pinModes = new Map<string, string>();
  private readonly pinListeners = new Map<string, Array<(level: boolean) => void>>();

  private timers: MainTimer[] = [];
  /** Start of the current idle-loop iteration: Espruino times setTimeout from here. */
  private lastIdleNs = 0;

  private readonly tasks: ExecTask[] = [];
  private nextTaskId = 1;
  private nextTaskNs = Infinity;
  private taskDepth = 0;
  private autoFire: boolean;
  private masked = false;
  private pendingForced = false;

  private readonly inputs: ConsoleInput[] = [];
  private inputSeq = 0;
  private consoleLines = 0;

  private readonly eListeners = new Map<string, Array<(...args: unknown[]) => unknown>>();

  private hook: StatementHook | null = null;
  private runHook: StatementHook | null | undefined = undefined;
  private running = false;
  private depth = 0;
  private deadlineNs = Infinity;
  private interrupted = false;
  private codeChars = 0;
  private codeFunctions = 0;

  constructor(options: MachineOptions = {}) {
    this.board = options.board ?? "GENERIC";
    this.statementCostNs = Math.round((options.statementCostUs ?? 20) * 1000);
    this.dispatchCostNs = Math.round((options.dispatchCostUs ?? this.statementCostNs / 1000) * 1000);
    this.jsVarTotal = options.jsVarTotal ?? 4096;
    this.jsVarBlockSize = options.jsVarBlockSize ?? 16;
    this.memoryBaselineVars = options.memoryBaselineVars ?? 40;
    this.codeCharsPerVar = options.codeCharsPerVar ?? 0;
    this.flatThresholdBytes = options.flatThresholdBytes ?? 20;
    this.espruinoSyntax = options.espruinoSyntax ?? true;
    this.maxCallbackNs = (options.maxCallbackSeconds ?? 60) * NS_PER_S;
    this.autoFire = options.execTasksFire ?? true;
    this.pinAliases = { ...(options.pinAliases ?? {}) };
    this.pinNames = [...(options.pins ?? DEFAULT_PINS)];
    this.env = { ...(options.env ?? {}) };
    const pf = options.printFaults;
    this.faultPrinter =
      typeof pf === "function"
        ? pf
        : pf
          ? (f) => process.stderr.write(`[fault ${f.time.toFixed(6)} s] ${f.register}: ${f.message}\n`)
          : null;
    const buses: Record<string, I2CBus> = {};
    for (const name of options.i2cBuses ?? ["I2C1", "I2C2"]) buses[name] = new I2CBus(name);
    this.i2c = buses;
    this.console = new SerialConsole((line, at) => this.queueInput(line, at), options.console ?? {});

    // The hot path. A closure over `m` (not `this`) so it can be called as a
    // plain function from the context; fields are plain numbers on one
    // object shape, so this compiles to a few loads and stores.
    const m = this;
    this.preemptionPoint = function __p(site: number): void {
      m.lastSite = site;
      m.statements++;
      if ((m.nowNs += m.statementCostNs) >= m.checkNs) m.slowPath(site);
    };

    this.espruino = createEspruinoContext(this);
  }

  // ===== MachineServices =========================================================

  /** Virtual time in seconds. */
  now(): number {
    return this.nowNs / NS_PER_S;
  }

  fault(register: string, message: string): void {
    const f: HardwareFault = { time: this.now(), register, message };
    this.faults.push(f);
    this.faultPrinter?.(f);
  }

  readMemory16(address: number): number {
    const r = this.region(address, 2);
    if (!r) return 0;
    const off = (address >>> 0) - r.base;
    return (r.bytes[off] | (r.bytes[off + 1] << 8)) & 0xffff;
  }

  peekRegister(address: number): number {
    const p = this.findPeripheral(address >>> 0);
    return p ? p.read32((address >>> 0) - p.base) >>> 0 : 0;
  }

  pinLevel(pin: string): boolean | undefined {
    return this.pinLevels.get(this.resolvePin(pin));
  }

  onPin(pin: string, listener: (level: boolean) => void): void {
    const name = this.resolvePin(pin);
    let list = this.pinListeners.get(name);
    if (!list) this.pinListeners.set(name, (list = []));
    list.push(listener);
  }

  // ===== public API ===============================================================

  /** The context's global object (Espruino's `global`): firmware globals, console commands. */
  get global(): Record<string, unknown> {
    return this.espruino.global;
  }

  /** The vm context the firmware runs in. */
  get context(): vm.Context {
    return this.espruino.context;
  }

  /** Builtins removed from the context because Espruino lacks them, and what could not be removed. */
  get builtinReport(): { removed: readonly string[]; notRemovable: readonly string[] } {
    return { removed: this.espruino.removed, notRemovable: this.espruino.notRemovable };
  }

  get stats(): MachineStats {
    return {
      statements: this.statements,
      interruptStatements: this.interruptStatements,
      taskRuns: this.taskRuns,
      forcedTaskRuns: this.forcedTaskRuns,
      droppedFirings: this.droppedFirings,
      mainEvents: this.mainEvents,
    };
  }

  /** Everything the firmware printed so far. */
  consoleText(): string {
    return this.console.text();
  }

  /** Map a peripheral into the address space. Overlapping ranges are refused. */
  map(peripheral: Peripheral): void {
    const lo = peripheral.base >>> 0;
    const hi = lo + peripheral.size;
    for (const p of this.peripherals) {
      if (lo < p.base + p.size && p.base < hi) {
        throw new Error(`bus: ${peripheral.name} [${hex32(lo)}, ${hex32(hi)}) overlaps ${p.name}`);
      }
    }
    this.peripherals.push(peripheral);
    this.peripherals.sort((a, b) => a.base - b.base);
    this.advancing = this.peripherals.filter((p) => typeof p.advanceTo === "function");
    this.lastSyncNs = -1;
  }

  /** The mapped peripherals, by base address. */
  get mapped(): readonly Peripheral[] {
    return this.peripherals;
  }

  /** Attach an I2C device model to a bus ("I2C1", "I2C2"). */
  attachI2C(bus: string, address7: number, device: I2CDevice): void {
    const b = this.i2c[bus];
    if (!b) throw new Error(`no I2C bus ${bus}`);
    b.attach(address7, device);
  }

  /** Pin mode the firmware last set with pinMode, if any. */
  pinMode(pin: string): string | undefined {
    return this.pinModes.get(this.resolvePin(pin));
  }

  /**
   * Statement hook (the race explorer's): called before every statement with
   * its site id, its 0-based index among all statements executed, and whether
   * it runs inside a timer task. Returning true (outside a task) runs the
   * interrupt handler at that boundary even if it is not due.
   */
  get onStatement(): StatementHook | null {
    return this.hook;
  }
  set onStatement(hook: StatementHook | null) {
    this.hook = hook;
    this.updateCheck();
  }

  /** Whether EXEC tasks fire on their own (false: only forced runs). */
  get execTasksFire(): boolean {
    return this.autoFire;
  }
  set execTasksFire(on: boolean) {
    if (on && !this.autoFire) {
      // Re-align each periodic task to its first grid point after now.
      for (const t of this.tasks) {
        if (t.intervalNs > 0 && t.nextNs <= this.nowNs) {
          t.nextNs += (Math.floor((this.nowNs - t.nextNs) / t.intervalNs) + 1) * t.intervalNs;
        }
      }
      this.recomputeNextTask();
    }
    this.autoFire = on;
    this.updateCheck();
  }

  /**
   * Mask or unmask the timer task's interrupt line (the NVIC enable of the
   * utility timer, for a board model whose NVIC registers the firmware
   * writes). While masked no task starts; one firing stays pending and runs
   * at the first statement after unmasking, further ones are dropped.
   */
  setTimerInterruptMasked(masked: boolean): void {
    this.masked = masked;
    this.updateCheck();
  }

  get timerInterruptMasked(): boolean {
    return this.masked;
  }

  /** Ids of the EXEC timer tasks the firmware has added. */
  get execTaskIds(): number[] {
    return this.tasks.map((t) => t.id);
  }

  /** Whether a timer task is running right now. */
  get inTask(): boolean {
    return this.taskDepth !== 0;
  }

  /**
   * Run the interrupt handler (an EXEC task: `taskId`, or the first one
   * added) now, from the host, e.g. at an idle point of a schedule. Returns
   * false if there is no task or one is already running.
   */
  fireInterrupt(taskId?: number): boolean {
    if (this.taskDepth !== 0) return false;
    const t = taskId === undefined ? this.tasks[0] : this.tasks.find((x) => x.id === taskId);
    if (!t) return false;
    this.forcedTaskRuns++;
    this.runTask(t);
    return true;
  }

  /** Run until virtual time `seconds`, processing due events in time order. */
  runUntil(seconds: number, options: RunOptions = {}): void {
    this.runLoop(Math.round(seconds * NS_PER_S), options);
  }

  /** Run for `seconds` of virtual time. */
  runFor(seconds: number, options: RunOptions = {}): void {
    this.runLoop(this.nowNs + Math.round(seconds * NS_PER_S), options);
  }

  /**
   * Run until the console output (from now on) matches `pattern`, or
   * `maxSeconds` of virtual time pass. Returns the match or null.
   */
  runUntilOutput(pattern: string | RegExp, maxSeconds: number): RegExpMatchArray | null {
    const start = this.console.length;
    const re = typeof pattern === "string" ? new RegExp(escapeRegExp(pattern)) : pattern;
    let match: RegExpMatchArray | null = null;
    const test = (): boolean => {
      match = this.console.text().slice(start).match(re);
      return match !== null;
    };
    if (test()) return match;
    this.runFor(maxSeconds, { until: test });
    return match;
  }

  /**
   * Evaluate code in the global scope now, as a main-loop callback (through
   * the preemption transform). Returns the completion value; exceptions
   * propagate to the caller (nothing is printed).
   */
  evaluate(code: string, fileName?: string): unknown {
    const compiled = compileScript(this, code, fileName ?? `eval-${this.scripts.length}.js`, null);
    return this.runGuarded(() => compiled.script.runInContext(this.espruino.context));
  }

  /** Emit an Espruino `E` event (e.g. "init", "kill") to the firmware's E.on listeners. */
  emitEspruinoEvent(event: string, ...args: unknown[]): void {
    const list = this.eListeners.get(event);
    if (!list) return;
    for (const fn of [...list]) this.dispatchMain(fn, args, "main");
  }

  /** What and where a site is. */
  describeSite(siteId: number): SiteInfo | null {
    const site = this.sites[siteId];
    if (!site) return null;
    const rec = this.scriptOfSite(siteId);
    const file = rec?.fileName ?? "?";
    const source = rec?.bundleMap ? mapBundlePosition(rec.bundleMap, site.line, site.column) : null;
    return {
      siteId,
      file,
      site,
      source,
      text: source ? formatPosition(source) : formatPosition({ source: file, line: site.line, column: site.column }),
    };
  }

  /** Where an exception was thrown: from its stack, else from the last statement started. */
  locateError(error: unknown): ErrorLocation | null {
    const stack = typeof error === "object" && error !== null ? (error as { stack?: unknown }).stack : undefined;
    if (typeof stack === "string") {
      for (const line of stack.split("\n")) {
        const m = /(?:\(|at )([^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
        if (!m) continue;
        const rec = this.scripts.find((r) => r.fileName === m[1]);
        if (!rec) continue;
        // Transformed position -> original script position.
        const orig = mapBundlePosition(rec.transform.map(), Number(m[2]), Number(m[3]) - 1);
        if (!orig) continue;
        return this.makeLocation(rec, orig.line, orig.column);
      }
    }
    if (this.lastSite >= 0) {
      const rec = this.scriptOfSite(this.lastSite);
      const site = this.sites[this.lastSite];
      if (rec && site) return this.makeLocation(rec, site.line, site.column);
    }
    return null;
  }

  /** Flat memory: read 32 bits little-endian (0 and a fault if unmapped). */
  readMemory32(address: number): number {
    const r = this.region(address, 4);
    if (!r) return 0;
    const off = (address >>> 0) - r.base;
    const b = r.bytes;
    return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  }

  /** Flat memory: write 16 bits little-endian (a receive DMA model writing a buffer). */
  writeMemory16(address: number, value: number): void {
    const r = this.region(address, 2);
    if (!r) return;
    const off = (address >>> 0) - r.base;
    r.bytes[off] = value & 0xff;
    r.bytes[off + 1] = (value >>> 8) & 0xff;
  }

  /** The buffer and offset behind a flat-memory address, if any (for models that want bulk access). */
  resolveAddress(address: number): { buffer: ArrayBuffer; offset: number; base: number } | null {
    const r = this.findRegion(address >>> 0);
    return r ? { buffer: r.buffer, offset: (address >>> 0) - r.base, base: r.base } : null;
  }

  /** process.memory() as the firmware sees it (see memoryUsage for the estimate). */
  memory(): { free: number; usage: number; total: number; history: number; gc: number; gctime: number; blocksize: number } {
    const usage = Math.min(this.jsVarTotal, this.memoryUsage());
    return { free: this.jsVarTotal - usage, usage, total: this.jsVarTotal, history: 0, gc: 0, gctime: 0, blocksize: this.jsVarBlockSize };
  }

  /**
   * Estimated JsVars in use:
   *  - memoryBaselineVars (the interpreter's own, 40 by default);
   *  - code: each function in the loaded code costs 2 (its function var and
   *    its code reference, code in flash), or, with codeCharsPerVar > 0
   *    (code uploaded to RAM), ceil(characters / codeCharsPerVar) more;
   *  - each flat buffer the firmware registered with E.getAddressOf (the DMA
   *    buffers): ceil(bytes / blocksize) plus the flat-string header, the
   *    ArrayBuffer and the view;
   *  - what is reachable from properties the firmware added to the global
   *    object (console commands and what they reference), as E.getSizeOf
   *    counts it, without code (counted above);
   *  - memoryExtraVars, for a board model.
   * Not counted: objects only closures hold (the bundle is an iife, so most
   * firmware state) apart from the registered flat buffers. So this is a
   * lower bound of what the board would report, good to a few hundred vars.
   */
  memoryUsage(): number {
    let vars = this.memoryBaselineVars + this.memoryExtraVars + 2 * this.codeFunctions;
    if (this.codeCharsPerVar > 0) vars += Math.ceil(this.codeChars / this.codeCharsPerVar);
    for (const r of this.regions) vars += 3 + Math.ceil(r.buffer.byteLength / this.jsVarBlockSize);
    vars += this.espruino.userGlobalsVars(this.regions.map((r) => r.buffer));
    return vars;
  }

  // ===== used by espruino-globals.ts and load-bundle.ts ===========================

  /** @internal Firmware print/console.log. */
  print(text: string): void {
    this.console.write(text);
  }

  /** @internal */
  registerScript(rec: ScriptRecord): void {
    this.scripts.push(rec);
    this.codeChars += rec.chars;
    this.codeFunctions += rec.transform.functions;
  }

  /** @internal Unique vm file name for a script. */
  uniqueFileName(fileName: string): string {
    if (!this.scripts.some((r) => r.fileName === fileName)) return fileName;
    let n = 2;
    while (this.scripts.some((r) => r.fileName === `${fileName}#${n}`)) n++;
    return `${fileName}#${n}`;
  }

  /** @internal A context-realm Error (so `e instanceof Error` holds in firmware). */
  makeError(message: string, kind: "Error" | "TypeError" | "InternalError" = "Error"): Error {
    return this.espruino.makeError(message, kind);
  }

  /** @internal peek32 from the firmware. */
  peek32(address: number): number {
    const a = address >>> 0;
    this.syncPeripherals();
    const p = this.findPeripheral(a);
    if (!p) {
      this.fault(hex32(a), `peek32 from unmapped address ${hex32(a)}`);
      return 0;
    }
    if (a & 3) this.fault(`${p.name}+0x${(a - p.base).toString(16)}`, `unaligned peek32 at ${hex32(a)}`);
    return p.read32((a & ~3) - p.base) >>> 0;
  }

  /** @internal poke32 from the firmware. */
  poke32(address: number, value: number): void {
    const a = address >>> 0;
    this.syncPeripherals();
    const p = this.findPeripheral(a);
    if (!p) {
      this.fault(hex32(a), `poke32 of ${hex32(value)} to unmapped address ${hex32(a)}`);
      return;
    }
    if (a & 3) this.fault(`${p.name}+0x${(a - p.base).toString(16)}`, `unaligned poke32 at ${hex32(a)}`);
    p.write32((a & ~3) - p.base, value >>> 0);
  }

  /** @internal E.getAddressOf. */
  addressOf(value: unknown, flatOnly: boolean): number {
    let buffer: ArrayBuffer;
    let offset = 0;
    if (ArrayBuffer.isView(value)) {
      buffer = value.buffer as ArrayBuffer;
      offset = value.byteOffset;
    } else if (utilTypes.isArrayBuffer(value)) {
      buffer = value;
    } else {
      return 0;
    }
    if (flatOnly && buffer.byteLength <= this.flatThresholdBytes) return 0;
    let r = this.regionOf.get(buffer);
    if (!r) {
      const size = (buffer.byteLength + 3) & ~3;
      r = { base: this.nextAddress, end: this.nextAddress + buffer.byteLength, buffer, bytes: new Uint8Array(buffer) };
      this.nextAddress += Math.max(size, 4);
      this.regions.push(r);
      this.regionOf.set(buffer, r);
    }
    return r.base + offset;
  }

  /** @internal digitalWrite of one pin (name or alias). */
  writePin(pin: string, level: boolean): void {
    const name = this.resolvePin(pin);
    this.pinLevels.set(name, level);
    const list = this.pinListeners.get(name);
    if (list) for (const l of list) l(level);
  }

  /** @internal */
  setPinMode(pin: string, mode: string): void {
    this.pinModes.set(this.resolvePin(pin), mode);
  }

  /** @internal The pin name a global or string stands for (alias resolved). */
  resolvePin(pin: string): string {
    return this.pinAliases[pin] ?? pin;
  }

  /** @internal I2C setup from the firmware. */
  i2cSetup(bus: string, options: { scl: string | undefined; sda: string | undefined; bitrate: number }): void {
    const b = this.i2c[bus]!;
    b.setupOptions = options;
    const problem = b.validateSetup?.(options);
    if (problem) this.fault(`${bus}.setup`, problem);
  }

  /** @internal An I2C write transaction; throws the firmware's NAK error. */
  i2cWrite(bus: string, address: number, bytes: Uint8Array): void {
    const b = this.i2cReady(bus, "writeTo");
    this.i2cTime(b, bytes.length);
    const dev = b.device(address & 0x7f);
    if (!dev || !dev.write(bytes)) throw this.makeError(`I2C: no ACK from device 0x${hex2(address & 0x7f)}`);
  }

  /** @internal An I2C read transaction; throws the firmware's NAK error. */
  i2cRead(bus: string, address: number, count: number): Uint8Array {
    const b = this.i2cReady(bus, "readFrom");
    this.i2cTime(b, count);
    const dev = b.device(address & 0x7f);
    const data = dev ? dev.read(count) : null;
    if (!data) throw this.makeError(`I2C: no ACK from device 0x${hex2(address & 0x7f)}`);
    return data;
  }

  /** @internal setTimeout / setInterval. */
  addTimer(fn: (...args: unknown[]) => unknown, ms: number, recur: boolean, args: unknown[]): number {
    // Espruino reuses ids: one more than the highest id in use.
    let id = 1;
    for (const t of this.timers) if (t.id >= id) id = t.id + 1;
    const intervalNs = Math.max(0, Math.round((Number(ms) || 0) * 1e6));
    // Timed from the start of the current idle-loop iteration, as Espruino does.
    const base = this.depth > 0 ? this.lastIdleNs : this.nowNs;
    this.timers.push({ id, fn, args, dueNs: base + intervalNs, intervalNs, recur });
    return id;
  }

  /** @internal clearTimeout / clearInterval; undefined clears every timer. */
  clearTimer(id: unknown, isTimeout: boolean): void {
    if (id === undefined) {
      this.timers = [];
      return;
    }
    // Espruino 2v29 ignores an id it does not know (src/jswrap_interactive.c).
    const i = this.timers.findIndex((t) => t.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** @internal require("timer").add({type: "EXEC", ...}). */
  addExecTask(fn: () => unknown, timeMs: number, intervalMs: number): number {
    const id = this.nextTaskId++;
    const first = Math.max(0, Math.round((Number(timeMs) || 0) * 1e6));
    const intervalNs = Math.max(0, Math.round((Number(intervalMs) || 0) * 1e6));
    this.tasks.push({ id, fn, nextNs: this.nowNs + first, intervalNs });
    this.recomputeNextTask();
    return id;
  }

  /** @internal require("timer").remove(id). */
  removeExecTask(id: number): boolean {
    const i = this.tasks.findIndex((t) => t.id === id);
    if (i < 0) return false;
    this.tasks.splice(i, 1);
    this.recomputeNextTask();
    return true;
  }

  /** @internal E.on. */
  addEListener(event: string, fn: (...args: unknown[]) => unknown): void {
    let list = this.eListeners.get(event);
    if (!list) this.eListeners.set(event, (list = []));
    list.push(fn);
  }

  /** @internal E.removeListener / E.removeAllListeners. */
  removeEListener(event: string, fn?: unknown): void {
    if (fn === undefined) this.eListeners.delete(event);
    else {
      const list = this.eListeners.get(event);
      const i = list ? list.indexOf(fn as never) : -1;
      if (list && i >= 0) list.splice(i, 1);
    }
  }

  /**
   * @internal Run `fn` as (or inside) the running JavaScript: sets up the
   * watchdog for an outermost run, propagates exceptions.
   */
  runGuarded<T>(fn: () => T, idleStartNs?: number): T {
    const outer = this.depth === 0;
    if (outer) {
      this.lastIdleNs = idleStartNs ?? this.nowNs;
      this.interrupted = false;
      this.deadlineNs = this.maxCallbackNs === Infinity ? Infinity : this.nowNs + this.maxCallbackNs;
      this.updateCheck();
    }
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (outer) {
        this.deadlineNs = Infinity;
        this.interrupted = false;
        this.updateCheck();
      }
    }
  }

  /** @internal Print "Uncaught ..." like Espruino and record the error. */
  reportUncaught(error: unknown, context: UncaughtError["context"], where?: ErrorLocation | null): UncaughtError {
    const location = where !== undefined ? where : this.locateError(error);
    const message = uncaughtText(error);
    const rec: UncaughtError = { time: this.now(), context, error, message, location };
    this.errors.push(rec);
    this.console.write(`Uncaught ${message}\n`);
    if (location) this.console.write(` at ${location.text}\n`);
    return rec;
  }

  /** @internal Run a main-loop callback with Espruino's uncaught-error handling. */
  dispatchMain(fn: (...args: unknown[]) => unknown, args: unknown[], context: UncaughtError["context"]): void {
    this.mainEvents++;
    const idle = this.nowNs;
    this.nowNs += this.dispatchCostNs;
    try {
      this.runGuarded(() => fn.apply(undefined, args), idle);
    } catch (e) {
      this.reportUncaught(e, context);
    }
  }

  // ===== internals ================================================================

  private scriptOfSite(siteId: number): ScriptRecord | undefined {
    // Scripts are registered in site order: binary search.
    const s = this.scripts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = s[mid]!;
      if (siteId < r.firstSite) hi = mid - 1;
      else if (siteId >= r.firstSite + r.siteCount) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** @internal A location in a loaded script (original coordinates), mapped to TypeScript if possible. */
  makeLocation(rec: Pick<ScriptRecord, "fileName" | "bundleMap">, line: number, column: number): ErrorLocation {
    const source = rec.bundleMap ? mapBundlePosition(rec.bundleMap, line, column) : null;
    return {
      file: rec.fileName,
      line,
      column,
      source,
      text: source ? formatPosition(source) : formatPosition({ source: rec.fileName, line, column }),
    };
  }

  private queueInput(line: string, atSeconds?: number): void {
    const atNs = atSeconds === undefined ? this.nowNs : Math.max(this.nowNs, Math.round(atSeconds * NS_PER_S));
    const item = { atNs, seq: this.inputSeq++, line };
    // Keep the queue sorted by time, then by order typed.
    let i = this.inputs.length;
    while (i > 0 && this.inputs[i - 1]!.atNs > atNs) i--;
    this.inputs.splice(i, 0, item);
  }

  private runConsoleLine(line: string): void {
    this.mainEvents++;
    const idle = this.nowNs;
    this.nowNs += this.dispatchCostNs;
    this.console.echoInput(line);
    if (line.trim() === "") return;
    const fileName = `console-${++this.consoleLines}.js`;
    let compiled: ReturnType<typeof compileScript>;
    try {
      compiled = compileScript(this, line, fileName, null);
    } catch (e) {
      this.reportUncaught(e, "console", syntaxErrorLocation(this, e, fileName, null));
      return;
    }
    let value: unknown;
    try {
      value = this.runGuarded(() => compiled.script.runInContext(this.espruino.context), idle);
    } catch (e) {
      this.reportUncaught(e, "console");
      return;
    }
    this.console.printResult(value);
  }

  private region(address: number, width: number): MemoryRegion | null {
    const a = address >>> 0;
    const r = this.findRegion(a);
    if (!r || a + width > r.end) {
      this.fault(hex32(a), `DMA/memory read of unmapped SRAM address ${hex32(a)}`);
      return null;
    }
    return r;
  }

  private findRegion(a: number): MemoryRegion | null {
    const last = this.lastRegion;
    if (last && a >= last.base && a < last.end) return last;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (a < r.base) hi = mid - 1;
      else if (a >= r.end) lo = mid + 1;
      else return (this.lastRegion = r);
    }
    return null;
  }

  private findPeripheral(a: number): Peripheral | null {
    const last = this.lastPeripheral;
    if (last && a >= last.base && a < last.base + last.size) return last;
    for (const p of this.peripherals) {
      if (a >= p.base && a < p.base + p.size) return (this.lastPeripheral = p);
    }
    return null;
  }

  /** Bring every peripheral that keeps time up to now (once per distinct time). */
  syncPeripherals(): void {
    if (this.lastSyncNs === this.nowNs) return;
    this.lastSyncNs = this.nowNs;
    const now = this.now();
    for (const p of this.advancing) p.advanceTo!(now);
  }

  private i2cReady(bus: string, op: string): I2CBus {
    const b = this.i2c[bus]!;
    if (!b.setupOptions) {
      this.fault(`${bus}.setup`, `${op} before ${bus}.setup()`);
      b.setupOptions = { scl: undefined, sda: undefined, bitrate: 100000 };
    }
    return b;
  }

  /** The CPU waits on the bus: start, address, `bytes` bytes, stop (9 clocks a byte). */
  private i2cTime(b: I2CBus, bytes: number): void {
    const bitrate = b.setupOptions?.bitrate || 100000;
    this.nowNs += Math.round(((9 * (bytes + 1) + 2) * NS_PER_S) / bitrate);
  }

  private recomputeNextTask(): void {
    let next = Infinity;
    for (const t of this.tasks) if (t.nextNs < next) next = t.nextNs;
    this.nextTaskNs = next;
    this.updateCheck();
  }

  /** Where __p must leave the fast path next. */
  private updateCheck(): void {
    if (this.interrupted || this.hook !== null || this.runHook || (this.pendingForced && !this.masked)) {
      this.checkNs = -Infinity;
      return;
    }
    let c = this.deadlineNs;
    if (this.taskDepth === 0 && this.autoFire && !this.masked && this.nextTaskNs < c) c = this.nextTaskNs;
    this.checkNs = c;
  }

  private get activeHook(): StatementHook | null {
    return this.runHook !== undefined ? this.runHook : this.hook;
  }

  /** Everything __p does besides counting: watchdog, hook, task firing. */
  private slowPath(site: number): void {
    if (this.interrupted) throw this.makeError("Execution Interrupted", "InternalError");
    if (this.nowNs >= this.deadlineNs) {
      this.interrupted = true;
      this.updateCheck();
      throw this.makeError(
        `Execution Interrupted (emulator watchdog: ran ${(this.maxCallbackNs / NS_PER_S).toFixed(1)} s of virtual time without returning to the idle loop)`,
        "InternalError",
      );
    }
    const inTask = this.taskDepth !== 0;
    const hook = this.activeHook;
    let force = false;
    if (hook !== null) force = hook(site, this.statements - 1, inTask) === true;
    if (inTask) return;
    if (this.masked) {
      if (force) {
        this.pendingForced = true; // the line is masked: the firing waits, as in the NVIC
        this.updateCheck();
      }
      return;
    }
    if (this.autoFire && this.nextTaskNs <= this.nowNs) {
      this.fireDueTask();
    } else if (force || this.pendingForced) {
      this.pendingForced = false;
      const t = this.tasks[0];
      if (t) {
        this.forcedTaskRuns++;
        this.runTask(t);
      } else {
        this.updateCheck();
      }
    }
  }

  /** The earliest due task fires: coalesced extra firings are dropped. */
  private fireDueTask(): void {
    let t: ExecTask | null = null;
    for (const x of this.tasks) if (!t || x.nextNs < t.nextNs) t = x;
    if (!t) return;
    this.pendingForced = false;
    if (t.intervalNs > 0) {
      const missed = Math.floor((this.nowNs - t.nextNs) / t.intervalNs);
      if (missed > 0) this.droppedFirings += missed;
      t.nextNs += (missed + 1) * t.intervalNs;
    } else {
      this.tasks.splice(this.tasks.indexOf(t), 1);
    }
    this.recomputeNextTask();
    this.runTask(t);
  }

  /** Run a timer task to completion (it may be inside paused main-loop code). */
  private runTask(t: ExecTask): void {
    this.syncPeripherals();
    const before = this.statements;
    const savedSite = this.lastSite;
    this.taskRuns++;
    this.taskDepth = 1;
    this.updateCheck();
    try {
      this.runGuarded(() => t.fn());
    } catch (e) {
      this.reportUncaught(e, "task");
    } finally {
      this.taskDepth = 0;
      this.interruptStatements += this.statements - before;
      this.lastSite = savedSite;
      // Firings that fell due while the task ran are dropped, not queued.
      if (this.autoFire) {
        for (let i = this.tasks.length - 1; i >= 0; i--) {
          const x = this.tasks[i]!;
          if (x.nextNs > this.nowNs) continue;
          if (x.intervalNs > 0) {
            const n = Math.floor((this.nowNs - x.nextNs) / x.intervalNs) + 1;
            this.droppedFirings += n;
            x.nextNs += n * x.intervalNs;
          } else {
            this.droppedFirings += 1;
            this.tasks.splice(i, 1);
          }
        }
      }
      this.recomputeNextTask();
    }
  }

  private runLoop(endNs: number, options: RunOptions): void {
    if (this.running || this.depth > 0) throw new Error("machine: runFor/runUntil called while the machine is running");
    this.running = true;
    const until = options.until;
    if (options.onStatement !== undefined) this.runHook = options.onStatement;
    this.updateCheck();
    try {
      for (;;) {
        if (until && until()) return;
        const taskDue = this.autoFire && !this.masked ? this.nextTaskNs : Infinity;
        const forcedDue = this.pendingForced && !this.masked && this.tasks.length > 0 ? this.nowNs : Infinity;
        let timer: MainTimer | null = null;
        for (const t of this.timers) if (!timer || t.dueNs < timer.dueNs) timer = t;
        const timerDue = timer ? timer.dueNs : Infinity;
        const input = this.inputs[0];
        const inputDue = input ? input.atNs : Infinity;
        const next = Math.min(taskDue, forcedDue, timerDue, inputDue);
        if (next > endNs) break;
        if (next > this.nowNs) this.nowNs = next;
        this.syncPeripherals();
        if (taskDue <= this.nowNs) {
          this.fireDueTask();
        } else if (forcedDue <= this.nowNs) {
          this.pendingForced = false;
          this.forcedTaskRuns++;
          this.runTask(this.tasks[0]!);
        } else if (timer && timerDue <= inputDue) {
          if (timer.recur) {
            timer.dueNs += timer.intervalNs;
            // Never schedule into the past (an interval shorter than its callback).
            if (timer.dueNs < this.nowNs) timer.dueNs = this.nowNs;
          } else {
            this.timers.splice(this.timers.indexOf(timer), 1);
          }
          this.dispatchMain(timer.fn, timer.args, "main");
        } else if (input) {
          this.inputs.shift();
          this.runConsoleLine(input.line);
        }
      }
      if (this.nowNs < endNs) this.nowNs = endNs;
      this.syncPeripherals();
    } finally {
      this.running = false;
      this.runHook = undefined;
      this.updateCheck();
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Read a bundle and its source map (<file>.map) from disk. */
export function readBundleFile(path: string): { code: string; map: string | null; fileName: string } {
  const code = readFileSync(path, "utf8");
  let map: string | null = null;
  try {
    map = readFileSync(path + ".map", "utf8");
  } catch {
    map = null;
  }
  return { code, map, fileName: path };
}
