// Moving audio from an FE's ring into a BE's period buffers. Reachable from
// the interrupt: no strings, no allocation.

import { Site } from "../log";
import type { Card } from "./card";
import type { Link } from "./dpcm";
import { xrunEnd } from "./xrun";

/**
 * Copy the link's next FE period into `dst` (interleaved stereo, one
 * period): `first` copies, otherwise the card's mixer adds it with
 * saturation. Returns false when the FE has no whole period for this link.
 * `latency` (seconds since the period completed) dates the end of an
 * xrun: the buffer plays one period after the completion; -1 when priming
 * a stopped BE (the caller dates it). Context: both.
 */
export function copyPeriod(card: Card, link: Link, dst: Int16Array, first: boolean, latency: number): boolean {
  const fe = link.fe;
  const frames = fe.params.periodFrames;
  if (fe.applPtr - link.pos < frames) return false;
  const src = fe.periodViews[(link.pos / frames) % fe.periods];
  if (first) card.ops.copy(dst, src, frames * 2);
  else card.ops.mix(dst, src, frames * 2);
  link.pos += frames;
  link.emptyPeriods = 0;
  // card.route(fe, be) written out: a call is a statement and a scope on the interrupt's path.
  card.played[fe.index * card.bes.length + link.be.index] += frames;
  if (fe.xrunAt >= 0 && latency >= 0) xrunEnd(card, fe, link.be, getTime() - latency + frames / fe.params.rate, Site.PeriodWalk);
  return true;
}

/**
 * Fill both period buffers of a stopped BE from the link, so the output
 * plays audio from its first period. Context: main (before the START).
 */
export function prime(card: Card, link: Link): void {
  const buffers = link.be.driver.periodBuffers();
  for (let i = 0; i < buffers.length; i++) {
    if (!copyPeriod(card, link, buffers[i], true, -1)) card.ops.zero(buffers[i], 0, buffers[i].length);
  }
}
