// Shared by the native mixing tests: the firmware module (imported by a
// computed path, as its globals are Espruino's), the committed code bytes,
// and seeded test vectors with saturation at both limits.

import { COPY_THUMB2_ENTRY, MIX_THUMB2_BASE64, MIX_THUMB2_ENTRY, ZERO_THUMB2_ENTRY } from "../../firmware/native/mix-thumb2.ts";
import { seededRandom } from "../../scripts/lib/session.ts";

export interface MixModule {
  mixSaturating(dst: Int16Array, src: Int16Array): void;
}

const mixModuleUrl = new URL("../../firmware/native/mix.ts", import.meta.url).href;
/** firmware/native/mix.ts, run under tsx (only mixSaturating needs no Espruino global). */
export const mixModule = (await import(mixModuleUrl)) as MixModule;

/** The code bytes firmware/native/mix-thumb2.ts ships. */
export const committedCode = Buffer.from(MIX_THUMB2_BASE64, "base64");

/** The routines of native/mix/mix.S. */
export type Routine = "mix" | "copy" | "zero";
/** Each routine's offset in the code (its E.nativeCall entry without the Thumb bit). */
export const ROUTINE_OFFSET: Record<Routine, number> = {
  mix: MIX_THUMB2_ENTRY - 1,
  copy: COPY_THUMB2_ENTRY - 1,
  zero: ZERO_THUMB2_ENTRY - 1,
};

export interface MixCase {
  name: string;
  /** Which routine runs the case. */
  routine: Routine;
  dst: Int16Array;
  src: Int16Array;
  /** 1: put dst (src) one sample further, on a 2-byte boundary. */
  dstShift: 0 | 1;
  srcShift: 0 | 1;
  /** Which of the harness's two RAM copies of the code runs it. */
  place: 0 | 1;
}

/** What the JavaScript reference makes of a case's dst: the mix, a copy of src, or zeros. */
export function expectedMix(c: MixCase): Int16Array {
  if (c.routine === "copy") return Int16Array.from(c.src);
  if (c.routine === "zero") return new Int16Array(c.dst.length);
  const out = Int16Array.from(c.dst);
  mixModule.mixSaturating(out, c.src);
  return out;
}

/**
 * The vectors: saturation at +32767 and -32768 (sums just inside, at and
 * past each limit), every length 0..40 (odd ones too) with random data, a
 * 128-frame stereo period (256 samples), long random runs of loud data, and
 * buffers on 2-byte boundaries; alternating between two code addresses.
 */
export function mixCases(seed = 11, routine: Routine = "mix"): MixCase[] {
  const rnd = seededRandom(seed);
  const sample = (): number => Math.floor(rnd() * 65536) - 32768;
  const loud = (): number => (rnd() < 0.5 ? -1 : 1) * (16384 + Math.floor(rnd() * 16384));
  const cases: MixCase[] = [];
  const add = (name: string, dst: number[], src: number[], dstShift: 0 | 1 = 0, srcShift: 0 | 1 = 0): void => {
    cases.push({ name: `${routine}: ${name}`, routine, dst: Int16Array.from(dst), src: Int16Array.from(src), dstShift, srcShift, place: (cases.length & 1) as 0 | 1 });
  };
  add(
    "limits",
    [32767, 32767, 32766, 30000, 1, 0, -32768, -32768, -32767, -30000, -1, 0, 32767, -32768, 16384, -16384],
    [1, 32767, 1, 2767, 32767, 32767, -1, -32768, -1, -2768, -32768, -32768, -32768, 32767, 16384, -16385],
  );
  add("limits, odd length", [32000, -32000, 32767, -32768, 12345], [32000, -32000, 0, 0, 32767]);
  for (let n = 0; n <= 40; n++) {
    const gen = n % 3 === 0 ? loud : sample;
    add(`random, ${n} samples`, Array.from({ length: n }, gen), Array.from({ length: n }, gen), (n & 1) as 0 | 1, ((n >> 1) & 1) as 0 | 1);
  }
  add("one 128-frame stereo period", Array.from({ length: 256 }, loud), Array.from({ length: 256 }, loud));
  add("4093 samples, 2-byte aligned", Array.from({ length: 4093 }, loud), Array.from({ length: 4093 }, sample), 1, 1);
  add("4096 samples", Array.from({ length: 4096 }, sample), Array.from({ length: 4096 }, loud), 0, 1);
  return cases;
}
