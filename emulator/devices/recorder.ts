// An OutputRecorder that keeps what a device's output did, on the machine's
// clock: interleaved stereo 16-bit frames placed at the virtual time the bus
// clocked them, with digital silence (zeros) wherever the output was not
// playing (I2S clock stopped, amplifier shut down, DAC muted). recording()
// is that timeline from virtual time 0; samples() is only the frames the
// device played, back to back, as before.
//
// The device tells the recorder when its bus clock started (clockStarted)
// and, for every frame the bus clocks, whether it played it (push) or not
// (skip); frame k of a clock run is at start + k / busRate. The timeline's
// rate is the first bus rate seen; a bus run at another rate is resampled
// onto it by holding each frame over the timeline frames its time covers.

import type { OutputRecorder, Recording } from "../hardware";

export class SampleRecorder implements OutputRecorder {
  readonly name: string;
  /** The timeline, interleaved stereo, from virtual time 0. */
  private data = new Int16Array(8192);
  /** Samples (not frames) of the timeline written so far. */
  private length = 0;
  /** The rate the device last started playing at (sampleRate()). */
  private rate = 0;
  /** The timeline's frame rate: the first bus rate; 0 until a clock started. */
  private timelineRate = 0;
  private played = 0;
  /** Timeline frame ranges [start, end) where the device played. */
  private readonly spanList: Array<{ start: number; end: number }> = [];
  // The bus clock run in progress.
  private busStartFrame = 0;
  private busRatio = 1;
  private busFrame = 0;
  private clocked = false;
  /** The largest busRatio seen (Recording.hold). */
  private maxRatio = 1;

  constructor(name: string) {
    this.name = name;
  }

  /** The bus started clocking frames at virtual time `atSeconds`, `rate` frames per second. */
  clockStarted(atSeconds: number, rate: number): void {
    if (!(rate > 0)) return;
    if (this.timelineRate === 0) this.timelineRate = rate;
    this.busStartFrame = atSeconds * this.timelineRate;
    this.busRatio = this.timelineRate / rate;
    if (this.busRatio > this.maxRatio) this.maxRatio = this.busRatio;
    this.busFrame = 0;
    this.clocked = true;
  }

  /** The rate the device plays at (set when it starts playing). */
  setSampleRate(rate: number): void {
    this.rate = rate;
  }

  /** One frame the device played. */
  push(left: number, right: number): void {
    this.played++;
    if (!this.clocked) {
      // No clock known (a model driven without a bus): frames go back to back.
      this.write(this.length >> 1, (this.length >> 1) + 1, left, right);
      return;
    }
    const start = Math.round(this.busStartFrame + this.busFrame * this.busRatio);
    const end = Math.round(this.busStartFrame + (this.busFrame + 1) * this.busRatio);
    this.busFrame++;
    this.write(start, end, left, right);
  }

  /** One frame the bus clocked that the device did not play: silence on the pin. */
  skip(): void {
    if (this.clocked) this.busFrame++;
  }

  private write(start: number, end: number, left: number, right: number): void {
    const have = this.length >> 1;
    if (end <= have) return; // covered already (a faster bus resampled down)
    if (start < have) start = have;
    if (start >= end) return;
    this.ensure(end * 2);
    // Frames between have and start stay 0: the output was silent there.
    for (let f = start; f < end; f++) {
      this.data[2 * f] = left;
      this.data[2 * f + 1] = right;
    }
    this.length = end * 2;
    const last = this.spanList[this.spanList.length - 1];
    if (last && last.end === start) last.end = end;
    else this.spanList.push({ start, end });
  }

  private ensure(samples: number): void {
    if (samples <= this.data.length) return;
    let size = this.data.length;
    while (size < samples) size *= 2;
    const bigger = new Int16Array(size);
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }

  sampleRate(): number {
    return this.rate;
  }

  samples(): Int16Array {
    const out = new Int16Array(this.played * 2);
    let at = 0;
    for (const s of this.spanList) {
      const part = this.data.subarray(2 * s.start, 2 * s.end);
      out.set(part.subarray(0, Math.min(part.length, out.length - at)), at);
      at += part.length;
      if (at >= out.length) break;
    }
    return out;
  }

  framesPlayed(): number {
    return this.played;
  }

  recording(untilSeconds?: number): Recording {
    const rate = this.timelineRate || this.rate;
    const have = this.length >> 1;
    const frames = untilSeconds !== undefined && rate > 0 ? Math.max(have, Math.round(untilSeconds * rate)) : have;
    const samples = new Int16Array(frames * 2);
    samples.set(this.data.subarray(0, this.length));
    return { rate, samples, spans: this.spanList.map((s) => ({ start: s.start, frames: s.end - s.start })), hold: Math.ceil(this.maxRatio) };
  }
}
