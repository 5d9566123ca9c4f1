// CPU load where users look (the Teensy Audio Library's processorUsage and
// processorUsageMax): the share of each period spent in the interrupt
// handler and in the main loop's audio work (refill, drain, recovery),
// measured with getTime(). On a board that is real time; in the emulator
// getTime() is virtual time, which the cost model advances per statement,
// so the same code reports the model's load. Context: main.

import { irq } from "./irq";

export class CpuLoad {
  /** The window: one period of the board's stream, seconds. */
  period: number;
  windowStart: number;
  irqAtStart: number;
  /** Audio work in the window so far, seconds (interrupts inside it excluded). */
  audio: number;
  /** Shares (0..1) of the last closed window, and the largest seen. */
  irqLoad: number;
  irqMax: number;
  audioLoad: number;
  audioMax: number;
  totalMax: number;
  windows: number;
  /** Context: main (boot). */
  constructor(periodSeconds: number) {
    this.period = periodSeconds;
    this.windowStart = getTime();
    this.irqAtStart = irq.busy;
    this.audio = 0;
    this.irqLoad = 0;
    this.irqMax = 0;
    this.audioLoad = 0;
    this.audioMax = 0;
    this.totalMax = 0;
    this.windows = 0;
  }

  /**
   * Time one piece of main-loop audio work: `work` runs, and its duration
   * less the interrupt time inside it is counted. Context: main.
   */
  measure(work: () => void): void {
    const t0 = getTime();
    const i0 = irq.busy;
    work();
    this.audio += getTime() - t0 - (irq.busy - i0);
    this.close();
  }

  /** Close the window once a period has passed. Context: main. */
  close(): void {
    const now = getTime();
    const span = now - this.windowStart;
    if (span < this.period) return;
    this.irqLoad = (irq.busy - this.irqAtStart) / span;
    this.audioLoad = this.audio / span;
    if (this.irqLoad > this.irqMax) this.irqMax = this.irqLoad;
    if (this.audioLoad > this.audioMax) this.audioMax = this.audioLoad;
    if (this.irqLoad + this.audioLoad > this.totalMax) this.totalMax = this.irqLoad + this.audioLoad;
    this.windows++;
    this.windowStart = now;
    this.irqAtStart = irq.busy;
    this.audio = 0;
  }
}
