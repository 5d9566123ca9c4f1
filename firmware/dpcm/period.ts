// The interrupt's work: a BE's DMA finished a period, so fill the buffer it
// plays next from its FE clients, move each FE's hardware pointer, and stop
// an FE whose data ran out (an xrun) or whose drain is over. The path of
// snd_pcm_period_elapsed -> snd_pcm_update_hw_ptr0 -> snd_pcm_stop in the
// 2014 report. No strings, no allocation.

import { Kind, Site, record } from "../log";
import { Cmd } from "../pcm";
import { copyPeriod } from "./buffer";
import type { Card } from "./card";
import { BeState, FeState, FrontEnd, Link, LinkState, linkAfter, walk } from "./dpcm";
import { dpcmFeTrigger } from "./trigger";

/** Both period buffers played with nothing new copied: every written frame has been heard. */
const PLAYED_OUT = 2;

/**
 * End a drain once every running link of the FE has played out everything
 * written (snd_pcm_drain_done). Context: irq.
 */
function feDrainCheck(card: Card, fe: FrontEnd): void {
  const head = fe.beClients;
  walk.broken = false;
  for (let n = linkAfter(head, head, Site.FeAdvance, fe.index, -1); n; n = linkAfter(head, n, Site.FeAdvance, fe.index, -1)) {
    const link = n.owner as Link;
    if (link.state === LinkState.Running && (link.emptyPeriods < PLAYED_OUT || link.pos < fe.applPtr)) return;
  }
  if (walk.broken) return;
  record(Kind.Drained, fe.index, -1, -1, 0, Site.FeAdvance, fe.written);
  dpcmFeTrigger(card, fe, Cmd.Stop);
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
 * just started playing that silence: its FE underran, and is stopped; a
 * draining FE that has played out is stopped. `latency`: seconds since the
 * completion. The FE's hardware pointer is not kept here: the main loop
 * derives it from the links' positions when it needs it (feHwPtr).
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
  // Only an xrun or a drain needs the second walk: most periods have neither.
  let after = false;
  const head = be.feClients;
  walk.broken = false;
  for (let n = linkAfter(head, head, Site.PeriodWalk, -1, beIndex); n; n = linkAfter(head, n, Site.PeriodWalk, -1, beIndex)) {
    const link = n.owner as Link;
    const fe = link.fe;
    if (link.state !== LinkState.Running) continue;
    if (fe.state === FeState.Running) {
      if (link.emptyPeriods > 0) {
        fe.xrunPending = true;
        after = true;
        continue;
      }
    } else if (fe.state === FeState.Draining) {
      after = true;
    } else {
      continue;
    }
    if (copyPeriod(card, link, buffer, sources === 0, latency)) sources++;
    else link.emptyPeriods++;
  }
  if (sources === 0) card.ops.zero(buffer, 0, buffer.length);
  if (!after || walk.broken) return;
  for (let n = linkAfter(head, head, Site.PeriodWalk, -1, beIndex); n; n = linkAfter(head, n, Site.PeriodWalk, -1, beIndex)) {
    const fe = (n.owner as Link).fe;
    if (fe.triggering) {
      // The main loop is mid-trigger of this FE: the next period decides.
      fe.xrunPending = false;
      continue;
    }
    if (fe.xrunPending) {
      fe.xrunPending = false;
      feXrun(card, fe, getTime() - latency);
    } else if (fe.state === FeState.Draining) {
      feDrainCheck(card, fe);
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
