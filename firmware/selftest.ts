// selftest(): the core's rules checked on the running board, on scratch
// objects (sinks, not the board's outputs), so audio that is playing goes on.
// Detector checks run with the log capturing, so they add nothing to races().

import { Board } from "./board";
import { StreamParams } from "./pcm";
import { irq, irqSave, irqRestore, irqEntry } from "./irq";
import { ListNode, listAddTail, listDel, isPoisoned, POISON_NEXT } from "./list";
import { Pool, Pooled } from "./pool";
import { Kind, ring } from "./log";
import { Card, BeState, Link, LinkState, FrontEnd, FeState } from "./dpcm";
import { Cmd } from "./pcm";
import { SinkDriver } from "../drivers/virtual-sink";

const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 4 };

function scratchRuntime(): Card {
  const board: Board = {
    name: "selftest",
    frontEnds: ["a", "b"],
    backEnds: [
      { name: "s", description: "scratch sink", driver: new SinkDriver(4, [8000]) },
      { name: "t", description: "scratch sink", driver: new SinkDriver(4, [8000]) },
    ],
    params: PARAMS,
    periods: 2,
    startInterrupt: function () {
      return "";
    },
    pollCompletions: function () {},
  };
  return new Card(board, 4);
}

/** Open (if closed), prepare, fill and start an FE. */
function fillAndStart(card: Card, fe: FrontEnd): void {
  if (fe.state === FeState.Closed) card.openFe(fe);
  card.prepareFe(fe);
  while (card.writable(fe) > 0) card.commitPeriod(fe);
  card.trigger(fe, Cmd.Start);
}

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

/** How many records of `kind` `action` makes (the log is capturing throughout selftest). */
function captured(kind: Kind, action: () => void): number {
  const before = ring.captured[kind];
  action();
  return ring.captured[kind] - before;
}

function runChecks(out: (line: string) => void): number {
  let failed = 0;
  let passed = 0;
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

  let card = scratchRuntime();
  card.route(card.fes[0], card.bes[0], true);
  card.route(card.fes[1], card.bes[0], true);
  fillAndStart(card, card.fes[0]);
  fillAndStart(card, card.fes[1]);
  const shared = sinkOf(card, 0);
  const afterStarts = shared.triggers[Cmd.Start];
  card.trigger(card.fes[0], Cmd.Stop);
  const runningAfterOne = card.bes[0].state === BeState.Start && shared.triggers[Cmd.Stop] === 0;
  card.trigger(card.fes[1], Cmd.Stop);
  check(
    "shared-be-counts",
    afterStarts === 1 && runningAfterOne && shared.triggers[Cmd.Stop] === 1 && card.bes[0].state === BeState.Stop,
    "starts=" + afterStarts + " stops=" + shared.triggers[Cmd.Stop],
  );

  // STOP left both FEs in SETUP: fillAndStart prepares them again.
  fillAndStart(card, card.fes[0]);
  fillAndStart(card, card.fes[1]);
  card.trigger(card.fes[0], Cmd.PausePush);
  const stillStarted = card.bes[0].state === BeState.Start;
  card.trigger(card.fes[1], Cmd.PausePush);
  const pausedAll = card.bes[0].state === BeState.Paused;
  card.trigger(card.fes[0], Cmd.PauseRelease);
  check("shared-be-pause", stillStarted && pausedAll && card.bes[0].state === BeState.Start, "pause count wrong");

  card = scratchRuntime();
  const fe = card.fes[0];
  card.route(fe, card.bes[0], true);
  fillAndStart(card, fe);
  card.route(fe, card.bes[1], true);
  const moved = card.findLink(fe, card.bes[1]);
  fe.updating = true;
  card.trigger(fe, Cmd.Stop);
  const held = fe.pendingTrigger === Cmd.Stop && (moved as Link).state === LinkState.Running;
  fe.updating = false;
  card.route(fe, card.bes[0], false);
  check("pending-trigger", held && (moved as Link).state === LinkState.Idle && card.bes[1].state === BeState.Stop, "the held STOP was not replayed");

  card = scratchRuntime();
  card.route(card.fes[0], card.bes[0], true);
  fillAndStart(card, card.fes[0]);
  const link = card.findLink(card.fes[0], card.bes[0]) as Link;
  const poisoned = captured(Kind.PoisonedWalk, function () {
    const saved = card.fes[0].beClients.next;
    card.fes[0].beClients.next = POISON_NEXT as unknown as ListNode<Link>;
    card.trigger(card.fes[0], Cmd.PausePush);
    card.fes[0].beClients.next = saved;
  });
  check("detect-poisoned-walk", poisoned === 1, "count " + poisoned);
  const stale = captured(Kind.UseAfterFree, function () {
    link.gen++;
    card.trigger(card.fes[0], Cmd.PausePush);
    link.gen--;
  });
  check("detect-use-after-free", stale === 1, "count " + stale);
  const lost = captured(Kind.LostTrigger, function () {
    link.state = LinkState.Idle;
    card.checkTriggers(card.fes[0]);
    link.state = LinkState.Running;
  });
  check("detect-lost-trigger", lost === 1, "count " + lost);
  const left = captured(Kind.LeftRunning, function () {
    card.bes[0].startCount = 0;
    card.periodElapsed(0, 0);
    card.bes[0].startCount = 1;
  });
  check("detect-left-running", left === 1, "count " + left);
  const twice = captured(Kind.DoubleStart, function () {
    card.trigger(card.fes[0], Cmd.Stop);
    card.bes[0].state = BeState.Start;
    card.prepareFe(card.fes[0]);
    card.trigger(card.fes[0], Cmd.Start);
  });
  check("detect-double-start", twice === 1, "count " + twice);
  const wasUnsafe = irq.unsafe;
  const unmasked = captured(Kind.UnmaskedListChange, function () {
    irq.unsafe = true;
    card.route(card.fes[0], card.bes[1], true);
    irq.unsafe = wasUnsafe;
  });
  check("detect-unmasked-list-change", unmasked === 1, "count " + unmasked);

  out("SELFTEST done pass=" + passed + " fail=" + failed);
  return failed;
}

/** Run the checks, printing one PASS or FAIL line each; returns the failures. */
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
