// Frame accounting through the Card, the Player and sink back ends whose
// periods the test drives in order: every frame written is played on every
// BE it is routed to, a reroute loses nothing and counts nothing twice.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, type Rig } from "./support/rig.ts";
import { FeState, LinkState, BE_STATE_NAMES, type FrontEnd } from "../firmware/dpcm/dpcm.ts";
import { Player, TONE_AMPLITUDE } from "../firmware/player.ts";
import { makeTone, fillTone, type Tone } from "../firmware/tone.ts";
import { irq, irqEntry } from "../firmware/irq.ts";
import { raceTotal } from "../firmware/log.ts";
import { drain } from "../firmware/log-print.ts";
import { findLink, route, runtimeUpdate } from "../firmware/dpcm/graph.ts";

const env = installEspruinoEnv();
after(() => env.restore());
beforeEach(() => {
  resetFirmwareState();
  env.now = 0;
});

const PERIOD = 16;

/** The left channel of what the player writes for `frames` frames of `frequency`, padded to whole periods. */
function expectedStream(rig: Rig, frequency: number, frames: number, rate: number): number[] {
  const tone = makeTone(frequency, rate, TONE_AMPLITUDE, rig.card.board.params.periodFrames, 4 * rig.card.board.params.periodFrames) as Tone;
  const padded = Math.ceil(frames / PERIOD) * PERIOD;
  const buf = new Int16Array(padded * 2);
  fillTone(rig.card.ops, tone, buf, frames);
  const out: number[] = [];
  for (let i = 0; i < padded; i++) out.push(buf[2 * i]);
  return out;
}
function left(samples: number[]): number[] {
  return samples.filter((_, i) => i % 2 === 0);
}
/** One "interrupt": every BE completes a period, in order; then the main loop refills. */
function cycle(rig: Rig, player: Player): void {
  irq.handler = () => {
    for (let b = 0; b < rig.sinks.length; b++) rig.tick(b);
  };
  irqEntry();
  player.service();
}
function playedOf(rig: Rig, fe: FrontEnd, b: number): number {
  return rig.card.played[fe.index * rig.card.bes.length + b];
}
function droppedOf(rig: Rig, fe: FrontEnd, b: number): number {
  return rig.card.dropped[fe.index * rig.card.bes.length + b];
}

test("a timed tone routed to two BEs is played completely on each (played == written, and the audio itself)", () => {
  const rig = makeRig({ fes: ["media"], periodFrames: PERIOD, periods: 4 });
  const { card } = rig;
  const media = rig.fe("media");
  const player = new Player(card);
  route(card, media, card.bes[0], true);
  route(card, media, card.bes[1], true);
  const frames = 1000; // not a whole number of periods: the last one is padded
  assert.equal(player.play(media, 440, frames / 8000), "");
  let cycles = 0;
  while (media.state !== FeState.Closed && cycles < 1000) {
    cycle(rig, player);
    cycles++;
  }
  assert.equal(media.state, FeState.Closed, "the tone drained and the FE closed");
  const written = media.written;
  assert.equal(written, Math.ceil(frames / PERIOD) * PERIOD);
  const want = expectedStream(rig, 440, frames, 8000);
  for (let b = 0; b < 2; b++) {
    assert.equal(playedOf(rig, media, b), written, "played == written on " + card.bes[b].name);
    assert.equal(droppedOf(rig, media, b), 0);
    const out = left(rig.sinks[b].output);
    assert.ok(out.length >= written, card.bes[b].name + " output " + out.length + " frames of " + written + ": the drain cut the end");
    assert.deepEqual(out.slice(0, written), want, card.bes[b].name + " played exactly the tone");
    assert.ok(
      out.slice(written).every((v) => v === 0),
      "only silence after it",
    );
    assert.equal(rig.sinks[b].running, false, "stopped after the drain");
  }
  const lines: string[] = [];
  drain(card.feNames, card.beNames, (l) => lines.push(l));
  assert.ok(lines.includes("EVT t=0.000000 kind=drained ctx=irq fe=media be=- link=- at=fe-advance n=" + written), lines.join("\n"));
  assert.equal(raceTotal(), 0);
  assert.equal(media.xruns, 0);
});

test("a reroute while running: the new BE starts primed where the old one was, the old one stops, nothing counted twice", () => {
  const rig = makeRig({ fes: ["media"], periodFrames: PERIOD, periods: 4 });
  const { card } = rig;
  const media = rig.fe("media");
  const player = new Player(card);
  const nb = card.bes.length;
  route(card, media, card.bes[0], true);
  const frames = 2000;
  assert.equal(player.play(media, 440, frames / 8000), "");
  for (let i = 0; i < 20; i++) cycle(rig, player);
  const old = findLink(media, card.bes[0]);
  assert.ok(old);
  const at = old.pos;
  assert.ok(at > 0 && at < frames);
  // One runtime update that connects the new BE before it disconnects the old.
  card.switches[media.index * nb + 0] = 0;
  card.switches[media.index * nb + 1] = 1;
  assert.equal(runtimeUpdate(card, media), "");
  const fresh = findLink(media, card.bes[1]);
  assert.ok(fresh);
  assert.equal(fresh.state, LinkState.Running);
  assert.equal(findLink(media, card.bes[0]), null);
  const want = expectedStream(rig, 440, frames, 8000);
  // Primed: both DMA buffers of the new BE hold the two periods after the old position.
  const primed = rig.sinks[1].periodBuffers().map((b) => left(Array.from(b)));
  assert.deepEqual(primed[0], want.slice(at, at + PERIOD), "first primed period");
  assert.deepEqual(primed[1], want.slice(at + PERIOD, at + 2 * PERIOD), "second primed period");
  assert.equal(BE_STATE_NAMES[card.bes[1].state], "START");
  assert.equal(rig.sinks[1].running, true);
  assert.equal(rig.sinks[0].running, false, "the old BE stops");
  assert.equal(rig.sinks[0].calls.stop, 1);
  assert.equal(card.bes[0].users, 0);
  assert.equal(BE_STATE_NAMES[card.bes[0].state], "CLOSE");
  assert.equal(card.links.allocated, 1);
  const playedOld = playedOf(rig, media, 0);
  assert.equal(playedOld, at);
  let cycles = 0;
  while (media.state !== FeState.Closed && cycles < 1000) {
    cycle(rig, player);
    cycles++;
  }
  assert.equal(media.state, FeState.Closed);
  assert.equal(playedOf(rig, media, 0), playedOld, "the old BE counts nothing after the reroute");
  assert.equal(playedOf(rig, media, 0) + playedOf(rig, media, 1), media.written, "every frame counted once");
  assert.equal(droppedOf(rig, media, 0) + droppedOf(rig, media, 1), 0);
  // The new BE played the stream from the reroute point to the end.
  const out = left(rig.sinks[1].output);
  assert.deepEqual(out.slice(0, media.written - at), want.slice(at), "the new BE continues the stream exactly");
  assert.equal(raceTotal(), 0);
});

test("two FEs on one BE: each FE's frames are all counted, the BE stops once both are done", () => {
  const rig = makeRig({ fes: ["media", "alert"], periodFrames: PERIOD, periods: 4, bes: [{ name: "s0", rates: [8000] }] });
  const { card } = rig;
  const media = rig.fe("media");
  const alert = rig.fe("alert");
  const player = new Player(card);
  route(card, media, card.bes[0], true);
  route(card, alert, card.bes[0], true);
  assert.equal(player.play(media, 440, 0.2), "");
  for (let i = 0; i < 10; i++) cycle(rig, player);
  assert.equal(player.play(alert, 880, 0.05), "");
  let cycles = 0;
  while ((media.state !== FeState.Closed || alert.state !== FeState.Closed) && cycles < 1000) {
    cycle(rig, player);
    cycles++;
  }
  assert.equal(playedOf(rig, media, 0), media.written);
  assert.equal(playedOf(rig, alert, 0), alert.written);
  assert.equal(rig.sinks[0].calls.start, 1);
  assert.equal(rig.sinks[0].calls.stop, 1);
  assert.equal(raceTotal(), 0);
});
