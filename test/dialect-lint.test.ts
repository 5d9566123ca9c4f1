// eslint.config.mjs must reject, as errors, every construct Espruino 2v29
// fails on, and accept the ordinary TypeScript the firmware is written in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ESLint, type Linter } from "eslint";
import { MISSING } from "../emulator/espruino-globals.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: "eslint.config.mjs" });

async function lint(code: string, filePath = "firmware/__fixture__.ts"): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages;
}
const show = (messages: Linter.LintMessage[]): string =>
  messages.map((m) => `${m.line}:${m.column} ${m.ruleId} ${m.message}`).join("\n") || "(none)";

const SYNTAX = "no-restricted-syntax";
const GLOBALS = "no-restricted-globals";
const PROPS = "no-restricted-properties";
const USE = "espruino/no-use-before-define";
const LOOP = "espruino/loop-binding-closure";
const POW = "espruino/exact-power-of-two";

// [rule id, code, text the message must contain]: the text tells apart the
// selectors that share no-restricted-syntax, so each case guards one entry.
const cases: [string, string, string][] = [
  [SYNTAX, "const o = { a: 1 };\nconst { a } = o;\nprint(a);", "read properties one by one"],
  [SYNTAX, "const arr = [1];\nconst [b] = arr;\nprint(b);", "index the array"],
  [SYNTAX, "export function f({ a }: { a: number }): number { return a; }", "destructuring"],
  [SYNTAX, "export function f(a = 1): number { return a; }", "default parameters"],
  [SYNTAX, "export function f(...xs: number[]): number[] { return xs; }", "rest parameters"],
  [SYNTAX, "export const f = (...xs: number[]): number => xs.length;", "rest parameters"],
  [SYNTAX, "const xs = [1];\nprint(Math.max(...xs));", "no spread"],
  [SYNTAX, "const xs = [1];\nexport const ys = [0, ...xs];", "no spread"],
  [SYNTAX, "const o = { a: 1 };\nexport const p = { ...o };", "no spread"],
  [SYNTAX, "const k = 'a';\nexport const o = { [k]: 1 };", "computed keys"],
  [SYNTAX, "const k = 'a';\nexport class C { [k](): number { return 1; } }", "computed keys"],
  [SYNTAX, "export async function f(): Promise<void> {}", "async functions"],
  [SYNTAX, "export const f = async (): Promise<void> => {};", "async functions"],
  [SYNTAX, "export async function f(p: Promise<number>): Promise<number> { return await p; }", "await fails"],
  [SYNTAX, "export async function f(xs: any): Promise<void> { for await (const x of xs) print(x); }", "for await"],
  [SYNTAX, "export function* g(): any {}", "no generators (SyntaxError)"],
  [SYNTAX, "export function* g(): any { yield 1; }", "generators/yield"],
  [SYNTAX, "outer: for (;;) { break outer; }", "labelled statements"],
  [SYNTAX, "export const x = 2 ** 3;", "no `**`"],
  [SYNTAX, "let x = 2;\nx **= 3;\nprint(x);", "no `**=`"],
  [SYNTAX, "export class C { #x = 1; get x(): number { return this.#x; } }", "#private"],
  [SYNTAX, "function dec(c: unknown): void { print(c); }\n@dec\nexport class C {}", "decorators"],
  [SYNTAX, "class A { constructor() {} }\nexport class B extends A { n = 1; }", "explicit constructor"],
  [SYNTAX, "class A { constructor() {} }\nexport const B = class extends A {};", "explicit constructor"],
  [SYNTAX, "export const s = Array.prototype.slice;", "X.prototype"],
  [SYNTAX, "export const t = String.prototype.trim;", "X.prototype"],
  [SYNTAX, "export const c = Function.prototype.call;", "X.prototype"],
  [SYNTAX, "export const t = Object.prototype.toString;", "X.prototype"],
  ...["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt"].map(
    (name): [string, string, string] => [GLOBALS, `export const x: unknown = ${name};`, `${name} is missing in Espruino`],
  ),
  ...[
    "Array.from", "Array.of", "Object.freeze", "Number.isInteger", "Math.imul", "Math.trunc",
    "Promise.race", "Promise.allSettled", "Promise.any",
  ].map((name): [string, string, string] => [PROPS, `export const x: unknown = ${name};`, `${name} is missing in Espruino`]),
  [PROPS, "export function f(p: Promise<number>): void { p.finally(() => print(1)); }", "finally is missing"],
  // Measured on the real interpreter (test/fidelity probes).
  [GLOBALS, "export const e = new RangeError('r');", "RangeError is missing in Espruino"],
  [PROPS, "export const ok = Number.isFinite(1);", "Number.isFinite is missing"],
  [PROPS, "export const ok = Number.isNaN(1);", "Number.isNaN is missing"],
  [PROPS, "export const h = Math.hypot(3, 4);", "Math.hypot is missing"],
  [PROPS, "export const l = Math.log2(8);", "Math.log2 is missing"],
  [PROPS, "export const s = (1.5).toPrecision(2);", "toPrecision is missing"],
  [PROPS, "export const s = ' x'.trimStart();", "trimStart is missing"],
  [SYNTAX, "const a = [1, 2];\na.length = 0;", "length throws"],
  [SYNTAX, "const a = [1, 2];\na.length += 1;", "length throws"],
  [SYNTAX, "const a = [1, 2];\na['length']--;", "length throws"],
  [SYNTAX, "export class E2 extends Error { constructor() { super('x'); } }", "derived from a built-in class"],
  [SYNTAX, "export class P extends Promise<number> { constructor(f: any) { super(f); } }", "derived from a built-in class"],
  [SYNTAX, "export const K = class extends Int16Array { constructor() { super(2); } };", "derived from a built-in class"],
  [POW, "export const big = Math.pow(2, 15);", "Math.pow(2, 15) is inexact"],
  [POW, "export function p(n: number): number { return Math.pow(2, n); }", "Math.pow(2, n) is inexact"],
  [USE, "f();\nfunction f(): void {}", "not hoisted"],
  [USE, "export function g(): number { return h(); }\nfunction h(): number { return 1; }", "not hoisted"],
  [USE, "export const c = new C();\nclass C {}", "not hoisted"],
  [USE, "print(x);\nconst x = 1;", "not hoisted"],
  [LOOP, "const fs: Array<() => number> = [];\nfor (let i = 0; i < 3; i++) fs.push(() => i);", "one binding of 'i'"],
  [LOOP, "const fs: Array<() => number> = [];\nfor (const v of [1]) fs.push(() => v);", "one binding of 'v'"],
  [LOOP, "const fs: Array<() => string> = [];\nfor (const k in {}) fs.push(function () { return k; });", "one binding of 'k'"],
  ["espruino/no-loop-func", "const fs: Array<() => number> = [];\nfor (var j = 0; j < 3; j++) fs.push(() => j);", "Espruino"],
];

for (const [rule, code, text] of cases) {
  test(`${rule}: ${code.split("\n").pop()}`, async () => {
    const messages = await lint(code);
    assert.ok(
      messages.some((m) => m.ruleId === rule && m.severity === 2 && m.message.includes(text)),
      `expected error ${rule} containing "${text}", got:\n${show(messages)}`,
    );
  });
}

// Ordinary firmware TypeScript, which Espruino runs once compiled: no errors.
const allowed = `
const enum State { Idle, Running }
export enum Rate { R8k = 8000, R48k = 48000 }
interface Sink { write(buf: Int16Array): number }
type Listener = (...args: unknown[]) => void;
declare function native(...args: number[]): void;
function clamp(x: number, lo: number, hi: number): number { return x < lo ? lo : x > hi ? hi : x; }
class Ring {
  private readonly buf: Int16Array;
  private head = 0;
  static readonly SIZE = 64;
  constructor(size: number) { this.buf = new Int16Array(size); }
  get free(): number { return this.buf.length - this.head; }
  push(src: Int16Array): number {
    const n = clamp(src.length, 0, this.free);
    this.buf.set(src.subarray(0, n), this.head);
    this.head += n;
    return n;
  }
}
export class Dai extends Ring implements Sink {
  state = State.Idle;
  listeners: Listener[] = [];
  constructor(size: number, public name?: string) { super(size); }
  write(buf: Int16Array): number { this.state = State.Running; return this.push(buf); }
}
class Map { size = 0; }
export const local = new Map();
export function callbacks(n: number): Array<() => number> {
  const out: Array<() => number> = [];
  for (let i = 0; i < n; i++) {
    const k = i;
    out.push(() => k * 2);
  }
  for (const x of [1, 2]) print(x);
  return out;
}
export function describe(o: { [k: string]: number }, d?: Dai): string {
  let s = "";
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) s += \`\${k}=\${o[k]} \`;
  const parts = [].slice.call([1, 2], 1);
  return s + (d?.name ?? "none") + parts.length + Math.pow(2, 3) + Math.pow(10, 0.5) + Math.sign(-1) + Object.keys(o).length;
}
export const ready = Promise.resolve(1).then((v) => v + 1).catch(() => 0);
export class List extends Array<number> { constructor() { super(); } }
export const big = 32768 + (1 << 20) + (isFinite(1) ? 1 : 0);
native(1, 2);
`;

test("allowed: ordinary firmware TypeScript has no errors", async () => {
  // The dialect only: the context and state-transition rules are tested in irq-lint.test.ts.
  const dialect = (await lint(allowed)).filter((m) => m.ruleId !== "espruino/context-doc" && !/transition function/.test(m.message));
  assert.equal(show(dialect), "(none)");
});

test("allowed: boards/ files are linted with the same rules", async () => {
  assert.match(show(await lint("export const x = 2 ** 3;", "boards/__fixture__/main.ts")), /no-restricted-syntax/);
});

test("allowed: drivers/ files are linted with the same rules", async () => {
  assert.match(show(await lint("export const x = 2 ** 3;", "drivers/__fixture__.ts")), /no-restricted-syntax/);
  assert.match(show(await lint("export const x = 2 ** 3;", "drivers/stm32f4/__fixture__.ts")), /no-restricted-syntax/);
});

test("allowed: ambient .d.ts declarations (rest parameters there emit no code)", async () => {
  const messages = await lint("declare function print(...text: unknown[]): void;", "firmware/types/__fixture__.d.ts");
  assert.equal(show(messages), "(none)");
});

// Every name the emulator removes because the board lacks it (measured:
// MISSING in emulator/espruino-globals.ts) is refused by the lint too, except
// method names too plain to refuse on every object: those the bundle scan
// and the emulator catch.
const PLAIN_METHOD_NAMES = new Set([
  "at", "keys", "values", "entries", "flat", "search", "with", "slice", "resize", "resizable", "maxByteLength",
  "anchor", "big", "blink", "bold", "fixed", "fontcolor", "fontsize", "italics", "link", "small", "strike", "sub", "sup",
  "isWellFormed", "toWellFormed", "toLocaleLowerCase", "toLocaleUpperCase", "of", "from",
  "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
]);
test("every builtin the emulator removes is refused by the lint", async () => {
  const unflagged: string[] = [];
  for (const [where, names] of Object.entries(MISSING)) {
    for (const name of names) {
      let code: string;
      if (where === "globalThis") code = `export const x: unknown = ${name};`;
      else if (!where.includes("prototype") && !where.startsWith("%")) code = `export const x: unknown = ${where}.${name};`;
      else if (PLAIN_METHOD_NAMES.has(name)) continue;
      else code = `export const x: unknown = ([] as any).${name};`;
      const messages = await lint(code);
      if (!messages.some((m) => m.severity === 2 && /missing in Espruino/.test(m.message))) unflagged.push(`${where}.${name}`);
    }
  }
  assert.deepEqual(unflagged, []);
});
