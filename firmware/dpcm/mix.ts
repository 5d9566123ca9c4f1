// Mixing a second FE into a BE's period buffer, in JavaScript: the reference
// semantics of every mixer (boards on ARM may supply a native one).

/**
 * Add `src` into `dst` sample by sample, clipping at -32768 and +32767.
 * Interleaved stereo, equal lengths. One statement per sample: the one
 * per-sample loop left in the firmware. Context: irq.
 */
export function mixSaturating(dst: Int16Array, src: Int16Array): void {
  const n = dst.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = dst[i] + src[i];
    dst[i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
  }
}
