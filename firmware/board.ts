// The one interface through which a board plugs into the runtime. The core
// never touches registers, pins or buses; a board never touches FE/BE lists.

/** Stream parameters as negotiated between an FE and its BEs. */
export interface StreamParams {
  /** Frames per second. */
  rate: number;
  /** Always 2 here: every buffer is interleaved stereo 16-bit (I2S Philips). */
  channels: number;
  /** Frames per period: one DMA half-buffer. */
  periodFrames: number;
}

/**
 * The hardware behind one back end. Methods return "" on success or an error
 * message; they never throw for an expected failure (a codec that NAKs, a rate
 * the clock tree cannot make).
 */
export interface BeDriver {
  /** Power up the control path (I2C to a codec, enable GPIO). Main loop only. */
  open(): string;
  /** Check `params`; a BE with a fixed rate rewrites params.rate (the fixup). */
  hwParams(params: StreamParams): string;
  /** Program clocks, interface and DMA for params; zero both period buffers. Main loop only. */
  prepare(params: StreamParams): string;
  /**
   * Start, stop, pause or resume streaming. Register writes only: these run
   * inside critical sections and in the interrupt handler.
   */
  start(): void;
  stop(): void;
  pause(push: boolean): void;
  /** Undo prepare (DMA off). Main loop only. */
  hwFree(): void;
  /** Power down the control path. Main loop only. */
  close(): void;
  /**
   * The period buffer the hardware will play after the one it is playing
   * now: interleaved stereo, periodFrames * 2 samples. The runtime fills it
   * once per completed period.
   */
  nextBuffer(): Int16Array;
  /**
   * Both period buffers, in the order the hardware plays them after start().
   * The runtime fills them before starting an idle BE, so a newly routed
   * output plays audio from its first period rather than two of silence.
   */
  periodBuffers(): Int16Array[];
}

export interface BoardBackEnd {
  /** Console name, e.g. "spk". */
  name: string;
  /** One line for help(): what is on the other end of the link. */
  description: string;
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
   * Install `handler` as the firmware's interrupt: a hardware-timer task
   * (EXEC) where the interpreter has one, running at the period rate or
   * faster. Returns a description for the log.
   */
  startInterrupt(handler: () => void): string;
  /**
   * Called from the interrupt handler: report each BE whose DMA has finished
   * a period since the last call (by index into backEnds), clearing the
   * hardware flags. latencySeconds: how long ago the period completed (from
   * the DMA's position), for the interrupt-latency figure in stats().
   * Called at most once per handler run.
   */
  pollCompletions(elapsed: (backEndIndex: number, latencySeconds: number) => void): void;
}
