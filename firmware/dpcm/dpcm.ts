// The DPCM core's types, state tables, link iterator and transition
// functions: this project's include/sound/soc-dpcm.h. Every other file of
// the core, the console, the explorer and the tests take states and rules
// from here.
//
// Locks. The firmware has one interrupt handler (irq.ts). A field marked
// "Lock: irq" is written only with the handler masked or from the handler
// itself, and may be read by both contexts; "Lock: main" is touched by the
// main loop only; "Lock: none" is written once at boot. List changes and
// count changes assert the lock (assertLocked): a change made with the
// handler unmasked is a race and is logged as one.
//
// Contexts, said on every function of the core: "main" (the main loop:
// console, player, routing), "irq" (the interrupt handler), "both".

import { BeDriver } from "../board";
import { irq } from "../irq";
import { Kind, Site, record } from "../log";
import { ListNode } from "../list";
import { Pooled } from "../pool";
import { Cmd, HW_TRIGGERS, StreamParams } from "../pcm";

// ---- States ------------------------------------------------------------------

/** FE states: ALSA's snd_pcm_state_t (include/uapi/sound/asound.h), plus CLOSED. */
export const enum FeState {
  Closed = 0,
  Open = 1,
  Setup = 2,
  Prepared = 3,
  Running = 4,
  Xrun = 5,
  Draining = 6,
  Paused = 7,
  Suspended = 8,
}
export const FE_STATE_NAMES = ["CLOSED", "OPEN", "SETUP", "PREPARED", "RUNNING", "XRUN", "DRAINING", "PAUSED", "SUSPENDED"];

/** BE states: enum snd_soc_dpcm_state (include/sound/soc-dpcm.h). */
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

/**
 * What a link asks of its BE: the FE's trigger state as seen on one link.
 * The BE's start, pause and suspend counts are the number of links in each.
 */
export const enum LinkState {
  Idle = 0,
  Running = 1,
  Paused = 2,
  Suspended = 3,
}
export const LINK_STATE_NAMES = ["IDLE", "RUNNING", "PAUSED", "SUSPENDED"];

/** Start the FE before its BEs (PRE) or after them (POST); stop runs in reverse (enum snd_soc_dpcm_trigger). */
export const enum Order {
  Pre = 0,
  Post = 1,
}

/** Why a PCM operation was refused: the errno ALSA returns for it. */
export const enum PcmError {
  None = 0,
  /** -EBADFD: not allowed in the FE's state. */
  BadState = 1,
  /** -EPIPE: START with nothing written (snd_pcm_pre_start). */
  NoData = 2,
  /** -EBUSY: SUSPEND of a stream that cannot be suspended (snd_pcm_pre_suspend). */
  Busy = 3,
}

/** Context: both. */
function bit(state: number): number {
  return 1 << state;
}

/**
 * FE transitions: for each target state, the states it may be entered from
 * (pcm_native.c: snd_pcm_pre_* and the post actions).
 */
const FE_ALLOWED_FROM = [
  // CLOSED: close from anywhere.
  0x1ff,
  bit(FeState.Closed),
  // SETUP: hw_params, STOP (drop, drain done), drain of an XRUN.
  bit(FeState.Open) | bit(FeState.Setup) | bit(FeState.Prepared) | bit(FeState.Running) | bit(FeState.Xrun) |
    bit(FeState.Draining) | bit(FeState.Paused) | bit(FeState.Suspended),
  // PREPARED: prepare; RESUME of a stream suspended while prepared.
  bit(FeState.Setup) | bit(FeState.Prepared) | bit(FeState.Xrun) | bit(FeState.Suspended),
  // RUNNING: START, PAUSE_RELEASE, RESUME.
  bit(FeState.Prepared) | bit(FeState.Paused) | bit(FeState.Suspended),
  // XRUN: an underrun of a running stream; RESUME of one suspended in XRUN.
  bit(FeState.Running) | bit(FeState.Suspended),
  // DRAINING: drain of a running stream, or of a prepared one with data; RESUME.
  bit(FeState.Running) | bit(FeState.Prepared) | bit(FeState.Suspended),
  // PAUSED: PAUSE_PUSH; RESUME of a stream suspended while paused.
  bit(FeState.Running) | bit(FeState.Suspended),
  // SUSPENDED: snd_pcm_pre_suspend refuses OPEN, SETUP and SUSPENDED.
  bit(FeState.Prepared) | bit(FeState.Running) | bit(FeState.Xrun) | bit(FeState.Draining) | bit(FeState.Paused),
];

/** Whether an FE may go from `from` to `to`. Context: both. */
export function feCanEnter(from: FeState, to: FeState): boolean {
  return (FE_ALLOWED_FROM[to] & bit(from)) !== 0;
}

/**
 * BE transitions, as soc-pcm.c moves be->dpcm[stream].state, plus two this
 * card needs because its BE state follows the link counts (ARCHITECTURE.md,
 * "Where the card differs from ASoC"): PAUSED -> SUSPEND and SUSPEND -> PAUSED.
 */
const BE_ALLOWED_FROM = [
  0, // NEW is never re-entered
  bit(BeState.New) | bit(BeState.Close),
  bit(BeState.Open) | bit(BeState.HwParams) | bit(BeState.HwFree),
  bit(BeState.HwParams) | bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Suspend) | bit(BeState.Paused),
  bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Paused) | bit(BeState.Suspend),
  bit(BeState.Start) | bit(BeState.Paused) | bit(BeState.Suspend),
  bit(BeState.Start) | bit(BeState.Suspend),
  bit(BeState.Start) | bit(BeState.Paused),
  bit(BeState.HwParams) | bit(BeState.Prepare) | bit(BeState.Stop) | bit(BeState.Paused) | bit(BeState.Suspend) | bit(BeState.HwFree),
  bit(BeState.HwFree) | bit(BeState.Open),
];

/** Whether a BE may go from `from` to `to`. Context: both. */
export function beCanEnter(from: BeState, to: BeState): boolean {
  return (BE_ALLOWED_FROM[to] & bit(from)) !== 0;
}

/**
 * The FE states each trigger command is accepted in (pcm_native.c):
 * START only from PREPARED; STOP from any open state; PAUSE_PUSH only from
 * RUNNING; PAUSE_RELEASE only from PAUSED; SUSPEND from PREPARED and the
 * running states; RESUME only from SUSPENDED (1225675ca74c); STOP_XRUN from
 * RUNNING (snd_pcm_stop_xrun acts only on a running stream).
 */
const TRIGGER_FROM = [
  bit(FeState.Prepared),
  bit(FeState.Setup) | bit(FeState.Prepared) | bit(FeState.Running) | bit(FeState.Xrun) | bit(FeState.Draining) |
    bit(FeState.Paused) | bit(FeState.Suspended),
  bit(FeState.Running),
  bit(FeState.Paused),
  bit(FeState.Prepared) | bit(FeState.Running) | bit(FeState.Xrun) | bit(FeState.Draining) | bit(FeState.Paused),
  bit(FeState.Suspended),
  bit(FeState.Running),
];

/** Whether `cmd` is accepted by an FE in `state`. Context: both. */
export function triggerAllowed(cmd: Cmd, state: FeState): boolean {
  return (TRIGGER_FROM[cmd] & bit(state)) !== 0;
}

/** The FE state a trigger leaves behind. RESUME goes back to the state the FE was suspended in. Context: both. */
export function stateAfter(cmd: Cmd, fe: FrontEnd): FeState {
  if (cmd === Cmd.Start || cmd === Cmd.PauseRelease) return FeState.Running;
  if (cmd === Cmd.PausePush) return FeState.Paused;
  if (cmd === Cmd.Suspend) return FeState.Suspended;
  if (cmd === Cmd.Resume) return fe.suspendedState;
  if (cmd === Cmd.StopXrun) return FeState.Xrun;
  return FeState.Setup;
}

/** What every link of an FE in `state` must be: the rule the lost-trigger detector checks. Context: both. */
export function linkStateFor(state: FeState): LinkState {
  if (state === FeState.Running || state === FeState.Draining) return LinkState.Running;
  if (state === FeState.Paused) return LinkState.Paused;
  if (state === FeState.Suspended) return LinkState.Suspended;
  return LinkState.Idle;
}


// ---- Objects -------------------------------------------------------------------

/** One FE-BE connection (the kernel's struct snd_soc_dpcm), from a fixed pool. */
export class Link implements Pooled {
  /** Lock: none. */
  slot: number;
  /** Bumped when the link is retired and when it is freed. Lock: irq (retire) / main (free). */
  gen: number;
  /** Lock: main. */
  inUse: boolean;
  /** Lock: main (set before the link is added to the lists). */
  fe: FrontEnd;
  be: BackEnd;
  /** On fe.beClients (list_be). Lock: irq. */
  feNode: ListNode<Link>;
  /** On be.feClients (list_fe). Lock: irq. */
  beNode: ListNode<Link>;
  /** Changed only by linkSet (trigger.ts), with the BE's counts. Lock: irq. */
  state: LinkState;
  /** FE frames this BE has consumed: a position in the FE's frame count. Lock: irq. */
  pos: number;
  /** Period fills in a row that found no FE data (the output then plays silence). Lock: irq. */
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

/** A back end: one hardware output (an I2S port and the codec or amplifier on it). */
export class BackEnd {
  /** Lock: none. */
  index: number;
  name: string;
  description: string;
  /** What to check when this BE completes no period (the watchdog's hint). */
  checkHint: string;
  driver: BeDriver;
  /** Changed only by beSetState. Lock: irq. */
  state: BeState;
  /** FEs that opened it (kernel users): opened by the first, closed by the last. Lock: main. */
  users: number;
  /** Links running on it (kernel be_start): the hardware runs while this is above 0. Lock: irq. */
  startCount: number;
  /** Links paused on it (kernel be_pause). Lock: irq. */
  pauseCount: number;
  /** Links suspended on it. Lock: irq. */
  suspendCount: number;
  /** FE clients (kernel be->dpcm[].fe_clients): nodes are links' beNode. Lock: irq. */
  feClients: ListNode<Link>;
  /** The params the hardware was prepared with. Lock: main. */
  params: StreamParams;
  /** Periods completed, ever. Lock: irq. */
  periods: number;
  /** Triggers sent to the driver, by command (Cmd.Start .. Cmd.Resume). Lock: irq. */
  hwTriggers: Int32Array;
  /** Transitions refused from the trigger path (no strings there). Lock: irq. */
  refused: number;
  leftRunningReported: boolean;
  constructor(index: number, name: string, description: string, checkHint: string, driver: BeDriver, params: StreamParams) {
    this.index = index;
    this.name = name;
    this.description = description;
    this.checkHint = checkHint;
    this.driver = driver;
    this.state = BeState.New;
    this.users = 0;
    this.startCount = 0;
    this.pauseCount = 0;
    this.suspendCount = 0;
    this.feClients = new ListNode<Link>(null);
    this.params = { rate: params.rate, channels: params.channels, periodFrames: params.periodFrames };
    this.periods = 0;
    this.hwTriggers = new Int32Array(HW_TRIGGERS);
    this.refused = 0;
    this.leftRunningReported = false;
  }
}

/** (Re)make an FE's ring and its period views for `periodFrames`. Main loop, FE closed. Context: main. */
export function allocateRing(fe: FrontEnd, periodFrames: number): void {
  fe.params.periodFrames = periodFrames;
  fe.bufferFrames = fe.periods * periodFrames;
  const samples = periodFrames * 2;
  if (fe.ring.length === fe.bufferFrames * 2 && fe.periodViews.length === fe.periods && fe.periodViews[0].length === samples) return;
  if (fe.ring.length !== fe.bufferFrames * 2) fe.ring = new Int16Array(fe.bufferFrames * 2);
  fe.periodViews = [];
  for (let p = 0; p < fe.periods; p++) fe.periodViews.push(fe.ring.subarray(p * samples, (p + 1) * samples));
}

/** A front end: one PCM stream the application writes. */
export class FrontEnd {
  /** Lock: none. */
  index: number;
  name: string;
  /** Changed only by feSetState. Lock: irq (the interrupt stops an FE on xrun and at drain's end). */
  state: FeState;
  /** The state SUSPEND left (runtime->suspended_state); RESUME returns to it. Lock: irq. */
  suspendedState: FeState;
  /** Fixed from open to close: no BE may change them. Lock: main. */
  params: StreamParams;
  /** Interleaved stereo ring of `periods` periods. Lock: main (reallocated only while closed). */
  ring: Int16Array;
  /** One view per period of the ring, made at open: the interrupt allocates nothing. */
  periodViews: Int16Array[];
  periods: number;
  bufferFrames: number;
  /** Frames written by the application since prepare (appl_ptr). Lock: main. */
  applPtr: number;
  /**
   * Frames played by every running BE (hw_ptr): the minimum over its running
   * links' positions, as feHwPtr last derived it; never moves back. Lock: main.
   */
  hwPtr: number;
  /** BE clients (kernel fe->dpcm[].be_clients): nodes are links' feNode. Lock: irq. */
  beClients: ListNode<Link>;
  order: Order;
  /** A routing update of this FE is in progress (runtime_update = DPCM_UPDATE_FE). Lock: main. */
  updating: boolean;
  /**
   * The main loop is walking this FE's links for a trigger: the interrupt
   * leaves the FE's xrun and drain's end to the next period, which sees the
   * trigger's outcome (ALSA holds the stream lock over the whole trigger).
   * Lock: main (written with the handler able to run; read by the interrupt).
   */
  triggering: boolean;
  /** A trigger arrived during the update; its BE part is replayed at the end (trigger_pending). Lock: irq. */
  triggerPending: boolean;
  /** The last command held while updating, for the log. Lock: irq. */
  pendingCmd: number;
  /** Set by the period walk when a link's output went silent; acted on once per handler run. Lock: irq. */
  xrunPending: boolean;
  /** getTime() when its outputs went silent after an xrun, until audio is back; -1 otherwise. Lock: irq. */
  xrunAt: number;
  /** Frames written since open. Lock: main. */
  written: number;
  xruns: number;
  constructor(index: number, name: string, params: StreamParams, periods: number) {
    this.index = index;
    this.name = name;
    this.state = FeState.Closed;
    this.suspendedState = FeState.Closed;
    this.params = { rate: params.rate, channels: params.channels, periodFrames: params.periodFrames };
    this.periods = periods;
    this.bufferFrames = 0;
    this.ring = new Int16Array(0);
    this.periodViews = [];
    this.applPtr = 0;
    this.hwPtr = 0;
    this.beClients = new ListNode<Link>(null);
    this.order = Order.Pre;
    this.updating = false;
    this.triggering = false;
    this.triggerPending = false;
    this.pendingCmd = -1;
    this.xrunPending = false;
    this.xrunAt = -1;
    this.written = 0;
    this.xruns = 0;
    allocateRing(this, params.periodFrames);
  }
}

// ---- Transitions ------------------------------------------------------------------

/** The one place an FE's state changes. Returns false, changing nothing, for an illegal transition. Context: both. */
export function feSetState(fe: FrontEnd, to: FeState): boolean {
  if (!feCanEnter(fe.state, to)) return false;
  if (to === FeState.Suspended) fe.suspendedState = fe.state;
  fe.state = to;
  return true;
}

/**
 * The one place a BE's state changes. An illegal transition is refused and
 * counted in be.refused; entering START from START is a double start.
 * Context: both.
 */
export function beSetState(be: BackEnd, to: BeState): boolean {
  if (to === BeState.Start && be.state === BeState.Start) {
    record(Kind.DoubleStart, -1, be.index, -1, 0, Site.BeStart, be.startCount);
    return false;
  }
  if (!beCanEnter(be.state, to)) {
    be.refused++;
    return false;
  }
  be.state = to;
  return true;
}

/** The one place a link's state changes; the caller keeps the BE's counts with it (trigger.ts linkSet). Context: both. */
export function linkSetState(link: Link, to: LinkState): void {
  link.state = to;
}

// ---- Lock assertion ------------------------------------------------------------------

/**
 * A shared list or count is about to change: it must be with the handler
 * masked or from the handler. Otherwise the change is a race: logged with
 * `kind` (UnmaskedListChange or UnmaskedCountChange). Cheap: two field reads.
 * Context: both.
 */
export function assertLocked(kind: Kind, link: Link, site: Site): void {
  if (!irq.masked && !irq.inHandler) record(kind, link.fe.index, link.be.index, link.slot, link.gen, site, 0);
}

// ---- The link iterator ------------------------------------------------------------

/** Set when the last walk ended on a poisoned or stale node rather than at its head. Lock: irq. */
export const walk = { broken: false };

/** A walk met a poisoned or stale node: log it, end the walk. Context: both. */
function walkFault(next: ListNode<Link>, site: Site, fe: number, be: number): null {
  walk.broken = true;
  if (next.poison) {
    record(Kind.PoisonedWalk, fe, be, -1, 0, site, 0);
  } else {
    const link = next.owner as Link;
    record(Kind.UseAfterFree, link.fe.index, link.be.index, link.slot, link.gen, site, 0);
  }
  return null;
}

/**
 * The one way to walk a list of links (for_each_dpcm_be / for_each_dpcm_fe):
 * the node after `node` on the list headed by `head`, or null at the end.
 * Every step is checked: a poisoned pointer (a node deleted under the walk)
 * and a stale node (its link retired or freed since it was linked) end the
 * walk and are logged as races at `site`, with `fe` and `be` naming the
 * list's owner (-1 where unknown), and set walk.broken. Usage:
 *   for (let n = linkAfter(head, head, site, fe, be); n; n = linkAfter(head, n, site, fe, be)) ...n.owner...
 * Context: both. Allocates nothing.
 */
export function linkAfter(head: ListNode<Link>, node: ListNode<Link>, site: Site, fe: number, be: number): ListNode<Link> | null {
  // Two statements on the common path: this runs for every step of every walk.
  const next = node.next;
  return next === head
    ? null
    : next.poison || !(next.owner as Link).inUse || (next.owner as Link).gen !== next.gen
      ? walkFault(next, site, fe, be)
      : next;
}

/**
 * The FE's hardware pointer, derived from its running links (the slowest
 * output bounds what may be overwritten); never moves back. Reading the
 * positions unmasked is safe: each only grows, so the minimum can only be
 * too small (a little less room to write), never too large. Context: both.
 */
export function feHwPtr(fe: FrontEnd): number {
  let min = -1;
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.FeAdvance, fe.index, -1); n; n = linkAfter(head, n, Site.FeAdvance, fe.index, -1)) {
    const link = n.owner as Link;
    if (link.state === LinkState.Running && (min < 0 || link.pos < min)) min = link.pos;
  }
  if (min > fe.hwPtr) fe.hwPtr = min;
  return fe.hwPtr;
}
