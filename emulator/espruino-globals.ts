// The Espruino 2v29 globals the firmware uses (firmware/types/espruino.d.ts is
// the list), in a Node `vm` context, on top of the context's own JavaScript
// builtins minus the ones Espruino lacks.
//
// Removed from the context (absent on the board, facts file): Map, Set,
// WeakMap, WeakSet, WeakRef, FinalizationRegistry, Symbol, Proxy, Reflect,
// BigInt and its typed arrays, SharedArrayBuffer, Atomics, WebAssembly, Intl,
// AggregateError; Array.from, Array.of, Object.freeze, Number.isInteger,
// Math.imul, Math.trunc; Promise.allSettled/any/race and
// Promise.prototype.finally. Code using them fails as on the board
// (ReferenceError or "is not a function").
//
// Not removable (see NOT_REMOVABLE): built-in methods stay reachable through
// prototypes (Array.prototype.slice, String.prototype.*,
// Function.prototype.call are undefined on the board, but removing them
// would also remove [].slice and fn.call, which the board has); static
// members are inherited by derived classes; `globalThis` stays. The syntax
// Espruino rejects is rejected by the preemption transform instead
// (preempt.ts), and `for (let ...)` gets the board's single binding there.
//
// Speed: a global looked up through a vm context's global object costs
// 60-90 ns (V8 goes through the context's interceptor). So after the globals
// are installed, a prelude script declares every global (builtins, Espruino
// functions, pins, and `__p`) as a script-scope `let` bound to the same
// value: later scripts resolve those names lexically (about 1 ns). The
// properties stay on the global object too, so `global.print` and
// `global.help = ...` behave as on the board; assigning a new value to an
// Espruino global through `global.x = ...` does not rebind the lexical name.

import vm from "node:vm";
import { types as utilTypes } from "node:util";
import type { Machine } from "./machine.ts";
import { formatValue, stripPreemption } from "./console.ts";
import { nativeCodeGlobals } from "./native-code.ts";

export interface EspruinoContext {
  context: vm.Context;
  /** The context's global object (Espruino's `global`). */
  global: Record<string, unknown>;
  removed: string[];
  notRemovable: string[];
  makeError(message: string, kind: "Error" | "TypeError" | "InternalError"): Error;
  /** JsVars held by globals the firmware added (see E.getSizeOf), not counting code nor the `counted` buffers. */
  userGlobalsVars(counted: Iterable<ArrayBuffer>): number;
  /** The pin name of a pin object, or undefined. */
  pinNameOf(value: unknown): string | undefined;
}

export const NOT_REMOVABLE: readonly string[] = [
  "Array.prototype.* / String.prototype.* / Function.prototype.call etc. (reachable through prototypes in Node; undefined on the board)",
  "static members inherited by derived classes (not inherited on the board)",
  "globalThis",
];

const REMOVE_SCRIPT = `(() => {
  const removed = [], failed = [];
  const del = (obj, key, label) => {
    if (obj === undefined || !(key in obj)) return;
    try { delete obj[key]; } catch (e) {}
    if (key in obj) failed.push(label); else removed.push(label);
  };
  for (const k of ["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol", "Proxy",
                   "Reflect", "BigInt", "BigInt64Array", "BigUint64Array", "SharedArrayBuffer", "Atomics",
                   "WebAssembly", "Intl", "AggregateError"]) del(globalThis, k, k);
  del(Array, "from", "Array.from");
  del(Array, "of", "Array.of");
  del(Object, "freeze", "Object.freeze");
  del(Number, "isInteger", "Number.isInteger");
  del(Math, "imul", "Math.imul");
  del(Math, "trunc", "Math.trunc");
  for (const k of ["allSettled", "any", "race"]) del(Promise, k, "Promise." + k);
  del(Promise.prototype, "finally", "Promise.prototype.finally");
  return { removed, failed };
})()`;

const GLOBAL_NAMES_SCRIPT = `(() => {
  const out = [];
  for (const n of Object.getOwnPropertyNames(globalThis)) {
    if (!/^[A-Za-z_$][\\w$]*$/.test(n) || n === "globalThis" || n === "eval") continue;
    const d = Object.getOwnPropertyDescriptor(globalThis, n);
    if (d && d.configurable) out.push(n);
  }
  return out;
})()`;

const PIN_MODES = new Set([
  "analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "opendrain_pullup",
  "af_output", "af_opendrain", "auto",
]);

interface Realm {
  Object: ObjectConstructor;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
  Uint8Array: Uint8ArrayConstructor;
}

type Fn = (...args: unknown[]) => unknown;

export function createEspruinoContext(machine: Machine): EspruinoContext {
  const context = vm.createContext({}, { name: `espruino-${machine.board}` });
  const g = vm.runInContext("globalThis", context) as Record<string, unknown>;
  const realm = vm.runInContext("({ Object, Error, TypeError, Uint8Array })", context) as Realm;
  const { removed, failed } = vm.runInContext(REMOVE_SCRIPT, context) as { removed: string[]; failed: string[] };

  const newObject = (): Record<string, unknown> => new realm.Object() as Record<string, unknown>;
  const makeError = (message: string, kind: "Error" | "TypeError" | "InternalError"): Error => {
    const e = kind === "TypeError" ? new realm.TypeError(message) : new realm.Error(message);
    if (kind === "InternalError") e.name = "InternalError";
    return e;
  };

  // ---- pins ------------------------------------------------------------------
  const pinNames = new WeakMap<object, string>();
  const pinProto = newObject();
  const pinOf = (p: unknown): string => {
    if (typeof p === "object" && p !== null) {
      const n = pinNames.get(p);
      if (n !== undefined) return machine.resolvePin(n);
    }
    if (typeof p === "string" && /^[A-Z]+\d+$/.test(p)) return machine.resolvePin(p);
    throw makeError(`Invalid pin: ${String(p)}`, "Error");
  };
  const pinNameOf = (v: unknown): string | undefined =>
    typeof v === "object" && v !== null ? (pinNames.has(v) ? machine.resolvePin(pinNames.get(v)!) : undefined) : undefined;
  const level = (value: unknown): boolean => (typeof value === "boolean" ? value : (Number(value) || 0) !== 0);
  Object.assign(pinProto, {
    toString(this: object) {
      return pinNameOf(this) ?? "[object Object]";
    },
    set(this: object) {
      machine.writePin(pinOf(this), true);
    },
    reset(this: object) {
      machine.writePin(pinOf(this), false);
    },
    write(this: object, value: unknown) {
      machine.writePin(pinOf(this), level(value));
    },
    read(this: object) {
      return machine.pinLevel(pinOf(this)) ?? false;
    },
    toggle(this: object) {
      const name = pinOf(this);
      const next = !(machine.pinLevel(name) ?? false);
      machine.writePin(name, next);
      return next;
    },
    mode(this: object, mode: unknown) {
      machine.setPinMode(pinOf(this), String(mode));
    },
  });
  for (const name of machine.pinNames) {
    const pin = Object.create(pinProto) as object;
    pinNames.set(pin, name);
    g[name] = pin;
  }

  // ---- print -----------------------------------------------------------------
  const special = (v: object): string | undefined => pinNameOf(v);
  const printArgs = (args: unknown[]): void => {
    const text = args
      .map((a) => (typeof a === "string" ? a : formatValue(a, { quoteKeys: true, special })))
      .join(" ");
    machine.print(text + "\n");
  };
  machine.console.formatResult = (v) => formatValue(v, { dropQuotes: true, special });

  // ---- timers ------------------------------------------------------------------
  const callbackOf = (fn: unknown): Fn => {
    if (typeof fn === "function") return fn as Fn;
    if (typeof fn === "string") return () => machine.evaluate(fn);
    throw makeError("Function or String not supplied!", "Error");
  };

  // ---- I2C ----------------------------------------------------------------------
  const i2cObjects: Record<string, Record<string, unknown>> = {};
  for (const bus of Object.keys(machine.i2c)) {
    const o = newObject();
    o.setup = (options: unknown) => {
      const opts = (options ?? {}) as { scl?: unknown; sda?: unknown; bitrate?: unknown };
      machine.i2cSetup(bus, {
        scl: opts.scl === undefined ? undefined : pinOf(opts.scl),
        sda: opts.sda === undefined ? undefined : pinOf(opts.sda),
        bitrate: Number(opts.bitrate) || 100000,
      });
    };
    o.writeTo = (address: unknown, ...data: unknown[]) => {
      const bytes: number[] = [];
      flattenBytes(data, bytes);
      machine.i2cWrite(bus, i2cAddress(address), Uint8Array.from(bytes));
    };
    o.readFrom = (address: unknown, quantity: unknown) => {
      const n = Math.max(0, Number(quantity) | 0);
      const data = machine.i2cRead(bus, i2cAddress(address), n);
      const out = new realm.Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = i < data.length ? data[i]! : 0xff;
      return out;
    };
    i2cObjects[bus] = o;
    g[bus] = o;
  }

  // ---- E, process, require -------------------------------------------------------
  const E = newObject();
  E.getAddressOf = (v: unknown, flatOnly: unknown) => machine.addressOf(v, !!flatOnly);
  E.getSizeOf = (v: unknown) => sizeOf(v, new Set(), machine);
  E.on = (event: unknown, fn: unknown) => {
    if (typeof fn !== "function") throw makeError("E.on: listener must be a function", "Error");
    machine.addEListener(String(event), fn as Fn);
  };
  E.removeListener = (event: unknown, fn: unknown) => machine.removeEListener(String(event), fn);
  E.removeAllListeners = (event: unknown) => machine.removeEListener(String(event));
  const native = nativeCodeGlobals(machine, makeError);
  E.nativeCall = native.nativeCall;

  const env = newObject();
  Object.assign(env, { VERSION: "2v29", BOARD: machine.board }, machine.env);
  const proc = newObject();
  proc.env = env;
  proc.version = "2v29";
  proc.memory = () => Object.assign(newObject(), machine.memory());

  const timerModule = newObject();
  timerModule.add = (options: unknown) => {
    const o = (options ?? {}) as { type?: unknown; fn?: unknown; time?: unknown; interval?: unknown };
    if (o.type !== "EXEC") throw makeError(`timer: only type "EXEC" tasks are emulated (got ${String(o.type)})`, "Error");
    if (typeof o.fn !== "function") throw makeError("timer: fn must be a function", "Error");
    return machine.addExecTask(o.fn as () => unknown, Number(o.time) || 0, Number(o.interval) || 0);
  };
  timerModule.remove = (id: unknown) => machine.removeExecTask(Number(id));

  const consoleObj = newObject();
  consoleObj.log = (...args: unknown[]) => printArgs(args);

  Object.assign(g, {
    peek32: (address: unknown) => machine.peek32(Number(address)),
    poke32: (address: unknown, value: unknown) => machine.poke32(Number(address), Number(value)),
    getTime: () => machine.now(),
    print: (...args: unknown[]) => printArgs(args),
    atob: native.atob,
    console: consoleObj,
    setTimeout: (fn: unknown, ms: unknown, ...args: unknown[]) => machine.addTimer(callbackOf(fn), Number(ms), false, args),
    setInterval: (fn: unknown, ms: unknown, ...args: unknown[]) => machine.addTimer(callbackOf(fn), Number(ms), true, args),
    clearTimeout: (id?: unknown) => machine.clearTimer(id, true),
    clearInterval: (id?: unknown) => machine.clearTimer(id, false),
    digitalWrite: (pin: unknown, value: unknown) => {
      if (Array.isArray(pin)) {
        // Espruino: the last pin in the array gets the least significant bit.
        const v = Number(value) | 0;
        pin.forEach((p, i) => machine.writePin(pinOf(p), ((v >> (pin.length - 1 - i)) & 1) === 1));
      } else {
        machine.writePin(pinOf(pin), level(value));
      }
    },
    pinMode: (pin: unknown, mode: unknown) => {
      const m = mode === undefined ? "auto" : String(mode);
      if (!PIN_MODES.has(m)) throw makeError(`Unknown pin mode "${m}"`, "Error");
      machine.setPinMode(pinOf(pin), m);
    },
    E,
    process: proc,
    require: (name: unknown) => {
      if (name === "timer") return timerModule;
      throw makeError(`Module ${String(name)} not found`, "Error");
    },
    __p: machine.preemptionPoint,
  });
  g.global = g;

  // ---- lexical prelude (see the header comment) ---------------------------------------
  const names = vm.runInContext(GLOBAL_NAMES_SCRIPT, context) as string[];
  new vm.Script(`let ${names.map((n) => `${n} = globalThis.${n}`).join(", ")};`, {
    filename: "espruino-prelude.js",
  }).runInContext(context);
  delete g.__p; // the lexical binding stays; `global.__p` does not show
  const startupNames = new Set(Object.getOwnPropertyNames(g));

  return {
    context,
    global: g,
    removed,
    notRemovable: [...NOT_REMOVABLE, ...failed],
    makeError,
    pinNameOf,
    userGlobalsVars(counted: Iterable<ArrayBuffer>): number {
      const seen = new Set<unknown>(counted);
      let vars = 0;
      for (const n of Object.getOwnPropertyNames(g)) {
        if (startupNames.has(n)) continue;
        vars += 1 + sizeOf(g[n], seen, machine, false);
      }
      return vars;
    },
  };
}

/** Accept `0x1A` or `{ address: 0x1A, stop: false }` (Espruino's repeated-start form). */
function i2cAddress(a: unknown): number {
  if (typeof a === "object" && a !== null && "address" in a) return Number((a as { address: unknown }).address) & 0x7f;
  return Number(a) & 0x7f;
}

/** Espruino's data flattening for writeTo: numbers, strings, arrays, typed arrays, {data, count}. */
function flattenBytes(data: unknown[], out: number[]): void {
  for (const d of data) {
    if (typeof d === "number") out.push(d & 0xff);
    else if (typeof d === "boolean") out.push(d ? 1 : 0);
    else if (typeof d === "string") for (let i = 0; i < d.length; i++) out.push(d.charCodeAt(i) & 0xff);
    else if (ArrayBuffer.isView(d)) {
      if (utilTypes.isDataView(d)) out.push(...new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      else {
        const a = d as unknown as ArrayLike<number>;
        for (let i = 0; i < a.length; i++) out.push(Number(a[i]) & 0xff);
      }
    } else if (utilTypes.isArrayBuffer(d)) out.push(...new Uint8Array(d));
    else if (Array.isArray(d)) flattenBytes(d, out);
    else if (typeof d === "object" && d !== null && "data" in d) {
      const o = d as { data: unknown; count?: unknown };
      const count = o.count === undefined ? 1 : Number(o.count) | 0;
      for (let i = 0; i < count; i++) flattenBytes([o.data], out);
    }
  }
}

/**
 * E.getSizeOf, approximated: JsVars a value holds. A number, boolean or
 * null: 1. A string: 1 plus one block per 12 characters after the first 4.
 * A typed array: view + ArrayBuffer + its storage (flat: a header plus
 * ceil(bytes / blocksize); otherwise one block per 12 bytes). An array or
 * object: 1 plus, per property, a name var and the value (an object shared
 * with something already counted costs nothing more). A function: 1 plus its
 * code as a string (firmware functions only) plus its properties.
 */
export function sizeOf(v: unknown, seen: Set<unknown>, machine: Machine, countCode = true): number {
  switch (typeof v) {
    case "undefined":
      return 0;
    case "number":
    case "boolean":
    case "bigint":
    case "symbol":
      return 1;
    case "string":
      return stringVars(v.length);
  }
  if (v === null) return 1;
  if (seen.has(v)) return 0;
  seen.add(v);
  if (ArrayBuffer.isView(v)) {
    const bytes = v.buffer.byteLength;
    if (seen.has(v.buffer)) return 1;
    seen.add(v.buffer);
    return 2 + (bytes > machine.flatThresholdBytes ? 1 + Math.ceil(bytes / machine.jsVarBlockSize) : Math.ceil(bytes / 12));
  }
  if (utilTypes.isArrayBuffer(v)) {
    const bytes = v.byteLength;
    return 1 + (bytes > machine.flatThresholdBytes ? 1 + Math.ceil(bytes / machine.jsVarBlockSize) : Math.ceil(bytes / 12));
  }
  let vars = 1;
  if (typeof v === "function") {
    const src = Function.prototype.toString.call(v);
    // Firmware functions went through the preemption transform; anything
    // else (the emulator's own globals, builtins) is native: no code vars.
    if (countCode && src.includes("__p(")) vars += stringVars(stripPreemption(src).length);
  }
  for (const k of Object.keys(v as object)) {
    vars += 1 + sizeOf((v as Record<string, unknown>)[k], seen, machine, countCode);
  }
  return vars;
}

function stringVars(length: number): number {
  return 1 + Math.ceil(Math.max(0, length - 4) / 12);
}
