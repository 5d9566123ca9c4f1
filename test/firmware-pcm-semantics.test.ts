// PCM semantics as ALSA defines them (sound/core/pcm_native.c snd_pcm_pre_*,
// snd_pcm_drain; sound/soc/soc-pcm.c dpcm_be_dai_trigger): trigger
// preconditions, suspend and resume, drain, fixed hw params. The first
// tests are the failing inputs of the issue that asked for them, one each.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, openAndStart, writeFrames } from "./support/rig.ts";
import { BE_STATE_NAMES, FE_STATE_NAMES, FeState, LinkState, type BackEnd, type FrontEnd } from "../firmware/dpcm/dpcm.ts";
import { feDrain, feInjectXrun, feOpen, fePrepare, feTrigger } from "../firmware/dpcm/fe.ts";
import { findLink, route } from "../firmware/dpcm/graph.ts";
import { Cmd } from "../firmware/pcm.ts";
import { raceTotal } from "../firmware/log.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

const be = (b: BackEnd): string => BE_STATE_NAMES[b.state];
const fe = (f: FrontEnd): string => FE_STATE_NAMES[f.state];

test("input 1: PAUSE_PUSH, SUSPEND, RESUME comes back PAUSED; the BE plays nothing until PAUSE_RELEASE", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  assert.equal(rig.tick(0), true);
  assert.equal(feTrigger(card, a, Cmd.PausePush), "");
  assert.equal(feTrigger(card, a, Cmd.Suspend), "");
  assert.equal(fe(a), "SUSPENDED");
  assert.equal(feTrigger(card, a, Cmd.Resume), "");
  assert.equal(fe(a), "PAUSED", "RESUME returns to the state SUSPEND left");
  assert.equal(be(card.bes[0]), "PAUSED");
  assert.equal(rig.tick(0), false, "the BE does not play while its only FE is paused");
  assert.equal(rig.sinks[0].calls.start + rig.sinks[0].calls.pause_release + rig.sinks[0].calls.resume, 1, "no hardware restart before the release");
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "");
  assert.equal(fe(a), "RUNNING");
  assert.equal(be(card.bes[0]), "START");
  assert.equal(rig.sinks[0].calls.pause_release, 1);
  assert.equal(rig.tick(0), true);
  assert.equal(raceTotal(), 0);
});

test("input 2: SUSPEND puts the BE in SUSPEND; routing the suspended FE to a new BE logs no race", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  assert.equal(feTrigger(card, a, Cmd.Suspend), "");
  assert.equal(be(card.bes[0]), "SUSPEND");
  assert.equal(rig.sinks[0].calls.suspend, 1);
  assert.equal(route(card, a, card.bes[1], true), "");
  assert.equal(findLink(a, card.bes[1])!.state, LinkState.Suspended, "the new link follows the FE's state");
  assert.equal(be(card.bes[1]), "PREPARE", "nothing to suspend on a BE that never started");
  assert.equal(raceTotal(), 0);
  // RESUME starts both: the old one resumes, the new one starts.
  assert.equal(feTrigger(card, a, Cmd.Resume), "");
  assert.deepEqual([be(card.bes[0]), be(card.bes[1])], ["START", "START"]);
  assert.deepEqual([rig.sinks[0].calls.resume, rig.sinks[1].calls.start], [1, 1]);
  assert.equal(raceTotal(), 0);
});

test("input 3: PAUSE_RELEASE of a PREPARED stream is refused and changes nothing", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  assert.equal(feOpen(card, a, 0, 0), "");
  assert.equal(fePrepare(card, a), "");
  writeFrames(card, a, 1000);
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "a: not paused (state PREPARED)");
  assert.equal(fe(a), "PREPARED");
  assert.equal(rig.sinks[0].running, false);
  assert.equal(feTrigger(card, a, Cmd.Start), "");
  assert.equal(feTrigger(card, a, Cmd.PauseRelease), "a: not paused (state RUNNING)");
  assert.equal(fe(a), "RUNNING");
});

test("START needs PREPARED and data; PAUSE_PUSH needs RUNNING; RESUME needs SUSPENDED; SUSPEND refuses SETUP", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  assert.equal(feOpen(card, a, 0, 0), "");
  assert.equal(feTrigger(card, a, Cmd.Start), "a: not prepared (state SETUP)");
  assert.equal(feTrigger(card, a, Cmd.Suspend), "a: nothing to suspend (state SETUP)");
  assert.equal(fePrepare(card, a), "");
  assert.equal(feTrigger(card, a, Cmd.Start), "a: nothing written yet: START needs data");
  assert.equal(feTrigger(card, a, Cmd.Resume), "a: not suspended (state PREPARED)");
  writeFrames(card, a, 1000);
  assert.equal(feTrigger(card, a, Cmd.Start), "");
  assert.equal(feTrigger(card, a, Cmd.Start), "a: not prepared (state RUNNING)");
  assert.equal(feTrigger(card, a, Cmd.Suspend), "");
  assert.equal(feTrigger(card, a, Cmd.Suspend), "a: already suspended");
  assert.equal(feTrigger(card, a, Cmd.PausePush), "a: not running (state SUSPENDED)");
  assert.equal(feDrain(card, a), "a: cannot drain in state SUSPENDED");
  assert.equal(feTrigger(card, a, Cmd.Resume), "");
  assert.equal(fe(a), "RUNNING");
  assert.equal(raceTotal(), 0);
});

test("RESUME returns to exactly the suspended state: PREPARED and XRUN stay stopped", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  feOpen(card, a, 0, 0);
  fePrepare(card, a);
  writeFrames(card, a, 1000);
  assert.equal(feTrigger(card, a, Cmd.Suspend), "");
  assert.equal(feTrigger(card, a, Cmd.Resume), "");
  assert.equal(fe(a), "PREPARED");
  assert.equal(rig.sinks[0].running, false, "a prepared stream's hardware is not started by RESUME");
  feTrigger(card, a, Cmd.Start);
  assert.equal(feInjectXrun(card, a), "");
  assert.equal(fe(a), "XRUN");
  assert.equal(feTrigger(card, a, Cmd.Suspend), "");
  assert.equal(feTrigger(card, a, Cmd.Resume), "");
  assert.equal(fe(a), "XRUN");
  assert.equal(be(card.bes[0]), "STOP");
  assert.equal(raceTotal(), 0);
});

test("a shared BE: one FE suspended, the other running: the BE runs on; it suspends only with the last", () => {
  const rig = makeRig({ fes: ["a", "b"] });
  const { card } = rig;
  const a = rig.fe("a");
  const b = rig.fe("b");
  route(card, a, card.bes[0], true);
  route(card, b, card.bes[0], true);
  openAndStart(card, a);
  openAndStart(card, b);
  feTrigger(card, a, Cmd.Suspend);
  assert.equal(be(card.bes[0]), "START");
  assert.deepEqual([card.bes[0].startCount, card.bes[0].suspendCount], [1, 1]);
  feTrigger(card, b, Cmd.PausePush);
  assert.equal(be(card.bes[0]), "PAUSED", "a paused FE keeps the BE paused, not suspended");
  feTrigger(card, b, Cmd.Suspend);
  assert.equal(be(card.bes[0]), "SUSPEND");
  assert.equal(rig.sinks[0].calls.suspend, 0, "the hardware was already halted by the pause");
  feTrigger(card, a, Cmd.Resume);
  assert.equal(be(card.bes[0]), "START");
  assert.equal(rig.sinks[0].calls.resume, 1);
  assert.equal(raceTotal(), 0);
});

test("drain: RUNNING plays out what was written, then stops (SETUP); every frame reaches the BE", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  assert.equal(feDrain(card, a), "");
  assert.equal(fe(a), "DRAINING");
  let ticks = 0;
  while (a.state === FeState.Draining && ticks < 20) {
    rig.tick(0);
    ticks++;
  }
  assert.equal(fe(a), "SETUP");
  assert.equal(card.played[0], a.written);
  assert.equal(rig.sinks[0].output.length / 2 >= a.written, true, "the last frames were played before the stop");
  assert.equal(be(card.bes[0]), "STOP");
  assert.equal(raceTotal(), 0);
});

test("drain: PAUSED is released first; PREPARED with data starts draining; PREPARED empty and XRUN go to SETUP", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  openAndStart(card, a);
  feTrigger(card, a, Cmd.PausePush);
  assert.equal(feDrain(card, a), "");
  assert.equal(fe(a), "DRAINING");
  assert.equal(be(card.bes[0]), "START");
  feTrigger(card, a, Cmd.Stop);
  fePrepare(card, a);
  assert.equal(feDrain(card, a), "");
  assert.equal(fe(a), "SETUP", "nothing written: nothing to play out");
  fePrepare(card, a);
  writeFrames(card, a, 1000);
  assert.equal(feDrain(card, a), "");
  assert.equal(fe(a), "DRAINING");
  assert.equal(be(card.bes[0]), "START");
  feTrigger(card, a, Cmd.Stop);
  fePrepare(card, a);
  writeFrames(card, a, 1000);
  feTrigger(card, a, Cmd.Start);
  feInjectXrun(card, a);
  assert.equal(feDrain(card, a), "");
  assert.equal(fe(a), "SETUP");
  assert.equal(raceTotal(), 0);
});

test("hw params are fixed while an FE is open: a BE at another rate is refused, the FE's rate never changes", () => {
  const rig = makeRig({
    fes: ["media"],
    bes: [
      { name: "line", rates: [8000, 16000] },
      { name: "bt", rates: [16000] },
    ],
  });
  const { card } = rig;
  const media = rig.fe("media");
  route(card, media, card.bes[0], true);
  openAndStart(card, media);
  assert.equal(media.params.rate, 8000);
  assert.equal(route(card, media, card.bes[0], false), "");
  assert.equal(
    route(card, media, card.bes[1], true),
    "bt: runs at 16000 Hz only; media is open at 8000 Hz (a stream's rate is fixed while it is open, and there is no resampler: stop media first)",
  );
  assert.equal(media.params.rate, 8000);
  assert.equal(card.routed(media, card.bes[1]), false, "the switch is put back");
  // An FE opened at a chosen rate and period keeps them; a BE must serve them.
  const rig2 = makeRig({ fes: ["media"], bes: [{ name: "line", rates: [8000, 16000] }] });
  route(rig2.card, rig2.fe("media"), rig2.card.bes[0], true);
  assert.equal(feOpen(rig2.card, rig2.fe("media"), 16000, 32), "");
  assert.deepEqual([rig2.fe("media").params.rate, rig2.fe("media").params.periodFrames, rig2.fe("media").bufferFrames], [16000, 32, 128]);
  assert.deepEqual([rig2.card.bes[0].params.rate, rig2.card.bes[0].params.periodFrames], [16000, 32]);
  assert.equal(feOpen(rig2.card, rig2.fe("media"), 16000, 32), "media: already open (state SETUP)");
});

test("xrun injection: RUNNING goes to XRUN (links idle, BE stopped); already XRUN is fine; others are refused", () => {
  const rig = makeRig({ fes: ["a"] });
  const { card } = rig;
  const a = rig.fe("a");
  route(card, a, card.bes[0], true);
  assert.equal(feInjectXrun(card, a), "a: not running (state CLOSED)");
  openAndStart(card, a);
  assert.equal(feInjectXrun(card, a), "");
  assert.equal(fe(a), "XRUN");
  assert.equal(feInjectXrun(card, a), "");
  assert.equal(findLink(a, card.bes[0])!.state, LinkState.Idle);
  assert.equal(be(card.bes[0]), "STOP");
  assert.equal(a.xruns, 1);
  assert.equal(raceTotal(), 0);
});
