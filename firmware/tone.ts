// A phase-continuous sine tone played by copying from a precomputed table.
// The table holds a whole number of cycles, so wrapping from its end to its
// start is seamless; a refill is at most two copies (the card's copyAt:
// native on Cortex-M4 boards), with no JavaScript per sample after the table
// is built.

import type { SampleOps } from "./native/mix";

import { decimal } from "./format";

export interface Tone {
  /** Frequency actually produced: cycles * rate / frames. */
  frequency: number;
  /** Interleaved stereo, `frames` frames. */
  table: Int16Array;
  frames: number;
  /** Next frame of the table to play. */
  phase: number;
}

/**
 * Choose the table length: the fewest cycles spanning at least `minFrames`
 * frames (so a period needs at most two copies) whose frequency error is
 * below 0.01 Hz, or the most accurate within `maxFrames` if none is. A table
 * of at most two frames a cycle is at or above half the rate (3999 Hz at
 * 8 kHz rounds to 2 frames a cycle: a sine sampled at its zeros, silence),
 * so it is never chosen. Returns [cycles, frames], or [0, 0] when no table
 * within `maxFrames` stays below half the rate. Context: main.
 */
export function toneTableFrames(frequency: number, rate: number, minFrames: number, maxFrames: number): number[] {
  let bestCycles = 0;
  let bestFrames = 0;
  let bestError = Infinity;
  for (let cycles = Math.max(1, Math.ceil((minFrames * frequency) / rate)); ; cycles++) {
    const frames = Math.round((cycles * rate) / frequency);
    // Past maxFrames only the first usable table is taken (a low tone's one cycle can be longer).
    if (frames > maxFrames && (bestFrames > 0 || frames <= 2 * cycles)) break;
    if (frames <= 2 * cycles) continue;
    const error = Math.abs((cycles * rate) / frames - frequency);
    if (error < bestError) {
      bestError = error;
      bestCycles = cycles;
      bestFrames = frames;
    }
    if (bestError < 0.01) break;
  }
  return [bestCycles, bestFrames];
}

/** Build a tone; returns an error message instead when it cannot be played at `rate`. Context: main. */
export function makeTone(frequency: number, rate: number, amplitude: number, minFrames: number, maxFrames: number): Tone | string {
  if (!(frequency > 0) || frequency >= rate / 2) {
    return "frequency must be above 0 and below " + decimal(rate / 2, 3) + " Hz (half the sample rate)";
  }
  const choice = toneTableFrames(frequency, rate, minFrames, maxFrames);
  const cycles = choice[0];
  const frames = choice[1];
  if (frames === 0) {
    return "frequency too close to half the sample rate (" + decimal(rate / 2, 3) + " Hz) to play at " + rate + " Hz; try a lower one";
  }
  const table = new Int16Array(frames * 2);
  const step = (2 * Math.PI * cycles) / frames;
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * Math.sin(step * i));
    table[2 * i] = v;
    table[2 * i + 1] = v;
  }
  return { frequency: (cycles * rate) / frames, table: table, frames: frames, phase: 0 };
}

/** Write `frames` frames of the tone into dst (interleaved stereo) with `ops`, continuing its phase. Context: main. */
export function fillTone(ops: SampleOps, tone: Tone, dst: Int16Array, frames: number): void {
  let done = 0;
  while (done < frames) {
    const n = Math.min(frames - done, tone.frames - tone.phase);
    ops.copyAt(dst, done * 2, tone.table, tone.phase * 2, n * 2);
    done += n;
    tone.phase += n;
    if (tone.phase === tone.frames) tone.phase = 0;
  }
}
