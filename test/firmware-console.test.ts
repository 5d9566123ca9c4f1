// firmware/console.ts and firmware/selftest.ts: every bad argument prints one
// ERROR line and changes nothing; good commands print OK lines; selftest()
// prints only PASS lines on a healthy runtime and leaves it as it was.
import { test, beforeEach, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";
import { makeRig, type Rig } from "./support/rig.ts";
import { FeState } from "../firmware/dpcm/dpcm.ts";
import { Player } from "../firmware/player.ts";
import { installConsole } from "../firmware/console.ts";
import { irq, irqEntry } from "../firmware/irq.ts";
import { ring } from "../firmware/log.ts";

const env = installEspruinoEnv();
after(() => env.restore());

interface Setup {
  rig: Rig;
  player: Player;
  cmd: (name: string, ...args: unknown[]) => string[];
  snapshot: () => string;
}

function setup(): Setup {
  resetFirmwareState();
  env.now = 0;
  const rig = makeRig({
    fes: ["media", "alert"],
    periodFrames: 16,
    bes: [
      { name: "line", rates: [8000, 16000, 32000, 48000] },
      { name: "bt", rates: [16000] },
    ],
  });
  const { card } = rig;
  const player = new Player(card);
  irq.handler = () => {
    for (let b = 0; b < rig.sinks.length; b++) rig.tick(b);
  };
  installConsole(card, player, { version: "9.9.9", interrupt: "test", mixer: "JavaScript: test", load: null });
  env.take();
  return {
    rig,
    player,
    cmd(name: string, ...args: unknown[]): string[] {
      env.take();
      env.command(name)(...args);
      return env.take();
    },
    snapshot(): string {
      return JSON.stringify({
        switches: Array.from(card.switches),
        fes: card.fes.map((fe) => [fe.state, fe.params.rate, fe.written, fe.applPtr, fe.hwPtr, fe.triggerPending, fe.pendingCmd]),
        bes: card.bes.map((be) => [be.state, be.users, be.startCount, be.pauseCount, be.params.rate, be.hwTriggers.join("/")]),
        calls: rig.sinks.map((s) => ({ ...s.calls })),
        links: card.links.allocated,
        voices: player.voices.map((v) => [v.tone ? v.tone.frequency : null, v.remaining]),
        unsafe: irq.unsafe,
        ring: [ring.written, Array.from(ring.counts)],
      });
    },
  };
}

const BAD: [string, unknown[]][] = [
  ["play", ["nope", 440]],
  ["play", [42, 440]],
  ["play", []],
  ["play", ["media", -5]],
  ["play", ["media", 0]],
  ["play", ["media", NaN]],
  ["play", ["media", "440"]],
  ["play", ["media", 440, -1]],
  ["play", ["media", 440, 0]],
  ["play", ["media", 440, "2"]],
  ["stop", ["nope"]],
  ["stop", [undefined]],
  ["pause", ["nope", true]],
  ["pause", ["media", "yes"]],
  ["pause", ["media", 1]],
  ["pause", ["media"]],
  ["route", ["nope", "line", true]],
  ["route", ["media", "nope", true]],
  ["route", ["media", "line", "on"]],
  ["route", ["media", "line", 1]],
  ["route", ["media", 3, true]],
  ["route", ["media", "line"]],
  ["unsafe", ["yes"]],
  ["unsafe", [1]],
  ["unsafe", []],
];

function checkBad(s: Setup, extra: [string, unknown[]][]): void {
  for (const [name, args] of BAD.concat(extra)) {
    const before = s.snapshot();
    const lines = s.cmd(name, ...args);
    const call = name + "(" + args.map((a) => JSON.stringify(a)).join(", ") + ")";
    assert.equal(lines.length, 1, call + " printed " + JSON.stringify(lines));
    assert.ok(lines[0].startsWith("ERROR " + name + ": "), call + " printed " + lines[0]);
    assert.equal(s.snapshot(), before, call + " changed the runtime");
  }
}

test("bad arguments on an idle runtime: one ERROR line each, nothing changed", () => {
  const s = setup();
  assert.deepEqual(s.cmd("route", "media", "line", true), ["OK route media line true"]);
  // Pausing or resuming a closed FE is a bad request too.
  checkBad(s, [
    ["pause", ["media", true]],
    ["pause", ["media", false]],
  ]);
});

test("bad arguments while a tone plays: one ERROR line each, nothing changed, audio goes on", () => {
  const s = setup();
  s.cmd("route", "media", "line", true);
  assert.deepEqual(s.cmd("play", "media", 440), ["OK play media 440 Hz"]);
  irqEntry();
  s.player.service();
  checkBad(s, [["play", ["media", 4000]]]);
  const media = s.rig.fe("media");
  assert.equal(media.state, FeState.Running);
  const played = s.rig.card.played[0];
  irqEntry();
  assert.ok(s.rig.card.played[0] > played, "still playing");
});

test("error messages name the problem", () => {
  const s = setup();
  assert.deepEqual(s.cmd("play", "nope", 440), ['ERROR play: unknown front end "nope" (known: media, alert)']);
  assert.deepEqual(s.cmd("route", "media", "nope", true), ['ERROR route: unknown back end "nope" (known: line, bt)']);
  assert.match(s.cmd("play", "media", -5)[0], /^ERROR play: frequency must be a number of Hz above 0/);
  assert.match(s.cmd("route", "media", "line", "on")[0], /^ERROR route: the third argument must be true \(connect\) or false/);
  assert.equal(s.cmd("pause", "media", true)[0], "ERROR pause: media: not running (state CLOSED)");
  assert.equal(s.cmd("pause", "media")[0], "ERROR pause: the second argument must be true (pause) or false (release)");
  assert.match(s.cmd("play", "media", 440)[0], /^ERROR play: media: no output routed; try route\("media", "line", true\)$/);
  // An unplayable frequency for the negotiated rate: refused, the FE left closed.
  s.cmd("route", "media", "line", true);
  assert.match(s.cmd("play", "media", 4000)[0], /^ERROR play: media: frequency must be above 0 and below 4000 Hz/);
  assert.equal(s.rig.fe("media").state, FeState.Closed);
  assert.equal(s.rig.card.links.allocated, 0);
  assert.equal(s.rig.card.bes[0].users, 0);
});

test("a route the hardware refuses prints ERROR and leaves the running route as it was", () => {
  const s = setup();
  s.cmd("route", "media", "line", true);
  s.cmd("play", "media", 440);
  const before = s.snapshot();
  assert.deepEqual(s.cmd("route", "media", "bt", true), ["ERROR route: bt: runs at 16000 Hz only; media is open at 8000 Hz (a stream's rate is fixed while it is open, and there is no resampler: stop media first)"]);
  const after = JSON.parse(s.snapshot());
  const was = JSON.parse(before);
  assert.deepEqual(after.switches, was.switches);
  assert.deepEqual(after.fes, was.fes);
  assert.deepEqual(after.bes[0], was.bes[0]);
  assert.equal(after.bes[1][1], 0, "bt has no user");
  assert.equal(after.links, was.links);
});

test("good commands print OK lines and do what they say", () => {
  const s = setup();
  assert.deepEqual(s.cmd("route", "alert", "bt", true), ["OK route alert bt true"]);
  assert.deepEqual(s.cmd("play", "alert", 1000, 0.5), ["OK play alert 1000 Hz for 0.5 s"]);
  const alert = s.rig.fe("alert");
  assert.equal(alert.state, FeState.Running);
  assert.equal(alert.params.rate, 16000, "the fixed-rate BE set the FE's rate");
  assert.deepEqual(s.cmd("pause", "alert", true), ["OK pause alert true (state PAUSED)"]);
  assert.equal(alert.state, FeState.Paused);
  assert.deepEqual(s.cmd("pause", "alert", false), ["OK pause alert false (state RUNNING)"]);
  assert.equal(alert.state, FeState.Running);
  assert.deepEqual(s.cmd("routes"), ["ROUTES fe\\be line bt", "ROUTE media CLOSED line=off bt=off", "ROUTE alert RUNNING line=off bt=on/running"]);
  const stats = s.cmd("stats");
  assert.ok(stats.every((l) => l.startsWith("STATS ")), stats.join("\n"));
  assert.ok(stats.some((l) => l.startsWith("STATS be=bt state=START users=1 start_count=1 pause_count=0 suspend_count=0 rate=16000")), stats.join("\n"));
  assert.ok(stats.includes("STATS memory free=4000 usage=96 total=4096 blocksize=16"));
  assert.deepEqual(s.cmd("races"), [
    "RACES total=0 use-after-free=0 poisoned-walk=0 unmasked-list-change=0 unmasked-count-change=0 double-start=0 left-running=0 lost-trigger=0 unbalanced-stop=0 log_capacity=32",
  ]);
  assert.deepEqual(s.cmd("stop", "alert"), ["OK stop alert"]);
  assert.equal(alert.state, FeState.Closed);
  assert.match(s.cmd("unsafe", true)[0], /^OK unsafe true/);
  assert.equal(irq.unsafe, true);
  assert.deepEqual(s.cmd("unsafe", false), ["OK unsafe false"]);
  assert.equal(irq.unsafe, false);
  assert.ok(s.cmd("help").length > 5);
});

test("selftest() prints only PASS lines on a healthy runtime and leaves it as it was", () => {
  const s = setup();
  s.cmd("route", "media", "line", true);
  s.cmd("play", "media", 440);
  irqEntry();
  s.player.service();
  const before = s.snapshot();
  const lines = s.cmd("selftest");
  const passes = lines.filter((l) => /^SELFTEST PASS [a-z-]+$/.test(l));
  assert.equal(lines[lines.length - 1], "SELFTEST done pass=" + passes.length + " fail=0", lines.join("\n"));
  assert.equal(passes.length, lines.length - 1, "only PASS lines:\n" + lines.join("\n"));
  assert.ok(passes.length >= 12, "every check ran");
  for (const name of ["critical-sections", "list-poison", "pool-generation", "shared-be-counts", "shared-be-pause", "pending-trigger"]) {
    assert.ok(lines.includes("SELFTEST PASS " + name), name);
  }
  for (const k of ["use-after-free", "poisoned-walk", "lost-trigger", "left-running", "double-start", "unmasked-list-change", "unmasked-count-change"]) {
    assert.ok(lines.includes("SELFTEST PASS detect-" + k), k);
  }
  // The deferred completion in the critical-section check ran the real
  // handler: one period on the board's line. Everything else is unchanged.
  const after = JSON.parse(s.snapshot());
  const was = JSON.parse(before);
  assert.deepEqual(after.switches, was.switches);
  assert.deepEqual(after.ring, was.ring, "selftest's detector checks add nothing to races()");
  assert.deepEqual(after.calls, was.calls);
  assert.equal(after.unsafe, false);
  assert.equal(s.rig.fe("media").state, FeState.Running, "the tone plays on");
  assert.deepEqual(s.cmd("races")[0].split(" ")[1], "total=0");
});
