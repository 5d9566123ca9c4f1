// No silent dead interrupt: the main loop checks that every started BE
// completes periods and that the interrupt handler runs, and says so in one
// line when either stops, naming what to check, and again when it recovers
// (ALSA's "playback drain timeout (DMA or IRQ trouble?)" in pcm_native.c,
// made continuous). Context: main.

import type { Card } from "./dpcm/card";
import { BeState } from "./dpcm/dpcm";
import { irq } from "./irq";
import { Cmd } from "./pcm";
import { Kind, Site, record } from "./log";

/** Periods a started BE may miss before it is reported. */
export const MISSED_PERIODS = 4;

/** Context: main. */
function ms(seconds: number): number {
  return Math.round(seconds * 1000);
}

export class Watchdog {
  card: Card;
  /** How the handler runs (the board's description), for the irq line. */
  interrupt: string;
  /** Per BE: periods seen at the last check, getTime() of the last progress, whether a WARN is out. */
  seenPeriods: Float64Array;
  /** Per BE: hardware starts, releases and resumes seen at the last check: a (re)start restarts its clock. */
  seenStarts: Float64Array;
  progressAt: Float64Array;
  warned: Uint8Array;
  seenRuns: number;
  runsAt: number;
  /** Hardware starts, releases and resumes of all BEs at the last check. */
  seenAllStarts: number;
  irqWarned: boolean;
  seenErrors: number;
  constructor(card: Card, interrupt: string) {
    this.card = card;
    this.interrupt = interrupt;
    const n = card.bes.length;
    this.seenPeriods = new Float64Array(n);
    this.seenStarts = new Float64Array(n);
    this.progressAt = new Float64Array(n);
    this.warned = new Uint8Array(n);
    this.seenRuns = irq.handlerRuns;
    this.runsAt = getTime();
    this.seenAllStarts = 0;
    this.irqWarned = false;
    this.seenErrors = irq.handlerErrors;
  }

  /** One check; prints WARN/OK lines through `out`. Context: main. */
  check(out: (line: string) => void): void {
    const now = getTime();
    const card = this.card;
    let started = false;
    let longest = 0;
    let starts = 0;
    for (let b = 0; b < card.bes.length; b++) {
      const be = card.bes[b];
      starts += be.hwTriggers[Cmd.Start] + be.hwTriggers[Cmd.PauseRelease] + be.hwTriggers[Cmd.Resume];
      if (be.state !== BeState.Start) continue;
      started = true;
      const period = be.params.periodFrames / be.params.rate;
      if (period > longest) longest = period;
    }
    // The handler first: when it does not run, no BE can complete a period,
    // and one line about the timer task says more than one per BE. Where the
    // handler runs only for a completed block (the Pico), none is owed before
    // a BE has (re)started and played a period: a start restarts the clock.
    if (irq.handlerRuns !== this.seenRuns || !started || starts !== this.seenAllStarts) {
      this.seenAllStarts = starts;
      if (this.irqWarned && irq.handlerRuns !== this.seenRuns) out("OK irq: the interrupt handler runs again");
      this.irqWarned = false;
      this.seenRuns = irq.handlerRuns;
      this.runsAt = now;
    } else if (!this.irqWarned && now - this.runsAt > MISSED_PERIODS * longest) {
      this.irqWarned = true;
      out(
        "WARN irq: the interrupt handler has not run for " + ms(now - this.runsAt) + " ms while a BE is started (" + this.interrupt +
          "): is the timer task firing?",
      );
    }
    for (let b = 0; b < card.bes.length; b++) {
      const be = card.bes[b];
      const period = be.params.periodFrames / be.params.rate;
      if (be.state !== BeState.Start) {
        // Not streaming: nothing is owed. A stop also ends a warning quietly.
        this.progressAt[b] = now;
        this.seenPeriods[b] = be.periods;
        this.warned[b] = 0;
        continue;
      }
      // Started (or released, resumed) since the last check: periods are owed from then, not before.
      const starts = be.hwTriggers[Cmd.Start] + be.hwTriggers[Cmd.PauseRelease] + be.hwTriggers[Cmd.Resume];
      if (starts !== this.seenStarts[b]) {
        this.seenStarts[b] = starts;
        this.seenPeriods[b] = be.periods;
        this.progressAt[b] = now;
        continue;
      }
      if (be.periods !== this.seenPeriods[b]) {
        if (this.warned[b]) out("OK be=" + be.name + " completes periods again after " + ms(now - this.progressAt[b]) + " ms");
        this.seenPeriods[b] = be.periods;
        this.progressAt[b] = now;
        this.warned[b] = 0;
      } else if (!this.warned[b] && !this.irqWarned && now - this.progressAt[b] > MISSED_PERIODS * period) {
        this.warned[b] = 1;
        out(
          "WARN be=" + be.name + " started but no period completed in " + ms(now - this.progressAt[b]) + " ms (one is due every " +
            ms(period) + " ms): DMA or IRQ trouble? check " + (be.checkHint || "its DMA stream, clock and pins"),
        );
      }
    }
    if (irq.handlerErrors !== this.seenErrors) {
      this.seenErrors = irq.handlerErrors;
      record(Kind.HandlerError, -1, -1, -1, 0, Site.Handler, irq.handlerErrors);
      out("WARN irq: the interrupt handler threw (" + irq.handlerErrors + " so far): " + irq.lastError);
    }
  }
}
