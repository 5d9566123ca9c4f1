// Espruino's own API as the firmware reads it: process, E, memory.
// probe: process-memory-fields
var m = process.memory();
print(Object.keys(m).join(","));
print(typeof m.free, typeof m.usage, typeof m.total, typeof m.blocksize, m.free + m.usage === m.total);
// probe: process-env
print(typeof process.env, process.env.VERSION, typeof process.env.BOARD, typeof process.version);
// probe: process-env-board
print(process.env.BOARD);
// probe: size-of-primitives
print(E.getSizeOf(1), E.getSizeOf(1.5), E.getSizeOf(true), E.getSizeOf(null), E.getSizeOf(undefined));
// probe: size-of-strings
print(E.getSizeOf(""), E.getSizeOf("abcd"), E.getSizeOf("abcdefghij"), E.getSizeOf("abcdefghijklmnopqrstu"), E.getSizeOf("a".repeat(100)));
// probe: size-of-objects
print(E.getSizeOf({}), E.getSizeOf({ a: 1 }), E.getSizeOf({ a: 1, b: 2 }), E.getSizeOf([]), E.getSizeOf([1, 2, 3]), E.getSizeOf({ a: { b: 1 } }));
// probe: size-of-typed-arrays
print(E.getSizeOf(new Uint8Array(4)), E.getSizeOf(new Uint8Array(20)), E.getSizeOf(new Uint8Array(30)), E.getSizeOf(new Uint8Array(64)), E.getSizeOf(new Int16Array(512)));
// probe: size-of-function
print(E.getSizeOf(function () {}) > 0, typeof E.getSizeOf(print));
// probe: e-statics
print(typeof E.getAddressOf, typeof E.getSizeOf, typeof E.on, typeof E.mapInPlace, typeof E.sum, typeof E.variance, typeof E.clip, typeof E.interpolate);
