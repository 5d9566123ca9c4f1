// Strings the firmware builds, JSON, typeof.
// probe: string-methods
print("ab".padStart(5, "-"), "7".padStart(3, "0"), "abc".startsWith("ab"), "=".repeat(3), "a-b".split("-"), "AbC".toLowerCase(), " x ".trim());
// probe: string-slicing
var s = "hello world";
print(s.slice(-5), s.substring(6, 8), s.substr(1, 3), s.charAt(4), s.charCodeAt(0), s.indexOf("o"), s.lastIndexOf("o"), s[0]);
// probe: string-from-char-code
print(String.fromCharCode(72, 105), String.fromCharCode(0xe9).length, "é".length);
// probe: template-literal
var n = 3, name = "fe";
print(`${name}=${n} ${n * 2}`, `multi
line`);
// probe: string-concat-types
print("x" + 1 + 2, 1 + 2 + "x", "n=" + null, "u=" + undefined, "b=" + true, "a=" + [1, 2], "o=" + {});
// probe: json-stringify-basic
print(JSON.stringify({ a: 1, b: "x", c: [1, 2], d: null, e: true }));
// probe: json-stringify-numbers
print(JSON.stringify([1 / 3, 0.1, -0, 1e21, NaN, Infinity, 2.5, 100]));
// probe: json-stringify-special
print(JSON.stringify({ u: undefined, f: function () {}, n: NaN }), JSON.stringify([undefined, function () {}]), JSON.stringify(undefined), JSON.stringify("s\n\"q\""));
// probe: json-stringify-indent
print(JSON.stringify({ a: 1, b: [1, 2], c: { d: 2 } }, null, 2));
// probe: json-stringify-typed
print(JSON.stringify(new Int16Array([1, -2])), JSON.stringify({ t: new Uint8Array(2) }));
// probe: json-stringify-unicode
print(JSON.stringify("é\u0001\u001f"));
// probe: json-parse
var o = JSON.parse('{"a":[1,2,{"b":null}],"c":"x","d":1.5}');
print(o.a.length, o.a[2].b, o.c, o.d, typeof o.d);
// probe: typeof-values
print(typeof null, typeof undefined, typeof 1, typeof "s", typeof true, typeof {}, typeof [], typeof function () {}, typeof NaN, typeof new Int16Array(1));
// probe: typeof-builtins
class K { constructor() {} }
print(typeof K, typeof Int16Array, typeof Math.max, typeof print, typeof E.getAddressOf, typeof new Promise(function () {}));
