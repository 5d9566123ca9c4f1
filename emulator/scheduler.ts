// Virtual time, the statement hook and the scheduler: what runs when.
//
// Time. Virtual time is kept as an integer number of nanoseconds (exact; a
// double holds integers exactly up to 104 days) and reported in seconds. It
// moves only when the firmware executes statements (each costs
// `statementCostNs`), when a native call takes bus time (I2C), when the main
// loop dispatches an event, and when the machine is idle and jumps to the next
// event.
//
// Statement cost. Measured, not guessed: emulator/cost-model.json, written
// by `npm run calibrate` (scripts/lib/calibration.ts). The real Espruino 2v29
// interpreter runs the firmware's own paths (a period with one FE, with two
// mixed, a player refill, a routing update) under callgrind, which counts its
// x86-64 instructions; a public timing of a loop on a Pico converts them to
// Pico cycles (1.20 to 1.28 a counted instruction, at 84 MHz); and the
// emulator counts its statements for the same work. A statement here then
// costs about 300 to 520 us on a Pico, depending on the path and the end of
// the calibration: several times a simple loop's statement (about 60 us),
// because a minified firmware statement walks properties, calls functions
// and often joins several source statements with commas. In a profile of
// the period path, about a third of the instructions read the source text
// (Espruino lexes a function's code each time it runs it), a quarter lock,
// unlock and free JsVars, and a tenth look names up, scope by scope. The
// emulator charges a nominal 20 us a statement, the figure used before the
// calibration (FUNCTIONAL_STATEMENT_COST_US), on every board: at the
// calibrated cost today's firmware does not keep up (npm run bench says by
// how much), and an emulated board that only xruns shows nothing about
// routing or races. The statements counted at the nominal cost are projected
// onto the calibrated range wherever a CPU figure is reported (npm start's
// summary, npm run bench). MachineOptions.statementCostUs overrides it
// (npm start -- --statement-cost pessimistic runs at the calibrated cost).
//
// Preemption. Every statement of firmware code calls `__p(siteId)` first
// (see preempt.ts). `__p` counts the statement, advances time, and when an
// EXEC timer task is due and none is running, runs it right there, inside the
// paused main-loop code: the task never nests, and firings that fall due
// while a task runs are dropped (counted in `droppedFirings`). The hot path is
// three field updates and one compare; everything else is in `slowPath`,
// which runs only when `nowNs` crosses `checkNs` (the next task due time, the
// watchdog deadline, or -Infinity when a statement hook is installed). The
// hook and the scheduler live in one class so that `__p` reads one object.
//
// The main loop. Between callbacks the machine is idle: `runLoop` picks the
// earliest of a due EXEC task, a setTimeout/setInterval timer and a console
// line, jumps time to it and dispatches it, until the end of the run. Timers
// run in idle passes, as Espruino's jsiIdle (src/jsinteractive.c) runs them:
// every timer due when the pass starts runs in the order the timers were
// added (not in order of due time: overdue timers keep their order), an
// interval's next due time is its last one plus the interval (so an overdue
// interval catches up, one run a pass), and a pass starts again from the
// first timer when a callback added or cleared one. A new timer is due its
// interval after the moment setTimeout/setInterval is called.

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
  /** Callbacks the watchdog interrupted (maxCallbackSeconds without returning to the idle loop). */
  watchdogInterrupts: number;
}

/** Where an uncaught exception surfaced: loading code, a main-loop callback, a timer task, a console line. */
export type UncaughtContext = "load" | "main" | "task" | "console";

export interface SchedulerConfig {
  /** Virtual time per statement, ns. */
  statementCostNs: number;
  /** Virtual time the idle loop spends dispatching one main-loop event, ns. */
  dispatchCostNs: number;
  /** Watchdog: the longest a main-loop callback (with the tasks it hosts) may run, ns (Infinity: none). */
  maxCallbackNs: number;
  /** Whether EXEC timer tasks fire on their own. */
  execTasksFire: boolean;
}

/** What the scheduler needs from the machine around it. */
export interface SchedulerHost {
  /** Bring the peripherals that keep time up to now (before a task runs, after time jumps). */
  syncPeripherals(): void;
  /** An Error of the firmware's realm. */
  makeError(message: string, kind?: "Error" | "InternalError"): Error;
  /** Print and record an exception nobody caught. */
  reportUncaught(error: unknown, context: UncaughtContext): void;
  /** Run a line typed at the console (dispatched from the idle loop). */
  runConsoleLine(line: string): void;
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

export const NS_PER_S = 1e9;

/** Virtual time, the `__p` statement hook, EXEC timer tasks, main-loop timers and the run loop. */
export class Scheduler {
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

  readonly dispatchCostNs: number;
  readonly maxCallbackNs: number;

  /** Main-loop timers in the order they were added (Espruino's timer array). */
  private timers: MainTimer[] = [];
  /** A timer was added or cleared since the current idle pass began (jsiTimersChanged). */
  private timersChanged = false;

  private readonly tasks: ExecTask[] = [];
  private nextTaskId = 1;
  private nextTaskNs = Infinity;
  private taskDepth = 0;
  private autoFire: boolean;
  private masked = false;
  private pendingForced = false;

  private readonly inputs: ConsoleInput[] = [];
  private inputSeq = 0;

  private hook: StatementHook | null = null;
  private runHook: StatementHook | null | undefined = undefined;
  private running = false;
  private depth = 0;
  private deadlineNs = Infinity;
  private interrupted = false;
  private watchdogInterrupts = 0;

  constructor(
    config: SchedulerConfig,
    private readonly host: SchedulerHost,
  ) {
    this.statementCostNs = config.statementCostNs;
    this.dispatchCostNs = config.dispatchCostNs;
    this.maxCallbackNs = config.maxCallbackNs;
    this.autoFire = config.execTasksFire;

    // The hot path. A closure over `s` (not `this`) so it can be called as a
    // plain function from the context; fields are plain numbers on one
    // object shape, so this compiles to a few loads and stores.
    const s = this;
    this.preemptionPoint = function __p(site: number): void {
      s.lastSite = site;
      s.statements++;
      if ((s.nowNs += s.statementCostNs) >= s.checkNs) s.slowPath(site);
    };
  }

  /** Virtual time in seconds. */
  now(): number {
    return this.nowNs / NS_PER_S;
  }

  get stats(): MachineStats {
    return {
      statements: this.statements,
      interruptStatements: this.interruptStatements,
      taskRuns: this.taskRuns,
      forcedTaskRuns: this.forcedTaskRuns,
      droppedFirings: this.droppedFirings,
      mainEvents: this.mainEvents,
      watchdogInterrupts: this.watchdogInterrupts,
    };
  }

  // ===== control from the host ====================================================

  /** The statement hook (see Machine.onStatement). */
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

  /** Mask or unmask the timer task's interrupt line (see Machine.setTimerInterruptMasked). */
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

  /** Run an EXEC task now from the host (see Machine.fireInterrupt). */
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

  /** Queue a console line at virtual time `atSeconds` (default now; never in the past). */
  queueInput(line: string, atSeconds?: number): void {
    const atNs = atSeconds === undefined ? this.nowNs : Math.max(this.nowNs, Math.round(atSeconds * NS_PER_S));
    const item = { atNs, seq: this.inputSeq++, line };
    // Keep the queue sorted by time, then by order typed.
    let i = this.inputs.length;
    while (i > 0 && this.inputs[i - 1]!.atNs > atNs) i--;
    this.inputs.splice(i, 0, item);
  }

  // ===== what the firmware's globals call ===========================================

  /** setTimeout / setInterval: returns Espruino's timer id. */
  addTimer(fn: (...args: unknown[]) => unknown, ms: number, recur: boolean, args: unknown[]): number {
    // Espruino reuses ids: one more than the highest id in use.
    let id = 1;
    for (const t of this.timers) if (t.id >= id) id = t.id + 1;
    const intervalNs = Math.max(0, Math.round((Number(ms) || 0) * 1e6));
    // Due its interval from now: Espruino stores (now - last idle pass) + interval
    // and counts it down from that pass (jswrap_interactive.c, jsinteractive.c).
    this.timers.push({ id, fn, args, dueNs: this.nowNs + intervalNs, intervalNs, recur });
    this.timersChanged = true;
    return id;
  }

  /** clearTimeout / clearInterval; undefined clears every timer. Throws the firmware's error for an unknown id. */
  clearTimer(id: unknown, _isTimeout: boolean): void {
    this.timersChanged = true;
    if (id === undefined) {
      this.timers = [];
      return;
    }
    // Espruino 2v29 ignores an id it does not know (src/jswrap_interactive.c).
    const i = this.timers.findIndex((t) => t.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** require("timer").add({type: "EXEC", ...}): first firing after `timeMs`, then every `intervalMs` (0: once). */
  addExecTask(fn: () => unknown, timeMs: number, intervalMs: number): number {
    const id = this.nextTaskId++;
    const first = Math.max(0, Math.round((Number(timeMs) || 0) * 1e6));
    const intervalNs = Math.max(0, Math.round((Number(intervalMs) || 0) * 1e6));
    this.tasks.push({ id, fn, nextNs: this.nowNs + first, intervalNs });
    this.recomputeNextTask();
    return id;
  }

  /** require("timer").remove(id). */
  removeExecTask(id: number): boolean {
    const i = this.tasks.findIndex((t) => t.id === id);
    if (i < 0) return false;
    this.tasks.splice(i, 1);
    this.recomputeNextTask();
    return true;
  }

  /**
   * Run `fn` as (or inside) the running JavaScript: sets up the watchdog for
   * an outermost run, propagates exceptions. (`_idleStartNs` is no longer
   * used: setTimeout counts from the moment it is called.)
   */
  runGuarded<T>(fn: () => T, _idleStartNs?: number): T {
    const outer = this.depth === 0;
    if (outer) {
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

  /** Count a main-loop event and charge its dispatch time; returns when its idle-loop iteration began (ns). */
  beginMainEvent(): number {
    this.mainEvents++;
    const idle = this.nowNs;
    this.nowNs += this.dispatchCostNs;
    return idle;
  }

  /** Run a main-loop callback with Espruino's uncaught-error handling. */
  dispatchMain(fn: (...args: unknown[]) => unknown, args: unknown[], context: UncaughtContext): void {
    this.beginMainEvent();
    try {
      this.runGuarded(() => fn.apply(undefined, args));
    } catch (e) {
      this.host.reportUncaught(e, context);
    }
  }

  /**
   * One idle pass over the timers (jsiIdle): every timer due at `passNs`
   * runs, in the order the timers were added; an interval's next due time is
   * its last plus its interval (still overdue: it runs again next pass);
   * when a callback adds or clears a timer the pass starts again from the
   * first timer, as Espruino's does (JSIS_TIMERS_CHANGED).
   */
  private idlePass(passNs: number): void {
    do {
      this.timersChanged = false;
      for (let i = 0; i < this.timers.length && !this.timersChanged; ) {
        const t = this.timers[i]!;
        if (t.dueNs > passNs) {
          i++;
          continue;
        }
        if (t.recur) {
          t.dueNs += t.intervalNs;
          i++;
        } else {
          this.timers.splice(i, 1);
        }
        this.dispatchMain(t.fn, t.args, "main");
      }
    } while (this.timersChanged);
  }

  // ===== internals ================================================================

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
    if (this.interrupted) throw this.host.makeError("Execution Interrupted", "InternalError");
    if (this.nowNs >= this.deadlineNs) {
      this.interrupted = true;
      this.watchdogInterrupts++;
      this.updateCheck();
      throw this.host.makeError(
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
    this.host.syncPeripherals();
    const before = this.statements;
    const savedSite = this.lastSite;
    this.taskRuns++;
    this.taskDepth = 1;
    this.updateCheck();
    try {
      this.runGuarded(() => t.fn());
    } catch (e) {
      this.host.reportUncaught(e, "task");
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
        this.host.syncPeripherals();
        if (taskDue <= this.nowNs) {
          this.fireDueTask();
        } else if (forcedDue <= this.nowNs) {
          this.pendingForced = false;
          this.forcedTaskRuns++;
          this.runTask(this.tasks[0]!);
        } else if (timer && timerDue <= inputDue) {
          this.idlePass(this.nowNs);
        } else if (input) {
          this.inputs.shift();
          this.host.runConsoleLine(input.line);
        }
      }
      if (this.nowNs < endNs) this.nowNs = endNs;
      this.host.syncPeripherals();
    } finally {
      this.running = false;
      this.runHook = undefined;
      this.updateCheck();
    }
  }
}
