// FE operations of the main loop: what an application does to a PCM stream
// (pcm_native.c: open with hw_params, prepare, the trigger ioctls with their
// preconditions, drain, drop, xrun, close), with an error message for
// everything refused. Context: main.

import { Cmd, CMD_NAMES } from "../pcm";
import type { Card } from "./card";
import { FE_STATE_NAMES, FeState, FrontEnd, Link, PcmError, allocateRing, feHwPtr, feSetState, linkAfter } from "./dpcm";
import { closeLinks, connectRouted } from "./graph";
import { Site } from "../log";
import { dpcmFeTrigger } from "./trigger";
import { feXrun } from "./period";
import { xrunEnd } from "./xrun";
import { StreamParams } from "../pcm";

/** Period sizes an FE may be opened with, frames (at least 16: the interrupt's work per period is fixed). */
export const MIN_PERIOD_FRAMES = 16;
/** The shortest period, milliseconds, where the board says nothing (Board.minPeriodMs). */
export const DEFAULT_MIN_PERIOD_MS = 4;
export const MAX_PERIOD_FRAMES = 4096;

/**
 * The rate a closed FE must open at to be served by every BE routed to it:
 * a BE already open for another FE fixes it, and so does a BE whose
 * hw_params fixup forces one (whatever the order of the routes); otherwise
 * the board's default. Only asks: changes nothing. Returns Hz or why no
 * rate serves them all.
 * Context: main.
 */
export function openRate(card: Card, fe: FrontEnd): number | string {
  let rate = 0;
  let by = "";
  for (let b = 0; b < card.bes.length; b++) {
    const be = card.bes[b];
    if (!card.routed(fe, be)) continue;
    let fixed = 0;
    if (be.users > 0) {
      fixed = be.params.rate;
    } else {
      const probe: StreamParams = { rate: card.board.params.rate, channels: fe.params.channels, periodFrames: fe.params.periodFrames };
      if (!be.driver.hwParams(probe) && probe.rate !== card.board.params.rate) fixed = probe.rate;
    }
    if (!fixed) continue;
    if (rate && fixed !== rate) {
      return fe.name + ": " + by + " runs at " + rate + " Hz and " + be.name + " at " + fixed + " Hz; one FE cannot feed both (no resampler)";
    }
    rate = fixed;
    by = be.name;
  }
  return rate || card.board.params.rate;
}

/** The period an FE opened at `rate` Hz gets when none is asked for: the board's period time, in even frames. Context: main. */
export function defaultPeriodFrames(card: Card, rate: number): number {
  const board = card.board.params;
  return 2 * Math.round((board.periodFrames * rate) / board.rate / 2);
}

/**
 * Open an FE (open + hw_params): at `rate` Hz (0: openRate) and
 * `periodFrames` frames a period (0: the board's), then connect it to every
 * BE routed to it. Its params stay fixed until it closes. Returns "" or why
 * not, with the FE left closed.
 * Context: main.
 */
export function feOpen(card: Card, fe: FrontEnd, rate: number, periodFrames: number): string {
  if (fe.state !== FeState.Closed) return fe.name + ": already open (state " + FE_STATE_NAMES[fe.state] + ")";
  if (periodFrames && (periodFrames < MIN_PERIOD_FRAMES || periodFrames > MAX_PERIOD_FRAMES || periodFrames % 2 !== 0)) {
    return fe.name + ": a period must be an even number of frames from " + MIN_PERIOD_FRAMES + " to " + MAX_PERIOD_FRAMES;
  }
  let chosen = rate;
  if (!chosen) {
    const r = openRate(card, fe);
    if (typeof r === "string") return r;
    chosen = r;
  }
  const period = periodFrames || defaultPeriodFrames(card, chosen);
  // A period-time constraint, as ALSA drivers set one (snd_pcm_hw_constraint_minmax
  // on PERIOD_TIME): the board's interrupt and the main loop's refill run once a period.
  const minMs = card.board.minPeriodMs === undefined ? DEFAULT_MIN_PERIOD_MS : card.board.minPeriodMs;
  if ((period / chosen) * 1000 < minMs) {
    return (
      fe.name + ": a " + period + "-frame period at " + chosen + " Hz lasts " + ((period / chosen) * 1000).toFixed(2) + " ms; this board needs at least " +
      minMs + " ms (" + Math.ceil((minMs * chosen) / 1000) + " frames)"
    );
  }
  // Set for hw_params, put back if a BE refuses: a refused open changes
  // nothing the FE shows. The pointers start at 0 before the links are made
  // (each starts at the FE's hw_ptr).
  const oldPeriod = fe.params.periodFrames;
  fe.params.rate = chosen;
  fe.params.periodFrames = period;
  fe.applPtr = 0;
  fe.hwPtr = 0;
  feSetState(fe, FeState.Open);
  const err = connectRouted(card, fe);
  if (err) {
    feSetState(fe, FeState.Closed);
    fe.params.rate = card.board.params.rate;
    fe.params.periodFrames = oldPeriod;
    return err;
  }
  allocateRing(fe, period);
  if (!card.ops.accepts(fe.ring)) {
    // The native copy needs a flat ring (E.getAddressOf gives 0 otherwise): undo the open.
    const frames = fe.bufferFrames;
    closeLinks(card, fe);
    feSetState(fe, FeState.Closed);
    fe.params.rate = card.board.params.rate;
    allocateRing(fe, oldPeriod);
    return fe.name + ": no contiguous memory for a " + frames + "-frame ring";
  }
  fe.written = 0;
  fe.xrunAt = -1;
  feSetState(fe, FeState.Setup);
  return "";
}

/** What each link has not played is dropped (counted per route); every link starts again at appl_ptr. Context: main. */
function discardUnplayed(card: Card, fe: FrontEnd): void {
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.TriggerWalk, fe.index, -1); n; n = linkAfter(head, n, Site.TriggerWalk, fe.index, -1)) {
    const link = n.owner as Link;
    card.dropped[card.route(fe, link.be)] += fe.applPtr - link.pos;
    link.pos = fe.applPtr;
    link.emptyPeriods = 0;
  }
}

/**
 * Prepare an FE for START (snd_pcm_prepare): from SETUP, PREPARED or XRUN;
 * a PAUSED or SUSPENDED stream is stopped first, as ALSA does; a running
 * one is busy. What was written and not played is dropped.
 * Context: main.
 */
export function fePrepare(card: Card, fe: FrontEnd): string {
  if (fe.state === FeState.Paused || fe.state === FeState.Suspended) dpcmFeTrigger(card, fe, Cmd.Stop);
  if (fe.state === FeState.Running || fe.state === FeState.Draining) return fe.name + ": busy (state " + FE_STATE_NAMES[fe.state] + "): stop it first";
  if (fe.state !== FeState.Setup && fe.state !== FeState.Prepared && fe.state !== FeState.Xrun) {
    return fe.name + ": cannot prepare in state " + FE_STATE_NAMES[fe.state];
  }
  discardUnplayed(card, fe);
  fe.hwPtr = fe.applPtr;
  feSetState(fe, FeState.Prepared);
  return "";
}

/** Why `cmd` was refused, for the console. Context: main. */
function refusal(fe: FrontEnd, cmd: Cmd, err: PcmError): string {
  const state = " (state " + FE_STATE_NAMES[fe.state] + ")";
  if (err === PcmError.NoData) return fe.name + ": nothing written yet: START needs data";
  if (cmd === Cmd.Start) return fe.name + ": not prepared" + state;
  if (cmd === Cmd.PausePush) return fe.name + ": not running" + state;
  if (cmd === Cmd.PauseRelease) return fe.name + ": not paused" + state;
  if (cmd === Cmd.Resume) return fe.name + ": not suspended" + state;
  if (cmd === Cmd.Suspend) {
    if (fe.state === FeState.Suspended) return fe.name + ": already suspended";
    return fe.name + ": nothing to suspend" + state;
  }
  if (cmd === Cmd.StopXrun) return fe.name + ": not running" + state;
  return fe.name + ": cannot " + CMD_NAMES[cmd] + state;
}

/** Trigger an FE from the main loop: "" or why it was refused (nothing changed then). Context: main. */
export function feTrigger(card: Card, fe: FrontEnd, cmd: Cmd): string {
  const err = dpcmFeTrigger(card, fe, cmd);
  return err === PcmError.None ? "" : refusal(fe, cmd, err);
}

/**
 * Drain (snd_pcm_drain): play out what was written, then stop (SETUP).
 * PAUSED is released first; PREPARED with data starts draining; XRUN goes
 * to SETUP; SUSPENDED is refused.
 * Context: main.
 */
export function feDrain(card: Card, fe: FrontEnd): string {
  if (fe.state === FeState.Closed || fe.state === FeState.Open || fe.state === FeState.Suspended) {
    return fe.name + ": cannot drain in state " + FE_STATE_NAMES[fe.state];
  }
  if (fe.state === FeState.Paused) dpcmFeTrigger(card, fe, Cmd.PauseRelease);
  if (fe.state === FeState.Prepared) {
    if (fe.applPtr - fe.hwPtr <= 0) {
      feSetState(fe, FeState.Setup);
      return "";
    }
    dpcmFeTrigger(card, fe, Cmd.Start);
  }
  if (fe.state === FeState.Running) feSetState(fe, FeState.Draining);
  else if (fe.state === FeState.Xrun) dpcmFeTrigger(card, fe, Cmd.Stop);
  return "";
}

/** Put a running FE in XRUN now, as an underrun would (snd_pcm_xrun): "" or why not. Context: main. */
export function feInjectXrun(card: Card, fe: FrontEnd): string {
  if (fe.state === FeState.Xrun) return "";
  if (fe.state !== FeState.Running) return fe.name + ": not running (state " + FE_STATE_NAMES[fe.state] + ")";
  feXrun(card, fe, getTime());
  return "";
}

/** Stop (if needed), disconnect and close an FE; its params go back to the board's. Context: main. */
export function feClose(card: Card, fe: FrontEnd): void {
  if (fe.state === FeState.Closed) return;
  dpcmFeTrigger(card, fe, Cmd.Stop);
  // A dropout that never ended: it lasted until now.
  const first = linkAfter(fe.beClients, fe.beClients, Site.FeClose, fe.index, -1);
  if (first) xrunEnd(card, fe, (first.owner as Link).be, getTime(), Site.FeClose);
  fe.xrunAt = -1;
  discardUnplayed(card, fe);
  closeLinks(card, fe);
  feSetState(fe, FeState.Closed);
  fe.triggerPending = false;
  fe.params.rate = card.board.params.rate;
  fe.params.periodFrames = card.board.params.periodFrames;
}

/** Frames the application may write now (avail). Context: main. */
export function feWritable(fe: FrontEnd): number {
  if (fe.state !== FeState.Prepared && fe.state !== FeState.Running && fe.state !== FeState.Paused) return 0;
  return fe.bufferFrames - (fe.applPtr - feHwPtr(fe));
}

/** The ring period the next write goes to (whole periods: positions stay period-aligned). Context: main. */
export function feWriteView(fe: FrontEnd): Int16Array {
  return fe.periodViews[(fe.applPtr / fe.params.periodFrames) % fe.periods];
}

/** Commit one period written into feWriteView() (appl_ptr moves on). Context: main. */
export function feCommitPeriod(fe: FrontEnd): void {
  fe.applPtr += fe.params.periodFrames;
  fe.written += fe.params.periodFrames;
}
