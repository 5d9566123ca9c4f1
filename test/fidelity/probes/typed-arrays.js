// Typed arrays: writes, set(), subarray, fill, flat storage, printing.
// probe: negative-index-write
var a = new Int16Array(4);
try { a[-1] = 5; print("no throw", a[-1]); } catch (e) { print("threw", e); }
print(a);
// probe: index-past-end
var a = new Int16Array(4);
a[4] = 7; a[10] = 1;
print(a[4], a[10], a.length, a);
// probe: set-past-end
var b = new Int16Array(4);
try { b.set([1, 2, 3], 3); print("no throw"); } catch (e) { print("threw", e); }
print(b);
// probe: set-offset-fits
var b = new Int16Array(6);
b.set([1, 2, 3], 3);
b.set(new Int16Array([9, 8]));
print(b);
// probe: set-negative-offset
var b = new Int16Array(4);
try { b.set([1], -1); print("no throw", b); } catch (e) { print("threw", e); }
// probe: set-typed-from-other-type
var f = new Float32Array([1.7, -1.7, 40000.5, -40000]);
var i = new Int16Array(4);
i.set(f);
print(i);
// probe: write-conversions
var i = new Int16Array(6);
i[0] = 40000; i[1] = -40000; i[2] = 1.7; i[3] = -1.7; i[4] = NaN; i[5] = "12";
var u = new Uint8Array(3);
u[0] = 256; u[1] = -1; u[2] = 3.9;
print(i, u);
// probe: clamped
var c = new Uint8ClampedArray(3);
c[0] = 300; c[1] = -5; c[2] = 1.5;
print(c);
// probe: subarray
var a = new Int16Array([1, 2, 3, 4, 5, 6]);
var s = a.subarray(2, 4);
s[0] = 30;
print(s, s.length, s.byteOffset, s.byteLength, a, a.subarray(-2), a.subarray(4, 2).length, s.buffer === a.buffer);
// probe: fill
var a = new Int16Array(6);
a.fill(3);
a.fill(7, 4);
a.fill(9, 1, 2);
print(a, a.fill(0) === a);
// probe: print-zero-and-nonzero
print(new Int16Array(3), new Int16Array([0, 1]), new Uint8Array(0), new Float32Array([0.5, -1]), new ArrayBuffer(2), new Uint8Array([1, 2]).buffer);
// probe: typed-methods
var a = new Int16Array([3, 1, 2]);
print(a.indexOf(2), a.join("-"), a.map(function (x) { return x * 2; }), a.reduce(function (s, x) { return s + x; }, 0));
var n = 0; a.forEach(function (x) { n += x; }); print(n, typeof a.slice, typeof a.sort, typeof a.reverse, typeof a.find);
// probe: dataview
var d = new DataView(new ArrayBuffer(4));
d.setInt16(0, -2, true); d.setUint16(2, 0x1234);
print(d.getInt16(0, true), d.getUint8(2), d.getUint8(3), new Uint8Array(d.buffer));
// probe: flat-address
var sizes = [1, 2, 4, 8, 16, 20, 21, 32, 41, 42, 64, 256, 1024];
var out = [];
sizes.forEach(function (n) { out.push(n + ":" + (E.getAddressOf(new Uint8Array(n), true) !== 0 ? "flat" : "0")); });
print(out.join(" "));
// probe: flat-address-int16
print(E.getAddressOf(new Int16Array(2), true) !== 0, E.getAddressOf(new Int16Array(512), true) !== 0, E.getAddressOf(new Int16Array(16), true) !== 0);
// probe: flat-address-subarray
var a = new Int16Array(256);
var base = E.getAddressOf(a, true);
print(E.getAddressOf(a.subarray(10), true) - base, E.getAddressOf(a.buffer, true) === base, E.getAddressOf({}, true), E.getAddressOf("str", true) === 0);
// probe: typed-array-from-array
var a = new Int16Array([1.5, -2.5, "3", null, undefined]);
var b = new Int16Array(new ArrayBuffer(8), 2, 2);
print(a, b.length, b.byteOffset);
// probe: typed-array-bad-args
try { var a = new Int16Array(-1); print("no throw", a.length); } catch (e) { print("threw", e); }
try { var b = new Int16Array(new ArrayBuffer(3)); print("no throw", b.length); } catch (e) { print("threw", e); }
