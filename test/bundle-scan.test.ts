// scanBundle must report each construct Espruino 2v29 rejects, under its own
// rule, and nothing for code the interpreter runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { scanBundle } from "../scripts/espruino-scan.ts";
import { MISSING } from "../emulator/espruino-globals.ts";

const show = (code: string): string =>
  scanBundle(code).map((f) => `${f.rule}@${f.line}:${f.column} ${f.snippet}`).join("\n") || "(none)";

// [rule, code, start of the reported snippet]: the snippet pins the finding to
// the construct under test, so removing that one check fails its case.
const cases: [string, string, string][] = [
  ["spread", "f(...xs);", "...xs"],
  ["spread", "var a = [1, ...xs];", "...xs"],
  ["spread", "var o = { a: 1, ...p };", "...p"],
  ["rest-param", "function f(a, ...more) {}", "...more"],
  ["rest-param", "var f = (...xs) => xs;", "...xs"],
  ["default-param", "function f(a = 1) {}", "a = 1"],
  ["destructuring", "var { a } = o;", "{ a }"],
  ["destructuring", "let [x, y] = arr;", "[x, y]"],
  ["destructuring", "function f({ a }) {}", "{ a }"],
  ["destructuring", "var a; ({ a } = o);", "{ a }"],
  ["destructuring", "try {} catch ({ message }) {}", "{ message }"],
  ["destructuring", "for (const [k, v] of pairs) {}", "[k, v]"],
  ["computed-key", "var o = { [k]: 1 };", "[k]: 1"],
  ["computed-key", "class C { [k]() {} }", "[k]() {}"],
  ["label", "outer: for (;;) { break outer; }", "outer:"],
  ["generator", "function* g() {}", "function* g"],
  ["generator", "function* g() { yield 1; }", "yield 1"],
  ["async", "async function f() {}", "async function"],
  ["async", "async function f() { await p; }", "await p"],
  ["async", "async function f() { for await (const x of xs) {} }", "for await"],
  ["exponent", "var x = 2 ** 3;", "2 ** 3"],
  ["exponent", "var x = 2; x **= 3;", "x **= 3"],
  ["optional-chaining", "var x = o?.a;", "o?.a"],
  ["super-spread-arguments", "class A {} class B extends A { constructor() { super(...arguments); } }", "...arguments"],
  ["builtin-prototype", "Array.prototype.slice.call(a);", "Array.prototype.slice"],
  ["builtin-prototype", "String.prototype.trim.call(s);", "String.prototype.trim"],
  ["builtin-prototype", "Function.prototype.call.call(f);", "Function.prototype.call"],
  ["builtin-prototype", "Object.prototype.toString.call(o);", "Object.prototype.toString"],
  ["builtin-prototype", "var s = Array.prototype['slice'];", "Array.prototype['slice']"],
  ...["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt"].map(
    (name): [string, string, string] => ["missing-global", `var x = ${name};`, name],
  ),
  ...["Array.from", "Array.of", "Object.freeze", "Number.isInteger", "Math.imul", "Math.trunc", "Promise.race"].map(
    (name): [string, string, string] => ["missing-static", `${name}(a);`, name],
  ),
  // Measured on the real interpreter (test/fidelity probes).
  ["missing-global", "throw new RangeError('r');", "RangeError"],
  ["missing-static", "var ok = Number.isFinite(x);", "Number.isFinite"],
  ["missing-static", "var ok = Number.isNaN(x);", "Number.isNaN"],
  ["missing-static", "var h = Math.hypot(3, 4);", "Math.hypot"],
  ["missing-static", "var l = Math.log2(8);", "Math.log2"],
  ["missing-method", "var s = x.toPrecision(3);", "x.toPrecision"],
  ["missing-method", "var s = name.trimEnd();", "name.trimEnd"],
  ["length-assign", "a.length = 0;", "a.length = 0"],
  ["length-assign", "a.length--;", "a.length--"],
  ["extends-builtin", "class E2 extends Error { constructor() { super('x'); } }", "Error"],
  ["extends-builtin", "var K = class extends Int16Array { constructor() { super(2); } };", "Int16Array"],
  ["inexact-pow", "var m = Math.pow(2, 15) - 1;", "Math.pow(2, 15)"],
  ["inexact-pow", "function p(n) { return Math.pow(2, n); }", "Math.pow(2, n)"],
  // A let in a loop head is local to the loop.
  ["missing-global", "for (let Map = 0; Map < 1; Map++) {} var m = new Map();", "Map"],
  ["class-field", "class C { x = 1; }", "x = 1"],
  ["class-field", "class C { static {} }", "static {}"],
  // No hoisting: a declaration runs where it stands.
  ["use-before-declaration", "f(); function f() {}", "f"],
  ["use-before-declaration", "function outer() { var x = g(); function g() {} }", "g"],
  ["use-before-declaration", "!function () { var a = 1; h(a); function h() {} }();", "h"],
  ["use-before-declaration", "(function () { (function () { h(); })(); function h() {} })();", "h"],
  ["use-before-declaration", "(function () { (() => h())(); function h() {} })();", "h"],
  ["use-before-declaration", "(function () { function a() { b(); } a(); function b() {} })();", "a"],
  ["use-before-declaration", "(function () { var x = new C(); class C {} })();", "C"],
  ["use-before-declaration", "(function () { var x = C.y; class C {} })();", "C"],
  ["use-before-declaration", "(function () { class B extends A {} class A {} })();", "A"],
  ["use-before-declaration", "(function () { var a = function () { b(); }; a(); function b() {} })();", "a"],
  ["use-before-declaration", "(function () { class K { constructor() { b(); } } new K(); function b() {} })();", "K"],
  ["parse", "var x = (;", ""],
];

for (const [rule, code, snippet] of cases) {
  test(`${rule}: ${code}`, () => {
    const found = scanBundle(code);
    assert.ok(
      found.some((f) => f.rule === rule && f.snippet.startsWith(snippet)),
      `expected ${rule} at "${snippet}", got:\n${show(code)}`,
    );
  });
}

// Things Espruino runs: each must report nothing.
const clean: [string, string][] = [
  ["Map shadowed locally, function called after its declaration", `!function () {
    "use strict";
    var Map = function () { this.k = []; };
    function run() { return later(new Map()); }
    function later(m) { return m.k.length; }
    setTimeout(function () { return late2(); }, 10);
    function late2() { return run(); }
    print(run());
  }();`],
  ["typeof guard on a missing global", "var hasSym = typeof Symbol === 'function';"],
  ["Object.prototype.hasOwnProperty", "Object.prototype.hasOwnProperty.call(o, 'k');"],
  ["user prototype and instance methods", "function P() {} P.prototype.m = function () { return [].slice.call(arguments); };"],
  ["for..in, for..of, let, template literal, getter, class with constructor", `
    for (const k in o) print(\`\${k}\`);
    for (const x of [1, 2]) print(x);
    class A { constructor(n) { this.n = n; } get twice() { return this.n * 2; } }
    class B extends A { constructor() { super(1); } }
    var y = o ?? 1;`],
  ["property keys and labels-free member names", "var o = { Map: 1, from: 2 }; o.Map = Array.isArray; x.from(1); x.trunc;"],
  ["var is function scoped", "function f(x) { if (x) { var Set = x; } return new Set(); }"],
  ["method bodies run only when called", "(function () { class K { m() { return b(); } } function b() { return 1; } print(new K().m()); })();"],
  ["mutual recursion called after both", "function a(n) { return n && b(n - 1); } function b(n) { return a(n); } a(3);"],
  ["exact powers, Array and Object subclasses, a local RangeError, reading length",
    "var a = Math.pow(2, 9) + Math.pow(10, 0.5) + (1 << 15); class L extends Array { constructor() { super(); } }" +
    " class O extends Object { constructor() { super(); } } function f(RangeError) { return new RangeError(); } var n = [1].length;"],
];
for (const [name, code] of clean) {
  test(`clean: ${name}`, () => assert.equal(show(code), "(none)"));
}

test("clean: a real bundle from the build toolchain", () => {
  const code = readFileSync(new URL("fixtures/dialect/clean-bundle.js", import.meta.url), "utf8");
  assert.equal(show(code), "(none)");
});

test("positions are 1-based line and column", () => {
  const [f] = scanBundle("var a = 1;\nf(a, ...b);");
  assert.deepEqual([f.rule, f.line, f.column, f.snippet], ["spread", 2, 6, "...b"]);
});

test("instance field values run at `new`, not at the class declaration", () => {
  const code = "(function () { class K { x = b(); } function b() { return 1; } print(new K().x); })();";
  assert.deepEqual(scanBundle(code).map((f) => f.rule), ["class-field"]);
});

// Every global and static the emulator removes because the board lacks it
// (measured: MISSING in emulator/espruino-globals.ts) is reported by the scan.
test("every missing global and static the emulator removes is reported", () => {
  const unreported: string[] = [];
  for (const [where, names] of Object.entries(MISSING)) {
    if (where.includes("prototype") || where.startsWith("%")) continue;
    for (const name of names) {
      const code = where === "globalThis" ? `var x = ${name};` : `var x = ${where}.${name};`;
      if (!scanBundle(code).some((f) => f.rule === "missing-global" || f.rule === "missing-static")) unreported.push(`${where}.${name}`);
    }
  }
  assert.deepEqual(unreported, []);
});
