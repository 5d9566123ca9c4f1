// The trigger path: an FE trigger, the walk of its BE clients, and each
// BE's start, pause and suspend counts (soc-pcm.c dpcm_fe_dai_trigger,
// dpcm_be_dai_trigger). Runs in both contexts: the main loop triggers
// START, PAUSE, SUSPEND, RESUME and STOP; the interrupt stops an FE after an
// xrun and at the end of a drain. No strings, no allocation.
//
// A BE's hardware state follows its counts (beSync): START while a link
// runs, PAUSED while one is paused, SUSPEND while one is suspended, else
// STOP. The hardware is told only on a change, so a BE shared by several FEs
// gets one START and one STOP (b2ae80663008, 848aedfdc6ba, 3aa1e96a2b95).

import { irq, irqSave, irqRestore } from "../irq";
import { Kind, Site, record } from "../log";
import { Cmd } from "../pcm";
import type { Card } from "./card";
import { prime } from "./buffer";
import {
  BackEnd, BeState, FeState, FrontEnd, Link, LinkState, Order, PcmError, assertLocked, beSetState, feSetState,
  linkAfter, linkSetState, linkStateFor, stateAfter, triggerAllowed,
} from "./dpcm";
import { xrunEnd } from "./xrun";

/** The hardware state a BE's counts call for. Context: both. */
function beTarget(be: BackEnd): BeState {
  if (be.startCount > 0) return BeState.Start;
  if (be.pauseCount > 0) return BeState.Paused;
  if (be.suspendCount > 0) return BeState.Suspend;
  return BeState.Stop;
}

/**
 * Bring a BE's state, and its hardware, to what its counts call for.
 * Called with the handler masked (or from it). A BE that never started
 * stays as it is until a link runs: there is nothing to pause or suspend.
 * SUSPEND and PAUSED both leave the hardware halted with its registers
 * kept, so moving between them tells the hardware nothing. Context: both.
 */
function beSync(be: BackEnd): void {
  const target = beTarget(be);
  const cur = be.state;
  let cmd = -1;
  if (target === BeState.Start) {
    if (cur === BeState.Start) return;
    cmd = cur === BeState.Paused ? Cmd.PauseRelease : cur === BeState.Suspend ? Cmd.Resume : Cmd.Start;
  } else if (cur !== BeState.Start && cur !== BeState.Paused && cur !== BeState.Suspend) {
    return;
  } else if (target === cur) {
    return;
  } else if (target === BeState.Paused) {
    if (cur === BeState.Start) cmd = Cmd.PausePush;
  } else if (target === BeState.Suspend) {
    if (cur === BeState.Start) cmd = Cmd.Suspend;
  } else {
    cmd = Cmd.Stop;
  }
  if (!beSetState(be, target)) return;
  if (cmd >= 0) {
    be.driver.trigger(cmd);
    be.hwTriggers[cmd]++;
  }
  if (target === BeState.Start) be.leftRunningReported = false;
}

/** Context: both. */
function countOf(be: BackEnd, state: LinkState, delta: number): void {
  if (state === LinkState.Running) be.startCount += delta;
  else if (state === LinkState.Paused) be.pauseCount += delta;
  else if (state === LinkState.Suspended) be.suspendCount += delta;
}

/**
 * Move one link to `to`, keeping its BE's counts and hardware in step: the
 * one place a link's state changes. The test and the change are one
 * critical section: tested before it, an xrun STOP from the interrupt could
 * change this very link in between (the race explorer found that, scenario
 * 3). A BE that is stopped is primed with the FE's first two periods before
 * its START. Context: both.
 */
export function linkSet(card: Card, link: Link, to: LinkState): void {
  const be = link.be;
  // Priming copies two periods: never in a section, never from the handler.
  // The interrupt only ever stops links, so a BE found idle here stays idle
  // until the section below starts it. A paused or suspended BE is not idle:
  // its hardware holds its position in a period buffer and resumes there, so
  // priming would overwrite the block it is frozen in (the Pico's DMA model
  // caught that, issue 10).
  const idle =
    to === LinkState.Running && be.startCount === 0 && be.state !== BeState.Start && be.state !== BeState.Paused && be.state !== BeState.Suspend;
  if (idle && !irq.inHandler && link.state !== LinkState.Running) prime(card, link);
  const was = irqSave();
  const from = link.state;
  if (from === to) {
    irqRestore(was);
    return;
  }
  assertLocked(Kind.UnmaskedCountChange, link, Site.LinkCount);
  if (to === LinkState.Running && be.startCount === 0 && be.state === BeState.Start) {
    // The count says nobody runs it, yet the hardware runs: a second START.
    record(Kind.DoubleStart, link.fe.index, be.index, link.slot, link.gen, Site.BeStart, be.hwTriggers[Cmd.Start]);
  }
  countOf(be, from, -1);
  countOf(be, to, 1);
  linkSetState(link, to);
  if (to === LinkState.Running) link.emptyPeriods = 0;
  if (be.startCount < 0 || be.pauseCount < 0 || be.suspendCount < 0) {
    record(Kind.UnbalancedStop, link.fe.index, be.index, link.slot, link.gen, Site.BeStop, from);
    if (be.startCount < 0) be.startCount = 0;
    if (be.pauseCount < 0) be.pauseCount = 0;
    if (be.suspendCount < 0) be.suspendCount = 0;
  }
  const wasStarted = be.state === BeState.Start;
  beSync(be);
  const startedNow = !wasStarted && be.state === BeState.Start;
  irqRestore(was);
  // A stopped BE started by this link plays the primed audio from now on:
  // a dropout of its FE ends here (outside the section: it walks the FE's links).
  if (startedNow && link.fe.xrunAt >= 0) xrunEnd(card, link.fe, be, getTime(), Site.BeStart);
}

/** Move every link of `fe` to what the FE's state asks (the BE part of a trigger). Context: both. */
export function feSyncLinks(card: Card, fe: FrontEnd): void {
  const want = linkStateFor(fe.state);
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.TriggerWalk, fe.index, -1); n; n = linkAfter(head, n, Site.TriggerWalk, fe.index, -1)) {
    linkSet(card, n.owner as Link, want);
  }
}

/**
 * Trigger an FE and its BEs (dpcm_fe_dai_trigger): check the command
 * against the FE's state (pcm_native.c snd_pcm_pre_*), then change the FE
 * and walk its BE clients in the FE's order (PRE: the FE first on START,
 * RESUME and PAUSE_RELEASE, last on the others; POST the reverse). During a
 * routing update of this FE the BE part is held (trigger_pending,
 * ea9d0d771fcd) and replayed when the update ends; the FE's own state
 * changes at once, as ALSA's does. Returns PcmError.None or why the command
 * was refused, changing nothing. Context: both.
 */
export function dpcmFeTrigger(card: Card, fe: FrontEnd, cmd: Cmd): PcmError {
  if (!triggerAllowed(cmd, fe.state)) {
    return cmd === Cmd.Suspend && fe.state !== FeState.Closed ? PcmError.Busy : PcmError.BadState;
  }
  if (cmd === Cmd.Start && fe.applPtr - fe.hwPtr <= 0) return PcmError.NoData;
  const to = stateAfter(cmd, fe);
  if (fe.updating && !irq.unsafe) {
    feSetState(fe, to);
    fe.triggerPending = true;
    fe.pendingCmd = cmd;
    record(Kind.TriggerDeferred, fe.index, -1, -1, 0, Site.Trigger, cmd);
    return PcmError.None;
  }
  // From the main loop the walk takes one section a link, so the interrupt
  // can run between two links. It then leaves this FE's xrun and drain's end
  // to its next period (fe.triggering, period.ts), which sees the trigger's
  // outcome: as in ALSA, where the stream lock serialises snd_pcm_period_elapsed
  // after the trigger, a suspend accepted while DRAINING ends SUSPENDED, never
  // in the SETUP a drain's end mid-walk would leave (found by check:pcm).
  const guard = !irq.inHandler && !irq.unsafe;
  if (guard) fe.triggering = true;
  const starting = cmd === Cmd.Start || cmd === Cmd.Resume || cmd === Cmd.PauseRelease;
  const feFirst = (fe.order === Order.Pre) === starting;
  if (feFirst) feSetState(fe, to);
  const want = linkStateFor(to);
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.TriggerWalk, fe.index, -1); n; n = linkAfter(head, n, Site.TriggerWalk, fe.index, -1)) {
    linkSet(card, n.owner as Link, want);
  }
  if (!feFirst) feSetState(fe, to);
  if (guard) fe.triggering = false;
  return PcmError.None;
}
