// Numbers and their printed form: print(), string conversion, toFixed,
// rounding, integer and float arithmetic, Math.pow.
// probe: print-floats
print(1/3, 2/3, 0.1 + 0.2, 123.456, -1.5, 1e-7, 0.000001, 1e-5, 12345.678901234);
// probe: print-large
print(1e21, 1e20, 123456789012, 2147483647, 2147483648, -2147483649, 9007199254740993, 1.5e300);
// probe: print-special
print(NaN, Infinity, -Infinity, -0, 0, 1 / -Infinity, [-0]);
// probe: concat-floats
print("" + 1/3, "" + 2.6666666666666665, "" + (256 / 48000 * 1000 / 2), "" + 0.1, "" + 100.5);
// probe: string-of-floats
print(String(1/3), (1/3).toString(), `${1/3}`, [1/3, 0.5].join(","), String(-0));
// probe: concat-integers
print("" + 48000, "" + (-5), "" + 0x7fffffff, "" + (0x7fffffff + 1), "" + 1e6, "" + 4/2, "" + 6/3);
// probe: to-fixed
print((2.5).toFixed(0), (0.5).toFixed(0), (1.5).toFixed(0), (-2.5).toFixed(0), (1.005).toFixed(2), (123.456).toFixed(1));
// probe: to-fixed-carry
print((0.96).toFixed(1), (1.999).toFixed(2), (9.99).toFixed(1), (0.05).toFixed(1), (0.15).toFixed(1));
// probe: to-fixed-time
print((0).toFixed(6), (1.2345678).toFixed(6), (12.0000004).toFixed(6), (0.0000005).toFixed(6), (3).toFixed(3), (-0.5).toFixed(2));
// probe: to-string-radix
print((255).toString(16), (255).toString(2), (-255).toString(16), (0.5).toString(2), (3.75).toString(16), (1e21).toString(16));
// probe: division
print(7 / 2, -7 / 2, 7 % 3, -7 % 3, 7.5 % 2, 1 / 0, 0 / 0, (7 / 2) | 0, (-7 / 2) | 0, 6 / 3);
// probe: math-round
print(Math.round(-0.5), Math.round(-2.5), Math.round(-1.5), Math.round(0.5), Math.round(2.5), Math.round(-0.4), Math.round(-2.6), Math.round(1e10 + 0.5));
// probe: math-floor-ceil
print(Math.floor(-0.5), Math.ceil(-0.5), Math.floor(2.7), Math.ceil(2.1), Math.abs(-3), Math.sign(-2), Math.sign(0));
// probe: math-pow
print(Math.pow(2, 15), Math.pow(2, 15) === 32768, Math.pow(2, 31), Math.pow(2, 32) | 0, (Math.pow(2, 15) - 1) | 0, Math.pow(2, 0.5), Math.pow(10, 3), Math.pow(3, 2) === 9);
// probe: math-pow-more
print(Math.pow(2, 8) === 256, Math.pow(2, 16) === 65536, Math.pow(2, -1), Math.pow(-2, 3), Math.pow(0, 0), Math.pow(2, 10) | 0, Math.pow(4, 0.5) === 2, Math.pow(1.5, 2));
// probe: math-functions
print(Math.sqrt(2), Math.sin(Math.PI / 6), Math.cos(0), Math.PI, Math.E, Math.log(10), Math.exp(1), Math.atan2(1, 1));
// probe: math-min-max
print(Math.max(), Math.min(), Math.max(1, NaN), Math.max(-0, 0), Math.min(3, "2"), Math.max(1, 2, 3));
// probe: bitwise
print(0xffffffff | 0, 0x80000000 | 0, 1 << 31, 1 << 32, -1 >>> 0, -1 >>> 28, 5 >> 1, -5 >> 1, ~0, 0x12345678 << 8, 3000000000 | 0);
// probe: integer-overflow
var big = 2147483647; print(big + 1, big * 2, -2147483648 - 1, 65536 * 65536, 46341 * 46341, (65536 * 65536) | 0);
// probe: parse-numbers
print(parseInt("42px"), parseInt("0x1f"), parseInt("ff", 16), parseFloat("3.5e2x"), Number("12"), Number(""), Number("abc"), Number(" 7 "), +"1e3", parseInt(""));
// probe: number-statics
print(Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, Number.EPSILON, Number.NaN, Number.POSITIVE_INFINITY);
// probe: is-nan-finite
print(isNaN("x"), isNaN(1), isFinite(1 / 0), isFinite("5"), NaN === NaN, NaN == NaN);
// probe: literal-parsing
// The board reads "0.3" as 0.1 * 3 (stringToFloatWithRadix adds digit * 0.1^k).
print(0.3 === 3 / 10, 0.1 === 1 / 10, (0.3 - 3 / 10) * 1e17, 0.5 === 1 / 2, 1e6 === 1000000, 0.001 === 1 / 1000, 2.5e-3 === 25 / 10000);
// probe: float-equality
print(0.1 + 0.2 === 0.3, 1 / 3 * 3 === 1, 48000 / 1000 === 48, 2.675 * 100, 1.1 * 1.1, 100 * 1.1);
// probe: number-compare-strings
print(10 > 9, "10" > "9", "10" > 9, null == 0, null >= 0, undefined == null, "" == 0, "0" == false);
