// firmware/dpcm.ts: the BE user and start counts, pause on a shared BE, the
// BE state machine, the held trigger, the hw_params fixup, xrun and mixing.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, openAndStart, writeFrames } from "./support/rig.ts";
import { BackEnd, BeState, FeState, LinkState, Link, beCanEnter, beSetState, feHwPtr, BE_STATE_NAMES } from "../firmware/dpcm/dpcm.ts";
import type { Card } from "../firmware/dpcm/card.ts";
import { mixSaturating } from "../firmware/native/mix.ts";
import { ring, Kind, raceTotal } from "../firmware/log.ts";
import { drain } from "../firmware/log-print.ts";
import { Cmd } from "../firmware/pcm.ts";
import { feClose, feOpen, fePrepare, feTrigger } from "../firmware/dpcm/fe.ts";
import { findLink, route, runtimeUpdate } from "../firmware/dpcm/graph.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

function link(card: Card, feName: string, beName: string): Link {
  const found = findLink(card.feByName(feName)!, card.beByName(beName)!);
  assert.ok(found, "no link " + feName + " -> " + beName);
  return found;
}
function state(be: BackEnd): string {
  return BE_STATE_NAMES[be.state];
}

test("BE user count: opened by the first FE, closed by the last; driver open/close once", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, b, be, true);
  assert.equal(feOpen(card, a, 0, 0), "");
  assert.equal(be.users, 1);
  assert.equal(state(be), "PREPARE");
  assert.equal(feOpen(card, b, 0, 0), "");
  assert.equal(be.users, 2);
  // hw_params twice for the first user: openRate's side-effect-free probe, then the real one.
  assert.deepEqual([sink.calls.startup, sink.calls.hwParams, sink.calls.prepare], [1, 2, 1], "the second user does not reopen the hardware");
  feClose(card, a);
  assert.equal(be.users, 1);
  assert.deepEqual([sink.calls.hwFree, sink.calls.shutdown], [0, 0], "the BE stays open while a user remains");
  assert.equal(state(be), "PREPARE");
  feClose(card, b);
  assert.equal(be.users, 0);
  assert.deepEqual([sink.calls.hwFree, sink.calls.shutdown], [1, 1], "the last user closes it once");
  assert.equal(state(be), "CLOSE");
  assert.equal(card.links.allocated, 0);
  // CLOSE -> OPEN: it can be opened again.
  assert.equal(feOpen(card, a, 0, 0), "");
  assert.equal(sink.calls.startup, 2);
  assert.equal(state(be), "PREPARE");
});

test("BE start count with two FEs sharing it: hardware START once, STOP only on the last", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, b, be, true);
  openAndStart(card, a);
  openAndStart(card, b);
  assert.equal(sink.calls.start, 1, "one hardware START for two FEs");
  assert.equal(be.startCount, 2);
  assert.equal(state(be), "START");
  feTrigger(card, a, Cmd.Stop);
  assert.equal(sink.calls.stop, 0, "the first STOP must not stop a BE another FE still runs");
  assert.equal(be.startCount, 1);
  assert.equal(state(be), "START");
  assert.equal(sink.running, true);
  feTrigger(card, a, Cmd.Stop); // a second STOP of the same FE changes no count
  assert.equal(be.startCount, 1);
  feTrigger(card, b, Cmd.Stop);
  assert.equal(sink.calls.stop, 1, "the last STOP stops the hardware");
  assert.equal(be.startCount, 0);
  assert.equal(state(be), "STOP");
  assert.equal(sink.running, false);
  // And again from STOP: one START (ALSA's START needs data: write first).
  fePrepare(card, a);
  fePrepare(card, b);
  writeFrames(card, a, 1000);
  writeFrames(card, b, 1000);
  assert.equal(feTrigger(card, a, Cmd.Start), "");
  assert.equal(feTrigger(card, b, Cmd.Start), "");
  assert.equal(sink.calls.start, 2);
  assert.deepEqual([be.hwTriggers[Cmd.Start] + be.hwTriggers[Cmd.PauseRelease], be.hwTriggers[Cmd.Stop]], [2, 1]);
  assert.equal(raceTotal(), 0);
});

test("pause on a shared BE: one PAUSE_PUSH keeps it running, both pause it, PAUSE_RELEASE resumes", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, b, be, true);
  openAndStart(card, a);
  openAndStart(card, b);
  assert.equal(feTrigger(card, a, Cmd.PausePush), "");
  assert.equal(a.state, FeState.Paused);
  assert.equal(link(card, "a", "s0").state, LinkState.Paused);
  assert.equal(state(be), "START", "b still plays: the BE keeps running");
  assert.equal(sink.calls.pause_push, 0);
  assert.equal(sink.paused, false);
  assert.equal(feTrigger(card, b, Cmd.PausePush), "");
  assert.equal(state(be), "PAUSED", "both paused: the BE pauses");
  assert.equal(sink.calls.pause_push, 1);
  assert.equal(sink.paused, true);
  assert.equal(sink.calls.stop, 0, "a pause is not a stop");
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "");
  assert.equal(state(be), "START");
  assert.equal(sink.calls.pause_release, 1);
  assert.equal(sink.paused, false);
  assert.equal(sink.calls.start, 1, "PAUSE_RELEASE resumes, it does not START again");
  assert.equal(feTrigger(card, b, Cmd.PauseRelease), "");
  assert.equal(sink.calls.pause_release, 1, "the second release finds the BE running");
  assert.equal(be.startCount, 2);
  assert.equal(be.pauseCount, 0);
  assert.equal(raceTotal(), 0);
});

test("STOP of paused links: the BE stays paused for the other paused FE, stops with the last", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, b, be, true);
  openAndStart(card, a);
  openAndStart(card, b);
  feTrigger(card, a, Cmd.PausePush);
  feTrigger(card, b, Cmd.PausePush);
  feTrigger(card, a, Cmd.Stop);
  assert.equal(link(card, "a", "s0").state, LinkState.Idle);
  assert.equal(state(be), "PAUSED");
  assert.equal(sink.calls.stop, 0);
  assert.equal(be.pauseCount, 1);
  feTrigger(card, b, Cmd.Stop);
  assert.equal(state(be), "STOP");
  assert.equal(sink.calls.stop, 1);
  assert.deepEqual([be.startCount, be.pauseCount], [0, 0]);
  assert.equal(sink.running, false);
});

test("the last running FE stopping while another is paused pauses the BE instead of stopping it", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, b, be, true);
  openAndStart(card, a);
  openAndStart(card, b);
  feTrigger(card, a, Cmd.PausePush);
  feTrigger(card, b, Cmd.Stop);
  assert.equal(state(be), "PAUSED");
  assert.equal(sink.calls.stop, 0);
  feTrigger(card, a, Cmd.PauseRelease);
  assert.equal(state(be), "START");
  assert.equal(sink.calls.start, 1);
});

test("disconnecting a running FE from a shared BE gives back its start and its user: the BE stops with the other FE", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  route(card, a, be, true);
  route(card, a, card.bes[1], true);
  route(card, b, be, true);
  openAndStart(card, a);
  openAndStart(card, b);
  assert.deepEqual([be.users, be.startCount], [2, 2]);
  assert.equal(route(card, a, be, false), "");
  assert.equal(findLink(a, be), null);
  assert.deepEqual([be.users, be.startCount], [1, 1], "a's user and start are released");
  assert.equal(state(be), "START", "b still plays on it");
  assert.equal(sink.calls.stop, 0);
  feTrigger(card, b, Cmd.Stop);
  assert.equal(state(be), "STOP", "the last running FE stops the shared BE");
  assert.equal(sink.calls.stop, 1);
  assert.equal(state(card.bes[1]), "START", "a plays on through its other BE");
  assert.equal(raceTotal(), 0);
});

test("PAUSE_PUSH or STOP on an FE that is not running is refused and changes nothing", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  assert.equal(feTrigger(card, a, Cmd.PausePush), "a: not running (state CLOSED)");
  assert.equal(feTrigger(card, a, Cmd.Stop), "a: cannot STOP (state CLOSED)");
  assert.equal(a.state, FeState.Closed);
  feOpen(card, a, 0, 0);
  assert.equal(feTrigger(card, a, Cmd.PausePush), "a: not running (state SETUP)");
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "a: not paused (state SETUP)");
  assert.equal(a.state, FeState.Setup);
  assert.equal(rig.sinks[0].calls.pause_push, 0);
});

test("the BE state table: legal and illegal transitions (as soc-pcm.c)", () => {
  const legal: [BeState, BeState][] = [
    [BeState.New, BeState.Open],
    [BeState.Close, BeState.Open],
    [BeState.Open, BeState.HwParams],
    [BeState.HwParams, BeState.Prepare],
    [BeState.Prepare, BeState.Start],
    [BeState.Stop, BeState.Start],
    [BeState.Paused, BeState.Start],
    [BeState.Start, BeState.Stop],
    [BeState.Start, BeState.Paused],
    [BeState.Start, BeState.Suspend],
    // The card's additions: its BE follows the link counts (ARCHITECTURE.md).
    [BeState.Paused, BeState.Suspend],
    [BeState.Suspend, BeState.Paused],
    [BeState.Stop, BeState.HwFree],
    [BeState.HwFree, BeState.Close],
    [BeState.Open, BeState.Close],
  ];
  const illegal: [BeState, BeState][] = [
    [BeState.HwFree, BeState.Start],
    [BeState.New, BeState.Start],
    [BeState.Open, BeState.Start],
    [BeState.HwParams, BeState.Start],
    [BeState.Start, BeState.Start],
    [BeState.Stop, BeState.Paused],
    [BeState.Prepare, BeState.Stop],
    [BeState.Open, BeState.HwFree],
    [BeState.Start, BeState.Close],
    [BeState.Start, BeState.Open],
  ];
  for (const [from, to] of legal) assert.equal(beCanEnter(from, to), true, BE_STATE_NAMES[from] + " -> " + BE_STATE_NAMES[to]);
  for (const [from, to] of illegal) assert.equal(beCanEnter(from, to), false, BE_STATE_NAMES[from] + " -> " + BE_STATE_NAMES[to]);
  for (let from = 0; from < BE_STATE_NAMES.length; from++) assert.equal(beCanEnter(from, BeState.New), false, "NEW is never re-entered");
});

test("illegal transitions are refused with a clear message and change nothing", () => {
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  const be = card.bes[0];
  const sink = rig.sinks[0];
  be.state = BeState.HwFree;
  assert.equal(beSetState(be, BeState.Start), false);
  assert.equal(be.refused, 1);
  assert.equal(state(be), "HW_FREE");
  be.refused = 0;

  // Through the public path: opening an FE onto a BE in a state OPEN cannot follow.
  route(card, a, be, true);
  assert.equal(feOpen(card, a, 0, 0), "s0: cannot open from HW_FREE");
  assert.equal(a.state, FeState.Closed);
  assert.equal(sink.calls.startup, 0);
  assert.equal(be.users, 0);
  assert.equal(card.links.allocated, 0);

  // From the trigger path (no strings in the interrupt): refused and counted.
  be.state = BeState.New;
  openAndStart(card, a); // legal: NEW -> OPEN -> HW_PARAMS -> PREPARE -> START
  feTrigger(card, a, Cmd.Stop);
  be.state = BeState.HwFree;
  fePrepare(card, a);
  writeFrames(card, a, 1000);
  feTrigger(card, a, Cmd.Start);
  assert.equal(sink.calls.start, 1, "START from HW_FREE must not reach the hardware");
  assert.equal(be.refused, 1);
  assert.equal(state(be), "HW_FREE");
});

test("a trigger during an update is held (pendingTrigger) and replayed at its end", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  // The interrupt ends the FE (a drain finishing, say) while the main loop
  // is in the middle of routing it to s1: inside s1's open().
  let seen: { pending: boolean; pendingCmd: number; oldLink: LinkState; oldRunning: boolean; feState: FeState } | null = null;
  rig.sinks[1].onStartup = () => {
    assert.equal(feTrigger(card, a, Cmd.Stop), "");
    seen = { pending: a.triggerPending, pendingCmd: a.pendingCmd, oldLink: link(card, "a", "s0").state, oldRunning: rig.sinks[0].running, feState: a.state };
  };
  assert.equal(route(card, a, card.bes[1], true), "");
  assert.deepEqual(seen, { pending: true, pendingCmd: Cmd.Stop, oldLink: LinkState.Running, oldRunning: true, feState: FeState.Setup }, "held, not run");
  assert.equal(a.triggerPending, false, "replayed and cleared");
  assert.equal(a.updating, false);
  assert.equal(link(card, "a", "s0").state, LinkState.Idle);
  assert.equal(link(card, "a", "s1").state, LinkState.Idle);
  assert.equal(rig.sinks[0].running, false);
  assert.equal(rig.sinks[1].running, false, "the update never starts a BE for an FE already stopped");
  assert.equal(rig.sinks[1].calls.start, 0);
  assert.equal(state(card.bes[0]), "STOP");
  assert.equal(state(card.bes[1]), "PREPARE");
  assert.equal(ring.counts[Kind.TriggerDeferred], 1);
  assert.equal(ring.counts[Kind.TriggerReplayed], 1);
  assert.equal(raceTotal(), 0, "no lost trigger");
  const lines: string[] = [];
  drain(card.feNames, card.beNames, (l) => lines.push(l));
  assert.match(lines.join("\n"), /EVT t=\S+ kind=trigger-deferred ctx=main fe=a be=- link=- at=trigger n=1/);
  assert.match(lines.join("\n"), /EVT t=\S+ kind=trigger-replayed ctx=main fe=a be=- link=- at=update-end n=1/);
});

test("a held PAUSE_PUSH is replayed: the FE and its links end paused", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  a.updating = true;
  assert.equal(feTrigger(card, a, Cmd.PausePush), "");
  assert.equal(a.triggerPending, true);
  assert.equal(a.pendingCmd, Cmd.PausePush);
  assert.equal(link(card, "a", "s0").state, LinkState.Running, "held: the link is untouched during the update");
  a.updating = false;
  runtimeUpdate(card, a);
  assert.equal(a.state, FeState.Paused);
  assert.equal(link(card, "a", "s0").state, LinkState.Paused);
  assert.equal(state(card.bes[0]), "PAUSED");
  assert.equal(raceTotal(), 0);
});

function rateRig() {
  return makeRig({
    fes: ["media", "alert"],
    bes: [
      { name: "line", rates: [8000, 16000, 32000, 48000] },
      { name: "bt", rates: [16000] },
      { name: "fm", rates: [8000] },
    ],
  });
}

test("hw_params fixup: a fixed 16 kHz BE as the FE's first BE makes the FE 16 kHz", () => {
  const rig = rateRig();
  const { card } = rig;
  const media = rig.fe("media");
  const bt = card.beByName("bt")!;
  const line = card.beByName("line")!;
  route(card, media, bt, true);
  assert.equal(feOpen(card, media, 0, 0), "");
  assert.equal(media.params.rate, 16000, "the FE adopts the fixed-up rate");
  assert.equal(bt.params.rate, 16000);
  assert.equal(rig.sinks[bt.index].rate, 16000);
  // A second BE that can run at 16 kHz joins at 16 kHz.
  assert.equal(route(card, media, line, true), "");
  assert.equal(line.params.rate, 16000);
  assert.equal(rig.sinks[line.index].rate, 16000);
  feClose(card, media);
  assert.equal(media.params.rate, 8000, "closing gives the FE its default rate back");
});

test("hw_params refusal: a second BE at another fixed rate is an error, nothing changes, old routes keep working", () => {
  const rig = rateRig();
  const { card } = rig;
  const media = rig.fe("media");
  const bt = card.beByName("bt")!;
  const fm = card.beByName("fm")!;
  route(card, media, bt, true);
  openAndStart(card, media);
  assert.equal(media.params.rate, 16000);
  const allocated = card.links.allocated;
  const err = route(card, media, fm, true);
  assert.equal(err, "fm: runs at 8000 Hz only; media is open at 16000 Hz (a stream's rate is fixed while it is open, and there is no resampler: stop media first)");
  assert.equal(card.routed(media, fm), false, "the switch is put back");
  assert.equal(findLink(media, fm), null);
  assert.equal(card.links.allocated, allocated, "no link leaked");
  assert.equal(fm.users, 0);
  const fmSink = rig.sinks[fm.index];
  assert.equal(fmSink.calls.start, 0);
  assert.equal(fmSink.calls.startup, fmSink.calls.shutdown, "a BE opened for the attempt is closed again");
  assert.equal(media.params.rate, 16000);
  assert.equal(media.state, FeState.Running);
  assert.equal(link(card, "media", "bt").state, LinkState.Running);
  // The old route still plays: ten more periods, no xrun.
  const played = card.played[media.index * card.bes.length + bt.index];
  for (let i = 0; i < 10; i++) {
    writeFrames(card, media, 100);
    assert.equal(rig.tick(bt.index), true);
  }
  // At 16 kHz the period keeps the board's period time: twice the frames.
  assert.equal(media.params.periodFrames, 2 * card.board.params.periodFrames);
  assert.equal(card.played[media.index * card.bes.length + bt.index], played + 10 * media.params.periodFrames);
  assert.equal(media.xruns, 0);
  assert.equal(raceTotal(), 0);
});

test("hw_params refusal when opening onto two fixed BEs at different rates: the FE stays closed", () => {
  const rig = rateRig();
  const { card } = rig;
  const media = rig.fe("media");
  route(card, media, card.beByName("bt")!, true);
  route(card, media, card.beByName("fm")!, true);
  assert.match(feOpen(card, media, 0, 0), /^fm: runs at 8000 Hz only; media is open at 16000 Hz/);
  assert.equal(media.state, FeState.Closed);
  assert.equal(media.params.rate, 8000);
  assert.equal(card.links.allocated, 0);
  for (const be of card.bes) assert.equal(be.users, 0, be.name);
});

test("hw_params on a BE already busy at another rate is refused", () => {
  const rig = rateRig();
  const { card } = rig;
  const media = rig.fe("media");
  const alert = rig.fe("alert");
  const bt = card.beByName("bt")!;
  route(card, media, bt, true);
  openAndStart(card, media);
  route(card, alert, card.beByName("fm")!, true);
  feOpen(card, alert, 0, 0);
  assert.equal(route(card, alert, bt, true), "bt: busy at 16000 Hz, 8-frame periods; alert is open at 8000 Hz, 4-frame periods");
  assert.equal(bt.users, 1);
  assert.equal(findLink(alert, bt), null);
});

test("xrun: the FE underruns when an output starts playing silence; XRUN idles its links, stops its BEs; the dropout is measured", () => {
  const rig = makeRig({ fes: ["a"], periods: 4, periodFrames: 4 });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  route(card, a, card.bes[1], true);
  openAndStart(card, a); // 4 periods written, 2 primed into each BE
  assert.equal(a.written, 16);
  assert.equal(rig.tick(0), true);
  assert.equal(feHwPtr(a), 8, "hwPtr is the slowest running BE's position");
  assert.equal(writeFrames(card, a, 7), 2);
  // s0 plays on, s1 does not get a period in: s0 runs dry first.
  let ticks = 0;
  while (a.state === FeState.Running && ticks < 10) {
    rig.tick(0);
    ticks++;
  }
  // 3 more periods copied; the 4th fill finds nothing and puts silence in
  // the idle buffer; the 5th completion starts that silence playing: the
  // underrun (ALSA: hw_ptr reached appl_ptr), not a period earlier.
  assert.equal(ticks, 5);
  assert.equal(a.state, FeState.Xrun);
  assert.equal(a.xruns, 1);
  assert.equal(link(card, "a", "s0").state, LinkState.Idle);
  assert.equal(link(card, "a", "s1").state, LinkState.Idle);
  assert.equal(state(card.bes[0]), "STOP");
  assert.equal(state(card.bes[1]), "STOP");
  assert.equal(rig.sinks[0].running, false);
  assert.equal(rig.sinks[1].running, false);
  const played0 = card.played[0 * 2 + 0];
  const played1 = card.played[0 * 2 + 1];
  assert.equal(played0, 24);
  assert.equal(played1, 8);
  const lines: string[] = [];
  drain(card.feNames, card.beNames, (l) => lines.push(l));
  assert.equal(lines.length, 0, "the dropout is logged when it ends, with its length");
  // Recovery (snd_pcm_recover): prepare, refill, start, 10 ms later.
  env.now += 0.01;
  assert.equal(fePrepare(card, a), "");
  assert.equal(card.dropped[0], 0, "the BE that ran dry had played everything");
  assert.equal(card.dropped[1], 16, "the lagging BE drops exactly what it never copied");
  assert.equal(played0 + card.dropped[0], a.written);
  assert.equal(played1 + card.dropped[1], a.written);
  writeFrames(card, a, 5);
  assert.equal(feTrigger(card, a, Cmd.Start), "");
  assert.equal(state(card.bes[0]), "START");
  assert.equal(state(card.bes[1]), "START");
  drain(card.feNames, card.beNames, (l) => lines.push(l));
  // 10 ms at 8000 Hz: the outputs went 80 frames without a's data.
  assert.deepEqual(lines, ["EVT t=0.010000 kind=xrun ctx=main fe=a be=s0 link=- at=be-start n=80"]);
  assert.deepEqual([card.silent[0], card.silent[1]], [80, 80]);
  assert.equal(raceTotal(), 0);
});

test("mixSaturating clips at +32767 and -32768 instead of wrapping", () => {
  const dst = new Int16Array([30000, -30000, 100, 32767, -32768, 20000]);
  mixSaturating(dst, new Int16Array([30000, -30000, -200, 1, -1, -30000]));
  assert.deepEqual(Array.from(dst), [32767, -32768, -100, 32767, -32768, -10000]);
});

test("two FEs mixed into one BE saturate instead of wrapping", () => {
  for (const [value, want] of [
    [30000, 32767],
    [-30000, -32768],
    [12000, 24000],
  ]) {
    resetFirmwareState();
    const rig = makeRig({ bes: [{ name: "s0", rates: [8000] }] });
    const { card } = rig;
    const a = rig.fe("a");
    const b = rig.fe("b");
    route(card, a, card.bes[0], true);
    route(card, b, card.bes[0], true);
    openAndStart(card, a, value);
    openAndStart(card, b, value);
    rig.tick(0);
    const sink = rig.sinks[0];
    const mixed = sink.nextBuffer();
    assert.ok(
      mixed.every((v) => v === want),
      value + " + " + value + " gave " + Array.from(mixed).join(","),
    );
    // And it is what the hardware plays after the two primed periods.
    rig.tick(0);
    rig.tick(0);
    assert.ok(sink.output.slice(-mixed.length).every((v) => v === want));
  }
});

test("a fixed-rate BE sets the FE's rate whatever the order of its routes; two different fixed rates are refused", () => {
  const rig = makeRig({ bes: [{ name: "line", rates: [8000, 16000] }, { name: "bt", rates: [16000] }, { name: "hdmi", rates: [48000] }] });
  const { card } = rig;
  const a = rig.fe("a");
  // The any-rate BE (index 0) is routed first, the 16 kHz one second.
  route(card, a, card.bes[0], true);
  route(card, a, card.bes[1], true);
  assert.equal(feOpen(card, a, 0, 0), "");
  assert.equal(a.params.rate, 16000);
  assert.equal(card.bes[0].params.rate, 16000);
  feClose(card, a);
  assert.equal(a.params.rate, 8000, "a closed FE returns to the board's rate");
  route(card, a, card.bes[2], true);
  const err = feOpen(card, a, 0, 0);
  assert.match(err, /runs at 16000 Hz and .* at 48000 Hz; one FE cannot feed both/);
  assert.equal(a.state, FeState.Closed);
  assert.deepEqual(card.bes.map((be) => be.users), [0, 0, 0], "a refused open leaves every BE closed");
});

test("play with a frequency the FE's rate cannot carry changes nothing: no BE is opened", async () => {
  const { Player } = await import("../firmware/player.ts");
  const rig = makeRig();
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  const player = new Player(card);
  assert.match(player.play(a, 4000, -1), /frequency must be above 0 and below 4000 Hz/);
  assert.equal(a.state, FeState.Closed);
  assert.equal(card.bes[0].users, 0);
  assert.equal(rig.sinks[0].calls.startup, 0, "the BE's hardware was never opened");
  assert.equal(player.play(a, 440, -1), "");
  assert.equal(a.state, FeState.Running);
});
