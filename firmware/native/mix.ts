// Mixing one period into another with saturation: the JavaScript reference
// (one statement per sample) and the same thing as Cortex-M4 machine code
// (native/mix/mix.S, shipped as firmware/native/mix-thumb2.ts) run through
// E.nativeCall on boards that can run it (firmware/native/cpu.ts).
//
// On a Pico a JavaScript statement costs about 60 microseconds; in the
// minified bundle the reference takes 260 statements (as the emulator counts
// them: one a sample) for a 128-frame stereo period, about 15.6 ms. The
// native routine takes 4.5 instructions and at most 11.25 cycles per two
// samples, 17.6 microseconds for that period at 84 MHz
// (emulator/native-code.ts), plus the statements that call it.

import { MIX_THUMB2_BASE64, MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE } from "./mix-thumb2";
import { isCortexM4Board } from "./cpu";

/** Mixes `src` into `dst` in place: interleaved Int16Array samples, same length. */
export type Mixer = (dst: Int16Array, src: Int16Array) => void;

/**
 * The native routine itself: mixes `samples` int16 samples at `srcAddress`
 * into those at `dstAddress` (E.getAddressOf(buffer, true) addresses, any
 * even address, any count, odd too). Nothing is checked: a wrong address or
 * count corrupts memory or crashes the board.
 */
export type MixRoutine = (dstAddress: number, srcAddress: number, samples: number) => void;

/**
 * Add `src` into `dst` sample by sample, clipping at -32768 and +32767
 * instead of wrapping. dst and src are the same length (samples, not frames).
 * Context: irq.
 */
export function mixSaturating(dst: Int16Array, src: Int16Array): void {
  // One statement per sample: the cost the native routine removes.
  const n = dst.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = dst[i] + src[i];
    dst[i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
  }
}

/**
 * The native mix routine through E.nativeCall, or why there is none: the
 * board is not a Cortex-M4 (process.env.BOARD, see cpu.ts) or this Espruino
 * build has no E.nativeCall (SAVE_ON_FLASH builds). Each call copies the
 * code (108 bytes) into a new flat string: call it once, at start-up.
 * Context: main (boot).
 */
export function nativeMixRoutine(): MixRoutine | string {
  const board = process.env.BOARD;
  if (!board || !isCortexM4Board(board)) {
    return "no native mixer on " + board + ": its code is for Cortex-M4 boards (firmware/native/cpu.ts)";
  }
  if (typeof E.nativeCall !== "function") return "no native mixer: this Espruino build has no E.nativeCall";
  return E.nativeCall(MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, atob(MIX_THUMB2_BASE64));
}

/**
 * A Mixer running the native routine, or why there is none (see
 * nativeMixRoutine; keep mixSaturating then). It throws when the lengths
 * differ, and falls back to mixSaturating for a buffer without a flat
 * address (E.getAddressOf gives 0). Three statements a call in the
 * minified bundle (as the emulator counts them), whatever the length; call nativeMixer once, at
 * start-up. A caller that keeps the buffers' addresses can call
 * nativeMixRoutine()'s function directly: one statement.
 * Context: main (boot).
 */
export function nativeMixer(): Mixer | string {
  const routine = nativeMixRoutine();
  if (typeof routine === "string") return routine;
  return function (dst: Int16Array, src: Int16Array): void {
    if (src.length !== dst.length) throw new Error("mix: dst has " + dst.length + " samples, src " + src.length);
    const d = E.getAddressOf(dst, true);
    const s = E.getAddressOf(src, true);
    if (d !== 0 && s !== 0) routine(d, s, dst.length);
    else mixSaturating(dst, src);
  };
}
