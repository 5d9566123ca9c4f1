// The one interface through which a board plugs into the card. The core
// never touches registers, pins or buses; a board never touches FE/BE lists.

import { Cmd, StreamParams } from "./pcm";

/**
 * The hardware behind one back end: an I2S port with its DMA (the ASoC CPU
 * DAI), and the codec or amplifier on it. The ops are ASoC's
 * snd_soc_dai_ops: startup, hw_params, prepare, trigger, hw_free, shutdown.
 * Methods return "" on success or an error message; they never throw for an
 * expected failure (a codec that NAKs, a rate the clock tree cannot make).
 */
export interface BeDriver {
  /** Power up the port and its codec's control path (I2C, enable GPIO). Main loop only. */
  startup(): string;
  /**
   * Check `params`; a BE with a fixed rate rewrites params.rate (the
   * hw_params fixup). No side effects: the card also calls it to probe.
   */
  hwParams(params: StreamParams): string;
  /** Program clocks, interface and DMA for params; zero both period buffers. Main loop only. */
  prepare(params: StreamParams): string;
  /**
   * START, STOP, PAUSE_PUSH, PAUSE_RELEASE, SUSPEND or RESUME (Cmd.Start ..
   * Cmd.Resume). Register writes only: runs inside critical sections and in
   * the interrupt handler, so it never allocates, prints or waits long.
   */
  trigger(cmd: Cmd): void;
  /** Undo prepare (DMA off). Main loop only. */
  hwFree(): void;
  /** Power down. Main loop only. */
  shutdown(): void;
  /**
   * The period buffer the hardware will play after the one it is playing
   * now: interleaved stereo, periodFrames * 2 samples. The card fills it
   * once per completed period. Interrupt context.
   */
  nextBuffer(): Int16Array;
  /**
   * Both period buffers, in the order the hardware plays them after START.
   * The card fills them before starting an idle BE, so a newly routed
   * output plays audio from its first period rather than two of silence.
   */
  periodBuffers(): Int16Array[];
}

export interface BoardBackEnd {
  /** Console name, e.g. "spk". */
  name: string;
  /** One line for help(): what the output is. */
  description: string;
  /** What to check when this BE completes no period: the clocks, DMA stream and pins it needs. */
  checkHint?: string;
  driver: BeDriver;
}

export interface Board {
  name: string;
  /** Front ends (PCM streams) this board offers, e.g. ["media", "alert"]. */
  frontEnds: string[];
  backEnds: BoardBackEnd[];
  /** Default stream parameters for the FEs. */
  params: StreamParams;
  /** FE ring size in periods. */
  periods: number;
  /**
   * The shortest period it can serve, milliseconds (default 4): its
   * interrupt and the main loop's refill run once a period, and JavaScript
   * on a microcontroller takes milliseconds for them.
   */
  minPeriodMs?: number;
  /**
   * Install `handler` as the firmware's interrupt: a hardware-timer task
   * (EXEC), polling at the period rate or faster. Returns a one-line
   * description for READY and stats(). Context: main.
   */
  startInterrupt(handler: () => void): string;
  /**
   * For a board that can live without preemption: stop the timer task and
   * run `handler` from the main loop instead (setInterval). Boot calls it
   * when the timer task never fired (the Linux build of Espruino has no
   * hardware timer). Returns the new description. Context: main.
   */
  fallbackInterrupt?(handler: () => void): string;
  /**
   * Called from the interrupt handler: report each BE whose DMA has finished
   * a period since the last call (by index into backEnds), clearing the
   * hardware flags. latencySeconds: how long ago the period completed (from
   * the DMA's position), for the interrupt-latency figure in stats().
   * Called at most once per handler run.
   */
  pollCompletions(elapsed: (backEndIndex: number, latencySeconds: number) => void): void;
}
