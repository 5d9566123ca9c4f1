// The routing graph, changed by the main loop while the interrupt walks it:
// routing switches, links connected and disconnected, and the runtime update
// of an FE (soc-pcm.c dpcm_add_paths/dpcm_prune_paths, dpcm_be_connect,
// dpcm_be_disconnect, soc_dpcm_fe_runtime_update), with the fixes of
// ARCHITECTURE.md: lists changed only with the handler masked (a9764869),
// links unlinked onto a local list and freed outside the lock (9f620684), a
// trigger during the update held and replayed (ea9d0d771fcd). Context: main.

import { irqSave, irqSaveAlways, irqRestore } from "../irq";
import { Kind, Site, record } from "../log";
import { ListNode, listAddTail, listDel, listEmpty } from "../list";
import { beClose, beHwParams, beOpen } from "./be";
import type { Card } from "./card";
import { BackEnd, BeState, FeState, FrontEnd, Link, LinkState, assertLocked, feHwPtr, linkAfter, linkSetState, linkStateFor } from "./dpcm";
import { feSyncLinks, linkSet } from "./trigger";

/** The link between fe and be, if any. Context: main. */
export function findLink(fe: FrontEnd, be: BackEnd): Link | null {
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.TriggerWalk, fe.index, -1); n; n = linkAfter(head, n, Site.TriggerWalk, fe.index, -1)) {
    const link = n.owner as Link;
    if (link.be === be) return link;
  }
  return null;
}

/** Put a link on both lists in one critical section (dpcm_be_connect's list_add). Context: main. */
function linkAdd(link: Link): void {
  const was = irqSave();
  assertLocked(Kind.UnmaskedListChange, link, Site.LinkAdd);
  link.feNode.gen = link.gen;
  link.beNode.gen = link.gen;
  listAddTail(link.feNode, link.fe.beClients);
  listAddTail(link.beNode, link.be.feClients);
  irqRestore(was);
}

/**
 * Take a link off both lists and park it on the card's dying list, to be
 * freed outside any section (dpcm_be_disconnect).
 * Context: main.
 */
function linkDel(card: Card, link: Link): void {
  const was = irqSave();
  assertLocked(Kind.UnmaskedListChange, link, Site.LinkDel);
  // Retire first: from here every handle to the link, and every list node
  // still pointing at it, is stale. In the same section as the unlink, a
  // walk can never meet a retired link; without it (unsafe), the interrupt
  // can, which is the 2014 use-after-free.
  card.links.retire(link);
  const onBe = listDel(link.beNode);
  const onFe = listDel(link.feNode);
  listAddTail(link.feNode, card.dying);
  irqRestore(was);
  if (!onBe || !onFe) record(Kind.PoisonedWalk, link.fe.index, link.be.index, link.slot, link.gen, Site.LinkDel, 0);
}

/**
 * Free every parked link and release its BE (I2C, allocation: outside any
 * section). The dying list holds retired links, so it is walked raw.
 * Context: main.
 */
function freeDying(card: Card): void {
  while (!listEmpty(card.dying)) {
    const node = card.dying.next as ListNode<Link>;
    const link = node.owner as Link;
    listDel(node);
    beClose(link.be);
    card.links.free(link);
  }
}

/** Create the link fe -> be: open the BE for it, hw_params and prepare, then add it to the lists (idle). Context: main. */
function connect(card: Card, fe: FrontEnd, be: BackEnd): string {
  const link = card.links.alloc();
  if (!link) return "no free link (all " + card.links.items.length + " in use)";
  let err = beOpen(be);
  if (!err) {
    err = beHwParams(be, fe);
    if (err) beClose(be);
  }
  if (err) {
    card.links.free(link);
    return err;
  }
  link.fe = fe;
  link.be = be;
  linkSetState(link, LinkState.Idle);
  // A new output starts where the slowest running one is: nothing written is skipped.
  link.pos = feHwPtr(fe);
  link.emptyPeriods = 0;
  linkAdd(link);
  return "";
}

/** Stop, unlink and free one link (what it had not played goes on through the FE's other links). Context: main. */
function disconnect(card: Card, link: Link): void {
  linkSet(card, link, LinkState.Idle);
  linkDel(card, link);
}

/** Stop, unlink and free every link of an FE. Context: main. */
export function closeLinks(card: Card, fe: FrontEnd): void {
  const head = fe.beClients;
  let n = linkAfter(head, head, Site.LinkDel, fe.index, -1);
  while (n) {
    // The next node is found before this one leaves the list.
    const next = linkAfter(head, n, Site.LinkDel, fe.index, -1);
    disconnect(card, n.owner as Link);
    n = next;
  }
  freeDying(card);
}

/** Connect fe to every BE routed to it (an FE being opened). Returns "" or the first error, with nothing connected. Context: main. */
export function connectRouted(card: Card, fe: FrontEnd): string {
  let count = 0;
  for (let b = 0; b < card.bes.length; b++) {
    if (!card.routed(fe, card.bes[b])) continue;
    const err = connect(card, fe, card.bes[b]);
    if (err) {
      closeLinks(card, fe);
      return err;
    }
    count++;
  }
  if (count === 0) return fe.name + ": no output routed; try route(\"" + fe.name + "\", \"" + card.beNames[0] + "\", true)";
  return "";
}

/**
 * Detector: every link must be in the state its FE's state asks
 * (linkStateFor), and a running link's BE must be started. The FE state and
 * each link are read in one section: an xrun STOP from the interrupt changes
 * the FE and all its links in one handler run, so a check spread over
 * several statements could see the FE before that run and a link after it
 * (the race explorer found this, scenarios 1 and 4). irqSaveAlways, as this
 * is instrumentation that unsafe mode keeps; one link per section, so its
 * length does not depend on the graph.
 * Context: main.
 */
export function checkTriggers(fe: FrontEnd): void {
  const head = fe.beClients;
  for (let n = linkAfter(head, head, Site.UpdateEnd, fe.index, -1); n; n = linkAfter(head, n, Site.UpdateEnd, fe.index, -1)) {
    const link = n.owner as Link;
    const was = irqSaveAlways();
    const want = linkStateFor(fe.state);
    const lost = link.state !== want || (want === LinkState.Running && link.be.state !== BeState.Start);
    irqRestore(was);
    if (lost) record(Kind.LostTrigger, fe.index, link.be.index, link.slot, link.gen, Site.UpdateEnd, link.state);
  }
}

/**
 * The runtime update of one open FE (soc_dpcm_fe_runtime_update): connect
 * new BEs first and bring each to the FE's state, so audio never stops on a
 * reroute; then stop and unlink the BEs no longer routed; then free them
 * outside any section. A trigger that arrives meanwhile is held and its BE
 * part replayed at the end. Returns "" or the error that stopped it.
 * Context: main.
 */
export function runtimeUpdate(card: Card, fe: FrontEnd): string {
  fe.updating = true;
  let err = "";
  for (let b = 0; b < card.bes.length && !err; b++) {
    const be = card.bes[b];
    if (!card.routed(fe, be) || findLink(fe, be)) continue;
    err = connect(card, fe, be);
    if (!err) {
      const link = findLink(fe, be);
      if (link) linkSet(card, link, linkStateFor(fe.state));
    }
  }
  if (!err) {
    const head = fe.beClients;
    let n = linkAfter(head, head, Site.LinkDel, fe.index, -1);
    while (n) {
      const next = linkAfter(head, n, Site.LinkDel, fe.index, -1);
      const link = n.owner as Link;
      if (!card.routed(fe, link.be)) disconnect(card, link);
      n = next;
    }
    freeDying(card);
  }
  fe.updating = false;
  if (fe.triggerPending) {
    fe.triggerPending = false;
    record(Kind.TriggerReplayed, fe.index, -1, -1, 0, Site.UpdateEnd, fe.pendingCmd);
    feSyncLinks(card, fe);
  }
  checkTriggers(fe);
  return err;
}

/**
 * Set a routing switch and apply it to an open FE at once. A refused
 * update puts the switch back and the routes as they were. Returns "" or why.
 * Context: main.
 */
export function route(card: Card, fe: FrontEnd, be: BackEnd, on: boolean): string {
  const i = card.route(fe, be);
  const before = card.switches[i];
  card.switches[i] = on ? 1 : 0;
  if (before === card.switches[i] || fe.state === FeState.Closed) return "";
  const err = runtimeUpdate(card, fe);
  if (err) {
    card.switches[i] = before;
    runtimeUpdate(card, fe);
  }
  return err;
}
