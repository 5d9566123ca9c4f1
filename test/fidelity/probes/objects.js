// Objects: property order, keys, prototypes, classes.
// probe: property-order
var o = { b: 1, a: 2, 2: "x", 1: "y", c: 3 };
print(Object.keys(o).join(","));
// probe: property-order-delete-readd
var o = { a: 1, b: 2, c: 3 };
delete o.a; o.a = 4;
print(Object.keys(o).join(","), JSON.stringify(o));
// probe: for-in-order
function P() { this.own = 1; }
P.prototype.inherited = 2;
var p = new P();
var ks = []; for (var k in p) ks.push(k);
print(ks.join(","));
// probe: array-keys
var a = [5, 6]; a.x = 1;
print(Object.keys(a).join(","), a.length);
// probe: has-own
var o = { a: 1 };
print(o.hasOwnProperty("a"), Object.prototype.hasOwnProperty.call(o, "a"), "a" in o, "toString" in o);
// probe: object-assign
var o = Object.assign({ a: 1 }, { b: 2 }, null, { a: 3 });
print(JSON.stringify(o));
// probe: define-property
var o = {};
Object.defineProperty(o, "x", { value: 1, enumerable: false });
Object.defineProperty(o, "y", { get: function () { return 2; }, enumerable: true });
print(o.x, o.y, Object.keys(o).join(","));
// probe: class-getters
class C { constructor() { this._v = 1; } get v() { return this._v * 2; } set v(x) { this._v = x; } }
var c = new C(); c.v = 5;
print(c.v, Object.keys(c).join(","));
// probe: instanceof-and-constructor
class A { constructor() {} }
class B extends A { constructor() { super(); } }
var b = new B();
print(b instanceof A, b instanceof B, b.constructor === B, typeof A);
// probe: object-to-string
print("" + {}, "" + [1, 2], "" + [], "" + [1, [2, 3]], "" + null, "" + undefined, "" + true, String({ a: 1 }));
// probe: array-to-string-nested
print([1, null, undefined, 2].join("-"), [1, [2, [3]]].toString(), String([null]));
// probe: array-basics
var a = [3, 1, 2];
a.sort();
print(a, a.indexOf(2), a.slice(1), a.concat([4]), a.reverse(), a.splice(0, 1), a);
// probe: array-sort-numbers
print([10, 9, 1, 100].sort(), [10, 9, 1, 100].sort(function (x, y) { return x - y; }));
// probe: array-length-set
var a = [1, 2, 3];
a.length = 1;
print(a, a.length);
// probe: length-assign
var out = [];
function tryIt(name, f) { try { f(); out.push(name + ":ok"); } catch (e) { out.push(name + ":" + e); } }
var a = [1, 2, 3];
tryIt("array=0", function () { a.length = 0; });
tryIt("array+=1", function () { a.length += 1; });
tryIt("string", function () { var s = "abc"; s.length = 1; });
tryIt("typed", function () { var t = new Int16Array(4); t.length = 2; });
tryIt("object", function () { var o = { length: 1 }; o.length = 2; });
print(out.join("\n"), a.length);
