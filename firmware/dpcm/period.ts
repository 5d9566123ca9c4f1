// The interrupt's work: a BE's DMA finished a period, so fill the buffer it
// plays next from its FE clients, move each FE's hardware pointer, and stop
// an FE whose data ran out (an xrun) or whose drain is over. The path of
// snd_pcm_period_elapsed -> snd_pcm_update_hw_ptr0 -> snd_pcm_stop in the
// 2014 report. No strings, no allocation.

import { Kind, Site, record } from "../log";
import { Cmd } from "../pcm";
import { copyPeriod } from "./buffer";
import type { Card } from "./card";
import { BeState, FeState, FrontEnd, Link, LinkState, feRunning, linkAfter, walk } from "./dpcm";
import { dpcmFeTrigger } from "./trigger";

/** Both period buffers played with nothing new copied: every written frame has been heard. */
const PLAYED_OUT = 2;

/**
 * Recompute an FE's hardware pointer from its running links (the minimum:
 * the FE has been played only as far as its slowest output); end a drain
 * once every running link has played out. Context: irq.
 */
function feAdvance(card: Card, fe: FrontEnd): void {
  let min = -1;
  let playedOut = true;
  const head = fe.beClients;
  walk.broken = false;
  for (let n = linkAfter(head, head, Site.FeAdvance, fe.index, -1); n; n = linkAfter(head, n, Site.FeAdvance, fe.index, -1)) {
    const link = n.owner as Link;
    if (link.state !== LinkState.Running) continue;
    if (min < 0 || link.pos < min) min = link.pos;
    if (link.emptyPeriods < PLAYED_OUT) playedOut = false;
  }
  if (walk.broken) return;
  if (min > fe.hwPtr) fe.hwPtr = min;
  if (fe.state === FeState.Draining && min >= fe.applPtr && playedOut) {
    record(Kind.Drained, fe.index, -1, -1, 0, Site.FeAdvance, fe.written);
    dpcmFeTrigger(card, fe, Cmd.Stop);
  }
}

/**
 * An output of a running FE is playing silence: every frame written has
 * been played (ALSA's xrun: hw_ptr reached appl_ptr). Stop the FE in XRUN;
 * the dropout lasts until its audio plays again (xrun.ts). Context: both.
 */
export function feXrun(card: Card, fe: FrontEnd, since: number): void {
  fe.xruns++;
  fe.xrunAt = since;
  dpcmFeTrigger(card, fe, Cmd.StopXrun);
}

/**
 * A BE's DMA finished a period (snd_pcm_period_elapsed): the buffer it
 * plays next is filled from every running link on it (copied, then mixed),
 * or with silence. A running link whose previous fill found no data has
 * just started playing that silence: its FE underran. Then each FE on this
 * BE advances, or is stopped. `latency`: seconds since the completion.
 * Context: irq.
 */
export function periodElapsed(card: Card, beIndex: number, latency: number): void {
  if (latency > card.longestLatency) card.longestLatency = latency;
  const be = card.bes[beIndex];
  be.periods++;
  if (be.state !== BeState.Start) return;
  if (be.startCount === 0 && !be.leftRunningReported) {
    be.leftRunningReported = true;
    record(Kind.LeftRunning, -1, beIndex, -1, 0, Site.PeriodWalk, be.hwTriggers[Cmd.Start]);
  }
  const buffer = be.driver.nextBuffer();
  let sources = 0;
  const head = be.feClients;
  walk.broken = false;
  for (let n = linkAfter(head, head, Site.PeriodWalk, -1, beIndex); n; n = linkAfter(head, n, Site.PeriodWalk, -1, beIndex)) {
    const link = n.owner as Link;
    const fe = link.fe;
    if (link.state !== LinkState.Running || !feRunning(fe)) continue;
    if (link.emptyPeriods > 0 && fe.state === FeState.Running) {
      fe.xrunPending = true;
      continue;
    }
    if (copyPeriod(card, link, buffer, sources === 0, latency)) sources++;
    else link.emptyPeriods++;
  }
  if (sources === 0) buffer.fill(0);
  if (walk.broken) return;
  for (let n = linkAfter(head, head, Site.PeriodWalk, -1, beIndex); n; n = linkAfter(head, n, Site.PeriodWalk, -1, beIndex)) {
    const fe = (n.owner as Link).fe;
    if (fe.xrunPending) {
      fe.xrunPending = false;
      feXrun(card, fe, getTime() - latency);
    } else if (feRunning(fe)) {
      feAdvance(card, fe);
    }
    // The walk may have stopped links; the list itself is unchanged.
  }
}

/**
 * Make the card's interrupt handler: it polls the board's completions and
 * runs the period path for each. Called once at boot. Context: main.
 */
export function attachInterrupt(card: Card): () => void {
  card.onPeriod = function (beIndex: number, latency: number): void {
    periodElapsed(card, beIndex, latency);
  };
  return function (): void {
    card.board.pollCompletions(card.onPeriod);
  };
}
