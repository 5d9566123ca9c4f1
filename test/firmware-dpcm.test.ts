// firmware/dpcm.ts: the BE user and start counts, pause on a shared BE, the
// BE state machine, the held trigger, the hw_params fixup, xrun and mixing.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, openAndStart, writeFrames } from "./support/rig.ts";
import {
  Runtime,
  BackEnd,
  BeState,
  FeState,
  Cmd,
  LinkState,
  Link,
  NO_TRIGGER,
  beCanEnter,
  mixSaturating,
  BE_STATE_NAMES,
} from "../firmware/dpcm.ts";
import { ring, Kind, drain, raceTotal } from "../firmware/log.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

function link(rt: Runtime, feName: string, beName: string): Link {
  const found = rt.findLink(rt.feByName(feName)!, rt.beByName(beName)!);
  assert.ok(found, "no link " + feName + " -> " + beName);
  return found;
}
function state(be: BackEnd): string {
  return BE_STATE_NAMES[be.state];
}

test("BE user count: opened by the first FE, closed by the last; driver open/close once", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(b, be, true);
  assert.equal(rt.openFe(a), "");
  assert.equal(be.users, 1);
  assert.equal(state(be), "PREPARE");
  assert.equal(rt.openFe(b), "");
  assert.equal(be.users, 2);
  // hw_params twice for the first user: openRate's side-effect-free probe, then the real one.
  assert.deepEqual([sink.calls.open, sink.calls.hwParams, sink.calls.prepare], [1, 2, 1], "the second user does not reopen the hardware");
  rt.closeFe(a);
  assert.equal(be.users, 1);
  assert.deepEqual([sink.calls.hwFree, sink.calls.close], [0, 0], "the BE stays open while a user remains");
  assert.equal(state(be), "PREPARE");
  rt.closeFe(b);
  assert.equal(be.users, 0);
  assert.deepEqual([sink.calls.hwFree, sink.calls.close], [1, 1], "the last user closes it once");
  assert.equal(state(be), "CLOSE");
  assert.equal(rt.links.allocated, 0);
  // CLOSE -> OPEN: it can be opened again.
  assert.equal(rt.openFe(a), "");
  assert.equal(sink.calls.open, 2);
  assert.equal(state(be), "PREPARE");
});

test("BE start count with two FEs sharing it: hardware START once, STOP only on the last", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(b, be, true);
  openAndStart(rt, a);
  openAndStart(rt, b);
  assert.equal(sink.calls.start, 1, "one hardware START for two FEs");
  assert.equal(be.starts, 2);
  assert.equal(state(be), "START");
  rt.trigger(a, Cmd.Stop);
  assert.equal(sink.calls.stop, 0, "the first STOP must not stop a BE another FE still runs");
  assert.equal(be.starts, 1);
  assert.equal(state(be), "START");
  assert.equal(sink.running, true);
  rt.trigger(a, Cmd.Stop); // a second STOP of the same FE changes no count
  assert.equal(be.starts, 1);
  rt.trigger(b, Cmd.Stop);
  assert.equal(sink.calls.stop, 1, "the last STOP stops the hardware");
  assert.equal(be.starts, 0);
  assert.equal(state(be), "STOP");
  assert.equal(sink.running, false);
  // And again from STOP: one START.
  rt.prepareFe(a);
  rt.prepareFe(b);
  rt.trigger(a, Cmd.Start);
  rt.trigger(b, Cmd.Start);
  assert.equal(sink.calls.start, 2);
  assert.deepEqual([be.hwStarts, be.hwStops], [2, 1]);
  assert.equal(raceTotal(), 0);
});

test("pause on a shared BE: one PAUSE_PUSH keeps it running, both pause it, PAUSE_RELEASE resumes", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(b, be, true);
  openAndStart(rt, a);
  openAndStart(rt, b);
  assert.equal(rt.trigger(a, Cmd.PausePush), "");
  assert.equal(a.state, FeState.Paused);
  assert.equal(link(rt, "a", "s0").state, LinkState.Paused);
  assert.equal(state(be), "START", "b still plays: the BE keeps running");
  assert.equal(sink.calls.pause, 0);
  assert.equal(sink.paused, false);
  assert.equal(rt.trigger(b, Cmd.PausePush), "");
  assert.equal(state(be), "PAUSED", "both paused: the BE pauses");
  assert.equal(sink.calls.pause, 1);
  assert.equal(sink.paused, true);
  assert.equal(sink.calls.stop, 0, "a pause is not a stop");
  assert.equal(rt.trigger(a, Cmd.PauseRelease), "");
  assert.equal(state(be), "START");
  assert.equal(sink.calls.release, 1);
  assert.equal(sink.paused, false);
  assert.equal(sink.calls.start, 1, "PAUSE_RELEASE resumes, it does not START again");
  assert.equal(rt.trigger(b, Cmd.PauseRelease), "");
  assert.equal(sink.calls.release, 1, "the second release finds the BE running");
  assert.equal(be.starts, 2);
  assert.equal(be.pausedLinks, 0);
  assert.equal(raceTotal(), 0);
});

test("STOP of paused links: the BE stays paused for the other paused FE, stops with the last", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(b, be, true);
  openAndStart(rt, a);
  openAndStart(rt, b);
  rt.trigger(a, Cmd.PausePush);
  rt.trigger(b, Cmd.PausePush);
  rt.trigger(a, Cmd.Stop);
  assert.equal(link(rt, "a", "s0").state, LinkState.Idle);
  assert.equal(state(be), "PAUSED");
  assert.equal(sink.calls.stop, 0);
  assert.equal(be.pausedLinks, 1);
  rt.trigger(b, Cmd.Stop);
  assert.equal(state(be), "STOP");
  assert.equal(sink.calls.stop, 1);
  assert.deepEqual([be.starts, be.pausedLinks], [0, 0]);
  assert.equal(sink.running, false);
});

test("the last running FE stopping while another is paused pauses the BE instead of stopping it", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(b, be, true);
  openAndStart(rt, a);
  openAndStart(rt, b);
  rt.trigger(a, Cmd.PausePush);
  rt.trigger(b, Cmd.Stop);
  assert.equal(state(be), "PAUSED");
  assert.equal(sink.calls.stop, 0);
  rt.trigger(a, Cmd.PauseRelease);
  assert.equal(state(be), "START");
  assert.equal(sink.calls.start, 1);
});

test("disconnecting a running FE from a shared BE gives back its start and its user: the BE stops with the other FE", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  rt.route(a, be, true);
  rt.route(a, rt.bes[1], true);
  rt.route(b, be, true);
  openAndStart(rt, a);
  openAndStart(rt, b);
  assert.deepEqual([be.users, be.starts], [2, 2]);
  assert.equal(rt.route(a, be, false), "");
  assert.equal(rt.findLink(a, be), null);
  assert.deepEqual([be.users, be.starts], [1, 1], "a's user and start are released");
  assert.equal(state(be), "START", "b still plays on it");
  assert.equal(sink.calls.stop, 0);
  rt.trigger(b, Cmd.Stop);
  assert.equal(state(be), "STOP", "the last running FE stops the shared BE");
  assert.equal(sink.calls.stop, 1);
  assert.equal(state(rt.bes[1]), "START", "a plays on through its other BE");
  assert.equal(raceTotal(), 0);
});

test("PAUSE_PUSH or STOP on an FE that is not running is refused and changes nothing", () => {
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  rt.route(a, rt.bes[0], true);
  assert.match(rt.trigger(a, Cmd.PausePush), /a: cannot PAUSE_PUSH in state CLOSED/);
  assert.match(rt.trigger(a, Cmd.Stop), /a: cannot STOP in state CLOSED/);
  assert.equal(a.state, FeState.Closed);
  rt.openFe(a);
  assert.match(rt.trigger(a, Cmd.PausePush), /cannot PAUSE_PUSH in state SETUP/);
  assert.match(rt.trigger(a, Cmd.PauseRelease), /cannot PAUSE_RELEASE in state SETUP/);
  assert.equal(a.state, FeState.Setup);
  assert.equal(rig.sinks[0].calls.pause, 0);
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
  const { rt } = rig;
  const a = rig.fe("a");
  const be = rt.bes[0];
  const sink = rig.sinks[0];
  const beEnter = (rt as unknown as { beEnter(be: BackEnd, to: BeState): string }).beEnter.bind(rt);
  be.state = BeState.HwFree;
  assert.equal(beEnter(be, BeState.Start), "s0: cannot go to START from HW_FREE");
  assert.equal(state(be), "HW_FREE");

  // Through the public path: opening an FE onto a BE in a state OPEN cannot follow.
  rt.route(a, be, true);
  assert.equal(rt.openFe(a), "s0: cannot go to OPEN from HW_FREE");
  assert.equal(a.state, FeState.Closed);
  assert.equal(sink.calls.open, 0);
  assert.equal(be.users, 0);
  assert.equal(rt.links.allocated, 0);

  // From the trigger path (no strings in the interrupt): refused and counted.
  be.state = BeState.New;
  openAndStart(rt, a); // legal: NEW -> OPEN -> HW_PARAMS -> PREPARE -> START
  rt.trigger(a, Cmd.Stop);
  be.state = BeState.HwFree;
  rt.prepareFe(a);
  rt.trigger(a, Cmd.Start);
  assert.equal(sink.calls.start, 1, "START from HW_FREE must not reach the hardware");
  assert.equal(be.refused, 1);
  assert.equal(state(be), "HW_FREE");
});

test("a trigger during an update is held (pendingTrigger) and replayed at its end", () => {
  const rig = makeRig({ fes: ["a"] });
  const { rt } = rig;
  const a = rig.fe("a");
  rt.route(a, rt.bes[0], true);
  openAndStart(rt, a);
  // The interrupt ends the FE (a drain finishing, say) while the main loop
  // is in the middle of routing it to s1: inside s1's open().
  let seen: { pending: number; oldLink: LinkState; oldRunning: boolean; feState: FeState } | null = null;
  rig.sinks[1].onOpen = () => {
    assert.equal(rt.trigger(a, Cmd.Stop), "");
    seen = { pending: a.pendingTrigger, oldLink: link(rt, "a", "s0").state, oldRunning: rig.sinks[0].running, feState: a.state };
  };
  assert.equal(rt.route(a, rt.bes[1], true), "");
  assert.deepEqual(seen, { pending: Cmd.Stop, oldLink: LinkState.Running, oldRunning: true, feState: FeState.Setup }, "held, not run");
  assert.equal(a.pendingTrigger, NO_TRIGGER, "replayed and cleared");
  assert.equal(a.updating, false);
  assert.equal(link(rt, "a", "s0").state, LinkState.Idle);
  assert.equal(link(rt, "a", "s1").state, LinkState.Idle);
  assert.equal(rig.sinks[0].running, false);
  assert.equal(rig.sinks[1].running, false, "the BE started by the update is stopped by the replay");
  assert.equal(state(rt.bes[0]), "STOP");
  assert.equal(state(rt.bes[1]), "STOP");
  assert.equal(ring.counts[Kind.TriggerDeferred], 1);
  assert.equal(ring.counts[Kind.TriggerReplayed], 1);
  assert.equal(raceTotal(), 0, "no lost trigger");
  const lines: string[] = [];
  drain(rt.feNames, rt.beNames, (l) => lines.push(l));
  assert.match(lines.join("\n"), /EVT t=\S+ kind=trigger-deferred ctx=main fe=a be=- link=- at=trigger n=1/);
  assert.match(lines.join("\n"), /EVT t=\S+ kind=trigger-replayed ctx=main fe=a be=- link=- at=update-end n=1/);
});

test("a held PAUSE_PUSH is replayed: the FE and its links end paused", () => {
  const rig = makeRig({ fes: ["a"] });
  const { rt } = rig;
  const a = rig.fe("a");
  rt.route(a, rt.bes[0], true);
  openAndStart(rt, a);
  a.updating = true;
  assert.equal(rt.trigger(a, Cmd.PausePush), "");
  assert.equal(a.pendingTrigger, Cmd.PausePush);
  assert.equal(link(rt, "a", "s0").state, LinkState.Running, "held: the link is untouched during the update");
  a.updating = false;
  rt.update(a);
  assert.equal(a.state, FeState.Paused);
  assert.equal(link(rt, "a", "s0").state, LinkState.Paused);
  assert.equal(state(rt.bes[0]), "PAUSED");
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
  const { rt } = rig;
  const media = rig.fe("media");
  const bt = rt.beByName("bt")!;
  const line = rt.beByName("line")!;
  rt.route(media, bt, true);
  assert.equal(rt.openFe(media), "");
  assert.equal(media.params.rate, 16000, "the FE adopts the fixed-up rate");
  assert.equal(bt.params.rate, 16000);
  assert.equal(rig.sinks[bt.index].rate, 16000);
  // A second BE that can run at 16 kHz joins at 16 kHz.
  assert.equal(rt.route(media, line, true), "");
  assert.equal(line.params.rate, 16000);
  assert.equal(rig.sinks[line.index].rate, 16000);
  rt.closeFe(media);
  assert.equal(media.params.rate, 8000, "closing gives the FE its default rate back");
});

test("hw_params refusal: a second BE at another fixed rate is an error, nothing changes, old routes keep working", () => {
  const rig = rateRig();
  const { rt } = rig;
  const media = rig.fe("media");
  const bt = rt.beByName("bt")!;
  const fm = rt.beByName("fm")!;
  rt.route(media, bt, true);
  openAndStart(rt, media);
  assert.equal(media.params.rate, 16000);
  const allocated = rt.links.allocated;
  const err = rt.route(media, fm, true);
  assert.equal(err, "fm: runs at 8000 Hz only, media is 16000 Hz (no resampler)");
  assert.equal(rt.routed(media, fm), false, "the switch is put back");
  assert.equal(rt.findLink(media, fm), null);
  assert.equal(rt.links.allocated, allocated, "no link leaked");
  assert.equal(fm.users, 0);
  const fmSink = rig.sinks[fm.index];
  assert.equal(fmSink.calls.start, 0);
  assert.equal(fmSink.calls.open, fmSink.calls.close, "a BE opened for the attempt is closed again");
  assert.equal(media.params.rate, 16000);
  assert.equal(media.state, FeState.Running);
  assert.equal(link(rt, "media", "bt").state, LinkState.Running);
  // The old route still plays: ten more periods, no xrun.
  const played = rt.played[media.index * rt.bes.length + bt.index];
  for (let i = 0; i < 10; i++) {
    writeFrames(rt, media, 100);
    assert.equal(rig.tick(bt.index), true);
  }
  assert.equal(rt.played[media.index * rt.bes.length + bt.index], played + 10 * rt.periodFrames);
  assert.equal(media.xruns, 0);
  assert.equal(raceTotal(), 0);
});

test("hw_params refusal when opening onto two fixed BEs at different rates: the FE stays closed", () => {
  const rig = rateRig();
  const { rt } = rig;
  const media = rig.fe("media");
  rt.route(media, rt.beByName("bt")!, true);
  rt.route(media, rt.beByName("fm")!, true);
  assert.match(rt.openFe(media), /^fm: runs at 8000 Hz only, media is 16000 Hz/);
  assert.equal(media.state, FeState.Closed);
  assert.equal(media.params.rate, 8000);
  assert.equal(rt.links.allocated, 0);
  for (const be of rt.bes) assert.equal(be.users, 0, be.name);
});

test("hw_params on a BE already busy at another rate is refused", () => {
  const rig = rateRig();
  const { rt } = rig;
  const media = rig.fe("media");
  const alert = rig.fe("alert");
  const bt = rt.beByName("bt")!;
  rt.route(media, bt, true);
  openAndStart(rt, media);
  rt.route(alert, rt.beByName("fm")!, true);
  rt.openFe(alert);
  assert.equal(rt.route(alert, bt, true), "bt: busy at 16000 Hz, alert is 8000 Hz");
  assert.equal(bt.users, 1);
  assert.equal(rt.findLink(alert, bt), null);
});

test("xrun: a BE period without FE data puts the FE in XRUN, idles its links, stops its BEs, counts drops exactly", () => {
  const rig = makeRig({ fes: ["a"], periods: 4, periodFrames: 4 });
  const { rt } = rig;
  const a = rig.fe("a");
  rt.route(a, rt.bes[0], true);
  rt.route(a, rt.bes[1], true);
  openAndStart(rt, a); // 4 periods written, 2 primed into each BE
  assert.equal(a.written, 16);
  assert.equal(rig.tick(0), true);
  assert.equal(a.hwPtr, 8, "hwPtr is the slowest running BE's position");
  assert.equal(writeFrames(rt, a, 7), 2);
  // s0 plays on, s1 does not get a period in: s0 runs dry first.
  let ticks = 0;
  while (a.state === FeState.Running && ticks < 10) {
    rig.tick(0);
    ticks++;
  }
  assert.equal(ticks, 4, "3 periods of data, then the xrun");
  assert.equal(a.state, FeState.Xrun);
  assert.equal(a.xruns, 1);
  assert.equal(link(rt, "a", "s0").state, LinkState.Idle);
  assert.equal(link(rt, "a", "s1").state, LinkState.Idle);
  assert.equal(state(rt.bes[0]), "STOP");
  assert.equal(state(rt.bes[1]), "STOP");
  assert.equal(rig.sinks[0].running, false);
  assert.equal(rig.sinks[1].running, false);
  const played0 = rt.played[0 * 2 + 0];
  const played1 = rt.played[0 * 2 + 1];
  assert.equal(played0, 24);
  assert.equal(played1, 8);
  assert.equal(rt.dropped[0], 0, "the BE that ran dry had played everything");
  assert.equal(rt.dropped[1], 16, "the lagging BE drops exactly what it never copied");
  assert.equal(played0 + rt.dropped[0], a.written);
  assert.equal(played1 + rt.dropped[1], a.written);
  const lines: string[] = [];
  drain(rt.feNames, rt.beNames, (l) => lines.push(l));
  assert.deepEqual(lines, ["EVT t=0.000000 kind=xrun ctx=main fe=a be=s0 link=- at=period-walk n=16"]);
  // Recovery (snd_pcm_recover): prepare, refill, start.
  assert.equal(rt.prepareFe(a), "");
  writeFrames(rt, a, 5);
  assert.equal(rt.trigger(a, Cmd.Start), "");
  assert.equal(state(rt.bes[0]), "START");
  assert.equal(state(rt.bes[1]), "START");
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
    const { rt } = rig;
    const a = rig.fe("a");
    const b = rig.fe("b");
    rt.route(a, rt.bes[0], true);
    rt.route(b, rt.bes[0], true);
    openAndStart(rt, a, value);
    openAndStart(rt, b, value);
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
  const { rt } = rig;
  const a = rig.fe("a");
  // The any-rate BE (index 0) is routed first, the 16 kHz one second.
  rt.route(a, rt.bes[0], true);
  rt.route(a, rt.bes[1], true);
  assert.equal(rt.openFe(a), "");
  assert.equal(a.params.rate, 16000);
  assert.equal(rt.bes[0].params.rate, 16000);
  rt.closeFe(a);
  assert.equal(a.params.rate, 8000, "a closed FE returns to the board's rate");
  rt.route(a, rt.bes[2], true);
  const err = rt.openFe(a);
  assert.match(err, /runs at 16000 Hz and .* at 48000 Hz; one FE cannot feed both/);
  assert.equal(a.state, FeState.Closed);
  assert.deepEqual(rt.bes.map((be) => be.users), [0, 0, 0], "a refused open leaves every BE closed");
});

test("play with a frequency the FE's rate cannot carry changes nothing: no BE is opened", async () => {
  const { Player } = await import("../firmware/player.ts");
  const rig = makeRig();
  const { rt } = rig;
  const a = rig.fe("a");
  rt.route(a, rt.bes[0], true);
  const player = new Player(rt);
  assert.match(player.play(a, 4000, -1), /frequency must be between 0 and 4000 Hz/);
  assert.equal(a.state, FeState.Closed);
  assert.equal(rt.bes[0].users, 0);
  assert.equal(rig.sinks[0].calls.open, 0, "the BE's hardware was never opened");
  assert.equal(player.play(a, 440, -1), "");
  assert.equal(a.state, FeState.Running);
});
