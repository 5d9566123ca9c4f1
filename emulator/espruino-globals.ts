// The Espruino 2v29 globals the firmware uses (firmware/types/espruino.d.ts is
// the list), in a Node `vm` context, on top of the context's own JavaScript
// builtins minus the ones Espruino lacks, with the builtins whose behaviour
// the board's differs from V8's replaced by ports of its source. What the
// board does differently and where, measured on the real interpreter by the
// probes in test/fidelity/, is in emulator/FIDELITY.md.
//
// Removed from the context (MISSING below: every name of a V8 context the
// probe test/fidelity/probes/builtins-v8.js finds undefined on the board):
// Map, Set, Symbol, Proxy, Reflect, BigInt, RangeError, ..., Array.from,
// Object.freeze, Number.isFinite/isNaN/isInteger, Math.hypot/log2/trunc/...,
// toPrecision, [].flat, "".at, Promise.race/any/allSettled/finally. Code
// using them fails as on the board (ReferenceError or "is not a function").
//
// Replaced (each a port of the RELEASE_2V29 source; FIDELITY.md):
//  - Math.round (rounds halves away from zero: -2.5 -> -3), Math.pow
//    (repeated multiplication up to the 9th power, else exp(log(x) * y):
//    Math.pow(2, 15) === 32768 is false), Number.prototype.toFixed and
//    toString (ftoa: (2.5).toFixed(0) is "2"), JSON.stringify;
//  - typed arrays' set(): past the end it writes what fits and throws nothing;
//  - Object.defineProperty: every property is enumerable, a read-only one throws when assigned;
//  - errors: no `name`, no inherited `message`, toString() "Error: text"
//    from the error's type, with V8's wording of the errors it raises itself
//    translated to the board's for the common cases (reading a property of
//    undefined, an undefined variable, a missing method, assigning a const);
//  - Promise: reactions run after each main-loop callback, as the board runs
//    them as events (V8 would run them whenever the host's stack empties), and
//    a rejection nobody handles prints "Uncaught Error: Unhandled promise
//    rejection: ..." instead of ending the Node process;
//  - setTimeout/setInterval: at least 0.1 ms (TIMER_MIN_INTERVAL);
//  - E.getAddressOf(buf, true) is non-zero for a buffer that fits in one
//    JsVar as well as for a flat one; E.getSizeOf counts JsVars as the board.
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
import { errorType, espruinoNumberText, espruinoStringify, valueText } from "./espruino-format.ts";

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

/**
 * The names of a Node 20 V8 context that read as undefined on Espruino 2v29
 * (Linux build), by object: the output of the fidelity probes
 * builtins-v8/missing-* (test/fidelity/real-2v29.json). "%TypedArray%" is the
 * typed arrays' shared parent.
 */
export const MISSING: Readonly<Record<string, readonly string[]>> = {
  globalThis: [
    "Symbol", "AggregateError", "EvalError", "RangeError", "URIError", "Intl", "BigUint64Array", "BigInt64Array", "Map",
    "BigInt", "Set", "WeakMap", "WeakSet", "Proxy", "Reflect", "FinalizationRegistry", "WeakRef", "decodeURI", "encodeURI",
    "escape", "unescape", "SharedArrayBuffer", "Atomics", "WebAssembly",
  ],
  Math: ["acosh", "asinh", "atanh", "cbrt", "expm1", "clz32", "cosh", "fround", "hypot", "imul", "log1p", "log2", "log10", "sinh", "tanh", "trunc"],
  Number: ["isFinite", "isInteger", "isNaN", "isSafeInteger", "parseFloat", "parseInt", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER", "EPSILON"],
  Object: ["getOwnPropertySymbols", "hasOwn", "is", "preventExtensions", "seal", "freeze", "isExtensible", "isFrozen", "isSealed"],
  Array: ["from", "of"],
  String: ["fromCodePoint", "raw"],
  Date: ["UTC"],
  ArrayBuffer: ["isView"],
  "Number.prototype": ["toExponential", "toPrecision", "toLocaleString"],
  "Array.prototype": [
    "at", "copyWithin", "findLast", "findLastIndex", "lastIndexOf", "keys", "entries", "values", "flat", "flatMap", "reduceRight",
    "toLocaleString", "toReversed", "toSorted", "toSpliced", "with",
  ],
  "String.prototype": [
    "anchor", "at", "big", "blink", "bold", "codePointAt", "fontcolor", "fontsize", "fixed", "isWellFormed", "italics", "link",
    "localeCompare", "matchAll", "normalize", "search", "small", "strike", "sub", "sup", "toWellFormed", "trimStart", "trimLeft",
    "trimEnd", "trimRight", "toLocaleLowerCase", "toLocaleUpperCase",
  ],
  "%TypedArray%.prototype": [
    "entries", "keys", "values", "at", "copyWithin", "findLast", "findLastIndex", "lastIndexOf", "reduceRight", "toLocaleString",
    "toReversed", "toSorted", "with",
  ],
  "%TypedArray%": ["of", "from"],
  "Promise.prototype": ["finally"],
  "ArrayBuffer.prototype": ["slice", "maxByteLength", "resizable", "resize"],
  "Object.prototype": [
    "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
  ],
  // Not in a V8 context's own names, but missing too (facts file): Promise's extras.
  Promise: ["allSettled", "any", "race"],
};

const REMOVE_SCRIPT = `((missing, BasePromise) => {
  const removed = [], failed = [];
  const TA = Object.getPrototypeOf(Int8Array);
  const targets = { globalThis, Math, Number, Object, Array, String, Date, ArrayBuffer, Promise: BasePromise,
    "Number.prototype": Number.prototype, "Array.prototype": Array.prototype, "String.prototype": String.prototype,
    "%TypedArray%.prototype": TA.prototype, "%TypedArray%": TA, "Promise.prototype": BasePromise.prototype,
    "ArrayBuffer.prototype": ArrayBuffer.prototype, "Object.prototype": Object.prototype };
  for (const where of Object.keys(missing)) {
    const obj = targets[where];
    // A method on a prototype is set to undefined rather than deleted:
    // deleting from Array.prototype and its kin costs about 1 ms a machine
    // and leaves the prototype slower for the whole run; to the firmware it
    // is the same (typeof undefined, calling it throws).
    const onPrototype = /prototype$/.test(where);
    for (const key of missing[where]) {
      const label = where === "globalThis" ? key : where + "." + key;
      if (!(key in obj)) continue;
      const d = Object.getOwnPropertyDescriptor(obj, key);
      try {
        // Assigning keeps the property non-enumerable (Object.defineProperty is the board's by now: enumerable).
        if (onPrototype && d && d.writable) obj[key] = undefined;
        else delete obj[key];
      } catch (e) {}
      const gone = onPrototype ? obj[key] === undefined : !Object.prototype.hasOwnProperty.call(obj, key);
      if (gone) removed.push(label); else failed.push(label);
    }
  }
  return { removed, failed };
})`;

const GLOBAL_NAMES_SCRIPT = `(() => {
  const out = [];
  for (const n of Object.getOwnPropertyNames(globalThis)) {
    if (!/^[A-Za-z_$][\\w$]*$/.test(n) || n === "globalThis" || n === "eval") continue;
    const d = Object.getOwnPropertyDescriptor(globalThis, n);
    if (d && d.configurable) out.push(n);
  }
  return out;
})()`;

/** What the board-behaviour script needs from the host. */
interface BehaviourHost {
  numberText(value: number, radix: number, fractionalDigits: number): string;
  stringify(value: unknown, space: unknown): string;
  unhandledRejection(reason: unknown): void;
}

/** What it gives back. */
interface Behaviour {
  /** Run the context's pending Promise reactions now if there are any. */
  drainIfPending(): void;
  InternalError: ErrorConstructor;
  /** The functions it installed: they print as "[native code]", as builtins do. */
  natives: Function[];
  /** V8's Promise, which the board's (a subclass) extends. */
  BasePromise: unknown;
}

// Runs inside the context (so these are context functions, fast, and print
// as native-looking builtins), before the lexical prelude binds the globals.
// Each part ports the RELEASE_2V29 function named in its comment.
const BEHAVIOUR_SCRIPT = `(function install(host) {
  "use strict";
  const natives = [];
  const define = (obj, key, value) => {
    if (typeof value === "function") natives.push(value);
    Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false });
  };
  const trunc = (x) => (x < 0 ? Math.ceil(x) : Math.floor(x));
  const valueOf = Number.prototype.valueOf, finite = Number.isFinite;
  const thisNumber = (v) => (typeof v === "number" ? v : valueOf.call(v));
  // jsvGetInteger: undefined, NaN and non-numbers are 0, floats truncate.
  const toInt = (v) => { const n = Number(v); return finite(n) ? trunc(n) : 0; };

  // jswrap_math_round: halves away from zero, -0 passed through.
  define(Math, "round", function round(x) {
    x = +x;
    if (!isFinite(x) || (x === 0 && 1 / x < 0)) return x;
    x += x < 0 ? -0.5 : 0.5;
    const i = trunc(x);
    return i === 0 && x < 0 ? -0 : i;
  });

  // jswrap_math_mod / jswrap_math_pow: small integer powers by repeated
  // multiplication, everything else as exp(log(x) * y) (inexact).
  const mod = (x, y) => {
    const c = x;
    if (!isFinite(x) || isNaN(y) || y === 0) return NaN;
    if (y === Infinity) return x;
    if (0 > c) x = -x;
    if (0 > y) y = -y;
    if (y !== 0 && Number.MAX_VALUE >= y && Number.MAX_VALUE >= x) {
      while (x >= y) { let a = x / 2, b = y; while (a >= b) b *= 2; x -= b; }
    } else x = 0;
    return 0 > c ? -x : x;
  };
  const exp = Math.exp, log = Math.log;
  define(Math, "pow", function pow(x, y) {
    x = +x; y = +y;
    let yi = y | 0;
    if (yi >= 0 && yi < 10 && yi === y) {
      if (yi === 0) return 1;
      let p = x;
      while (yi > 1) { p *= x; yi--; }
      return p;
    }
    if (x < 0 && mod(y, 1) === 0) return mod(y, 2) === 0 ? exp(log(-x) * y) : -exp(log(-x) * y);
    return x !== 0 || 0 >= y ? exp(log(x) * y) : 0;
  });

  // jswrap_number_toFixed and jswrap_object_toString (ftoa_bounded_extra).
  define(Number.prototype, "toFixed", function toFixed(decimals) {
    let d = toInt(decimals);
    if (d < 0) d = 0;
    if (d > 20) d = 20;
    return host.numberText(thisNumber(this), 10, d);
  });
  define(Number.prototype, "toString", function toString(radix) {
    const n = thisNumber(this);
    const r = typeof radix === "number" && radix === (radix | 0) && radix >= 2 && radix <= 36 ? radix : 10;
    return host.numberText(n, r, -1);
  });
  define(JSON, "stringify", function stringify(value, replacer, space) { return host.stringify(value, space); });

  // jswrap_arraybufferview_set: copies what fits, throws nothing past the end.
  const TA = Object.getPrototypeOf(Int8Array.prototype);
  const taSet = TA.set, taSub = TA.subarray, isView = ArrayBuffer.isView, arraySlice = Array.prototype.slice;
  const typeName = (v) => v === null ? "null" : v === undefined ? "undefined" : typeof v === "function" ? "Function" :
    typeof v === "object" ? "Object" : typeof v === "number" ? "Number" : typeof v === "boolean" ? "Boolean" : "String";
  define(TA, "set", function set(src, offset) {
    let from = src;
    if (typeof src === "string") { from = []; for (let i = 0; i < src.length; i++) from.push(src.charCodeAt(i)); }
    else if (src instanceof ArrayBuffer) from = new Uint8Array(src);
    else if (!Array.isArray(src) && !isView(src)) throw makeError("Error", "First argument must be Array, not " + typeName(src));
    const at = toInt(offset);
    if (at < 0 || at >= this.length) return;
    const room = this.length - at;
    if (from.length > room) from = isView(from) ? taSub.call(from, 0, room) : arraySlice.call(from, 0, room);
    taSet.call(this, from, at);
  });

  // Every property is enumerable on the board (Object.keys lists them all).
  // A read-only one throws when assigned, as on the board: code here runs
  // sloppy (Espruino ignores "use strict"), where V8 would ignore the write.
  const defineProperty = Object.defineProperty;
  define(Object, "defineProperty", function defineProperty_(obj, key, desc) {
    const d = Object.assign({}, desc);
    d.enumerable = true;
    if (!("get" in d) && !("set" in d) && d.writable !== true) {
      const value = d.value;
      return defineProperty(obj, key, {
        enumerable: true,
        configurable: d.configurable === true,
        get: function () { return value; },
        set: function () { throw new TypeError("Assignment to a constant"); },
      });
    }
    return defineProperty(obj, key, d);
  });
  Object.defineProperty(Object.defineProperty, "name", { value: "defineProperty" });

  // Errors (src/jswrap_error.c): own "type" and "message", no "name",
  // toString() "type: message". V8's texts for the errors it raises itself
  // become the board's where the case is unambiguous.
  const kinds = [Error, TypeError, SyntaxError, ReferenceError];
  for (const C of kinds) { delete C.prototype.name; delete C.prototype.message; }
  const v8Texts = [
    [/^Cannot read properties of (undefined|null) \\(reading '([^]*)'\\)$/, "Error", "Can't read property '$2' of $1"],
    [/^Cannot set properties of (undefined|null) \\(setting '([^]*)'\\)$/, "Error", "Can't read property '$2' of $1"],
    [/^([\\w$]+) is not defined$/, "ReferenceError", '"$1" is not defined'],
    [/^[^ ]*\\.([\\w$]+) is not a function$/, "Error", 'Function "$1" not found!'],
    [/^Assignment to constant variable\\.$/, "TypeError", "Assignment to a constant"],
    [/^Cannot assign to read only property [^]*$/, "TypeError", "Assignment to a constant"],
  ];
  const typeOf = (e) => {
    if (typeof e.type === "string") return e.type;
    for (let p = Object.getPrototypeOf(e); p; p = Object.getPrototypeOf(p)) {
      if (Object.prototype.hasOwnProperty.call(p, "constructor") && typeof p.constructor === "function" && /Error$/.test(p.constructor.name)) return p.constructor.name;
    }
    return "Error";
  };
  const describe = (e) => {
    let type = typeOf(e), message = e.message;
    if (typeof e.type !== "string" && typeof message === "string") {
      for (const [re, t, text] of v8Texts) if (re.test(message)) { type = t; message = message.replace(re, text); break; }
    }
    return message === undefined ? type : type + ": " + message;
  };
  define(Error.prototype, "toString", function toString() { return describe(this); });
  const makeError = (type, message) => { const e = new Error(message); e.type = type; return e; };
  class InternalError extends Error { constructor(message) { super(message); this.type = "InternalError"; } }
  define(globalThis, "InternalError", InternalError);

  // Promise (src/jswrap_promise.c): reactions are events the idle loop runs;
  // an unhandled rejection is reported, not fatal. Every promise gets a
  // rejection watcher of its own at birth, so V8 never sees one unhandled.
  const Base = Promise, baseThen = Base.prototype.then;
  const handled = new WeakSet();
  let internal = false, pending = false;
  class EspruinoPromise extends Base {
    constructor(executor) {
      super(function (resolve, reject) {
        executor(function (v) { pending = true; resolve(v); }, function (e) { pending = true; reject(e); });
      });
      if (internal) return;
      internal = true;
      try {
        const self = this;
        baseThen.call(this, undefined, function (reason) { if (!handled.has(self)) host.unhandledRejection(reason); });
      } finally { internal = false; }
    }
    then(onFulfilled, onRejected) {
      handled.add(this);
      pending = true;
      return baseThen.call(this, onFulfilled, onRejected);
    }
  }
  Object.defineProperty(EspruinoPromise, "name", { value: "Promise" });
  define(globalThis, "Promise", EspruinoPromise);

  return {
    InternalError,
    natives,
    BasePromise: Base,
    drainIfPending() { if (pending) { pending = false; host.drain(); } },
  };
})`;

// Compiled once, run in every machine's context (a vm.Script is context-independent).
const behaviourScript = new vm.Script(BEHAVIOUR_SCRIPT, { filename: "espruino-behaviour.js" });
const removeScript = new vm.Script(REMOVE_SCRIPT, { filename: "espruino-remove.js" });
const globalNamesScript = new vm.Script(GLOBAL_NAMES_SCRIPT, { filename: "espruino-global-names.js" });
const helpersScript = new vm.Script(
  `({
    // A top-level \`class\` is a global binding but no property of the global object in V8.
    lookupGlobal: function (name) { try { return (0, eval)(name); } catch (e) { return undefined; } },
    // E, process, console and the timer module are native classes on the board: typeof "function".
    natives: [function () {}, function () {}, function () {}, function () {}],
    realm: { Object, Error, TypeError, Uint8Array, Function },
  })`,
  { filename: "espruino-helpers.js" },
);
const drainScript = new vm.Script("", { filename: "espruino-promise-jobs.js" });

const PIN_MODES = new Set([
  "analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "opendrain_pullup",
  "af_output", "af_opendrain", "auto",
]);

interface Realm {
  Object: ObjectConstructor;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
  Uint8Array: Uint8ArrayConstructor;
  Function: FunctionConstructor;
}

type Fn = (...args: unknown[]) => unknown;

/** TIMER_MIN_INTERVAL (src/jsinteractive.h): a timer waits at least 0.1 ms. */
const TIMER_MIN_INTERVAL_MS = 0.1;

export function createEspruinoContext(machine: Machine): EspruinoContext {
  // afterEvaluate: the context has its own microtask queue, run after each
  // script and by drainPromises() after each main-loop callback.
  const context = vm.createContext({}, { name: `espruino-${machine.board}`, microtaskMode: "afterEvaluate" });
  const g = vm.runInContext("globalThis", context) as Record<string, unknown>;
  const helpers = helpersScript.runInContext(context) as {
    lookupGlobal: (name: string) => unknown;
    natives: Function[];
    realm: Realm;
  };
  const realm = helpers.realm;

  const newObject = (): Record<string, unknown> => new realm.Object() as Record<string, unknown>;
  const natives = new WeakSet<Function>(helpers.natives);
  const nativeObjects = [...helpers.natives];
  const newNative = (): Record<string, unknown> => nativeObjects.pop() as unknown as Record<string, unknown>;
  let behaviour: Behaviour | null = null;
  const makeError = (message: string, kind: "Error" | "TypeError" | "InternalError"): Error => {
    const e =
      kind === "InternalError" && behaviour
        ? new behaviour.InternalError(message)
        : kind === "TypeError"
          ? new realm.TypeError(message)
          : new realm.Error(message);
    (e as Error & { type: string }).type = kind;
    return e;
  };
  const special = (v: object): string | undefined => pinNameOf(v);
  // The emulator's own functions (host realm) and the builtins it replaced are the board's native code.
  const isNative = (f: Function): boolean => !(f instanceof realm.Function) || natives.has(f);
  const formatOptions = { special, globals: g, isNative, lookupGlobal: helpers.lookupGlobal };
  const host: BehaviourHost & { drain(): void } = {
    numberText: (value, radix, digits) => espruinoNumberText(value, radix, digits),
    stringify: (value, space) => espruinoStringify(value, space, formatOptions),
    unhandledRejection: (reason) => {
      machine.reportUncaught(makeError("Unhandled promise rejection: " + valueText(reason), "Error"), "main");
    },
    drain: () => drainScript.runInContext(context),
  };
  behaviour = (behaviourScript.runInContext(context) as (h: typeof host) => Behaviour)(host);
  for (const f of behaviour.natives) natives.add(f);
  // Removed after the behaviour script has taken what it uses (WeakSet, ArrayBuffer.isView).
  const removeBuiltins = removeScript.runInContext(context) as (
    m: typeof MISSING,
    basePromise: unknown,
  ) => { removed: string[]; failed: string[] };
  const { removed, failed } = removeBuiltins(MISSING, behaviour.BasePromise);
  const drainPromises = (): void => behaviour!.drainIfPending();
  /** A main-loop callback: its Promise reactions run when it returns, as the board's idle loop runs them next. */
  const mainCallback = (fn: Fn): Fn =>
    function (this: unknown, ...args: unknown[]) {
      try {
        return fn.apply(this, args);
      } finally {
        drainPromises();
      }
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
  const printArgs = (args: unknown[]): void => {
    const text = args.map((a) => (typeof a === "string" ? a : formatValue(a, { quoteKeys: true, ...formatOptions }))).join(" ");
    machine.print(text + "\n");
  };
  machine.console.formatResult = (v) => formatValue(v, { dropQuotes: true, ...formatOptions });

  // ---- timers ------------------------------------------------------------------
  const callbackOf = (fn: unknown): Fn => {
    if (typeof fn === "function") return mainCallback(fn as Fn);
    if (typeof fn === "string") return mainCallback(() => machine.evaluate(fn));
    throw makeError("Function or String not supplied!", "Error");
  };
  const timerMs = (ms: unknown): number => {
    const n = Number(ms);
    return Number.isNaN(n) || n < TIMER_MIN_INTERVAL_MS ? TIMER_MIN_INTERVAL_MS : n;
  };
  // clearTimeout() clears every timer; clearTimeout(undefined) is refused (jswrap_interface_clearTimeout).
  const clearTimer = (args: unknown[], isTimeout: boolean): void => {
    if (args.length > 0 && args[0] === undefined) {
      const name = isTimeout ? "Timeout" : "Interval";
      throw makeError(`clear${name}(undefined) not allowed. Use clear${name}() instead`, "Error");
    }
    machine.clearTimer(args[0], isTimeout);
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
  const E = newNative();
  // A buffer that fits in one JsVar has an address too (jsvGetDataPointer:
  // a one-block string); a bigger one only when it is flat.
  E.getAddressOf = (v: unknown, flatOnly: unknown) => {
    if (flatOnly && (ArrayBuffer.isView(v) || utilTypes.isArrayBuffer(v))) {
      const bytes = ArrayBuffer.isView(v) ? v.buffer.byteLength : (v as ArrayBuffer).byteLength;
      if (bytes <= jsVarLayout(machine).firstChars) return machine.addressOf(v, false);
    }
    return machine.addressOf(v, !!flatOnly);
  };
  E.getSizeOf = (v: unknown) => sizeOf(v, new Set(), machine);
  const listeners = new WeakMap<Function, Fn>();
  E.on = (event: unknown, fn: unknown) => {
    if (typeof fn !== "function") throw makeError("E.on: listener must be a function", "Error");
    let wrapped = listeners.get(fn);
    if (!wrapped) listeners.set(fn, (wrapped = mainCallback(fn as Fn)));
    machine.addEListener(String(event), wrapped);
  };
  E.removeListener = (event: unknown, fn: unknown) =>
    machine.removeEListener(String(event), typeof fn === "function" ? (listeners.get(fn) ?? fn) : fn);
  E.removeAllListeners = (event: unknown) => machine.removeEListener(String(event));
  const native = nativeCodeGlobals(machine, makeError);
  E.nativeCall = native.nativeCall;
  const iterable = (v: unknown): v is ArrayLike<unknown> => typeof v === "string" || Array.isArray(v) || ArrayBuffer.isView(v);
  const typeName = (v: unknown): string =>
    v === null ? "null" : v === undefined ? "undefined" : typeof v === "object" ? "Object" : typeof v === "function" ? "Function"
      : typeof v === "number" ? "Number" : typeof v === "boolean" ? "Boolean" : "String";
  const elementNumber = (x: unknown): number => (typeof x === "string" ? x.charCodeAt(0) : Number(x));
  // jswrap_espruino_sum / _variance (a sum of squares, not divided) / _clip.
  E.sum = (arr: unknown) => {
    if (!iterable(arr)) throw makeError("First argument must be Array, not " + typeName(arr), "Error");
    let sum = 0;
    for (let i = 0; i < arr.length; i++) if (typeof arr === "string" || i in (arr as object)) sum += elementNumber(arr[i]);
    return sum;
  };
  E.variance = (arr: unknown, mean: unknown) => {
    if (!iterable(arr)) throw makeError("First argument must iterable, not " + typeName(arr), "Error");
    let variance = 0;
    for (let i = 0; i < arr.length; i++) {
      const d = elementNumber(arr[i]) - Number(mean);
      variance += d * d;
    }
    return variance;
  };
  E.clip = (x: unknown, min: unknown, max: unknown) => {
    let v = Number(x);
    if (v < Number(min)) v = Number(min);
    if (v > Number(max)) v = Number(max);
    return v;
  };
  // jswrap_espruino_mapInPlace: element by element, or `bits` at a time (negative: LSB first).
  E.mapInPlace = (from: unknown, to: unknown, map: unknown, bits: unknown) => {
    const isBuf = (v: unknown): v is ArrayLike<number> & { [i: number]: number; BYTES_PER_ELEMENT: number } =>
      ArrayBuffer.isView(v) && !utilTypes.isDataView(v);
    if (!isBuf(from) || !isBuf(to)) throw makeError("First 2 arguments should be array buffers", "Error");
    if (map !== undefined && map !== null && !Array.isArray(map) && !isBuf(map) && typeof map !== "function") {
      throw makeError("Third argument should be a function or array", "Error");
    }
    const bitsFrom = 8 * from.BYTES_PER_ELEMENT;
    let n = Number(bits) | 0;
    let msbFirst = true;
    if (n < 0) {
      n = -n;
      msbFirst = false;
    }
    if (n === 0) n = bitsFrom;
    let el = 0;
    let b = 0;
    let i = 0;
    for (let j = 0; (i < from.length || b >= n) && j < to.length; j++) {
      const index = i;
      while (b < n) {
        const x = i < from.length ? from[i]! | 0 : 0;
        if (msbFirst) el = (el << bitsFrom) | x;
        else el |= x << b;
        i++;
        b += bitsFrom;
      }
      let v: number;
      if (msbFirst) v = (el >> (b - n)) & ((1 << n) - 1);
      else {
        v = el & ((1 << n) - 1);
        el >>= n;
      }
      b -= n;
      if (typeof map === "function") to[j] = Number((map as Fn)(v, index));
      else if (map !== undefined && map !== null) to[j] = Number((map as ArrayLike<unknown>)[v]);
      else to[j] = v;
    }
  };

  const env = newObject();
  Object.assign(env, { VERSION: "2v29", BOARD: machine.board }, machine.env);
  const proc = newNative();
  proc.env = env;
  proc.version = "2v29";
  proc.memory = () => Object.assign(newObject(), machine.memory());

  const timerModule = newNative();
  timerModule.add = (options: unknown) => {
    const o = (options ?? {}) as { type?: unknown; fn?: unknown; time?: unknown; interval?: unknown };
    if (o.type !== "EXEC") throw makeError(`timer: only type "EXEC" tasks are emulated (got ${String(o.type)})`, "Error");
    if (typeof o.fn !== "function") throw makeError("timer: fn must be a function", "Error");
    return machine.addExecTask(o.fn as () => unknown, Number(o.time) || 0, Number(o.interval) || 0);
  };
  timerModule.remove = (id: unknown) => machine.removeExecTask(Number(id));

  const consoleObj = newNative();
  consoleObj.log = (...args: unknown[]) => printArgs(args);

  Object.assign(g, {
    peek32: (address: unknown) => machine.peek32(Number(address)),
    poke32: (address: unknown, value: unknown) => machine.poke32(Number(address), Number(value)),
    getTime: () => machine.now(),
    print: (...args: unknown[]) => printArgs(args),
    atob: native.atob,
    console: consoleObj,
    setTimeout: (fn: unknown, ms: unknown, ...args: unknown[]) => machine.addTimer(callbackOf(fn), timerMs(ms), false, args),
    setInterval: (fn: unknown, ms: unknown, ...args: unknown[]) => machine.addTimer(callbackOf(fn), timerMs(ms), true, args),
    clearTimeout: (...args: unknown[]) => clearTimer(args, true),
    clearInterval: (...args: unknown[]) => clearTimer(args, false),
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
  const names = globalNamesScript.runInContext(context) as string[];
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
 * How a JsVar stores characters, from the machine's flat-string break-even
 * (flatThresholdBytes = JSV_FLAT_STRING_BREAK_EVEN = JSVAR_DATA_STRING_LEN +
 * JSVAR_DATA_STRING_MAX_LEN in src/jsutils.h, where the second is the first
 * or one more): `firstChars` in a string's first block, `extChars` in each
 * further block, `nameChars` in a property name's block (4 bytes on a
 * 32-bit board, 8 on a 64-bit one, told apart by a JsVar size of 20 bytes or
 * more), and the integers a name can hold inline (JSVARREF_MIN..MAX: 13-bit
 * references on a 5100-JsVar board, 32-bit on the Linux build). Linux build
 * (41): 20 / 21 / 8; Espruino Pico (17): 8 / 9 / 4.
 */
export function jsVarLayout(machine: Pick<Machine, "flatThresholdBytes" | "jsVarBlockSize">): {
  firstChars: number;
  extChars: number;
  nameChars: number;
  inlineIntMax: number;
} {
  const firstChars = Math.floor(machine.flatThresholdBytes / 2);
  const wide = machine.jsVarBlockSize >= 20;
  return {
    firstChars,
    extChars: machine.flatThresholdBytes - firstChars,
    nameChars: wide ? 8 : 4,
    inlineIntMax: wide ? 0x7fffffff : 4095,
  };
}

/**
 * E.getSizeOf: JsVars a value holds, counted as the board stores it
 * (src/jsvar.c). A number, boolean or null: 1. A string: one block of
 * `firstChars`, then one per `extChars`. A typed array: the view, its
 * ArrayBuffer and the storage: one string block when it fits, two or more
 * up to the flat break-even, above it a flat string (a header plus
 * ceil(bytes / jsVarBlockSize)). An array or object: 1 plus, per member, its
 * name (an integer inline value costs nothing more) and its value. A
 * function: 1 plus its code as a string (firmware functions only) plus its
 * properties. Anything already counted costs nothing more.
 */
export function sizeOf(v: unknown, seen: Set<unknown>, machine: Machine, countCode = true): number {
  const layout = jsVarLayout(machine);
  const stringVars = (length: number): number =>
    length <= layout.firstChars ? 1 : 1 + Math.ceil((length - layout.firstChars) / layout.extChars);
  const storageVars = (bytes: number): number =>
    bytes > machine.flatThresholdBytes ? 1 + Math.ceil(bytes / machine.jsVarBlockSize) : stringVars(bytes);
  const nameVars = (key: string, inArray: boolean): number =>
    inArray ? 1 : key.length <= layout.nameChars ? 1 : 1 + Math.ceil((key.length - layout.nameChars) / layout.extChars);
  const inline = (value: unknown, inArray: boolean): boolean =>
    (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= layout.inlineIntMax) ||
    (inArray && typeof value === "boolean");
  const size = (x: unknown): number => {
    switch (typeof x) {
      case "undefined":
        return 0;
      case "number":
      case "boolean":
      case "bigint":
      case "symbol":
        return 1;
      case "string":
        return stringVars(x.length);
    }
    if (x === null) return 1;
    if (seen.has(x)) return 0;
    seen.add(x);
    if (ArrayBuffer.isView(x)) {
      if (seen.has(x.buffer)) return 1;
      seen.add(x.buffer);
      return 2 + storageVars(x.buffer.byteLength);
    }
    if (utilTypes.isArrayBuffer(x)) return 1 + storageVars(x.byteLength);
    let vars = 1;
    if (typeof x === "function") {
      const src = Function.prototype.toString.call(x);
      // Firmware functions went through the preemption transform; anything
      // else (the emulator's own globals, builtins) is native: no code vars.
      if (countCode && src.includes("__p(")) vars += stringVars(stripPreemption(src).length);
    }
    const inArray = Array.isArray(x);
    for (const k of Object.keys(x as object)) {
      const value = (x as Record<string, unknown>)[k];
      const intKey = inArray && /^\d+$/.test(k);
      vars += nameVars(k, intKey);
      if (!inline(value, intKey)) vars += size(value);
    }
    return vars;
  };
  return size(v);
}
