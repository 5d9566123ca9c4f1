// Runtimes on sink back ends whose periods the test drives by hand: one call
// of tick() is one DMA period completing on one BE.
import type { Board } from "../../firmware/board.ts";
import type { StreamParams } from "../../firmware/pcm.ts";
import { SinkDriver } from "../../drivers/virtual-sink.ts";
import { Card } from "../../firmware/dpcm/card.ts";
import type { FrontEnd } from "../../firmware/dpcm/dpcm.ts";
import { Cmd, CMD_NAMES, HW_TRIGGERS } from "../../firmware/pcm.ts";
import { feCommitPeriod, feOpen, fePrepare, feTrigger, feWritable, feWriteView } from "../../firmware/dpcm/fe.ts";
import { periodElapsed } from "../../firmware/dpcm/period.ts";

/** A sink that counts its driver calls and keeps every period it played. */
export class RecordingSink extends SinkDriver {
  /** Driver ops called, by name; triggers by command name in lower case ("start", "pause_push", ...). */
  calls: Record<string, number>;
  /** Interleaved stereo, every period that finished playing, in order. */
  output: number[];
  /** Called at the top of startup(): lets a test act "from an interrupt" mid-update. */
  onStartup: (() => void) | null;
  /** Called at the top of periodBuffers() (priming, just before a link's section). */
  onPeriodBuffers: (() => void) | null;
  constructor(periodFrames: number, rates: number[]) {
    super(periodFrames, rates);
    this.calls = { startup: 0, hwParams: 0, prepare: 0, hwFree: 0, shutdown: 0 };
    for (const name of CMD_NAMES.slice(0, HW_TRIGGERS)) this.calls[name.toLowerCase()] = 0;
    this.output = [];
    this.onStartup = null;
    this.onPeriodBuffers = null;
  }
  periodBuffers(): Int16Array[] {
    if (this.onPeriodBuffers) this.onPeriodBuffers();
    return super.periodBuffers();
  }
  startup(): string {
    this.calls.startup++;
    if (this.onStartup) this.onStartup();
    return super.startup();
  }
  hwParams(params: StreamParams): string {
    this.calls.hwParams++;
    return super.hwParams(params);
  }
  prepare(params: StreamParams): string {
    this.calls.prepare++;
    return super.prepare(params);
  }
  trigger(cmd: Cmd): void {
    this.calls[CMD_NAMES[cmd].toLowerCase()]++;
    super.trigger(cmd);
  }
  hwFree(): void {
    this.calls.hwFree++;
    super.hwFree();
  }
  shutdown(): void {
    this.calls.shutdown++;
    super.shutdown();
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
  card: Card;
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
    // Periods as short as a test likes: nothing here runs in real time.
    minPeriodMs: 0,
    startInterrupt: () => "test",
    pollCompletions: () => {},
  };
  const card = new Card(board, options.linkPool ?? board.frontEnds.length * beSpecs.length * 2);
  return {
    card,
    board,
    sinks,
    fe(name: string): FrontEnd {
      const fe = card.feByName(name);
      if (!fe) throw new Error("no FE " + name);
      return fe;
    },
    be(name: string): number {
      const be = card.beByName(name);
      if (!be) throw new Error("no BE " + name);
      return be.index;
    },
    tick(b: number): boolean {
      if (!sinks[b].advance()) return false;
      periodElapsed(card, b, 0);
      return true;
    },
  };
}

/** Write whole periods while the ring has room, each sample `value` (or value(frame) per frame). */
export function writeFrames(card: Card, fe: FrontEnd, value: number | ((frame: number) => number), maxPeriods = Infinity): number {
  let periods = 0;
  while (periods < maxPeriods && feWritable(fe) >= card.board.params.periodFrames) {
    const view = feWriteView(fe);
    for (let i = 0; i < card.board.params.periodFrames; i++) {
      const v = typeof value === "number" ? value : value(fe.applPtr + i);
      view[2 * i] = v;
      view[2 * i + 1] = v;
    }
    feCommitPeriod(fe);
    periods++;
  }
  return periods;
}

/** Open, prepare, fill and START an FE (the routes must be set). Throws on an error. */
export function openAndStart(card: Card, fe: FrontEnd, value: number | ((frame: number) => number) = 1000): void {
  const steps = [feOpen(card, fe, 0, 0), fePrepare(card, fe)];
  for (const err of steps) if (err) throw new Error(err);
  writeFrames(card, fe, value);
  const err = feTrigger(card, fe, Cmd.Start);
  if (err) throw new Error(err);
}
