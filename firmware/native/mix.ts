// The per-sample work of the card and the player (ALSA's snd_pcm_ops copy and
// fill_silence, plus the mix of a second FE into a BE period): JavaScript
// for any board, and the same three as Cortex-M4 machine code
// (native/mix/mix.S, shipped as firmware/native/mix-thumb2.ts) run through
// E.nativeCall on boards that can run it (firmware/native/cpu.ts).
//
// Why native even for a copy: Espruino's TypedArray.set and fill move one
// element at a time through its array iterators, about 330 and 900 x86
// instructions a sample on the Linux build (npm run calibrate counts them):
// at 48 kHz stereo, one 20 ms period copied with set() is about 640,000
// instructions, some 10 ms of a Pico. The routines take 1.5 to 5.6 cycles a
// sample (emulator/native-code.ts). The JavaScript mix is one statement a
// sample.

import { COPY_THUMB2_ENTRY, MIX_THUMB2_BASE64, MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, ZERO_THUMB2_ENTRY } from "./mix-thumb2";
import { isCortexM4Board } from "./cpu";

/**
 * A native routine on sample buffers by address: (dst address, src address,
 * samples), addresses from E.getAddressOf(buffer, true) plus a byte offset
 * (any even address), any count. Nothing is checked: a wrong address or
 * count corrupts memory or crashes the board.
 */
export type SampleRoutine = (dstAddress: number, srcAddress: number, samples: number) => void;

/** The three routines of native/mix/mix.S. */
export interface SampleRoutines {
  mix: SampleRoutine;
  copy: SampleRoutine;
  zero: SampleRoutine;
}

/**
 * The card's sample operations, on interleaved Int16Arrays; counts and
 * offsets in samples (not frames). Every buffer they are given must be
 * flat (E.getAddressOf(buffer, true) non-zero: allocateRing, makeTone and
 * the BE drivers check it when they allocate), and long enough: the native
 * versions do not check.
 */
export interface SampleOps {
  /** dst[0..n) = src[0..n): a whole period (n = src.length). */
  copy: (dst: Int16Array, src: Int16Array, n: number) => void;
  /** dst[d..d+n) = src[s..s+n). Context: main (the JavaScript one allocates a view). */
  copyAt: (dst: Int16Array, d: number, src: Int16Array, s: number, n: number) => void;
  /** dst[0..n) = clamp(dst + src): a whole period (n = src.length). */
  mix: (dst: Int16Array, src: Int16Array, n: number) => void;
  /** dst[d..d+n) = 0 (fill_silence). */
  zero: (dst: Int16Array, d: number, n: number) => void;
  /** Whether these operations can take `buffer`: the native ones need it flat. Context: main. */
  accepts: (buffer: Int16Array) => boolean;
}

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

/** Context: both. */
function jsCopy(dst: Int16Array, src: Int16Array, n: number): void {
  dst.set(src);
}
/** Context: main (the player's refill; subarray allocates). */
function jsCopyAt(dst: Int16Array, d: number, src: Int16Array, s: number, n: number): void {
  dst.set(src.subarray(s, s + n), d);
}
/** Context: both. */
function jsMix(dst: Int16Array, src: Int16Array, n: number): void {
  mixSaturating(dst, src);
}
/** Context: both. */
function jsZero(dst: Int16Array, d: number, n: number): void {
  dst.fill(0, d, d + n);
}

/** Context: main. */
function anyBuffer(buffer: Int16Array): boolean {
  return true;
}

/** The JavaScript operations: every board. Context: main (boot). */
export function jsSampleOps(): SampleOps {
  return { copy: jsCopy, copyAt: jsCopyAt, mix: jsMix, zero: jsZero, accepts: anyBuffer };
}

/**
 * The native routines through E.nativeCall, or why there are none: the
 * board is not a Cortex-M4 (process.env.BOARD, see cpu.ts) or this Espruino
 * build has no E.nativeCall (SAVE_ON_FLASH builds). Each E.nativeCall copies
 * the code (228 bytes) into a new flat string: call this once, at start-up.
 * Context: main (boot).
 */
export function nativeSampleRoutines(): SampleRoutines | string {
  const board = process.env.BOARD;
  if (!board || !isCortexM4Board(board)) {
    return "no native mixer on " + board + ": its code is for Cortex-M4 boards (firmware/native/cpu.ts)";
  }
  if (typeof E.nativeCall !== "function") return "no native mixer: this Espruino build has no E.nativeCall";
  const code = atob(MIX_THUMB2_BASE64);
  return {
    mix: E.nativeCall(MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, code),
    copy: E.nativeCall(COPY_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, code),
    zero: E.nativeCall(ZERO_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, code),
  };
}

/**
 * The operations running `r`: one call of the routine a use, whatever the
 * length, with the buffers' addresses read at each call (E.defrag may move
 * a buffer between two calls). Context: main (boot).
 */
export function nativeSampleOps(r: SampleRoutines): SampleOps {
  // E.getAddressOf held in a local: a global built-in is looked up through
  // every scope and then Espruino's table of built-ins at each use.
  const at = E.getAddressOf;
  const mix = r.mix;
  const copy = r.copy;
  const zero = r.zero;
  return {
    copy: function (dst: Int16Array, src: Int16Array, n: number): void {
      copy(at(dst, true), at(src, true), n);
    },
    copyAt: function (dst: Int16Array, d: number, src: Int16Array, s: number, n: number): void {
      copy(at(dst, true) + d * 2, at(src, true) + s * 2, n);
    },
    mix: function (dst: Int16Array, src: Int16Array, n: number): void {
      mix(at(dst, true), at(src, true), n);
    },
    zero: function (dst: Int16Array, d: number, n: number): void {
      zero(at(dst, true) + d * 2, 0, n);
    },
    accepts: function (buffer: Int16Array): boolean {
      return at(buffer, true) !== 0;
    },
  };
}
