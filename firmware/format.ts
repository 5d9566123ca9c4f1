// Numbers in console text. Espruino converts a number joined to a string
// with its own digits (ftoa: at most 11 fractional digits, the last not
// rounded), V8 with the shortest round trip: `"" + 4 / 3` reads
// 1.33333333333 on the board and 1.3333333333333333 in the emulator. So a
// number that can be fractional goes through toFixed, which both print
// alike (emulator/FIDELITY.md).

/** `x` with at most `digits` decimals, no trailing zeros: 8 -> "8", 5512.5 -> "5512.5", 4 / 3 -> "1.333". Context: main. */
export function decimal(x: number, digits: number): string {
  if (x === Math.floor(x)) return "" + x;
  let s = x.toFixed(digits);
  while (s.charAt(s.length - 1) === "0") s = s.substring(0, s.length - 1);
  if (s.charAt(s.length - 1) === ".") s = s.substring(0, s.length - 1);
  return s;
}
