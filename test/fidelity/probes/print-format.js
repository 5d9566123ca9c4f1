// How print() and console.log show values (jsfPrintJSON with JSON_PRETTY |
// JSON_SOME_NEWLINES | JSON_SHOW_OBJECT_NAMES).
// probe: print-primitives
print(true, false, null, undefined, 0, "str", "");
// probe: print-string-args
print("a", "b c", 1, "x");
console.log("log", 1, true);
// probe: print-number-arrays
print([1, 2, 3], [], [1.5, -2], [null, undefined, 1]);
// probe: print-mixed-arrays
print([1, "a", 2], ["x", "y"], [true, false], [[1, 2], [3]]);
// probe: print-objects
print({}, { a: 1 }, { a: 1, b: "x" }, { "b c": 2, d: null });
// probe: print-nested
print({ a: [1, 2], b: { c: 3 } });
console.log({ a: [1, { b: 2 }] });
// probe: print-many-keys
print({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 });
// probe: print-many-strings
print({ a: "1", b: "2", c: "3", d: "4", e: "5", f: "6" });
// probe: print-long-array
var a = []; for (var i = 0; i < 20; i++) a.push(i);
print(a);
// probe: print-string-escapes
print(["quote\"", "back\\slash", "new\nline", "tab\t", "\x01", "\u00e9", "\x7f"]);
// probe: print-sparse-array
var a = [1]; a[3] = 4;
print(a, a.length);
// probe: print-array-with-props
var a = [1, 2]; a.extra = "x";
print(a);
// probe: print-functions
print(function (a, b) { return a + b; });
print(function named() { var x = 1; return x; });
print(function () {
  return 1;
});
// probe: print-arrow
print((a) => a * 2, () => { return 1; });
// probe: print-class-instance
class Point { constructor(x, y) { this.x = x; this.y = y; } norm() { return 0; } }
print(new Point(1, 2));
// probe: print-class-with-tostring
class Named { constructor() { this.n = 1; } toString() { return "Named#1"; } }
print(new Named(), "" + new Named());
// probe: print-object-create
var proto = { greet: function () { return 1; } };
var o = Object.create(proto);
o.x = 1;
print(o);
// probe: print-getter
var o = { get g() { return 1; }, v: 2 };
print(o, o.g);
// probe: print-promise
print(Promise.resolve(1));
// probe: print-cycle
var o = { a: 1 }; o.self = o;
print(o);
// probe: print-date-type
print(typeof new Date(0), new Date(0).getTime());
// probe: print-numeric-keys
print({ 2: "b", 1: "a", x: "c", 0: "z" });
// probe: print-undefined-values
print({ a: undefined, b: 1 }, [undefined]);
// probe: console-log-object-and-string
console.log("value:", { a: 1 }, [1, 2], "end");
