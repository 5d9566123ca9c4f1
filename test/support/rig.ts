// Runtimes on sink back ends whose periods the test drives by hand: one call
// of tick() is one DMA period completing on one BE.
import type { Board, StreamParams } from "../../firmware/board.ts";
import { SinkDriver } from "../../firmware/sink.ts";
import { Runtime, FrontEnd, Cmd } from "../../firmware/dpcm.ts";

/** A sink that counts its driver calls and keeps every period it played. */
export class RecordingSink extends SinkDriver {
  calls: Record<string, number>;
  /** Interleaved stereo, every period that finished playing, in order. */
  output: number[];
  /** Called at the top of open(): lets a test act "from an interrupt" mid-update. */
  onOpen: (() => void) | null;
  constructor(periodFrames: number, rates: number[]) {
    super(periodFrames, rates);
    this.calls = { open: 0, hwParams: 0, prepare: 0, start: 0, stop: 0, pause: 0, release: 0, hwFree: 0, close: 0 };
    this.output = [];
    this.onOpen = null;
  }
  open(): string {
    this.calls.open++;
    if (this.onOpen) this.onOpen();
    return super.open();
  }
  hwParams(params: StreamParams): string {
    this.calls.hwParams++;
    return super.hwParams(params);
  }
  prepare(params: StreamParams): string {
    this.calls.prepare++;
    return super.prepare(params);
  }
  start(): void {
    this.calls.start++;
    super.start();
  }
  stop(): void {
    this.calls.stop++;
    super.stop();
  }
  pause(push: boolean): void {
    this.calls[push ? "pause" : "release"]++;
    super.pause(push);
  }
  hwFree(): void {
    this.calls.hwFree++;
    super.hwFree();
  }
  close(): void {
    this.calls.close++;
    super.close();
  }
  advance(): boolean {
    if (!this.running || this.paused) return false;
    const done = this.buffers[this.playing];
    for (let i = 0; i < done.length; i++) this.output.push(done[i]);
    return super.advance();
  }
}

export interface RigOptions {
  fes?: string[];
  /** Back ends by name with the rates each accepts (one rate: fixed-rate BE). */
  bes?: { name: string; rates: number[] }[];
  rate?: number;
  periodFrames?: number;
  periods?: number;
  linkPool?: number;
}

export interface Rig {
  rt: Runtime;
  board: Board;
  sinks: RecordingSink[];
  fe(name: string): FrontEnd;
  /** Index of a BE by name. */
  be(name: string): number;
  /** One period completes on BE `b` (if it is running): returns whether it played. */
  tick(b: number): boolean;
}

export function makeRig(options: RigOptions = {}): Rig {
  const periodFrames = options.periodFrames ?? 4;
  const params: StreamParams = { rate: options.rate ?? 8000, channels: 2, periodFrames };
  const beSpecs = options.bes ?? [
    { name: "s0", rates: [8000] },
    { name: "s1", rates: [8000] },
  ];
  const sinks = beSpecs.map((spec) => new RecordingSink(periodFrames, spec.rates));
  const board: Board = {
    name: "rig",
    frontEnds: options.fes ?? ["a", "b"],
    backEnds: beSpecs.map((spec, i) => ({ name: spec.name, description: "test sink", driver: sinks[i] })),
    params,
    periods: options.periods ?? 4,
    startInterrupt: () => "test",
    pollCompletions: () => {},
  };
  const rt = new Runtime(board, options.linkPool ?? board.frontEnds.length * beSpecs.length * 2);
  return {
    rt,
    board,
    sinks,
    fe(name: string): FrontEnd {
      const fe = rt.feByName(name);
      if (!fe) throw new Error("no FE " + name);
      return fe;
    },
    be(name: string): number {
      const be = rt.beByName(name);
      if (!be) throw new Error("no BE " + name);
      return be.index;
    },
    tick(b: number): boolean {
      if (!sinks[b].advance()) return false;
      rt.periodElapsed(b, 0);
      return true;
    },
  };
}

/** Write whole periods while the ring has room, each sample `value` (or value(frame) per frame). */
export function writeFrames(rt: Runtime, fe: FrontEnd, value: number | ((frame: number) => number), maxPeriods = Infinity): number {
  let periods = 0;
  while (periods < maxPeriods && rt.writable(fe) >= rt.periodFrames) {
    const view = rt.writeView(fe);
    for (let i = 0; i < rt.periodFrames; i++) {
      const v = typeof value === "number" ? value : value(fe.applPtr + i);
      view[2 * i] = v;
      view[2 * i + 1] = v;
    }
    rt.commitPeriod(fe);
    periods++;
  }
  return periods;
}

/** Open, prepare, fill and START an FE (the routes must be set). Throws on an error. */
export function openAndStart(rt: Runtime, fe: FrontEnd, value: number | ((frame: number) => number) = 1000): void {
  const steps = [rt.openFe(fe), rt.prepareFe(fe)];
  for (const err of steps) if (err) throw new Error(err);
  writeFrames(rt, fe, value);
  const err = rt.trigger(fe, Cmd.Start);
  if (err) throw new Error(err);
}
