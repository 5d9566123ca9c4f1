// A back end with no hardware behind it: two period buffers that "play" when
// told to. The generic board clocks these from a timer; selftest() uses them
// to exercise the core without touching the board's real outputs.

import { BeDriver, StreamParams } from "./board";

export class SinkDriver implements BeDriver {
  buffers: Int16Array[];
  /** Index of the buffer being played. */
  playing: number;
  running: boolean;
  paused: boolean;
  starts: number;
  stops: number;
  /** getTime() at the last start: the generic board's period clock counts from here. */
  startedAt: number;
  /** Rate it was prepared at. */
  rate: number;
  /** Rates this sink accepts; a single entry makes it a fixed-rate BE. */
  rates: number[];
  /** An error open() returns, to stand for hardware that does not answer. */
  openError: string;
  constructor(periodFrames: number, rates: number[]) {
    this.buffers = [new Int16Array(periodFrames * 2), new Int16Array(periodFrames * 2)];
    this.playing = 0;
    this.running = false;
    this.paused = false;
    this.starts = 0;
    this.stops = 0;
    this.startedAt = 0;
    this.rate = rates[0];
    this.rates = rates;
    this.openError = "";
  }
  open(): string {
    return this.openError;
  }
  hwParams(params: StreamParams): string {
    if (this.rates.length === 1) {
      params.rate = this.rates[0];
      return "";
    }
    if (this.rates.indexOf(params.rate) < 0) return params.rate + " Hz not supported (" + this.rates.join(", ") + ")";
    return "";
  }
  prepare(params: StreamParams): string {
    if (this.buffers[0].length !== params.periodFrames * 2) {
      this.buffers = [new Int16Array(params.periodFrames * 2), new Int16Array(params.periodFrames * 2)];
    }
    this.buffers[0].fill(0);
    this.buffers[1].fill(0);
    this.playing = 0;
    this.rate = params.rate;
    return "";
  }
  start(): void {
    this.running = true;
    this.paused = false;
    this.starts++;
    this.startedAt = getTime();
  }
  stop(): void {
    this.running = false;
    this.paused = false;
    this.stops++;
  }
  pause(push: boolean): void {
    this.paused = push;
  }
  hwFree(): void {
    this.running = false;
  }
  close(): void {}
  nextBuffer(): Int16Array {
    return this.buffers[this.playing ^ 1];
  }
  periodBuffers(): Int16Array[] {
    return [this.buffers[this.playing], this.buffers[this.playing ^ 1]];
  }
  /** One period played: the hardware moves to the other buffer. Returns false when idle. */
  advance(): boolean {
    if (!this.running || this.paused) return false;
    this.playing ^= 1;
    return true;
  }
}
