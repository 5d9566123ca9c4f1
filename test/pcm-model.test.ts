// Issue 9's proof: detectors never report a race on a legal sequence, and the
// FE state machines follow ALSA's rules, checked from the outside with a
// model-based test. fast-check generates random sequences of console commands
// (route on/off, play with and without seconds, stop, pause, suspend, resume,
// drain, xrun injection, open with legal and illegal rates and periods, time
// passing) typed at the generic board's bundle (dist/generic.js) in the
// emulator, and checks each against a reference model written from
// pcm_native.c and soc-pcm.c (scripts/lib/pcm-model.ts, where the rules, the
// properties (a)-(f) and how the model allows what happens on its own are
// written down). In short:
//   - the model is a set of possible worlds; an underrun or the end of a
//     drain may happen at any instant (the interrupt), an xrun recovery, a
//     timed tone's drain and the close of a drained tone between console
//     lines (the player); after each command the firmware's state must be
//     one the model allows, and OK/ERROR what it predicts;
//   - (a) no RACE line and races() total 0; (b) a refused command changed
//     nothing in stats()/routes(); (c) frame accounting per session and route
//     (played + dropped = written, silent = the sum of the xrun events' n);
//     (d) an open FE's rate and period never change; (e) no Uncaught, no
//     hardware fault; (f) DPCM paths and BE counts as soc-pcm keeps them.
// The firmware bugs it found are fixed, each with a regression test in
// pcm-model-regressions.test.ts.
//
// A fixed seed keeps npm test deterministic; npm run check:pcm runs many more.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Figures, PcmRig, bundleMissing, pcmProperty } from "../scripts/lib/pcm-model.ts";

const RUNS = 60;
const MAX_COMMANDS = 25;
const SEED = 9;

const missing = bundleMissing();
const skip = missing ? `skipped: ${missing}` : false;

test(`${RUNS} random console sequences of up to ${MAX_COMMANDS} commands agree with the reference model (seed ${SEED})`, { skip }, (t) => {
  const figures = new Figures();
  const started = performance.now();
  fc.assert(pcmProperty(figures, MAX_COMMANDS), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  t.diagnostic(
    `${figures.runs} runs, ${figures.commands} commands (${figures.accepted} accepted, ${figures.refused} refused), ${figures.waits} waits, ` +
      `${figures.virtualSeconds.toFixed(1)} virtual s in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  t.diagnostic(`refusals: ${[...figures.refusals].map(([k, n]) => `${k}=${n}`).join(" ")}`);
  assert.equal(figures.runs, RUNS);
  // The sequences reach what they are for: sessions checked for (c), refusals checked for (b), every FE state.
  assert.ok((figures.routesChecked.get("throughout") ?? 0) > RUNS, "frame accounting checked on routes linked from open to close");
  assert.ok(figures.unchangedChecked > RUNS, "refused commands compared before and after");
  for (const state of ["SETUP", "RUNNING", "DRAINING", "PAUSED", "SUSPENDED", "XRUN"]) {
    assert.ok((figures.states.get(state) ?? 0) > 0, `no FE seen ${state}`);
  }
});

// The checks themselves: each catches what it is for on a hand-written sequence.

test("the model refuses what ALSA refuses and accepts what it accepts, on one board", { skip }, () => {
  const rig = new PcmRig(new Figures());
  rig.command({ kind: "route", fe: "media", be: "line", on: true });
  rig.command({ kind: "pause", fe: "media", on: false });
  rig.command({ kind: "play", fe: "media", hz: 440 });
  rig.command({ kind: "pause", fe: "media", on: false });
  rig.command({ kind: "pause", fe: "media", on: true });
  rig.command({ kind: "suspend", fe: "media" });
  rig.command({ kind: "resume", fe: "media" });
  rig.command({ kind: "pause", fe: "media", on: false });
  rig.command({ kind: "route", fe: "media", be: "bt", on: true });
  rig.command({ kind: "drain", fe: "media" });
  rig.wait(0.25);
  rig.end();
  assert.deepEqual(
    [...rig.figures.refusals.keys()].sort(),
    ["pause:state", "route:be-rate"],
    "pause release while RUNNING and before open, bt at 8 kHz: refused",
  );
  assert.equal(rig.worlds.length, 1);
  assert.equal(rig.worlds[0].fe[0].state, "CLOSED", "the drained tone closed");
});

test("a firmware that does something the model forbids fails the run", { skip }, () => {
  const rig = new PcmRig(new Figures());
  rig.command({ kind: "route", fe: "media", be: "line", on: true });
  rig.command({ kind: "play", fe: "media", hz: 440 });
  // Change the FE's state behind the console's back: no allowed move explains it.
  const dpcm = rig.machine.global.DPCM as { card: { fes: Array<{ state: number }> } };
  dpcm.card.fes[0].state = 7; // PAUSED, with its links running
  assert.throws(() => rig.wait(0.01), /\(f\) after wait|no allowed spontaneous move/);
});
