// The committed routines (firmware/native/mix-thumb2.ts, its exact bytes:
// the mix, the copy and the silence) on an emulated Cortex-M4: QEMU's
// mps2-an386 runs them from two RAM addresses on the vectors of
// test/support/native-mix.ts, and every result must equal the JavaScript
// reference (firmware/native/mix.ts; a copy of src; zeros) bit for bit, with
// the guard samples around each buffer and the source untouched, and r4-r11
// and sp given back. QEMU also counts the instructions each call executes:
// they must match the count the emulator charges for (emulator/native-code.ts).
// Needs Debian's gcc-arm-none-eabi and qemu-system-arm (.ci/run installs
// them); without them the tests skip and say why.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { findArmToolchain } from "../scripts/lib/native-build.ts";
import { buildHarness, expectedRegion, findQemu, runHarness, type Harness } from "./support/qemu-m4.ts";
import { committedCode, expectedMix, mixCases, type MixCase } from "./support/native-mix.ts";
import { copyInstructions, mixInstructions, zeroInstructions } from "../emulator/native-code.ts";

const tc = findArmToolchain();
const qemuProblem = findQemu();
const skip = typeof tc === "string" ? `SKIPPED: ${tc}` : qemuProblem ? `SKIPPED: ${qemuProblem}` : false;
if (skip) console.log(`# native-mix-qemu: ${skip}; the native mixer was not checked on an emulated Cortex-M4`);

let harness: Harness | null = null;
function getHarness(): Harness {
  if (typeof tc === "string") throw new Error(tc);
  harness ??= buildHarness(tc, committedCode);
  return harness;
}
after(() => harness?.dispose());

function check(cases: MixCase[], results: ReturnType<typeof runHarness>["results"]): void {
  cases.forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.abi, 0, `${c.name}: callee-saved registers or sp not preserved (bits 0x${r.abi.toString(16)})`);
    assert.deepEqual(Array.from(r.srcRegion), Array.from(expectedRegion(c.src, c.srcShift)), `${c.name}: src or its guards changed`);
    const want = expectedRegion(expectedMix(c), c.dstShift);
    const got = r.dstRegion;
    const bad = want.findIndex((v, k) => got[k] !== v);
    assert.equal(
      bad,
      -1,
      bad < 0 ? "" : `${c.name}: region sample ${bad} is ${got[bad]}, the JavaScript reference gives ${want[bad]}`,
    );
  });
}

test("mps2-an386 (Cortex-M4): the committed routines equal the JavaScript reference bit for bit", { skip }, () => {
  const cases = [...mixCases(11, "mix"), ...mixCases(12, "copy"), ...mixCases(13, "zero")];
  const out = runHarness(getHarness(), cases);
  assert.match(out.console, /MIX HARNESS DONE/);
  assert.equal(out.results.length, cases.length);
  check(cases, out.results);
  // The vectors do reach both limits (else saturation went unchecked).
  const all = cases.filter((c) => c.routine === "mix").flatMap((c) => Array.from(expectedMix(c)));
  assert.ok(all.filter((v) => v === 32767).length > 100 && all.filter((v) => v === -32768).length > 100);
});

test("mps2-an386: executed instructions per call match the emulator's counts (mix 9 + 18 g + 6 p + 4 o, copy 9 + 10 g + 4 p + 2 o, zero 8 + 6 g + 3 p + o)", { skip }, () => {
  // Lengths 0..19 cover every tail (pairs 0-3, odd or even) around 0-2 groups; plus one period.
  const short = (c: MixCase): boolean => c.dst.length < 20 || c.dst.length === 256;
  const cases = [...mixCases(11, "mix").filter(short), ...mixCases(12, "copy").filter(short), ...mixCases(13, "zero").filter(short)];
  const out = runHarness(getHarness(), cases, { countInstructions: true });
  check(cases, out.results);
  const count = { mix: mixInstructions, copy: copyInstructions, zero: zeroInstructions };
  assert.deepEqual(
    out.instructions,
    cases.map((c) => count[c.routine](c.dst.length)),
  );
  for (const routine of ["mix", "copy", "zero"] as const) {
    const period = cases.findIndex((c) => c.routine === routine && c.dst.length === 256);
    console.log(`# ${routine}, 256 samples (a 128-frame stereo period): ${out.instructions![period]} instructions under qemu`);
  }
});

test("mps2-an385 (Cortex-M3, the original Espruino board's core): QADD16 faults, so cpu.ts leaves M3 boards out", { skip }, (t) => {
  if (typeof tc === "string") return;
  const m3 = buildHarness(tc, committedCode, "cortex-m3");
  t.after(() => m3.dispose());
  const cases = mixCases().slice(0, 1);
  assert.throws(() => runHarness(m3, cases, { machine: "mps2-an385" }), /FAULT exception 0x00000003 CFSR 0x00010000/);
});
