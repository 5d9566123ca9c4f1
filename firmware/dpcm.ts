// The Dynamic PCM core: front ends (PCM streams), back ends (links to
// hardware), the link objects joining them, routing updates and the trigger
// path. Modelled on Linux ASoC soc-pcm.c, with the fixes listed in
// ARCHITECTURE.md (trigger_pending, lists changed with the handler masked,
// free outside the lock, BE start counts).
//
// Contexts: everything here runs in the main loop except periodElapsed and
// what it calls (feXrun, feAdvance, trigger, link start/stop), which also run
// in the interrupt handler.

import { Board, BeDriver } from "./board";
import { Cmd, CMD_NAMES, HW_TRIGGERS, StreamParams } from "./pcm";
import { irq, irqSave, irqSaveAlways, irqRestore, handlerExcluded } from "./irq";
import { ListNode, listAddTail, listDel, listEmpty } from "./list";
import { Pool, Pooled } from "./pool";
import { Kind, Site, record } from "./log";

export const enum BeState {
  New = 0,
  Open = 1,
  HwParams = 2,
  Prepare = 3,
  Start = 4,
  Stop = 5,
  Paused = 6,
  Suspend = 7,
  HwFree = 8,
  Close = 9,
}
export const BE_STATE_NAMES = ["NEW", "OPEN", "HW_PARAMS", "PREPARE", "START", "STOP", "PAUSED", "SUSPEND", "HW_FREE", "CLOSE"];

function bit(state: BeState): number {
  return 1 << state;
}
/** For each target state, the states it may be entered from (as in soc-pcm.c). */
const BE_ALLOWED_FROM = [
  0, // NEW is never re-entered
  bit(BeState.New) | bit(BeState.Close),
  bit(BeState.Open) | bit(BeState.HwParams) | bit(BeState.HwFree),
  bit(BeState.HwParams) | bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Suspend) | bit(BeState.Paused),
  bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Paused) | bit(BeState.Suspend),
  bit(BeState.Start) | bit(BeState.Paused) | bit(BeState.Suspend),
  bit(BeState.Start),
  bit(BeState.Start) | bit(BeState.Paused),
  bit(BeState.HwParams) | bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Paused) | bit(BeState.Suspend) | bit(BeState.HwFree),
  bit(BeState.HwFree) | bit(BeState.Open),
];

export function beCanEnter(from: BeState, to: BeState): boolean {
  return (BE_ALLOWED_FROM[to] & bit(from)) !== 0;
}

export const enum FeState {
  Closed = 0,
  Open = 1,
  Setup = 2,
  Prepared = 3,
  Running = 4,
  Xrun = 5,
  Draining = 6,
  Paused = 7,
}
export const FE_STATE_NAMES = ["CLOSED", "OPEN", "SETUP", "PREPARED", "RUNNING", "XRUN", "DRAINING", "PAUSED"];

export const NO_TRIGGER = -1;
/** Period buffers a BE's DMA plays from (BeDriver.periodBuffers()). */
const DMA_BUFFERS = 2;

/** Start the FE before its BEs (PRE) or after them (POST); stop runs in reverse. */
export const enum Order {
  Pre = 0,
  Post = 1,
}

export const enum LinkState {
  Idle = 0,
  Running = 1,
  Paused = 2,
}

export class Link implements Pooled {
  slot: number;
  gen: number;
  inUse: boolean;
  fe: FrontEnd;
  be: BackEnd;
  /** On fe.beClients. */
  feNode: ListNode<Link>;
  /** On be.feClients. */
  beNode: ListNode<Link>;
  state: LinkState;
  /** FE frames this BE has consumed (a position in the FE's frame count). */
  pos: number;
  /** BE periods completed since this link last had a period to copy (drain). */
  emptyPeriods: number;
  constructor(slot: number, fe: FrontEnd, be: BackEnd) {
    this.slot = slot;
    this.gen = 0;
    this.inUse = false;
    this.fe = fe;
    this.be = be;
    this.feNode = new ListNode<Link>(this);
    this.beNode = new ListNode<Link>(this);
    this.state = LinkState.Idle;
    this.pos = 0;
    this.emptyPeriods = 0;
  }
}

export class BackEnd {
  index: number;
  name: string;
  description: string;
  driver: BeDriver;
  state: BeState;
  /** FEs that opened it: opened by the first, closed by the last. */
  users: number;
  /** Links running on it: the hardware runs while this is above 0. */
  startCount: number;
  /** Links paused on it. */
  pauseCount: number;
  feClients: ListNode<Link>;
  params: StreamParams;
  periods: number;
  /** Triggers sent to the driver, by command (Cmd.Start .. Cmd.Resume). */
  hwTriggers: Int32Array;
  /** Illegal transitions refused from the trigger path (no strings there). */
  refused: number;
  leftRunningReported: boolean;
  constructor(index: number, name: string, description: string, driver: BeDriver, params: StreamParams) {
    this.index = index;
    this.name = name;
    this.description = description;
    this.driver = driver;
    this.state = BeState.New;
    this.users = 0;
    this.startCount = 0;
    this.pauseCount = 0;
    this.feClients = new ListNode<Link>(null);
    this.params = { rate: params.rate, channels: params.channels, periodFrames: params.periodFrames };
    this.periods = 0;
    this.hwTriggers = new Int32Array(HW_TRIGGERS);
    this.refused = 0;
    this.leftRunningReported = false;
  }
}

export class FrontEnd {
  index: number;
  name: string;
  state: FeState;
  params: StreamParams;
  /** Interleaved stereo ring of `periods` periods. */
  ring: Int16Array;
  /** One view per period of the ring, made once: the interrupt allocates nothing. */
  periodViews: Int16Array[];
  periods: number;
  bufferFrames: number;
  /** Frames written by the application, ever (since prepare). */
  applPtr: number;
  /** Frames consumed by every running BE: the minimum over its running links. */
  hwPtr: number;
  beClients: ListNode<Link>;
  order: Order;
  /** A routing update of this FE is in progress (DPCM_UPDATE_FE). */
  updating: boolean;
  /** A trigger that arrived during the update (trigger_pending), or NO_TRIGGER. */
  pendingTrigger: number;
  /** Set by the period walk, acted on once per handler run. */
  xrunPending: boolean;
  written: number;
  xruns: number;
  constructor(index: number, name: string, params: StreamParams, periods: number) {
    this.index = index;
    this.name = name;
    this.state = FeState.Closed;
    this.params = { rate: params.rate, channels: params.channels, periodFrames: params.periodFrames };
    this.periods = periods;
    this.bufferFrames = periods * params.periodFrames;
    this.ring = new Int16Array(this.bufferFrames * 2);
    this.periodViews = [];
    const periodSamples = params.periodFrames * 2;
    for (let p = 0; p < periods; p++) {
      this.periodViews.push(this.ring.subarray(p * periodSamples, (p + 1) * periodSamples));
    }
    this.applPtr = 0;
    this.hwPtr = 0;
    this.beClients = new ListNode<Link>(null);
    this.order = Order.Pre;
    this.updating = false;
    this.pendingTrigger = NO_TRIGGER;
    this.xrunPending = false;
    this.written = 0;
    this.xruns = 0;
  }
}

/** Add `src` into `dst` sample by sample, clipping at the 16-bit limits. */
export function mixSaturating(dst: Int16Array, src: Int16Array): void {
  // The one per-sample loop in the firmware (Espruino has no native
  // saturating add): kept to a single statement per sample.
  const n = dst.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = dst[i] + src[i];
    dst[i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
  }
}

export class Card {
  board: Board;
  fes: FrontEnd[];
  bes: BackEnd[];
  feNames: string[];
  beNames: string[];
  links: Pool<Link>;
  /** Routing switches, fe * bes.length + be. */
  switches: Uint8Array;
  /** Frames played and frames dropped by xruns, per fe * bes.length + be, ever. */
  played: Float64Array;
  dropped: Float64Array;
  periodFrames: number;
  longestLatency: number;
  /** The callback handed to board.pollCompletions, made once. */
  onPeriod: (beIndex: number, latency: number) => void;
  /** Links unlinked by an update, waiting to be freed outside any section. */
  private dying: ListNode<Link>;

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
      this.bes.push(new BackEnd(b, spec.name, spec.description, spec.driver, board.params));
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
    this.periodFrames = board.params.periodFrames;
    this.longestLatency = 0;
    this.dying = new ListNode<Link>(null);
    const self = this;
    this.onPeriod = function (beIndex: number, latency: number) {
      self.periodElapsed(beIndex, latency);
    };
  }

  feByName(name: string): FrontEnd | null {
    for (let f = 0; f < this.fes.length; f++) if (this.fes[f].name === name) return this.fes[f];
    return null;
  }

  beByName(name: string): BackEnd | null {
    for (let b = 0; b < this.bes.length; b++) if (this.bes[b].name === name) return this.bes[b];
    return null;
  }

  routed(fe: FrontEnd, be: BackEnd): boolean {
    return this.switches[fe.index * this.bes.length + be.index] === 1;
  }

  /** The link between fe and be, if any. Main loop. */
  findLink(fe: FrontEnd, be: BackEnd): Link | null {
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) {
      if (n.poison) return null;
      const link = n.owner as Link;
      if (link.be === be) return link;
    }
    return null;
  }

  // ---- BE operations (main loop) -------------------------------------

  private beEnter(be: BackEnd, to: BeState): string {
    if (!beCanEnter(be.state, to)) {
      return be.name + ": cannot go to " + BE_STATE_NAMES[to] + " from " + BE_STATE_NAMES[be.state];
    }
    be.state = to;
    return "";
  }

  /** Open a BE for one more FE user; the first user opens the hardware. */
  private beOpen(be: BackEnd): string {
    if (be.users > 0) {
      be.users++;
      return "";
    }
    if (!beCanEnter(be.state, BeState.Open)) return this.beEnter(be, BeState.Open);
    const err = be.driver.startup();
    if (err) return err;
    be.state = BeState.Open;
    be.users = 1;
    return "";
  }

  /**
   * hw_params for an FE on this BE. The driver may fix the params up (a BE
   * at a fixed rate); the FE adopts the fixed-up rate only if this is its
   * first BE, otherwise the FE cannot be served (there is no resampler).
   */
  private beHwParams(be: BackEnd, fe: FrontEnd, firstBe: boolean): string {
    if (be.users > 1) {
      if (be.params.rate !== fe.params.rate) {
        return be.name + ": busy at " + be.params.rate + " Hz, " + fe.name + " is " + fe.params.rate + " Hz";
      }
      return "";
    }
    const params: StreamParams = { rate: fe.params.rate, channels: fe.params.channels, periodFrames: fe.params.periodFrames };
    const err = be.driver.hwParams(params);
    if (err) return err;
    if (params.rate !== fe.params.rate) {
      if (!firstBe) {
        return be.name + ": runs at " + params.rate + " Hz only, " + fe.name + " is " + fe.params.rate + " Hz (no resampler)";
      }
      fe.params.rate = params.rate;
    }
    if (params.periodFrames !== fe.params.periodFrames || params.channels !== fe.params.channels) {
      return be.name + ": cannot serve " + fe.params.channels + " channels in periods of " + fe.params.periodFrames + " frames";
    }
    const to = this.beEnter(be, BeState.HwParams);
    if (to) return to;
    be.params = params;
    const prepErr = be.driver.prepare(params);
    if (prepErr) return prepErr;
    return this.beEnter(be, BeState.Prepare);
  }

  /** One FE user fewer; the last one frees and closes the hardware. */
  private beClose(be: BackEnd): void {
    if (be.users === 0) return;
    be.users--;
    if (be.users > 0) return;
    if (be.state === BeState.Start || be.state === BeState.Paused) {
      // A BE still streaming with no user left: stop it before freeing.
      const was = irqSave();
      be.driver.trigger(Cmd.Stop);
      be.hwTriggers[Cmd.Stop]++;
      be.state = BeState.Stop;
      irqRestore(was);
    }
    if (beCanEnter(be.state, BeState.HwFree)) {
      be.driver.hwFree();
      be.state = BeState.HwFree;
    }
    be.driver.shutdown();
    if (beCanEnter(be.state, BeState.Close)) be.state = BeState.Close;
    be.startCount = 0;
    be.pauseCount = 0;
    be.leftRunningReported = false;
  }

  // ---- Link start/stop: the BE start count (trigger path) --------------

  /** The hardware start of a BE, or its release from pause. In a section. */
  private beHwRun(be: BackEnd): void {
    if (be.state === BeState.Start) {
      record(Kind.DoubleStart, -1, be.index, -1, 0, Site.BeStart, be.startCount);
      return;
    }
    if (!beCanEnter(be.state, BeState.Start)) {
      be.refused++;
      return;
    }
    const cmd = be.state === BeState.Paused ? Cmd.PauseRelease : Cmd.Start;
    be.driver.trigger(cmd);
    be.hwTriggers[cmd]++;
    be.leftRunningReported = false;
    be.state = BeState.Start;
  }

  /** Fill both period buffers of an idle BE from the link, so it starts with audio. */
  private prime(link: Link): void {
    const be = link.be;
    const buffers = be.driver.periodBuffers();
    for (let i = 0; i < buffers.length; i++) {
      if (!this.copyPeriod(link, buffers[i], true)) buffers[i].fill(0);
    }
  }

  linkStart(link: Link): void {
    if (link.state === LinkState.Running) return;
    const be = link.be;
    const idle = be.startCount === 0 && be.state !== BeState.Paused;
    if (idle && !irq.inHandler) this.prime(link);
    const was = irqSave();
    if (link.state === LinkState.Paused) be.pauseCount--;
    link.state = LinkState.Running;
    be.startCount++;
    if (be.startCount === 1) this.beHwRun(be);
    irqRestore(was);
  }

  /** Stop (or pause, when `pause`) one link; the last running link stops the hardware. */
  linkStop(link: Link, pause: boolean): void {
    const be = link.be;
    const was = irqSave();
    // The link's state is tested with the handler masked: tested before the
    // section, an xrun STOP from the interrupt could stop this very link in
    // between, and the stop here would then take it off the paused count
    // instead (the race explorer found this: scenario 3, safe mode, stop()
    // of an FE while its xrun is handled).
    if (link.state === LinkState.Idle || (pause && link.state === LinkState.Paused)) {
      irqRestore(was);
      return;
    }
    if (link.state === LinkState.Running) be.startCount--;
    else be.pauseCount--;
    if (pause) {
      link.state = LinkState.Paused;
      be.pauseCount++;
    } else {
      link.state = LinkState.Idle;
    }
    if (be.startCount < 0 || be.pauseCount < 0) {
      record(Kind.UnbalancedStop, link.fe.index, be.index, link.slot, link.gen, Site.BeStop, be.startCount < 0 ? be.startCount : be.pauseCount);
      if (be.startCount < 0) be.startCount = 0;
      if (be.pauseCount < 0) be.pauseCount = 0;
    }
    if (be.startCount === 0 && (be.state === BeState.Start || be.state === BeState.Paused)) {
      if (be.pauseCount > 0) {
        if (be.state === BeState.Start) {
          be.driver.trigger(Cmd.PausePush);
          be.hwTriggers[Cmd.PausePush]++;
          be.state = BeState.Paused;
        }
      } else {
        be.driver.trigger(Cmd.Stop);
        be.hwTriggers[Cmd.Stop]++;
        be.state = BeState.Stop;
      }
    }
    irqRestore(was);
  }

  // ---- Lists ---------------------------------------------------------

  private linkLists(link: Link): void {
    const was = irqSave();
    if (!handlerExcluded()) record(Kind.UnmaskedListChange, link.fe.index, link.be.index, link.slot, link.gen, Site.LinkAdd, 0);
    link.feNode.gen = link.gen;
    link.beNode.gen = link.gen;
    listAddTail(link.feNode, link.fe.beClients);
    listAddTail(link.beNode, link.be.feClients);
    irqRestore(was);
  }

  /** Take a link off both lists and park it on the dying list, to be freed later. */
  private unlinkLists(link: Link): void {
    const was = irqSave();
    if (!handlerExcluded()) record(Kind.UnmaskedListChange, link.fe.index, link.be.index, link.slot, link.gen, Site.LinkDel, 0);
    // Retire first: from here every handle to the link, and every list node
    // still pointing at it, is stale. Done in the same section as the unlink,
    // a walk can never meet a retired link; without it (unsafe), the
    // interrupt can, which is the 2014 use-after-free.
    this.links.retire(link);
    const onBe = listDel(link.beNode);
    const onFe = listDel(link.feNode);
    listAddTail(link.feNode, this.dying);
    irqRestore(was);
    if (!onBe || !onFe) record(Kind.PoisonedWalk, link.fe.index, link.be.index, link.slot, link.gen, Site.LinkDel, 0);
  }

  /** Free every parked link and release its BE. Outside any section. */
  private freeDying(): void {
    while (!listEmpty(this.dying)) {
      const node = this.dying.next;
      const link = node.owner as Link;
      listDel(node);
      this.beClose(link.be);
      this.links.free(link);
    }
  }

  /** Create the link fe -> be and open the BE for it. Main loop. */
  private connect(fe: FrontEnd, be: BackEnd, firstBe: boolean): string {
    const link = this.links.alloc();
    if (!link) return "no free link (all " + this.links.items.length + " in use)";
    let err = this.beOpen(be);
    if (!err) {
      err = this.beHwParams(be, fe, firstBe);
      if (err) this.beClose(be);
    }
    if (err) {
      this.links.free(link);
      return err;
    }
    link.fe = fe;
    link.be = be;
    link.state = LinkState.Idle;
    link.pos = fe.hwPtr;
    link.emptyPeriods = 0;
    this.linkLists(link);
    return "";
  }

  // ---- FE operations (main loop) -------------------------------------

  /**
   * The rate a closed FE must open at to be served by every BE routed to it:
   * a BE already open for another FE fixes it, and so does a BE whose
   * hw_params fixup forces one (whatever the order of the routes); otherwise
   * the board's default. Only asks: changes nothing.
   */
  openRate(fe: FrontEnd): number | string {
    let rate = 0;
    let by = "";
    for (let b = 0; b < this.bes.length; b++) {
      const be = this.bes[b];
      if (!this.routed(fe, be)) continue;
      let fixed = 0;
      if (be.users > 0) {
        fixed = be.params.rate;
      } else {
        const probe: StreamParams = { rate: this.board.params.rate, channels: fe.params.channels, periodFrames: fe.params.periodFrames };
        if (!be.driver.hwParams(probe) && probe.rate !== this.board.params.rate) fixed = probe.rate;
      }
      if (!fixed) continue;
      if (rate && fixed !== rate) {
        return fe.name + ": " + by + " runs at " + rate + " Hz and " + be.name + " at " + fixed + " Hz; one FE cannot feed both (no resampler)";
      }
      rate = fixed;
      by = be.name;
    }
    return rate || this.board.params.rate;
  }

  /** Open an FE at openRate() and connect it to every BE routed to it. */
  openFe(fe: FrontEnd): string {
    if (fe.state !== FeState.Closed) return fe.name + ": already open";
    const rate = this.openRate(fe);
    if (typeof rate === "string") return rate;
    fe.params.rate = rate;
    let first = true;
    let count = 0;
    for (let b = 0; b < this.bes.length; b++) {
      if (!this.routed(fe, this.bes[b])) continue;
      const err = this.connect(fe, this.bes[b], first);
      if (err) {
        this.closeLinks(fe);
        fe.params.rate = this.board.params.rate;
        return err;
      }
      first = false;
      count++;
    }
    if (count === 0) return fe.name + ": no output routed; try route(\"" + fe.name + "\", \"" + this.beNames[0] + "\", true)";
    fe.state = FeState.Setup;
    return "";
  }

  /** Reset the ring for a fresh start (also the recovery after an xrun). */
  prepareFe(fe: FrontEnd): string {
    if (fe.state !== FeState.Setup && fe.state !== FeState.Xrun && fe.state !== FeState.Prepared) {
      return fe.name + ": cannot prepare in state " + FE_STATE_NAMES[fe.state];
    }
    fe.hwPtr = fe.applPtr;
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) (n.owner as Link).pos = fe.applPtr;
    fe.state = FeState.Prepared;
    return "";
  }

  /** Unlink and free every link of an FE. */
  private closeLinks(fe: FrontEnd): void {
    const head = fe.beClients;
    let n = head.next;
    while (n !== head && !n.poison) {
      const next = n.next;
      const link = n.owner as Link;
      this.linkStop(link, false);
      this.unlinkLists(link);
      n = next;
    }
    this.freeDying();
  }

  closeFe(fe: FrontEnd): void {
    if (fe.state === FeState.Closed) return;
    if (fe.state === FeState.Running || fe.state === FeState.Draining || fe.state === FeState.Paused) {
      this.trigger(fe, Cmd.Stop);
    }
    this.closeLinks(fe);
    fe.state = FeState.Closed;
    fe.pendingTrigger = NO_TRIGGER;
    fe.params.rate = this.board.params.rate;
  }

  /** Frames the application may write now. */
  writable(fe: FrontEnd): number {
    if (fe.state !== FeState.Prepared && fe.state !== FeState.Running) return 0;
    return fe.bufferFrames - (fe.applPtr - fe.hwPtr);
  }

  /** The ring period the next write goes to (a whole period: positions stay period-aligned). */
  writeView(fe: FrontEnd): Int16Array {
    return fe.periodViews[(fe.applPtr / this.periodFrames) % fe.periods];
  }

  /** Commit one period written into writeView(). */
  commitPeriod(fe: FrontEnd): void {
    fe.applPtr += this.periodFrames;
    fe.written += this.periodFrames;
  }

  /** Let the FE play out what it has, then stop (snd_pcm_drain). */
  drainFe(fe: FrontEnd): void {
    if (fe.state === FeState.Running) fe.state = FeState.Draining;
  }

  // ---- Routing -------------------------------------------------------

  /** Set a routing switch and apply it to an open FE at once. */
  route(fe: FrontEnd, be: BackEnd, on: boolean): string {
    const i = fe.index * this.bes.length + be.index;
    const before = this.switches[i];
    this.switches[i] = on ? 1 : 0;
    if (before === this.switches[i] || fe.state === FeState.Closed) return "";
    const err = this.update(fe);
    if (err) {
      this.switches[i] = before;
      this.update(fe);
    }
    return err;
  }

  /**
   * The runtime update (soc_dpcm_runtime_update for one FE): connect and
   * start new BEs first, so audio never stops on a reroute, then stop and
   * unlink the old ones, then free them outside any critical section.
   * Triggers that arrive meanwhile are held and replayed at the end.
   */
  update(fe: FrontEnd): string {
    fe.updating = true;
    let err = "";
    const running = fe.state === FeState.Running || fe.state === FeState.Draining;
    for (let b = 0; b < this.bes.length && !err; b++) {
      const be = this.bes[b];
      if (!this.routed(fe, be) || this.findLink(fe, be)) continue;
      err = this.connect(fe, be, listEmpty(fe.beClients));
      if (!err && running) {
        const link = this.findLink(fe, be);
        if (link) this.linkStart(link);
      }
    }
    if (!err) {
      const head = fe.beClients;
      let n = head.next;
      while (n !== head && !n.poison) {
        const next = n.next;
        const link = n.owner as Link;
        if (!this.routed(fe, link.be)) {
          this.linkStop(link, false);
          this.unlinkLists(link);
        }
        n = next;
      }
      this.freeDying();
    }
    fe.updating = false;
    if (fe.pendingTrigger !== NO_TRIGGER) {
      const cmd = fe.pendingTrigger;
      fe.pendingTrigger = NO_TRIGGER;
      record(Kind.TriggerReplayed, fe.index, -1, -1, 0, Site.UpdateEnd, cmd);
      this.trigger(fe, cmd);
    }
    this.checkTriggers(fe);
    return err;
  }

  /**
   * Detector: every link must be in the state its FE's last trigger put it in.
   * The FE state and each link's state are read together with the handler
   * masked: an xrun STOP from the interrupt changes the FE and all its links
   * in one handler run, so a check spread over several statements could see
   * the FE before that run and a link after it, and report a trigger lost
   * when none was (the race explorer found this: scenarios 1 and 4 in safe
   * mode). irqSaveAlways, as this is instrumentation, which unsafe mode keeps
   * guarded; one link per section, so its length does not depend on the graph.
   */
  checkTriggers(fe: FrontEnd): void {
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) {
      if (n.poison) return;
      const link = n.owner as Link;
      const was = irqSaveAlways();
      let want = LinkState.Idle;
      if (fe.state === FeState.Running || fe.state === FeState.Draining) want = LinkState.Running;
      else if (fe.state === FeState.Paused) want = LinkState.Paused;
      const lost = link.state !== want || (want === LinkState.Running && link.be.state !== BeState.Start);
      irqRestore(was);
      if (lost) record(Kind.LostTrigger, fe.index, link.be.index, link.slot, link.gen, Site.UpdateEnd, link.state);
    }
  }

  // ---- Trigger path (main loop or interrupt) --------------------------

  private triggerBes(fe: FrontEnd, cmd: Cmd): void {
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) {
      if (n.poison) {
        record(Kind.PoisonedWalk, fe.index, -1, -1, 0, Site.TriggerWalk, cmd);
        return;
      }
      const link = n.owner as Link;
      if (!link.inUse || link.gen !== n.gen) {
        record(Kind.UseAfterFree, fe.index, link.be.index, link.slot, link.gen, Site.TriggerWalk, cmd);
        return;
      }
      if (cmd === Cmd.Start || cmd === Cmd.Resume || cmd === Cmd.PauseRelease) this.linkStart(link);
      else this.linkStop(link, cmd === Cmd.PausePush);
    }
  }

  private feEnter(fe: FrontEnd, cmd: Cmd): void {
    if (cmd === Cmd.Start || cmd === Cmd.Resume || cmd === Cmd.PauseRelease) fe.state = FeState.Running;
    else if (cmd === Cmd.PausePush || cmd === Cmd.Suspend) fe.state = FeState.Paused;
    else if (cmd === Cmd.StopXrun) fe.state = FeState.Xrun;
    else fe.state = FeState.Setup;
  }

  /**
   * Trigger an FE and its BEs in the FE's order. During a routing update of
   * this FE the BE part is held in pendingTrigger and replayed at its end;
   * the FE's own state changes at once, as ALSA's does.
   */
  trigger(fe: FrontEnd, cmd: Cmd): string {
    const starting = cmd === Cmd.Start || cmd === Cmd.Resume || cmd === Cmd.PauseRelease;
    if (starting && fe.state !== FeState.Prepared && fe.state !== FeState.Paused && fe.state !== FeState.Running) {
      return fe.name + ": cannot " + CMD_NAMES[cmd] + " in state " + FE_STATE_NAMES[fe.state];
    }
    // PAUSED is accepted for the replay of a held PAUSE_PUSH (its FE state changed at once).
    const pausing = cmd === Cmd.PausePush || cmd === Cmd.Suspend;
    if (
      fe.state === FeState.Closed ||
      (pausing && fe.state !== FeState.Running && fe.state !== FeState.Draining && fe.state !== FeState.Paused)
    ) {
      return fe.name + ": cannot " + CMD_NAMES[cmd] + " in state " + FE_STATE_NAMES[fe.state];
    }
    if (fe.updating && !irq.unsafe) {
      this.feEnter(fe, cmd);
      fe.pendingTrigger = cmd;
      record(Kind.TriggerDeferred, fe.index, -1, -1, 0, Site.Trigger, cmd);
      return "";
    }
    // PRE: FE first on start, BEs first on stop; POST the other way round.
    const feFirst = (fe.order === Order.Pre) === starting;
    if (feFirst) this.feEnter(fe, cmd);
    this.triggerBes(fe, cmd);
    if (!feFirst) this.feEnter(fe, cmd);
    return "";
  }

  // ---- Period path (interrupt) ---------------------------------------

  /**
   * Copy the link's next FE period into dst (mix when `first` is false).
   * Returns false when the FE has no whole period for this link.
   */
  private copyPeriod(link: Link, dst: Int16Array, first: boolean): boolean {
    const fe = link.fe;
    if (fe.applPtr - link.pos < this.periodFrames) return false;
    const src = fe.periodViews[(link.pos / this.periodFrames) % fe.periods];
    if (first) dst.set(src);
    else mixSaturating(dst, src);
    link.pos += this.periodFrames;
    link.emptyPeriods = 0;
    this.played[fe.index * this.bes.length + link.be.index] += this.periodFrames;
    return true;
  }

  /**
   * Recompute an FE's hardware pointer from its running links; finish a
   * drain once every running BE has played out both of its period buffers
   * after the FE's last frame was copied (stopping earlier cut the tone's
   * last two periods).
   */
  private feAdvance(fe: FrontEnd): void {
    let min = -1;
    let playedOut = true;
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) {
      if (n.poison) {
        record(Kind.PoisonedWalk, fe.index, -1, -1, 0, Site.FeAdvance, 0);
        return;
      }
      const link = n.owner as Link;
      if (!link.inUse || link.gen !== n.gen) {
        record(Kind.UseAfterFree, fe.index, link.be.index, link.slot, link.gen, Site.FeAdvance, 0);
        return;
      }
      if (link.state !== LinkState.Running) continue;
      if (min < 0 || link.pos < min) min = link.pos;
      if (link.emptyPeriods < DMA_BUFFERS) playedOut = false;
    }
    if (min > fe.hwPtr) fe.hwPtr = min;
    if (fe.state === FeState.Draining && min >= fe.applPtr && playedOut) {
      record(Kind.Drained, fe.index, -1, -1, 0, Site.FeAdvance, fe.written);
      this.trigger(fe, Cmd.Stop);
    }
  }

  /** The FE ran dry on some BE: count what each link loses and stop it. */
  private feXrun(fe: FrontEnd, beIndex: number): void {
    fe.xruns++;
    let lost = 0;
    const head = fe.beClients;
    for (let n = head.next; n !== head; n = n.next) {
      if (n.poison) break;
      const link = n.owner as Link;
      if (!link.inUse || link.gen !== n.gen) {
        record(Kind.UseAfterFree, fe.index, link.be.index, link.slot, link.gen, Site.PeriodWalk, 0);
        break;
      }
      if (link.state !== LinkState.Running) continue;
      const behind = fe.applPtr - link.pos;
      this.dropped[fe.index * this.bes.length + link.be.index] += behind;
      link.pos = fe.applPtr;
      lost += behind;
    }
    record(Kind.Xrun, fe.index, beIndex, -1, 0, Site.PeriodWalk, lost);
    this.trigger(fe, Cmd.StopXrun);
  }

  /** A BE's DMA finished a period: fill the buffer it will play next and advance its FEs. */
  periodElapsed(beIndex: number, latency: number): void {
    if (latency > this.longestLatency) this.longestLatency = latency;
    const be = this.bes[beIndex];
    be.periods++;
    if (be.state !== BeState.Start) return;
    if (be.startCount === 0 && !be.leftRunningReported) {
      be.leftRunningReported = true;
      record(Kind.LeftRunning, -1, beIndex, -1, 0, Site.PeriodWalk, be.hwTriggers[Cmd.Start]);
    }
    const buffer = be.driver.nextBuffer();
    let sources = 0;
    const head = be.feClients;
    let n = head.next;
    for (; n !== head; n = n.next) {
      if (n.poison) {
        record(Kind.PoisonedWalk, -1, beIndex, -1, 0, Site.PeriodWalk, 0);
        break;
      }
      const link = n.owner as Link;
      if (!link.inUse || link.gen !== n.gen) {
        record(Kind.UseAfterFree, link.fe.index, beIndex, link.slot, link.gen, Site.PeriodWalk, 0);
        break;
      }
      const fe = link.fe;
      if (link.state !== LinkState.Running || (fe.state !== FeState.Running && fe.state !== FeState.Draining)) continue;
      if (this.copyPeriod(link, buffer, sources === 0)) sources++;
      else if (fe.state === FeState.Running) fe.xrunPending = true;
      else link.emptyPeriods++;
    }
    if (sources === 0) buffer.fill(0);
    if (n !== head) return;
    for (n = head.next; n !== head; n = n.next) {
      const fe = (n.owner as Link).fe;
      if (fe.xrunPending) {
        fe.xrunPending = false;
        this.feXrun(fe, beIndex);
      } else if (fe.state === FeState.Running || fe.state === FeState.Draining) {
        this.feAdvance(fe);
      }
      // The walk may have stopped links; the list itself is unchanged.
    }
  }

  /** The interrupt handler: poll the board's completions. */
  handler(): void {
    this.board.pollCompletions(this.onPeriod);
  }
}
