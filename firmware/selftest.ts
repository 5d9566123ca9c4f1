// selftest(): the core's rules checked on the running board, on scratch
// objects (sinks, not the board's outputs), so audio that is playing goes on.
// Detector checks run with the log capturing, so they add nothing to races().

import { Board } from "./board";
import { irq, irqSave, irqRestore, irqEntry } from "./irq";
import { ListNode, listAddTail, listDel, isPoisoned, POISON_NEXT } from "./list";
import { Pool, Pooled } from "./pool";
import { Kind, ring } from "./log";
import { Card } from "./dpcm/card";
import { BeState, FeState, FrontEnd, Link, LinkState, linkSetState } from "./dpcm/dpcm";
import { feCommitPeriod, feOpen, fePrepare, feTrigger, feWritable } from "./dpcm/fe";
import { checkTriggers, findLink, route } from "./dpcm/graph";
import { periodElapsed } from "./dpcm/period";
import { Cmd, StreamParams } from "./pcm";
import { SinkDriver } from "../drivers/virtual-sink";

const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 16 };

/** Context: main. */
function scratchCard(): Card {
  const board: Board = {
    name: "selftest",
    frontEnds: ["a", "b"],
    backEnds: [
      { name: "s", description: "scratch sink", driver: new SinkDriver(PARAMS.periodFrames, [8000]) },
      { name: "t", description: "scratch sink", driver: new SinkDriver(PARAMS.periodFrames, [8000]) },
    ],
    params: PARAMS,
    periods: 2,
    // Scratch objects driven by hand: no real-time period to keep.
    minPeriodMs: 0,
    startInterrupt: function () {
      return "";
    },
    pollCompletions: function () {},
  };
  return new Card(board, 4);
}

/** Open (if closed), prepare, fill and start an FE. Context: main. */
function fillAndStart(card: Card, fe: FrontEnd): void {
  if (fe.state === FeState.Closed) feOpen(card, fe, 0, 0);
  fePrepare(card, fe);
  while (feWritable(fe) > 0) feCommitPeriod(fe);
  feTrigger(card, fe, Cmd.Start);
}

/** Context: main. */
function sinkOf(card: Card, index: number): SinkDriver {
  return card.bes[index].driver as SinkDriver;
}

class Probe implements Pooled {
  slot: number;
  gen: number;
  inUse: boolean;
  constructor(slot: number) {
    this.slot = slot;
    this.gen = 0;
    this.inUse = false;
  }
}

/** How many records of `kind` `action` makes (the log is capturing throughout selftest). Context: main. */
function captured(kind: Kind, action: () => void): number {
  const before = ring.captured[kind];
  action();
  return ring.captured[kind] - before;
}

/** Context: main. */
function runChecks(out: (line: string) => void): number {
  let failed = 0;
  let passed = 0;
  /** Context: main. */
  function check(name: string, ok: boolean, detail: string): void {
    if (ok) passed++;
    else failed++;
    out("SELFTEST " + (ok ? "PASS " : "FAIL ") + name + (ok ? "" : ": " + detail));
  }

  if (irq.unsafe) {
    out("SELFTEST SKIP critical-sections: unsafe mode is on");
  } else {
    const runs = irq.deferredRuns;
    const outer = irqSave();
    const inner = irqSave();
    irqEntry();
    const heldWhileMasked = irq.pending;
    irqRestore(inner);
    const stillMasked = irq.masked;
    irqRestore(outer);
    check(
      "critical-sections",
      !outer && inner && heldWhileMasked && stillMasked && !irq.masked && irq.deferredRuns === runs + 1,
      "nesting or the deferred completion is wrong",
    );
  }

  const head = new ListNode<number>(null);
  const a = new ListNode<number>(1);
  const b = new ListNode<number>(2);
  listAddTail(a, head);
  listAddTail(b, head);
  const first = listDel(a);
  check("list-poison", first && isPoisoned(a) && head.next === b && b.prev === head && !listDel(a), "delete did not poison or unlink");

  const pool = new Pool<Probe>(2, function (slot: number) {
    return new Probe(slot);
  });
  const p1 = pool.alloc() as Probe;
  const gen = p1.gen;
  pool.free(p1);
  const p2 = pool.alloc() as Probe;
  check("pool-generation", p2 === p1 && !pool.isLive(p1, gen) && pool.isLive(p2, p2.gen) && !pool.free(new Probe(0)), "a freed slot was not detectable");

  let card = scratchCard();
  route(card, card.fes[0], card.bes[0], true);
  route(card, card.fes[1], card.bes[0], true);
  fillAndStart(card, card.fes[0]);
  fillAndStart(card, card.fes[1]);
  const shared = sinkOf(card, 0);
  const afterStarts = shared.triggers[Cmd.Start];
  feTrigger(card, card.fes[0], Cmd.Stop);
  const runningAfterOne = card.bes[0].state === BeState.Start && shared.triggers[Cmd.Stop] === 0;
  feTrigger(card, card.fes[1], Cmd.Stop);
  check(
    "shared-be-counts",
    afterStarts === 1 && runningAfterOne && shared.triggers[Cmd.Stop] === 1 && card.bes[0].state === BeState.Stop,
    "starts=" + afterStarts + " stops=" + shared.triggers[Cmd.Stop],
  );

  // STOP left both FEs in SETUP: fillAndStart prepares them again.
  fillAndStart(card, card.fes[0]);
  fillAndStart(card, card.fes[1]);
  feTrigger(card, card.fes[0], Cmd.PausePush);
  const stillStarted = card.bes[0].state === BeState.Start;
  feTrigger(card, card.fes[1], Cmd.PausePush);
  const pausedAll = card.bes[0].state === BeState.Paused;
  feTrigger(card, card.fes[0], Cmd.PauseRelease);
  check("shared-be-pause", stillStarted && pausedAll && card.bes[0].state === BeState.Start, "pause count wrong");

  card = scratchCard();
  let fe = card.fes[0];
  route(card, fe, card.bes[0], true);
  fillAndStart(card, fe);
  feTrigger(card, fe, Cmd.PausePush);
  feTrigger(card, fe, Cmd.Suspend);
  const suspended = fe.state === FeState.Suspended && card.bes[0].state === BeState.Suspend;
  feTrigger(card, fe, Cmd.Resume);
  const backPaused = fe.state === FeState.Paused && card.bes[0].state === BeState.Paused && sinkOf(card, 0).paused;
  feTrigger(card, fe, Cmd.PauseRelease);
  check(
    "suspend-resume",
    suspended && backPaused && card.bes[0].state === BeState.Start && !sinkOf(card, 0).paused,
    "a stream suspended while paused must come back paused",
  );

  card = scratchCard();
  fe = card.fes[0];
  route(card, fe, card.bes[0], true);
  fillAndStart(card, fe);
  route(card, fe, card.bes[1], true);
  const moved = findLink(fe, card.bes[1]);
  fe.updating = true;
  feTrigger(card, fe, Cmd.Stop);
  const held = fe.triggerPending && (moved as Link).state === LinkState.Running;
  fe.updating = false;
  route(card, fe, card.bes[0], false);
  check("pending-trigger", held && (moved as Link).state === LinkState.Idle && card.bes[1].state === BeState.Stop, "the held STOP was not replayed");

  card = scratchCard();
  route(card, card.fes[0], card.bes[0], true);
  fillAndStart(card, card.fes[0]);
  const link = findLink(card.fes[0], card.bes[0]) as Link;
  const poisoned = captured(Kind.PoisonedWalk, function () {
    const saved = card.fes[0].beClients.next;
    card.fes[0].beClients.next = POISON_NEXT as unknown as ListNode<Link>;
    feTrigger(card, card.fes[0], Cmd.PausePush);
    card.fes[0].beClients.next = saved;
  });
  check("detect-poisoned-walk", poisoned === 1, "count " + poisoned);
  // The poisoned walk stopped at once, but the FE itself did pause: release it over a stale link.
  const stale = captured(Kind.UseAfterFree, function () {
    link.gen++;
    feTrigger(card, card.fes[0], Cmd.PauseRelease);
    link.gen--;
  });
  check("detect-use-after-free", stale === 1, "count " + stale);
  const lost = captured(Kind.LostTrigger, function () {
    linkSetState(link, LinkState.Idle);
    checkTriggers(card.fes[0]);
    linkSetState(link, LinkState.Running);
  });
  check("detect-lost-trigger", lost === 1, "count " + lost);
  const left = captured(Kind.LeftRunning, function () {
    card.bes[0].startCount = 0;
    periodElapsed(card, 0, 0);
    card.bes[0].startCount = 1;
  });
  check("detect-left-running", left === 1, "count " + left);
  const wasUnsafe = irq.unsafe;
  const unmasked = captured(Kind.UnmaskedListChange, function () {
    irq.unsafe = true;
    route(card, card.fes[0], card.bes[1], true);
    irq.unsafe = wasUnsafe;
  });
  check("detect-unmasked-list-change", unmasked === 1, "count " + unmasked);
  const unmaskedCount = captured(Kind.UnmaskedCountChange, function () {
    irq.unsafe = true;
    feTrigger(card, card.fes[0], Cmd.PausePush);
    irq.unsafe = wasUnsafe;
  });
  check("detect-unmasked-count-change", unmaskedCount === 2, "count " + unmaskedCount + " (two links paused)");

  // A START reaching a BE whose hardware runs while its count says nobody uses it.
  card = scratchCard();
  route(card, card.fes[0], card.bes[0], true);
  route(card, card.fes[1], card.bes[0], true);
  fillAndStart(card, card.fes[0]);
  const twice = captured(Kind.DoubleStart, function () {
    card.bes[0].startCount = 0;
    fillAndStart(card, card.fes[1]);
  });
  check("detect-double-start", twice === 1, "count " + twice);

  out("SELFTEST done pass=" + passed + " fail=" + failed);
  return failed;
}

/** Run the checks, printing one PASS or FAIL line each; returns the failures. Context: main. */
export function selftest(out: (line: string) => void): number {
  // Scratch objects make records too (deferred triggers, detector hits):
  // count them aside so the board's own log and races() stay its own.
  ring.capturing++;
  try {
    return runChecks(out);
  } finally {
    ring.capturing--;
  }
}
