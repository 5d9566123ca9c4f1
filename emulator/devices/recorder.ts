// An OutputRecorder that keeps what a device really played: interleaved
// stereo 16-bit, grown in chunks so long runs stay cheap.

import type { OutputRecorder } from "../hardware";

export class SampleRecorder implements OutputRecorder {
  readonly name: string;
  private data = new Int16Array(8192);
  private length = 0;
  private rate = 0;

  constructor(name: string) {
    this.name = name;
  }

  setSampleRate(rate: number): void {
    this.rate = rate;
  }

  push(left: number, right: number): void {
    if (this.length + 2 > this.data.length) {
      const bigger = new Int16Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = left;
    this.data[this.length++] = right;
  }

  sampleRate(): number {
    return this.rate;
  }

  samples(): Int16Array {
    return this.data.slice(0, this.length);
  }

  framesPlayed(): number {
    return this.length / 2;
  }
}
