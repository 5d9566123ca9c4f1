// The end of an underrun: how long an FE's outputs went without its data.
// Reachable from the interrupt: no strings, no allocation.

import { Kind, Site, record } from "../log";
import type { Card } from "./card";
import { BackEnd, FrontEnd, Link, linkAfter } from "./dpcm";

/**
 * The FE's audio plays again on `be` from time `playsAt` (getTime()
 * seconds): the dropout that began at fe.xrunAt is over. Logs
 * `EVT kind=xrun n=<frames>`, n being the frames the output went without
 * the FE's data (what a listener hears missing), measured on the first
 * output the FE's audio reaches again, and adds n to the silent count of
 * every route of the FE. Context: both.
 */
export function xrunEnd(card: Card, fe: FrontEnd, be: BackEnd, playsAt: number, site: Site): void {
  if (fe.xrunAt < 0) return;
  let frames = Math.round((playsAt - fe.xrunAt) * fe.params.rate);
  if (frames < 0) frames = 0;
  fe.xrunAt = -1;
  const head = fe.beClients;
  for (let n = linkAfter(head, head, site, fe.index, -1); n; n = linkAfter(head, n, site, fe.index, -1)) {
    card.silent[card.route(fe, (n.owner as Link).be)] += frames;
  }
  record(Kind.Xrun, fe.index, be.index, -1, 0, site, frames);
}
