// Measurements on what an emulated output played: the frequency of a tone,
// silent gaps, where audio starts. Used by the demo summary, the tests and
// the benchmark.

import FFT from "fft.js";

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
  /** First silent frame. */
  start: number;
  frames: number;
}

/**
 * Runs of digital silence (both channels exactly 0) of at least `minFrames`
 * frames that lie between sound: the clicks and drop-outs a listener hears.
 * A sine played by the firmware is exactly 0 only at isolated samples.
 */
export function gaps(samples: Int16Array, minFrames: number): Gap[] {
  const frames = samples.length >> 1;
  const found: Gap[] = [];
  let first = -1;
  let last = -1;
  for (let f = 0; f < frames; f++) {
    if (samples[2 * f] !== 0 || samples[2 * f + 1] !== 0) {
      if (first < 0) first = f;
      last = f;
    }
  }
  if (first < 0) return found;
  let runStart = -1;
  for (let f = first; f <= last + 1; f++) {
    const silent = f <= last && samples[2 * f] === 0 && samples[2 * f + 1] === 0;
    if (silent && runStart < 0) runStart = f;
    if (!silent && runStart >= 0) {
      if (f - runStart >= minFrames) found.push({ start: runStart, frames: f - runStart });
      runStart = -1;
    }
  }
  return found;
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
