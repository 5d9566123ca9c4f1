// A back end with no hardware behind it: two period buffers that "play" when
// told to: ALSA's snd-dummy (sound/drivers/dummy.c) does the same, its
// position moved by a timer. The boards made of sinks
// (boards/common/sink-board.ts) clock these from a timer; selftest() uses them
// to exercise the core without touching the board's real outputs.
//
// Implements BeDriver (firmware/board.ts). Each method says its context:
// main loop, interrupt, or both (a critical section in the main loop, or the
// interrupt).

import { BeDriver } from "../firmware/board";
import { Cmd, HW_TRIGGERS, StreamParams } from "../firmware/pcm";

export class SinkDriver implements BeDriver {
  buffers: Int16Array[];
  /** Index of the buffer being played. */
  playing: number;
  /** Started (START, RESUME or PAUSE_RELEASE after START) and not stopped. */
  running: boolean;
  /** Held by PAUSE_PUSH or SUSPEND: the position does not move. */
  paused: boolean;
  /** trigger() calls received, by command (Cmd.Start .. Cmd.Resume). */
  triggers: Int32Array;
  /** getTime() when the sink last began to move (START, or a release): its period clock counts from here. */
  startedAt: number;
  /** Rate it was prepared at, Hz. */
  rate: number;
  /** Rates this sink accepts; a single entry makes it a fixed-rate BE. */
  rates: number[];
  /** Frames a period, as prepared. */
  periodFrames: number;
  /** An error startup() returns, to stand for hardware that does not answer. */
  startupError: string;
  /** Told the period's length (seconds) after each prepare, so the board can poll fast enough. */
  onPrepare: ((periodSeconds: number) => void) | null;
  /** Context: main (boot). */
  constructor(periodFrames: number, rates: number[]) {
    this.buffers = [new Int16Array(periodFrames * 2), new Int16Array(periodFrames * 2)];
    this.playing = 0;
    this.running = false;
    this.paused = false;
    this.triggers = new Int32Array(HW_TRIGGERS);
    this.startedAt = 0;
    this.rate = rates[0];
    this.rates = rates;
    this.periodFrames = periodFrames;
    this.startupError = "";
    this.onPrepare = null;
  }
  /** Context: main. */
  startup(): string {
    return this.startupError;
  }
  /** Context: main. */
  hwParams(params: StreamParams): string {
    if (this.rates.length === 1) {
      params.rate = this.rates[0];
      return "";
    }
    if (this.rates.indexOf(params.rate) < 0) return params.rate + " Hz not supported (" + this.rates.join(", ") + ")";
    return "";
  }
  /** Context: main. */
  prepare(params: StreamParams): string {
    if (this.buffers[0].length !== params.periodFrames * 2) {
      this.buffers = [new Int16Array(params.periodFrames * 2), new Int16Array(params.periodFrames * 2)];
    }
    this.buffers[0].fill(0);
    this.buffers[1].fill(0);
    this.playing = 0;
    this.rate = params.rate;
    this.periodFrames = params.periodFrames;
    if (this.onPrepare) this.onPrepare(params.periodFrames / params.rate);
    return "";
  }
  /** Context: both (a critical section in the main loop, or the interrupt). */
  trigger(cmd: Cmd): void {
    this.triggers[cmd]++;
    if (cmd === Cmd.Start) {
      this.running = true;
      this.paused = false;
      this.startedAt = getTime();
    } else if (cmd === Cmd.Stop) {
      this.running = false;
      this.paused = false;
    } else if (cmd === Cmd.PausePush || cmd === Cmd.Suspend) {
      this.paused = true;
    } else {
      // PAUSE_RELEASE, RESUME: the clock starts again from now.
      this.paused = false;
      this.startedAt = getTime();
    }
  }
  /** Context: main. */
  hwFree(): void {
    this.running = false;
  }
  /** Context: main. */
  shutdown(): void {}
  /** Context: irq. */
  nextBuffer(): Int16Array {
    return this.buffers[this.playing ^ 1];
  }
  /** Context: main. */
  periodBuffers(): Int16Array[] {
    return [this.buffers[this.playing], this.buffers[this.playing ^ 1]];
  }
  /** One period played: the hardware moves to the other buffer. Returns false when idle. Context: irq (the board's pollCompletions). */
  advance(): boolean {
    if (!this.running || this.paused) return false;
    this.playing ^= 1;
    return true;
  }
}
