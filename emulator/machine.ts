// The emulated board: one object that composes the emulator's parts and is
// what boards, the dev board, scripts and tests hold. The parts, one concern
// a file (ARCHITECTURE.md, "The emulator", has the map): scheduler.ts (time,
// the statement hook, timer tasks, the run loop), bus.ts (peek32/poke32 and
// flat SRAM), pins.ts, i2c.ts, scripts.ts (sites and error locations),
// memory.ts (process.memory()). What stays here: the options, the
// MachineServices the models see, the serial console glue (typed lines,
// "Uncaught ..."), E events, and the forwarding that keeps one public API.

import type vm from "node:vm";
import type { HardwareFault, I2CDevice, MachineServices, Peripheral } from "./hardware.ts";
import { SerialConsole, uncaughtText, type ConsoleOptions } from "./console.ts";
import { createEspruinoContext, type EspruinoContext } from "./espruino-globals.ts";
import type { Site } from "./preempt.ts";
import {
  NS_PER_S,
  Scheduler,
  type MachineStats,
  type RunOptions,
  type StatementHook,
  type UncaughtContext,
} from "./scheduler.ts";
import { Bus } from "./bus.ts";
import { DEFAULT_PINS, Pins } from "./pins.ts";
import { I2CBuses, type I2CBus, type I2CSetup } from "./i2c.ts";
import {
  ScriptRegistry,
  compileScript,
  makeLocation,
  syntaxErrorLocation,
  type ErrorLocation,
  type ScriptRecord,
  type SiteInfo,
} from "./scripts.ts";
import { JsVarStore, type ProcessMemory } from "./memory.ts";
import { FUNCTIONAL_STATEMENT_COST_US } from "./cost-model.ts";

// The parts' names, re-exported so callers keep importing them from here.
export { DEFAULT_PINS } from "./pins.ts";
export { I2CBus } from "./i2c.ts";
export { SRAM_BASE, hex32 } from "./bus.ts";
export type { MachineStats, RunOptions, StatementHook } from "./scheduler.ts";
export type { ErrorLocation, ScriptRecord, SiteInfo } from "./scripts.ts";

export interface MachineOptions {
  /** process.env.BOARD. Default "GENERIC". */
  board?: string;
  /**
   * Virtual CPU time per statement, microseconds. Default: a nominal cost at
   * which today's firmware keeps up (FUNCTIONAL_STATEMENT_COST_US), for
   * boards whose CPU is not modelled; the Pico's board sets its calibrated
   * cost (emulator/cost-model.ts, the header comment of scheduler.ts).
   */
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

/** An exception nobody caught: printed on the console as "Uncaught ..." and kept here. */
export interface UncaughtError {
  time: number;
  /** Where it surfaced: loading code, a main-loop callback, a timer task, a console line. */
  context: UncaughtContext;
  error: unknown;
  message: string;
  location: ErrorLocation | null;
}

export class Machine implements MachineServices {
  // ---- configuration -----------------------------------------------------------
  readonly board: string;
  /** Virtual time per statement, ns. */
  readonly statementCostNs: number;
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
  readonly sites: Site[];
  readonly scripts: ScriptRecord[];
  readonly i2c: Readonly<Record<string, I2CBus>>;
  /** The preemption call every firmware statement makes (installed as `__p` in the context). */
  readonly preemptionPoint: (siteId: number) => void;

  // ---- the parts -----------------------------------------------------------------
  private readonly scheduler: Scheduler;
  private readonly bus: Bus;
  private readonly pins: Pins;
  private readonly i2cBuses: I2CBuses;
  private readonly registry = new ScriptRegistry();
  private readonly jsVars: JsVarStore;
  private readonly espruino: EspruinoContext;
  private readonly faultPrinter: ((fault: HardwareFault) => void) | null;
  private readonly eListeners = new Map<string, Array<(...args: unknown[]) => unknown>>();
  private consoleLines = 0;

  constructor(options: MachineOptions = {}) {
    this.board = options.board ?? "GENERIC";
    this.statementCostNs = Math.round((options.statementCostUs ?? FUNCTIONAL_STATEMENT_COST_US) * 1000);
    this.dispatchCostNs = Math.round((options.dispatchCostUs ?? this.statementCostNs / 1000) * 1000);
    this.jsVarTotal = options.jsVarTotal ?? 4096;
    this.jsVarBlockSize = options.jsVarBlockSize ?? 16;
    this.memoryBaselineVars = options.memoryBaselineVars ?? 40;
    this.codeCharsPerVar = options.codeCharsPerVar ?? 0;
    this.flatThresholdBytes = options.flatThresholdBytes ?? 20;
    this.espruinoSyntax = options.espruinoSyntax ?? true;
    this.maxCallbackNs = (options.maxCallbackSeconds ?? 60) * NS_PER_S;
    this.env = { ...(options.env ?? {}) };
    const pf = options.printFaults;
    this.faultPrinter =
      typeof pf === "function"
        ? pf
        : pf
          ? (f) => process.stderr.write(`[fault ${f.time.toFixed(6)} s] ${f.register}: ${f.message}\n`)
          : null;

    this.scheduler = new Scheduler(
      {
        statementCostNs: this.statementCostNs,
        dispatchCostNs: this.dispatchCostNs,
        maxCallbackNs: this.maxCallbackNs,
        execTasksFire: options.execTasksFire ?? true,
      },
      {
        syncPeripherals: () => this.bus.sync(),
        makeError: (message, kind) => this.makeError(message, kind),
        reportUncaught: (error, context) => void this.reportUncaught(error, context),
        runConsoleLine: (line) => this.runConsoleLine(line),
      },
    );
    this.preemptionPoint = this.scheduler.preemptionPoint;
    this.bus = new Bus(this.scheduler, (register, message) => this.fault(register, message), this.flatThresholdBytes);
    this.pins = new Pins([...(options.pins ?? DEFAULT_PINS)], { ...(options.pinAliases ?? {}) });
    this.pinNames = this.pins.names;
    this.pinAliases = this.pins.aliases;
    this.i2cBuses = new I2CBuses(options.i2cBuses ?? ["I2C1", "I2C2"], {
      fault: (register, message) => this.fault(register, message),
      makeError: (message) => this.makeError(message),
      busWait: (ns) => {
        this.scheduler.nowNs += ns;
      },
    });
    this.i2c = this.i2cBuses.byName;
    this.sites = this.registry.sites;
    this.scripts = this.registry.records;
    this.jsVars = new JsVarStore(this.jsVarTotal, this.jsVarBlockSize, this.memoryBaselineVars, this.codeCharsPerVar);
    this.console = new SerialConsole((line, at) => this.scheduler.queueInput(line, at), options.console ?? {});

    this.espruino = createEspruinoContext(this);
  }

  // ===== MachineServices =========================================================

  /** Virtual time in seconds. */
  now(): number {
    return this.scheduler.now();
  }

  fault(register: string, message: string): void {
    const f: HardwareFault = { time: this.now(), register, message };
    this.faults.push(f);
    this.faultPrinter?.(f);
  }

  readMemory16(address: number): number {
    return this.bus.readMemory16(address);
  }

  peekRegister(address: number): number {
    return this.bus.peekRegister(address);
  }

  pinLevel(pin: string): boolean | undefined {
    return this.pins.level(pin);
  }

  onPin(pin: string, listener: (level: boolean) => void): void {
    this.pins.onWrite(pin, listener);
  }

  // ===== public API ===============================================================

  /** Virtual time, integer nanoseconds (a dev board's idle loop charges its own dispatch time here). */
  get nowNs(): number {
    return this.scheduler.nowNs;
  }
  set nowNs(ns: number) {
    this.scheduler.nowNs = ns;
  }

  /** Statements executed. */
  get statements(): number {
    return this.scheduler.statements;
  }

  /** Site id of the statement most recently started. */
  get lastSite(): number {
    return this.scheduler.lastSite;
  }

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
    return this.scheduler.stats;
  }

  /** Everything the firmware printed so far. */
  consoleText(): string {
    return this.console.text();
  }

  /** Map a peripheral into the address space. Overlapping ranges are refused. */
  map(peripheral: Peripheral): void {
    this.bus.map(peripheral);
  }

  /** The mapped peripherals, by base address. */
  get mapped(): readonly Peripheral[] {
    return this.bus.mapped;
  }

  /** Attach an I2C device model to a bus ("I2C1", "I2C2"). */
  attachI2C(bus: string, address7: number, device: I2CDevice): void {
    this.i2cBuses.attach(bus, address7, device);
  }

  /** Pin mode the firmware last set with pinMode, if any. */
  pinMode(pin: string): string | undefined {
    return this.pins.mode(pin);
  }

  /**
   * Statement hook (the race explorer's): called before every statement with
   * its site id, its 0-based index among all statements executed, and whether
   * it runs inside a timer task. Returning true (outside a task) runs the
   * interrupt handler at that boundary even if it is not due.
   */
  get onStatement(): StatementHook | null {
    return this.scheduler.onStatement;
  }
  set onStatement(hook: StatementHook | null) {
    this.scheduler.onStatement = hook;
  }

  /** Whether EXEC tasks fire on their own (false: only forced runs). */
  get execTasksFire(): boolean {
    return this.scheduler.execTasksFire;
  }
  set execTasksFire(on: boolean) {
    this.scheduler.execTasksFire = on;
  }

  /**
   * Mask or unmask the timer task's interrupt line (the NVIC enable of the
   * utility timer, for a board model whose NVIC registers the firmware
   * writes). While masked no task starts; one firing stays pending and runs
   * at the first statement after unmasking, further ones are dropped.
   */
  setTimerInterruptMasked(masked: boolean): void {
    this.scheduler.setTimerInterruptMasked(masked);
  }

  get timerInterruptMasked(): boolean {
    return this.scheduler.timerInterruptMasked;
  }

  /** Ids of the EXEC timer tasks the firmware has added. */
  get execTaskIds(): number[] {
    return this.scheduler.execTaskIds;
  }

  /** Whether a timer task is running right now. */
  get inTask(): boolean {
    return this.scheduler.inTask;
  }

  /**
   * Run the interrupt handler (an EXEC task: `taskId`, or the first one
   * added) now, from the host, e.g. at an idle point of a schedule. Returns
   * false if there is no task or one is already running.
   */
  fireInterrupt(taskId?: number): boolean {
    return this.scheduler.fireInterrupt(taskId);
  }

  /** Run until virtual time `seconds`, processing due events in time order. */
  runUntil(seconds: number, options: RunOptions = {}): void {
    this.scheduler.runUntil(seconds, options);
  }

  /** Run for `seconds` of virtual time. */
  runFor(seconds: number, options: RunOptions = {}): void {
    this.scheduler.runFor(seconds, options);
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
    return this.registry.describeSite(siteId);
  }

  /** Where an exception was thrown: from its stack, else from the last statement started. */
  locateError(error: unknown): ErrorLocation | null {
    return this.registry.locateError(error, this.scheduler.lastSite);
  }

  /** Flat memory: read 32 bits little-endian (0 and a fault if unmapped). */
  readMemory32(address: number): number {
    return this.bus.readMemory32(address);
  }

  /** Flat memory: write 16 bits little-endian (a receive DMA model writing a buffer). */
  writeMemory16(address: number, value: number): void {
    this.bus.writeMemory16(address, value);
  }

  /** The buffer and offset behind a flat-memory address, if any (for models that want bulk access). */
  resolveAddress(address: number): { buffer: ArrayBuffer; offset: number; base: number } | null {
    return this.bus.resolveAddress(address);
  }

  /** process.memory() as the firmware sees it (see memoryUsage for the estimate). */
  memory(): ProcessMemory {
    return this.jsVars.report(this.memoryUsage());
  }

  /** Estimated JsVars in use (memory.ts, JsVarStore.usage, says what is counted). */
  memoryUsage(): number {
    const flatBuffers = this.bus.flatBuffers();
    return this.jsVars.usage({
      codeFunctions: this.registry.codeFunctions,
      codeChars: this.registry.codeChars,
      flatBuffers,
      globalsVars: this.espruino.userGlobalsVars(flatBuffers),
      extraVars: this.memoryExtraVars,
    });
  }

  /** Bring every peripheral that keeps time up to now (once per distinct time). */
  syncPeripherals(): void {
    this.bus.sync();
  }

  // ===== used by espruino-globals.ts, load-bundle.ts and dev-board.ts ===============

  /** @internal Firmware print/console.log. */
  print(text: string): void {
    this.console.write(text);
  }

  /** @internal Add a compiled script and its sites (compileScript calls this). */
  registerScript(rec: ScriptRecord): void {
    this.registry.register(rec);
  }

  /** @internal Unique vm file name for a script. */
  uniqueFileName(fileName: string): string {
    return this.registry.uniqueFileName(fileName);
  }

  /** @internal A location in a loaded script (original coordinates), mapped to TypeScript if possible. */
  makeLocation(rec: Pick<ScriptRecord, "fileName" | "bundleMap">, line: number, column: number): ErrorLocation {
    return makeLocation(rec, line, column);
  }

  /** @internal A context-realm Error (so `e instanceof Error` holds in firmware). */
  makeError(message: string, kind: "Error" | "TypeError" | "InternalError" = "Error"): Error {
    return this.espruino.makeError(message, kind);
  }

  /** @internal peek32 from the firmware. */
  peek32(address: number): number {
    return this.bus.peek32(address);
  }

  /** @internal poke32 from the firmware. */
  poke32(address: number, value: number): void {
    this.bus.poke32(address, value);
  }

  /** @internal E.getAddressOf. */
  addressOf(value: unknown, flatOnly: boolean): number {
    return this.bus.addressOf(value, flatOnly);
  }

  /** @internal digitalWrite of one pin (name or alias). */
  writePin(pin: string, level: boolean): void {
    this.pins.write(pin, level);
  }

  /** @internal */
  setPinMode(pin: string, mode: string): void {
    this.pins.setMode(pin, mode);
  }

  /** @internal The pin name a global or string stands for (alias resolved). */
  resolvePin(pin: string): string {
    return this.pins.resolve(pin);
  }

  /** @internal I2C setup from the firmware. */
  i2cSetup(bus: string, options: I2CSetup): void {
    this.i2cBuses.setup(bus, options);
  }

  /** @internal An I2C write transaction; throws the firmware's NAK error. */
  i2cWrite(bus: string, address: number, bytes: Uint8Array): void {
    this.i2cBuses.write(bus, address, bytes);
  }

  /** @internal An I2C read transaction; throws the firmware's NAK error. */
  i2cRead(bus: string, address: number, count: number): Uint8Array {
    return this.i2cBuses.read(bus, address, count);
  }

  /** @internal setTimeout / setInterval. */
  addTimer(fn: (...args: unknown[]) => unknown, ms: number, recur: boolean, args: unknown[]): number {
    return this.scheduler.addTimer(fn, ms, recur, args);
  }

  /** @internal clearTimeout / clearInterval; undefined clears every timer. */
  clearTimer(id: unknown, isTimeout: boolean): void {
    this.scheduler.clearTimer(id, isTimeout);
  }

  /** @internal require("timer").add({type: "EXEC", ...}). */
  addExecTask(fn: () => unknown, timeMs: number, intervalMs: number): number {
    return this.scheduler.addExecTask(fn, timeMs, intervalMs);
  }

  /** @internal require("timer").remove(id). */
  removeExecTask(id: number): boolean {
    return this.scheduler.removeExecTask(id);
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
    return this.scheduler.runGuarded(fn, idleStartNs);
  }

  /** @internal Print "Uncaught ..." like Espruino and record the error. */
  reportUncaught(error: unknown, context: UncaughtContext, where?: ErrorLocation | null): UncaughtError {
    const location = where !== undefined ? where : this.locateError(error);
    const message = uncaughtText(error);
    const rec: UncaughtError = { time: this.now(), context, error, message, location };
    this.errors.push(rec);
    this.console.write(`Uncaught ${message}\n`);
    if (location) this.console.write(` at ${location.text}\n`);
    return rec;
  }

  /** @internal Run a main-loop callback with Espruino's uncaught-error handling. */
  dispatchMain(fn: (...args: unknown[]) => unknown, args: unknown[], context: UncaughtContext): void {
    this.scheduler.dispatchMain(fn, args, context);
  }

  // ===== internals ================================================================

  /** A line typed at the console, run from the idle loop at its virtual time. */
  private runConsoleLine(line: string): void {
    const idle = this.scheduler.beginMainEvent();
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
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
