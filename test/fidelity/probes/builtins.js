// Built-ins present and absent on the board (facts file: "Built-ins that are
// missing"), each as typeof so a missing one reads "undefined".
// probe: missing-globals
print(typeof Map, typeof Set, typeof WeakMap, typeof WeakSet, typeof Symbol, typeof Proxy, typeof Reflect, typeof BigInt);
// probe: present-globals
print(typeof Promise, typeof JSON, typeof Math, typeof Date, typeof ArrayBuffer, typeof DataView, typeof Int16Array, typeof Uint8ClampedArray, typeof Float64Array, typeof Int32Array);
// probe: global-names
print(typeof global, typeof globalThis, typeof process, typeof E, typeof require, typeof print, typeof console, typeof getTime, typeof peek32, typeof poke32);
// probe: array-statics
print(typeof Array.from, typeof Array.of, typeof Array.isArray);
// probe: object-statics
print(typeof Object.freeze, typeof Object.keys, typeof Object.assign, typeof Object.create, typeof Object.defineProperty, typeof Object.entries, typeof Object.values, typeof Object.getOwnPropertyNames, typeof Object.setPrototypeOf, typeof Object.getPrototypeOf, typeof Object.is);
// probe: number-statics-present
print(typeof Number.isInteger, typeof Number.isFinite, typeof Number.isNaN, typeof Number.parseFloat, typeof Number.parseInt, typeof Number.isSafeInteger);
// probe: math-statics
print(typeof Math.imul, typeof Math.trunc, typeof Math.sign, typeof Math.hypot, typeof Math.log2, typeof Math.log10, typeof Math.cbrt, typeof Math.clz32, typeof Math.fround, typeof Math.expm1);
// probe: number-methods
print(typeof (1).toFixed, typeof (1).toPrecision, typeof (1).toExponential, typeof (1).toString, typeof (1).toLocaleString);
// probe: promise-statics
print(typeof Promise.all, typeof Promise.resolve, typeof Promise.reject, typeof Promise.race, typeof Promise.allSettled, typeof Promise.any, typeof Promise.resolve().finally, typeof Promise.resolve().then);
// probe: prototype-methods
print(typeof Array.prototype.slice, typeof String.prototype.trim, typeof Function.prototype.call, typeof Object.prototype.hasOwnProperty, typeof [].slice, typeof "".trim, typeof print.call);
// probe: array-methods
var a = [3, 1, 2];
print(typeof a.includes, typeof a.find, typeof a.findIndex, typeof a.fill, typeof a.some, typeof a.every, typeof a.flat, typeof a.flatMap, typeof a.copyWithin, typeof a.entries, typeof a.keys, typeof a.lastIndexOf, typeof a.findLast, typeof a.at);
// probe: string-methods-present
var s = "abc";
print(typeof s.padStart, typeof s.padEnd, typeof s.startsWith, typeof s.endsWith, typeof s.repeat, typeof s.includes, typeof s.trimStart, typeof s.trimEnd, typeof s.at, typeof s.codePointAt, typeof s.normalize, typeof s.localeCompare, typeof s.replaceAll, typeof s.matchAll);
// probe: function-methods
function f(a, b) { return this.k + a + b; }
print(typeof f.bind, typeof f.call, typeof f.apply, f.call({ k: 1 }, 2, 3), f.apply({ k: 1 }, [2, 3]), f.bind({ k: 1 }, 2)(3), f.length);
// probe: date
print(typeof Date.now, typeof new Date().getTime, typeof Date.now());
// probe: static-inheritance
class A { static s() { return 1; } }
class B extends A { constructor() { super(); } }
print(typeof A.s, typeof B.s);
// probe: hoisting
try { g(); print("hoisted"); } catch (e) { print("not hoisted", "" + e); }
function g() { return 1; }
// probe: for-let-binding
var fs = [];
for (let i = 0; i < 3; i++) fs.push(function () { return i; });
print(fs[0](), fs[1](), fs[2]());
// probe: regexp
print(typeof RegExp, /a(b)/.exec("xab"), "a1b2".replace(/\d/g, "#"), /^\d+$/.test("123"), "a,b;c".split(/[,;]/));
// probe: extends-builtins
// A class deriving from a built-in class cannot call its constructor.
var out = [];
function tryExtend(name, make) { try { make(); out.push(name + ":ok"); } catch (e) { out.push(name + ":" + e); } }
tryExtend("Error", function () { class A extends Error { constructor() { super("m"); } } return new A(); });
tryExtend("Array", function () { class B extends Array { constructor() { super(); } } return new B(); });
tryExtend("Promise", function () { class C extends Promise { constructor(f) { super(f); } } return new C(function () {}); });
tryExtend("Int16Array", function () { class D extends Int16Array { constructor() { super(2); } } return new D(); });
tryExtend("Object", function () { class F extends Object { constructor() { super(); } } return new F(); });
tryExtend("ArrayBuffer", function () { class I extends ArrayBuffer { constructor() { super(2); } } return new I(); });
tryExtend("DataView", function () { class J extends DataView { constructor() { super(new ArrayBuffer(2)); } } return new J(); });
tryExtend("Date", function () { class K extends Date { constructor() { super(0); } } return new K(); });
tryExtend("RegExp", function () { class L extends RegExp { constructor() { super("a"); } } return new L(); });
tryExtend("String", function () { class M extends String { constructor() { super("s"); } } return new M(); });
tryExtend("Number", function () { class N extends Number { constructor() { super(1); } } return new N(); });
tryExtend("Function", function () { class O extends Function { constructor() { super(); } } return new O(); });
tryExtend("user", function () { class G { constructor() { this.g = 1; } } class H extends G { constructor() { super(); } } return new H(); });
print(out.join("\n"));
