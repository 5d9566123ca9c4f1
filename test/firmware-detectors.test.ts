// The race detectors: each fires on a crafted bad state, with a RACE line
// naming the FE, BE, link and site, and none fires in normal operation.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, openAndStart, writeFrames, type Rig } from "./support/rig.ts";
import { FeState, LinkState, BeState, type Link } from "../firmware/dpcm/dpcm.ts";
import { Cmd } from "../firmware/pcm.ts";
import { listDel } from "../firmware/list.ts";
import { irq, irqEntry } from "../firmware/irq.ts";
import { ring, Kind, KIND_NAMES, RACE_KINDS, raceTotal } from "../firmware/log.ts";
import { drain } from "../firmware/log-print.ts";
import { Player } from "../firmware/player.ts";
import { fePrepare, feTrigger } from "../firmware/dpcm/fe.ts";
import { checkTriggers, findLink, route } from "../firmware/dpcm/graph.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

/** Races recorded so far, by kind name, only the non-zero ones. */
function races(): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = 0; k < RACE_KINDS; k++) if (ring.counts[k] > 0) out[KIND_NAMES[k]] = ring.counts[k];
  return out;
}
function raceLines(rig: Rig): string[] {
  const lines: string[] = [];
  drain(rig.card.feNames, rig.card.beNames, (l) => lines.push(l));
  return lines.filter((l) => l.startsWith("RACE") || l.startsWith("LOST"));
}
/** Run BE `b`'s period completion as the interrupt handler. */
function irqTick(rig: Rig, b: number): void {
  irq.handler = () => {
    rig.tick(b);
  };
  irqEntry();
}
function running(): { rig: Rig; link: Link } {
  const rig = makeRig({ fes: ["a", "b"] });
  const a = rig.fe("a");
  route(rig.card, a, rig.card.bes[0], true);
  openAndStart(rig.card, a);
  const link = findLink(a, rig.card.bes[0]);
  assert.ok(link);
  assert.deepEqual(races(), {});
  return { rig, link };
}

test("use-after-free: a link freed while still on the lists is caught by the period walk", () => {
  const { rig, link } = running();
  assert.equal(link.slot, 0);
  assert.equal(rig.card.links.free(link), true); // freed without being unlinked: gen 0 -> 1
  irqTick(rig, 0);
  assert.deepEqual(races(), { "use-after-free": 1 });
  assert.deepEqual(raceLines(rig), ["RACE t=0.000000 kind=use-after-free ctx=irq fe=a be=s0 link=0#1 at=period-walk"]);
});

test("use-after-free: a link whose generation changed is caught by the trigger walk and the FE advance", () => {
  const { rig, link } = running();
  link.gen++; // reallocated behind the list's back: node.gen no longer matches
  feTrigger(rig.card, rig.fe("a"), Cmd.PausePush);
  assert.deepEqual(races(), { "use-after-free": 1 });
  assert.equal(link.state, LinkState.Running, "the walk stops at the stale link, it does not act on it");
  assert.match(raceLines(rig)[0], /kind=use-after-free ctx=main fe=a be=s0 link=0#1 at=trigger-walk$/);
});

test("poisoned walk: a walk reaching a deleted link stops there (period walk and trigger walk)", () => {
  const { rig, link } = running();
  const be = rig.card.bes[0];
  const fe = rig.fe("a");
  // A stale pointer to a deleted node, as an unguarded delete leaves behind.
  listDel(link.beNode);
  be.feClients.next = link.beNode;
  irqTick(rig, 0);
  assert.deepEqual(races(), { "poisoned-walk": 1 });
  assert.deepEqual(raceLines(rig), ["RACE t=0.000000 kind=poisoned-walk ctx=irq fe=- be=s0 link=- at=period-walk"]);
  listDel(link.feNode);
  fe.beClients.next = link.feNode;
  feTrigger(rig.card, fe, Cmd.Stop);
  assert.deepEqual(races(), { "poisoned-walk": 2 });
  assert.deepEqual(raceLines(rig), ["RACE t=0.000000 kind=poisoned-walk ctx=main fe=a be=- link=- at=trigger-walk"]);
});

test("poisoned walk: unlinking a link that is already off its BE list is caught at link-del", () => {
  const { rig, link } = running();
  listDel(link.beNode);
  assert.equal(route(rig.card, rig.fe("a"), rig.card.bes[0], false), "");
  assert.deepEqual(races(), { "poisoned-walk": 1 });
  assert.match(raceLines(rig)[0], /kind=poisoned-walk ctx=main fe=a be=s0 link=0#1 at=link-del$/);
});

test("unmasked list change: in unsafe mode every link add and delete is reported", () => {
  const { rig } = running();
  const fe = rig.fe("a");
  irq.unsafe = true;
  assert.equal(route(rig.card, fe, rig.card.bes[1], true), "");
  // The new link is added (a list change) and started (a count change).
  assert.deepEqual(races(), { "unmasked-list-change": 1, "unmasked-count-change": 1 });
  assert.equal(route(rig.card, fe, rig.card.bes[1], false), "");
  assert.deepEqual(races(), { "unmasked-list-change": 2, "unmasked-count-change": 2 });
  const lines = raceLines(rig);
  assert.match(lines[0], /kind=unmasked-list-change ctx=main fe=a be=s1 link=\d+#0 at=link-add$/);
  assert.match(lines[1], /kind=unmasked-count-change ctx=main fe=a be=s1 link=\d+#0 at=link-count$/);
  assert.match(lines[2], /kind=unmasked-count-change ctx=main fe=a be=s1 link=\d+#0 at=link-count$/);
  assert.match(lines[3], /kind=unmasked-list-change ctx=main fe=a be=s1 link=\d+#0 at=link-del$/);
  irq.unsafe = false;
  route(rig.card, fe, rig.card.bes[1], true);
  route(rig.card, fe, rig.card.bes[1], false);
  assert.deepEqual(races(), { "unmasked-list-change": 2, "unmasked-count-change": 2 }, "guarded changes are not reported");
});

test("double start: a START reaching a BE whose hardware already runs", () => {
  const { rig } = running();
  const fe = rig.fe("a");
  feTrigger(rig.card, fe, Cmd.Stop);
  rig.card.bes[0].state = BeState.Start; // a STOP that never reached the state machine
  fePrepare(rig.card, fe);
  writeFrames(rig.card, fe, 1000);
  feTrigger(rig.card, fe, Cmd.Start);
  assert.deepEqual(races(), { "double-start": 1 });
  assert.equal(rig.sinks[0].calls.start, 1, "the second START is not sent to the hardware");
  assert.match(raceLines(rig)[0], /kind=double-start ctx=main fe=a be=s0 link=\d+#0 at=be-start$/);
});

test("left running: a started BE with no running link is reported once", () => {
  const { rig } = running();
  rig.card.bes[0].startCount = 0; // the count says nobody uses it, yet the hardware runs
  irqTick(rig, 0);
  irqTick(rig, 0);
  assert.deepEqual(races(), { "left-running": 1 });
  assert.deepEqual(raceLines(rig), ["RACE t=0.000000 kind=left-running ctx=irq fe=- be=s0 link=- at=period-walk"]);
});

test("lost trigger: in unsafe mode a STOP during an update is not held, and the BE the update starts is left running", () => {
  const { rig } = running();
  const fe = rig.fe("a");
  irq.unsafe = true;
  // The interrupt stops the FE mid-update, after the update read the FE's
  // state for the new link and before the link's critical section: while
  // the new BE is being primed.
  rig.sinks[1].onPeriodBuffers = () => {
    rig.sinks[1].onPeriodBuffers = null;
    feTrigger(rig.card, fe, Cmd.Stop);
  };
  route(rig.card, fe, rig.card.bes[1], true);
  assert.equal(fe.state, FeState.Setup);
  assert.equal(rig.sinks[1].running, true, "the historical bug: a stopped FE's new BE runs on");
  assert.equal(races()["lost-trigger"], 1);
  assert.ok(raceLines(rig).some((l) => /kind=lost-trigger ctx=main fe=a be=s1 link=\d+#0 at=update-end$/.test(l)));
});

test("lost trigger: a link not in the state its FE's last trigger set", () => {
  const { rig, link } = running();
  link.state = LinkState.Idle;
  checkTriggers(rig.fe("a"));
  assert.deepEqual(races(), { "lost-trigger": 1 });
  link.state = LinkState.Running;
  checkTriggers(rig.fe("a"));
  assert.deepEqual(races(), { "lost-trigger": 1 });
});

test("unbalanced stop: stopping a running link on a BE whose start count is already 0", () => {
  const { rig } = running();
  const be = rig.card.bes[0];
  be.startCount = 0;
  feTrigger(rig.card, rig.fe("a"), Cmd.Stop);
  assert.deepEqual(races(), { "unbalanced-stop": 1 });
  assert.equal(be.startCount, 0, "the count is clamped, not left negative");
  assert.match(raceLines(rig)[0], /kind=unbalanced-stop ctx=main fe=a be=s0 link=0#0 at=be-stop$/);
});

test("normal operation fires no detector: routes, reroutes, pause, xrun, drain, with completions mid-update", () => {
  const rig = makeRig({ fes: ["a", "b"], periodFrames: 8 });
  const { card } = rig;
  const player = new Player(card);
  const a = rig.fe("a");
  const b = rig.fe("b");
  // Completions arrive in the middle of routing updates too.
  for (const sink of rig.sinks) sink.onStartup = () => interrupt();
  function interrupt(): void {
    irq.handler = () => {
      rig.tick(0);
      rig.tick(1);
    };
    irqEntry();
  }
  function run(periods: number): void {
    for (let i = 0; i < periods; i++) {
      player.service();
      interrupt();
    }
  }
  route(card, a, card.bes[0], true);
  route(card, b, card.bes[0], true);
  assert.equal(player.play(a, 440, -1), "");
  run(5);
  assert.equal(player.play(b, 660, 0.05), "");
  run(3);
  assert.equal(route(card, a, card.bes[1], true), "");
  run(3);
  assert.equal(route(card, a, card.bes[0], false), "");
  run(3);
  assert.equal(feTrigger(card, a, Cmd.PausePush), "");
  run(3);
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "");
  run(3);
  // Starve a: the main loop misses its refills; the player recovers.
  for (let i = 0; i < 6; i++) interrupt();
  assert.ok(a.xruns >= 1, "an xrun happened");
  run(10);
  assert.equal(a.state, FeState.Running, "recovered");
  assert.equal(route(card, b, card.bes[1], true), "");
  run(80);
  assert.equal(b.state, FeState.Closed, "b's timed tone drained and closed");
  player.stop(a);
  run(2);
  assert.deepEqual(races(), {});
  assert.equal(raceTotal(), 0);
  assert.deepEqual(raceLines(rig), []);
  assert.equal(irq.handlerErrors, 0, String(irq.lastError));
  for (const be of card.bes) assert.deepEqual([be.users, be.startCount, be.state === BeState.Start], [0, 0, false], be.name);
  assert.equal(card.links.allocated, 0);
  writeFrames(card, a, 0); // closed: writes nothing
});
