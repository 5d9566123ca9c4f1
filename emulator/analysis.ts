// Measurements on what an emulated output played: the frequency of a tone,
// dropouts inside the intervals it was meant to play, where audio starts, an
// envelope to draw. Used by the demo summary and page, the tests and the
// benchmark.

import FFT from "fft.js";
import type { Recording } from "./hardware.ts";

/** One channel of an interleaved stereo recording, as floats. */
export function channel(samples: Int16Array, which: 0 | 1 = 0): Float64Array {
  const out = new Float64Array(samples.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = samples[2 * i + which];
  return out;
}

/**
 * The strongest frequency in a mono signal: a Hann-windowed FFT over the
 * largest power of two that fits (up to 2^16 points), refined by Gaussian
 * interpolation of the peak, which is accurate to a small fraction of a bin.
 */
export function dominantFrequency(mono: Float64Array, rate: number): number {
  let size = 1;
  while (size * 2 <= mono.length && size < 65536) size *= 2;
  if (size < 64) return 0;
  const offset = (mono.length - size) >> 1;
  const fft = new FFT(size);
  const input = new Array<number>(size);
  for (let i = 0; i < size; i++) input[i] = mono[offset + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1)));
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, input);
  let peak = 1;
  let peakMag = 0;
  const mags = new Float64Array(size / 2);
  for (let k = 1; k < size / 2; k++) {
    mags[k] = Math.hypot(out[2 * k], out[2 * k + 1]);
    if (mags[k] > peakMag) {
      peakMag = mags[k];
      peak = k;
    }
  }
  if (peakMag === 0) return 0;
  let delta = 0;
  if (peak > 1 && peak < size / 2 - 1) {
    const a = Math.log(mags[peak - 1] + 1e-12);
    const b = Math.log(mags[peak] + 1e-12);
    const c = Math.log(mags[peak + 1] + 1e-12);
    const denom = a - 2 * b + c;
    if (denom !== 0) delta = (0.5 * (a - c)) / denom;
  }
  return ((peak + delta) * rate) / size;
}

export interface Gap {
  /** First silent frame (of the recording's timeline). */
  start: number;
  frames: number;
}

/** A stretch of virtual time in seconds, [start, end). */
export interface Interval {
  start: number;
  end: number;
}

/**
 * The shortest silence that counts as a dropout: two frames (two device
 * frames: on a recording that held a slower rate's frames, Recording.hold
 * times as many timeline frames). A tone the
 * firmware plays (amplitude 8000, firmware/player.ts) is exactly 0 in both
 * channels only at isolated frames (a zero crossing) for any tone above
 * 0.2 Hz, so two zero frames in a row are silence, not a waveform.
 */
export const DROPOUT_MIN_FRAMES = 2;

/**
 * Dropouts a listener hears: runs of digital silence (both channels exactly
 * 0) of at least `minFrames` frames that lie between sound inside one
 * interval where the output was meant to play. The silence before the first
 * sound and after the last sound of an interval (start-up latency, the end
 * of a tone) and everything outside the intervals (stopped, rerouted away)
 * is intended, not a gap. `intervals` are in seconds on the recording's
 * clock; by default they are the recording's spans (where the output was
 * powered and streaming), which misses a dropout that stopped the clock:
 * give the intended intervals (from the console's route/play/stop lines)
 * when they are known.
 */
export function gaps(rec: Recording, options: { intervals?: Interval[]; minFrames?: number } = {}): Gap[] {
  const minFrames = options.minFrames ?? DROPOUT_MIN_FRAMES * (rec.hold ?? 1);
  const samples = rec.samples;
  const total = samples.length >> 1;
  const ranges =
    options.intervals && rec.rate > 0
      ? options.intervals.map((iv) => [Math.max(0, Math.round(iv.start * rec.rate)), Math.min(total, Math.round(iv.end * rec.rate))] as const)
      : rec.spans.map((s) => [s.start, Math.min(total, s.start + s.frames)] as const);
  const found: Gap[] = [];
  for (const [from, to] of ranges) {
    let first = -1;
    let last = -1;
    for (let f = from; f < to; f++) {
      if (samples[2 * f] !== 0 || samples[2 * f + 1] !== 0) {
        if (first < 0) first = f;
        last = f;
      }
    }
    if (first < 0) continue;
    let runStart = -1;
    for (let f = first; f <= last + 1; f++) {
      const silent = f <= last && samples[2 * f] === 0 && samples[2 * f + 1] === 0;
      if (silent && runStart < 0) runStart = f;
      if (!silent && runStart >= 0) {
        if (f - runStart >= minFrames) found.push({ start: runStart, frames: f - runStart });
        runStart = -1;
      }
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * Frames with sound inside `interval` (seconds) of a recording: every frame
 * but those in a run of at least DROPOUT_MIN_FRAMES silent frames (both
 * channels 0; that many device frames where the recording held each over
 * several, Recording.hold). A tone's lone zero frames (its zero crossings: every other
 * frame of a tone at a quarter of the rate) are sound.
 */
export function soundFrames(rec: Recording, interval: Interval): number {
  if (rec.rate <= 0) return 0;
  const s = rec.samples;
  const total = s.length >> 1;
  const zero = (f: number): boolean => f >= 0 && f < total && s[2 * f] === 0 && s[2 * f + 1] === 0;
  const run = DROPOUT_MIN_FRAMES * (rec.hold ?? 1);
  const to = Math.min(total, Math.round(interval.end * rec.rate));
  let n = 0;
  for (let f = Math.max(0, Math.round(interval.start * rec.rate)); f < to; f++) {
    if (!zero(f)) n++;
    else {
      // The silent run this frame is in, looking past the interval's ends.
      let a = f;
      while (zero(a - 1) && f - a < run) a--;
      let b = f;
      while (zero(b + 1) && b - a + 1 < run) b++;
      if (b - a + 1 < run) n++;
    }
  }
  return n;
}

/** The frames with sound, back to back, of one channel (for a frequency measurement across reroutes). */
export function soundOnly(rec: Recording, which: 0 | 1 = 0): Float64Array {
  const out: number[] = [];
  for (const s of rec.spans) for (let f = s.start; f < s.start + s.frames; f++) out.push(rec.samples[2 * f + which]);
  return Float64Array.from(out);
}

/**
 * A min/max envelope of a recording for drawing: `buckets` time slots over
 * [0, seconds), each with the smallest and largest sample of either channel
 * in it (0 and 0 for silence). Times are the slots' start, in seconds.
 */
export function envelope(rec: Recording, seconds: number, buckets: number): { t: number[]; min: number[]; max: number[] } {
  const t: number[] = [];
  const min: number[] = [];
  const max: number[] = [];
  const total = rec.samples.length >> 1;
  for (let b = 0; b < buckets; b++) {
    const t0 = (seconds * b) / buckets;
    const from = Math.round(t0 * rec.rate);
    const to = Math.min(total, Math.round(((seconds * (b + 1)) / buckets) * rec.rate));
    let lo = 0;
    let hi = 0;
    for (let i = 2 * from; i < 2 * to; i++) {
      const v = rec.samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    t.push(t0);
    min.push(lo);
    max.push(hi);
  }
  return { t, min, max };
}

/** Index of the first frame that is not silent, or -1. */
export function firstSound(samples: Int16Array, fromFrame = 0): number {
  for (let f = fromFrame; f < samples.length >> 1; f++) {
    if (samples[2 * f] !== 0 || samples[2 * f + 1] !== 0) return f;
  }
  return -1;
}

/** Index one past the last frame that is not silent, or -1. */
export function lastSound(samples: Int16Array): number {
  for (let f = (samples.length >> 1) - 1; f >= 0; f--) {
    if (samples[2 * f] !== 0 || samples[2 * f + 1] !== 0) return f + 1;
  }
  return -1;
}
