// The Espruino 2v29 globals the firmware uses, installed in Node so firmware
// modules can be imported and run directly (tsx compiles them):
//   getTime()        a fake clock the test moves with env.advance()
//   print(...)       captured into env.lines (one entry a call, args joined by " ")
//   setInterval / setTimeout / clearInterval / clearTimeout
//                    fakes driven by env.advance(), never by real time
//   require("timer") a fake timer module recording EXEC tasks in env.timerTasks
//   process.env.VERSION = "2v29", process.memory()
//   global           Node's own global object; console commands land on it
// install() returns a handle whose restore() puts Node's own globals back.

// Types for the Espruino globals, as firmware/types/espruino.d.ts declares
// them, so the firmware type-checks under the host tsconfig too.
declare global {
  function getTime(): number;
  // Espruino's E, as far as firmware the tests import touches it (the fake env leaves it undefined).
  var E: {
    getAddressOf(v: unknown, flatOnly: boolean): number;
    nativeCall(address: number, signature: string, data?: string): (...args: number[]) => number;
  };
  function print(...text: unknown[]): void;
  // Console commands the firmware assigns on `global`.
  var play: unknown;
  var open: unknown;
  var suspend: unknown;
  var resume: unknown;
  var drain: unknown;
  var xrun: unknown;
  var stop: unknown;
  var pause: unknown;
  var route: unknown;
  var routes: unknown;
  var stats: unknown;
  var races: unknown;
  var unsafe: unknown;
  var selftest: unknown;
  var help: unknown;
  var DPCM: unknown;
  namespace NodeJS {
    interface Process {
      memory(): { free: number; usage: number; total: number; history: number; blocksize: number };
    }
  }
}

export interface FakeTimer {
  id: number;
  fn: () => void;
  /** Seconds of fake time at which it runs next. */
  due: number;
  /** Seconds between runs; 0 for a timeout. */
  every: number;
}

export interface TimerTask {
  type: string;
  fn: () => void;
  time: number;
  interval: number;
  /** Set by require("timer").remove(id). */
  removed?: boolean;
}

export interface EspruinoEnv {
  /** Every print() so far, one string a call. */
  lines: string[];
  /** The fake clock, seconds. */
  now: number;
  timers: FakeTimer[];
  timerTasks: TimerTask[];
  /** Move the clock on, running every fake timer that falls due, in time order. */
  advance(seconds: number): void;
  /** Lines printed since the last call (and forget them). */
  take(): string[];
  /** A console command the firmware put on `global`. */
  command(name: string): (...args: unknown[]) => void;
  restore(): void;
}

const COMMANDS = ["play", "open", "stop", "pause", "suspend", "resume", "drain", "xrun", "route", "routes", "stats", "races", "unsafe", "selftest", "help", "DPCM"];

export function installEspruinoEnv(): EspruinoEnv {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved: Record<string, unknown> = {};
  const names = ["getTime", "print", "setInterval", "setTimeout", "clearInterval", "clearTimeout", "require"];
  for (const name of names) saved[name] = g[name];
  const hadMemory = Object.prototype.hasOwnProperty.call(process, "memory");
  const savedVersion = process.env.VERSION;
  let nextId = 1;
  let taken = 0;

  const env: EspruinoEnv = {
    lines: [],
    now: 0,
    timers: [],
    timerTasks: [],
    advance(seconds: number): void {
      const end = env.now + seconds;
      for (;;) {
        let next: FakeTimer | null = null;
        for (const t of env.timers) if (t.due <= end && (!next || t.due < next.due)) next = t;
        if (!next) break;
        if (next.due > env.now) env.now = next.due;
        if (next.every > 0) next.due += next.every;
        else env.timers.splice(env.timers.indexOf(next), 1);
        next.fn();
      }
      env.now = end;
    },
    take(): string[] {
      const out = env.lines.slice(taken);
      taken = env.lines.length;
      return out;
    },
    command(name: string): (...args: unknown[]) => void {
      const fn = g[name];
      if (typeof fn !== "function") throw new Error("no console command " + name + " on global");
      return fn as (...args: unknown[]) => void;
    },
    restore(): void {
      for (const name of names) {
        if (saved[name] === undefined) delete g[name];
        else g[name] = saved[name];
      }
      for (const name of COMMANDS) delete g[name];
      if (!hadMemory) delete (process as unknown as Record<string, unknown>).memory;
      if (savedVersion === undefined) delete process.env.VERSION;
      else process.env.VERSION = savedVersion;
    },
  };

  function addTimer(fn: () => void, ms: number, repeat: boolean): number {
    const seconds = Math.max(ms, 0) / 1000;
    const timer: FakeTimer = { id: nextId++, fn: fn, due: env.now + seconds, every: repeat ? Math.max(seconds, 1e-6) : 0 };
    env.timers.push(timer);
    return timer.id;
  }
  function clearTimer(id: unknown): void {
    env.timers = env.timers.filter((t) => t.id !== id);
  }

  g.getTime = (): number => env.now;
  g.print = (...text: unknown[]): void => {
    env.lines.push(text.map((t) => "" + t).join(" "));
  };
  g.setInterval = (fn: () => void, ms: number): number => addTimer(fn, ms, true);
  g.setTimeout = (fn: () => void, ms: number): number => addTimer(fn, ms, false);
  g.clearInterval = clearTimer;
  g.clearTimeout = clearTimer;
  g.require = (name: string): unknown => {
    if (name !== "timer") throw new Error("Module " + name + " not found");
    return {
      add(options: TimerTask): number {
        env.timerTasks.push(options);
        return env.timerTasks.length - 1;
      },
      remove(id: number): void {
        if (env.timerTasks[id]) env.timerTasks[id].removed = true;
      },
    };
  };
  (process as unknown as Record<string, unknown>).memory = () => ({ free: 4000, usage: 96, total: 4096, history: 0, blocksize: 16 });
  process.env.VERSION = "2v29";
  return env;
}
