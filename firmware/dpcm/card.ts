// The card (struct snd_soc_card): every FE, BE and link of one board, the
// routing switches, and the per-route counters. The operations on it live in
// the files of this folder, split by the context they run in:
//   fe.ts, be.ts, graph.ts   main loop (console, player, routing updates)
//   trigger.ts               both (the main loop's triggers, the interrupt's xrun and drain stops)
//   period.ts                the interrupt (period elapsed, xrun detection, the handler)

import { Board } from "../board";
import { ListNode } from "../list";
import { Pool } from "../pool";
import { BackEnd, FrontEnd, Link } from "./dpcm";
import { SampleOps, jsSampleOps } from "../native/mix";

export class Card {
  /** Lock: none (fields below without a note are written once, at boot). */
  board: Board;
  fes: FrontEnd[];
  bes: BackEnd[];
  feNames: string[];
  beNames: string[];
  /** Links: a fixed pool; a slot's generation changes when it is retired and when it is freed. Lock: main. */
  links: Pool<Link>;
  /** Routing switches (DAPM mixer controls), fe * bes.length + be: 1 = routed. Lock: main. */
  switches: Uint8Array;
  /** Frames of FE audio copied to each BE, per fe * bes.length + be, ever. Lock: irq. */
  played: Float64Array;
  /** Frames written but discarded unplayed on a route by prepare or close (snd_pcm_drop), per route, ever. Lock: irq. */
  dropped: Float64Array;
  /** Frames each output went without the FE's data because of xruns (the n of EVT xrun), per route, ever. Lock: irq. */
  silent: Float64Array;
  /** Longest time a completed period waited for the handler, seconds. Lock: irq. */
  longestLatency: number;
  /** Copy, mix and silence on sample buffers: JavaScript until boot installs the native ones (Cortex-M4 boards). */
  ops: SampleOps;
  /** The callback handed to board.pollCompletions, made once (the interrupt allocates nothing). */
  onPeriod: (beIndex: number, latency: number) => void;
  /** Links unlinked by an update, waiting to be freed outside any section. Lock: main. */
  dying: ListNode<Link>;

  constructor(board: Board, linkPoolSize: number) {
    this.board = board;
    this.fes = [];
    this.bes = [];
    this.feNames = [];
    this.beNames = [];
    for (let f = 0; f < board.frontEnds.length; f++) {
      this.fes.push(new FrontEnd(f, board.frontEnds[f], board.params, board.periods));
      this.feNames.push(board.frontEnds[f]);
    }
    for (let b = 0; b < board.backEnds.length; b++) {
      const spec = board.backEnds[b];
      this.bes.push(new BackEnd(b, spec.name, spec.description, spec.checkHint || "", spec.driver, board.params));
      this.beNames.push(spec.name);
    }
    const firstFe = this.fes[0];
    const firstBe = this.bes[0];
    this.links = new Pool<Link>(linkPoolSize, function (slot: number) {
      return new Link(slot, firstFe, firstBe);
    });
    this.switches = new Uint8Array(this.fes.length * this.bes.length);
    this.played = new Float64Array(this.fes.length * this.bes.length);
    this.dropped = new Float64Array(this.fes.length * this.bes.length);
    this.silent = new Float64Array(this.fes.length * this.bes.length);
    this.longestLatency = 0;
    this.ops = jsSampleOps();
    this.dying = new ListNode<Link>(null);
    // attachInterrupt (period.ts) installs the real one.
    this.onPeriod = function () {};
  }

  /** The FE called `name`, or null. Context: main. */
  feByName(name: string): FrontEnd | null {
    for (let f = 0; f < this.fes.length; f++) if (this.fes[f].name === name) return this.fes[f];
    return null;
  }

  /** The BE called `name`, or null. Context: main. */
  beByName(name: string): BackEnd | null {
    for (let b = 0; b < this.bes.length; b++) if (this.bes[b].name === name) return this.bes[b];
    return null;
  }

  /** Whether the switch routing fe to be is on. Context: both. */
  routed(fe: FrontEnd, be: BackEnd): boolean {
    return this.switches[fe.index * this.bes.length + be.index] === 1;
  }

  /** Index of the fe -> be route in played, dropped and switches. Context: both. */
  route(fe: FrontEnd, be: BackEnd): number {
    return fe.index * this.bes.length + be.index;
  }
}
