// How Espruino 2v29 turns values into text, ported from its source so the
// emulator prints what the board prints (emulator/FIDELITY.md):
//  - numbers: ftoa_bounded_extra() in src/jsutils.c (print, the REPL,
//    JSON.stringify, toFixed, Number.prototype.toString): at most 11
//    fractional digits, no rounding of the last one, 1e21 as "10e+20";
//  - values: jsfGetJSONWithCallback() in src/jswrap_json.c with the flags of
//    print/console.log (src/jswrap_functions.c), of the REPL's "=" line
//    (src/jsinteractive.c) and of JSON.stringify: line breaks before
//    strings, objects and arrays and after four object members, " ... " for
//    long arrays and strings at the REPL, "new Int16Array(4)" for a zeroed
//    typed array, "Name: " before an object whose constructor is a global;
//  - strings in quotes: escapeCharacter() in src/jsutils.c;
//  - "%v" (the "Uncaught ..." line, string conversion): jsvAsString().
// What V8 does itself ("" + x, String(x), template literals, join) is not
// reachable from here; FIDELITY.md lists it.

import { Parser } from "acorn";

/** JSONFlags of src/jswrap_json.h. */
export const JSON_FLAGS = {
  SOME_NEWLINES: 1,
  ALL_NEWLINES: 2,
  PRETTY: 4,
  LIMIT: 8,
  IGNORE_FUNCTIONS: 16,
  SHOW_DEVICES: 32,
  NO_UNDEFINED: 64,
  ARRAYBUFFER_AS_ARRAY: 128,
  SHOW_OBJECT_NAMES: 256,
  DROP_QUOTES: 512,
  PIN_TO_STRING: 1024,
  ALL_UNICODE_ESCAPE: 2048,
  NO_NAN: 4096,
  ALLOW_TOJSON: 8192,
  INDENT: 16384,
} as const;
const F = JSON_FLAGS;

/** print() and console.log (jswrap_print). */
export const PRINT_FLAGS = F.PRETTY | F.SOME_NEWLINES | F.SHOW_OBJECT_NAMES;
/** The REPL's "=" line (jsiHandleNewLine). */
export const REPL_FLAGS = F.LIMIT | F.SOME_NEWLINES | F.PRETTY | F.SHOW_DEVICES | F.SHOW_OBJECT_NAMES | F.DROP_QUOTES;
/** JSON.stringify without indentation (jswrap_json_stringify). */
export const STRINGIFY_FLAGS =
  F.IGNORE_FUNCTIONS | F.NO_UNDEFINED | F.ARRAYBUFFER_AS_ARRAY | F.PIN_TO_STRING | F.ALL_UNICODE_ESCAPE | F.NO_NAN | F.ALLOW_TOJSON;

const JSON_LIMIT_AMOUNT = 15;
const JSON_LIMITED_AMOUNT = 5;
const JSON_LIMIT_STRING_AMOUNT = 60;
const JSON_LIMITED_STRING_AMOUNT = 27;
const JSON_ITEMS_ON_LINE_OBJECT = 4;
const JSON_LIMIT_TEXT = " ... ";
const JS_NUMBER_BUFFER_SIZE = 70;

// ---- numbers ------------------------------------------------------------------

/** C's (JsVarInt)x on x86-64: truncation, and INT_MIN when out of range (cvttsd2si). */
function castInt32(x: number): number {
  return x >= -2147483648 && x < 2147483648 ? Math.trunc(x) : -2147483648;
}

function itoch(v: number): string {
  return v < 10 ? String.fromCharCode(48 + v) : String.fromCharCode(97 + v - 10);
}

/**
 * ftoa_bounded_extra (src/jsutils.c, RELEASE_2V29), digit for digit:
 * `fractionalDigits` < 0 prints up to 11 fractional digits (as print does),
 * >= 0 exactly that many (toFixed: the last digit is rounded on its own, a
 * carry never propagates, so (0.96).toFixed(1) is "0.9").
 */
export function espruinoNumberText(value: number, radix = 10, fractionalDigits = -1, bufferSize = JS_NUMBER_BUFFER_SIZE): string {
  let val = value;
  let len = bufferSize;
  let s = "";
  if (Number.isNaN(val)) return "NaN";
  if (!Number.isFinite(val)) return val < 0 ? "-Infinity" : "Infinity";
  if (val < 0) {
    if (--len <= 0) return s;
    s += "-";
    val = -val;
  }
  const stopAtError = 0.0000001;
  let exponent = 0;
  if (radix === 10 && val > 0 && fractionalDigits < 0) {
    if (val >= 1e21) {
      while (val > 100000) {
        val /= 100000;
        exponent += 5;
      }
      while (val > 10) {
        val /= 10;
        exponent++;
      }
    } else if (val < 1e-6) {
      while (val < 1e-5) {
        val *= 100000;
        exponent -= 5;
      }
      while (val < 1) {
        val *= 10;
        exponent--;
      }
    }
  }
  // "what if we're really close to an integer? Just use that..."
  if (castInt32(val + stopAtError) === ((1 + castInt32(val)) | 0)) val = (1 + castInt32(val)) | 0;
  let d = 1;
  while (d * radix <= val) d *= radix;
  while (d >= 1) {
    const v = Math.trunc(val / d);
    val -= v * d;
    if (--len <= 0) return s;
    s += itoch(v);
    d /= radix;
  }
  if ((fractionalDigits < 0 && val > 0) || fractionalDigits > 0) {
    let hasPt = false;
    val *= radix;
    while ((fractionalDigits < 0 && fractionalDigits > -12 && val > stopAtError) || fractionalDigits > 0) {
      let v = Math.trunc(val + (fractionalDigits === 1 ? 0.5 : 0.00000001));
      val = (val - v) * radix;
      if (v === radix) v = radix - 1;
      if (!hasPt) {
        hasPt = true;
        if (--len <= 0) return s;
        s += ".";
      }
      if (--len <= 0) return s;
      s += itoch(v);
      fractionalDigits--;
    }
  }
  if (exponent && len > 5) s += "e" + (exponent > 0 ? "+" : "") + exponent;
  return s;
}

// ---- strings ------------------------------------------------------------------

function hex(n: number, digits: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(digits, "0").slice(-digits);
}

/** escapeCharacter (src/jsutils.c). */
function escapeCharacter(ch: number, nextCh: number, jsonStyle: boolean): string {
  if (ch === 10) return "\\n";
  if (ch === 9) return "\\t";
  if (ch === 8) return "\\b";
  if (ch === 11 && !jsonStyle) return "\\v";
  if (ch === 12) return "\\f";
  if (ch === 13) return "\\r";
  if (ch === 92) return "\\\\";
  if (ch === 34) return '\\"';
  if (ch < 8 && !jsonStyle && (nextCh < 48 || nextCh > 55)) return "\\" + String.fromCharCode(48 + ch);
  if (ch < 32 || ch >= 127) {
    if (ch >= 0x10000) {
      const c = ch - 0x10000;
      return "\\u" + hex(0xd800 | ((c >> 10) & 0x3ff), 4) + "\\u" + hex(0xdc00 | (c & 0x3ff), 4);
    }
    return jsonStyle || ch > 255 ? "\\u" + hex(ch, 4) : "\\x" + hex(ch, 2);
  }
  return String.fromCharCode(ch);
}

/**
 * A string in double quotes as "%q" prints it ("%Q" when `allUnicode`).
 * Espruino escapes with \uXXXX in a UTF-8 string (one holding characters
 * above 127 on the Linux build), with \xXX or \N otherwise.
 */
export function quoteString(s: string, allUnicode = false): string {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  const json = allUnicode || cps.some((c) => c > 127);
  let out = '"';
  for (let i = 0; i < cps.length; i++) out += escapeCharacter(cps[i]!, i + 1 < cps.length ? cps[i + 1]! : -1, json);
  return out + '"';
}

const ID_STRING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const INTEGERISH = /^-?\d+$/;

// ---- functions ----------------------------------------------------------------

/** Function source as the firmware wrote it: without the emulator's `__p(n);` calls. */
export function stripPreemption(code: string): string {
  return code.replace(/__p\(\d+\);/g, "");
}

interface FnParts {
  params: string[];
  body: string;
  expression: boolean;
}

function functionParts(fn: Function): FnParts | null {
  const src = stripPreemption(Function.prototype.toString.call(fn));
  if (/\{\s*\[native code\]\s*\}$/.test(src)) return null;
  try {
    // Methods ("m() {}") and getters do not parse as expressions: make them one.
    const attempt = (text: string): FnParts => {
      const ast = Parser.parse(`(${text})`, { ecmaVersion: "latest" }) as unknown as {
        body: Array<{ expression: { params: Array<{ start: number; end: number }>; body: { type: string; start: number; end: number } } }>;
      };
      const f = ast.body[0]!.expression;
      const code = `(${text})`;
      const params = f.params.map((p) => code.slice(p.start, p.end));
      const b = f.body;
      if (b.type !== "BlockStatement") return { params, body: code.slice(b.start, b.end), expression: true };
      return { params, body: code.slice(b.start + 1, b.end - 1).trim(), expression: false };
    };
    try {
      return attempt(src);
    } catch {
      return attempt("function " + src.replace(/^(static\s+|get\s+|set\s+|async\s+)*/, ""));
    }
  } catch {
    return { params: [], body: src, expression: false };
  }
}

/**
 * jsfGetJSONForFunctionWithCallback: "(a,b) {code}". The board keeps a
 * function's code as its own tokenised text (no name, a parameter list
 * without spaces); this rebuilds that from the source: the body as written,
 * minus surrounding space, "return " before an arrow's expression.
 */
function functionText(fn: Function, flags: number, isNative?: (fn: Function) => boolean): string {
  const parts = isNative?.(fn) ? null : functionParts(fn);
  if (!parts) return "() { [native code] }";
  let code: string;
  if (flags & F.LIMIT) code = `{${JSON_LIMIT_TEXT}}`;
  else {
    const body = (parts.expression ? "return " : "") + parts.body;
    code = body.includes("\n") ? `{\n  ${body}\n}` : `{${body}}`;
  }
  return `(${parts.params.join(",")}) ${code}`;
}

// ---- values -------------------------------------------------------------------

export interface JsonOptions {
  /** What to print for a special object (a pin's name), or undefined. */
  special?: (value: object) => string | undefined;
  /** The board's global object, to name objects by constructor (JSON_SHOW_OBJECT_NAMES). */
  globals?: Record<string, unknown>;
  /** Indentation for JSON.stringify's `space` (default two spaces). */
  whitespace?: string;
  /** Whether a function is the board's native code (printed "{ [native code] }"). Default: V8's own builtins. */
  isNative?: (fn: Function) => boolean;
  /** A global binding by name, for those not on the global object (a top-level class is a `let` in V8, a global on the board). */
  lookupGlobal?: (name: string) => unknown;
}

interface Ctx extends JsonOptions {
  out: string[];
  recursing: Set<unknown>;
  objectProto: object | null;
}

function isNumeric(v: unknown): boolean {
  return typeof v === "number" || typeof v === "boolean";
}

function needsNewLine(v: unknown): boolean {
  return !(v === undefined || v === null || isNumeric(v));
}

function newLine(flags: number, ws: string, c: Ctx): void {
  c.out.push("\n");
  let indent = Math.floor(flags / F.INDENT);
  while (indent-- > 0) c.out.push(ws);
}

function typeTag(v: object): string {
  return Object.prototype.toString.call(v).slice(8, -1);
}

function isBufferView(v: object): v is ArrayBufferView {
  return ArrayBuffer.isView(v) && typeTag(v) !== "DataView";
}

/**
 * The Espruino error type of an error object ("Error", "TypeError", ...):
 * what its toString() starts with (the emulator's Error.prototype.toString
 * gives the board's type, also for an error V8 raised), else its
 * constructor's name.
 */
export function errorType(e: object): string {
  const t = (e as { type?: unknown }).type;
  if (typeof t === "string") return t;
  try {
    const m = /^([A-Za-z]*Error)(?::|$)/.exec(String(e));
    if (m) return m[1]!;
  } catch {
    // fall through
  }
  for (let p = Object.getPrototypeOf(e); p; p = Object.getPrototypeOf(p)) {
    const ctor = Object.prototype.hasOwnProperty.call(p, "constructor") ? (p as { constructor: unknown }).constructor : undefined;
    if (typeof ctor === "function" && /Error$/.test(ctor.name)) return ctor.name;
  }
  return "Error";
}

function isError(v: object): boolean {
  return typeTag(v) === "Error";
}

/** The global name of an object's constructor, as jsvGetIndexOf(execInfo.root, constructor) finds it. */
function constructorName(v: object, c: Ctx): string | null {
  const proto = Object.getPrototypeOf(v);
  // Espruino keeps __proto__ only on objects made by `new` or Object.create.
  if (proto === null || proto === c.objectProto) return null;
  if (!Object.prototype.hasOwnProperty.call(proto, "constructor")) return null;
  const ctor = (proto as { constructor: unknown }).constructor;
  if (typeof ctor !== "function" || !c.globals) return null;
  if (isError(v)) return errorType(v);
  for (const k of Object.getOwnPropertyNames(c.globals)) {
    const d = Object.getOwnPropertyDescriptor(c.globals, k);
    if (d && "value" in d && d.value === ctor) return k;
  }
  if (c.lookupGlobal && ID_STRING.test(ctor.name) && c.lookupGlobal(ctor.name) === ctor) return ctor.name;
  return null;
}

function ownVisibleKeys(v: object, flags: number): string[] {
  const keys: string[] = [];
  for (const k of Object.keys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k);
    if (!d || !("value" in d)) continue; // getters and setters are not printed
    if (flags & F.IGNORE_FUNCTIONS && typeof d.value === "function") continue;
    if (flags & F.NO_UNDEFINED && d.value === undefined) continue;
    keys.push(k);
  }
  return keys;
}

/**
 * The line-break rule both member loops share: break before this member
 * when the previous one asked for it (`needNewLine`) or this one wants a
 * line of its own. Returns [whether it broke, whether the next member must
 * start a new line].
 */
function breakBefore(item: unknown, needNewLine: boolean, flags: number, nflags: number, ws: string, c: Ctx): [boolean, boolean] {
  let next = (flags & F.SOME_NEWLINES) !== 0 && needsNewLine(item);
  if (flags & F.ALL_NEWLINES) {
    needNewLine = true;
    next = true;
  }
  if (needNewLine || next) newLine(nflags, ws, c);
  return [needNewLine || next, next];
}

/** jsfGetJSONForObjectItWithCallback. */
function objectMembers(v: object, keys: string[], flags: number, ws: string, nflags: number, c: Ctx, first: boolean): boolean {
  let needNewLine = false;
  let sinceNewLine = 0;
  for (const k of keys) {
    const item = (v as Record<string, unknown>)[k];
    sinceNewLine++;
    if (!first) c.out.push(flags & F.PRETTY ? ", " : ",");
    if (flags & F.SOME_NEWLINES && sinceNewLine > JSON_ITEMS_ON_LINE_OBJECT) needNewLine = true;
    const [broke, newNeedsNewLine] = breakBefore(item, needNewLine, flags, nflags, ws, c);
    if (broke) sinceNewLine = 0;
    let addQuotes = true;
    if (flags & F.DROP_QUOTES && (INTEGERISH.test(k) || (k.length < 63 && ID_STRING.test(k)))) addQuotes = false;
    c.out.push((addQuotes ? quoteString(k, (flags & F.ALL_UNICODE_ESCAPE) !== 0) : k) + (flags & F.PRETTY ? ": " : ":"));
    first = false;
    json(item, k, nflags, ws, c);
    needNewLine = newNeedsNewLine;
  }
  return needNewLine;
}

/** jsfGetJSONWithCallback (src/jswrap_json.c). */
function json(v: unknown, name: string | null, flags: number, ws: string, c: Ctx): void {
  const nflags = flags + F.INDENT;
  const out = c.out;
  if (v === undefined) {
    out.push(flags & F.NO_UNDEFINED ? "null" : "undefined");
    return;
  }
  if (c.recursing.has(v)) {
    out.push(JSON_LIMIT_TEXT);
    return;
  }
  if (v !== null && (typeof v === "object" || typeof v === "function")) {
    const s = c.special?.(v);
    if (s !== undefined) {
      out.push(flags & F.PIN_TO_STRING ? quoteString(s) : s);
      return;
    }
  }
  c.recursing.add(v);
  try {
    if (Array.isArray(v)) jsonArray(v, flags, ws, nflags, c);
    else if (typeof v === "object" && v !== null && (isBufferView(v) || typeTag(v) === "ArrayBuffer")) jsonBuffer(v, flags, ws, nflags, c);
    else if (typeof v === "object" && v !== null) jsonObject(v, name, flags, ws, nflags, c);
    else if (typeof v === "function") out.push(flags & F.IGNORE_FUNCTIONS ? "undefined" : "function " + functionText(v, nflags, c.isNative));
    else if (typeof v === "string") {
      if (flags & F.LIMIT && v.length > JSON_LIMIT_STRING_AMOUNT) {
        out.push(
          quoteString(v.slice(0, JSON_LIMITED_STRING_AMOUNT)) + JSON_LIMIT_TEXT + quoteString(v.slice(v.length - JSON_LIMITED_STRING_AMOUNT)),
        );
      } else out.push(quoteString(v, (flags & F.ALL_UNICODE_ESCAPE) !== 0));
    } else if (flags & F.NO_NAN && typeof v === "number" && !Number.isFinite(v)) out.push("null");
    else out.push(valueText(v));
  } finally {
    c.recursing.delete(v);
  }
}

function jsonArray(v: unknown[], flags: number, ws: string, nflags: number, c: Ctx): void {
  const out = c.out;
  const length = v.length;
  const limited = (flags & F.LIMIT) !== 0 && length > JSON_LIMIT_AMOUNT;
  let needNewLine = false;
  out.push(flags & F.PRETTY ? "[ " : "[");
  // Espruino walks the elements that exist; a hole takes the next element's line-break rule.
  const present: number[] = [];
  const named: string[] = [];
  for (const k of Object.keys(v)) {
    if (INTEGERISH.test(k) && Number(k) < length) present.push(Number(k));
    else named.push(k);
  }
  let lastIndex = -1;
  let first = true;
  let p = 0;
  while (lastIndex + 1 < length) {
    const has = p < present.length;
    const index = has ? present[p]! : length - 1;
    const item = has ? v[index] : undefined;
    while (lastIndex < index) {
      lastIndex++;
      if (!limited || lastIndex < JSON_LIMITED_AMOUNT || lastIndex >= length - JSON_LIMITED_AMOUNT) {
        if (!first) out.push(flags & F.PRETTY ? ", " : ",");
        first = false;
        if (limited && lastIndex === length - JSON_LIMITED_AMOUNT) out.push(JSON_LIMIT_TEXT);
        const newNeedsNewLine: boolean = breakBefore(item, needNewLine, flags, nflags, ws, c)[1];
        if (lastIndex === index && has) json(item, String(index), nflags, ws, c);
        else out.push(flags & F.NO_UNDEFINED ? "null" : "undefined");
        needNewLine = newNeedsNewLine;
      }
    }
    p++;
    if (!has) break;
  }
  // Non-index members: printed by the console, not by JSON.stringify (whose
  // pending line break the board then forgets: it ignores the return value).
  if (flags & F.PRETTY && named.length) {
    objectMembers(v, ownVisibleKeys(v, flags).filter((k) => named.includes(k)), flags, ws, nflags, c, first);
  }
  if (needNewLine) newLine(flags, ws, c);
  out.push(flags & F.PRETTY ? " ]" : "]");
}

function jsonBuffer(v: object, flags: number, ws: string, nflags: number, c: Ctx): void {
  const out = c.out;
  const isBuffer = typeTag(v) === "ArrayBuffer";
  const view = (isBuffer ? new Uint8Array(v as ArrayBuffer) : v) as unknown as ArrayLike<number>;
  const asArray = (flags & F.ARRAYBUFFER_AS_ARRAY) !== 0;
  let allZero = true;
  for (let i = 0; i < view.length; i++) if (view[i] !== 0) allZero = false;
  const name = typeTag(v);
  if (allZero && !asArray) {
    out.push(`new ${name}(${view.length})`);
    return;
  }
  out.push(asArray ? "[" : `new ${isBuffer ? "Uint8Array" : name}([`);
  if (flags & F.ALL_NEWLINES) newLine(nflags, ws, c);
  const length = view.length;
  const limited = (flags & F.LIMIT) !== 0 && length > JSON_LIMIT_AMOUNT;
  for (let i = 0; i < length; i++) {
    if (!limited || i < JSON_LIMITED_AMOUNT || i >= length - JSON_LIMITED_AMOUNT) {
      if (i > 0) out.push(flags & F.PRETTY ? ", " : ",");
      if (flags & F.ALL_NEWLINES) newLine(nflags, ws, c);
      if (limited && i === length - JSON_LIMITED_AMOUNT) out.push(JSON_LIMIT_TEXT);
      json(view[i], null, nflags, ws, c);
    }
  }
  if (flags & F.ALL_NEWLINES) newLine(flags, ws, c);
  out.push(asArray ? "]" : "])");
  if (isBuffer && !asArray) out.push(".buffer");
}

function jsonObject(v: object, name: string | null, flags: number, ws: string, nflags: number, c: Ctx): void {
  const out = c.out;
  if (typeTag(v) === "DataView") {
    out.push(`new DataView(new ArrayBuffer(${(v as DataView).byteLength}))`);
    return;
  }
  if (flags & F.SHOW_OBJECT_NAMES) {
    const proto = Object.getPrototypeOf(v);
    if (proto !== null && proto !== c.objectProto && Object.prototype.hasOwnProperty.call(proto, "constructor")) {
      const ctorName = constructorName(v, c);
      if (ctorName !== null) out.push(ctorName + ": ");
      // A toString of its own (not Object.prototype's) is called and printed instead of the members.
      const toString = (v as { toString?: unknown }).toString;
      const objectToString = c.objectProto ? (c.objectProto as { toString: unknown }).toString : Object.prototype.toString;
      if (typeof toString === "function" && toString !== objectToString) {
        out.push(valueText(toString.call(v)));
        return;
      }
    }
  }
  const toJSON = flags & F.ALLOW_TOJSON ? (v as { toJSON?: unknown }).toJSON : undefined;
  if (typeof toJSON === "function") {
    const result = toJSON.call(v, name ?? undefined);
    if (result === v) c.recursing.delete(v);
    json(result, null, flags & ~F.ALLOW_TOJSON, ws, c);
    return;
  }
  out.push(flags & F.PRETTY ? "{ " : "{");
  const needNewLine = objectMembers(v, ownVisibleKeys(v, flags), flags, ws, nflags, c, true);
  if (needNewLine) newLine(flags, ws, c);
  out.push(flags & F.PRETTY ? " }" : "}");
}

/**
 * jsvAsString, as "%v" prints a value: strings as they are, numbers in
 * Espruino's form, objects through their toString (an error reads
 * "Error: message").
 */
export function valueText(v: unknown): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return espruinoNumberText(v);
    case "undefined":
      return "undefined";
    case "boolean":
      return v ? "true" : "false";
    case "function":
      return "function " + functionText(v, 0);
  }
  if (v === null) return "null";
  try {
    return String(v);
  } catch {
    return "[object Object]";
  }
}

/**
 * A value as Espruino prints it with the given JSONFlags (PRINT_FLAGS,
 * REPL_FLAGS, STRINGIFY_FLAGS, ...). Cycles print as " ... ".
 */
export function espruinoJSON(value: unknown, flags: number, options: JsonOptions = {}): string {
  const globals = options.globals;
  const objectProto = globals && typeof globals.Object === "function" ? ((globals.Object as { prototype: object }).prototype ?? null) : Object.prototype;
  const c: Ctx = { ...options, out: [], recursing: new Set(), objectProto };
  json(value, null, flags, options.whitespace ?? "  ", c);
  return c.out.join("");
}

/**
 * JSON.stringify(value, replacer, space) as jswrap_json_stringify does it:
 * the replacer is ignored; `space` (a count up to 10, or a string) turns on
 * a line per member.
 */
export function espruinoStringify(value: unknown, space: unknown, options: JsonOptions = {}): string {
  let whitespace = "";
  if (space === undefined || space === null) whitespace = "";
  else if (typeof space === "number" || typeof space === "boolean") whitespace = " ".repeat(Math.min(10, Math.max(0, Math.trunc(Number(space)) || 0)));
  else whitespace = String(space).slice(0, 10);
  let flags: number = STRINGIFY_FLAGS;
  if (whitespace.length) flags |= F.ALL_NEWLINES | F.PRETTY;
  return espruinoJSON(value, flags, { ...options, whitespace: whitespace || "  " });
}
