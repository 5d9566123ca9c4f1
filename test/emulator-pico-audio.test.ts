// The Pico bundle on its emulator, end to end: what each output really
// played, measured from the recordings the codec and amplifier models keep.
// At the nominal statement cost (FUNCTIONAL): these test what the firmware
// does; whether a Pico has the time is npm run bench's verdict.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { runSession, demoScript, parseScript, runProblems, type SessionResult } from "../scripts/lib/session.ts";
import { channel, dominantFrequency, firstSound, gaps } from "../emulator/analysis.ts";
import type { OutputRecorder } from "../emulator/hardware.ts";
import { FUNCTIONAL_STATEMENT_COST_US } from "../emulator/cost-model.ts";

const FUNCTIONAL = { statementCostUs: FUNCTIONAL_STATEMENT_COST_US };

const PERIOD_FRAMES = 128;
const RATE = 8000;

before(() => {
  if (!existsSync("dist/pico-wm8731.js")) execFileSync("npx", ["rollup", "-c", "rollup.config.js"], { env: { ...process.env, BOARD: "pico-wm8731" } });
});

function output(result: SessionResult, name: string): OutputRecorder {
  const out = result.board.outputs.find((o) => o.name === name);
  assert.ok(out, `no output ${name}`);
  return out;
}

function stat(result: SessionResult, be: string, key: string): number {
  const line = result.lines.filter((l) => l.startsWith(`STATS be=${be} `)).pop();
  assert.ok(line, `no STATS line for ${be}`);
  const m = new RegExp(`\\b${key.replace(".", "\\.")}=(\\d+)`).exec(line);
  assert.ok(m, `no ${key} in ${line}`);
  return Number(m[1]);
}

function feStat(result: SessionResult, fe: string, key: string): number {
  const line = result.lines.filter((l) => l.startsWith(`STATS fe=${fe} `)).pop();
  assert.ok(line, `no STATS line for ${fe}`);
  const m = new RegExp(`\\b${key}=(\\d+)`).exec(line);
  assert.ok(m, `no ${key} in ${line}`);
  return Number(m[1]);
}

test("the demo: the tone measured on each output is within 1 Hz, with no xrun, race, fault or gap", async () => {
  const result = await runSession({ board: "pico-wm8731", machine: FUNCTIONAL, steps: demoScript("pico-wm8731", 440) });
  assert.deepEqual(result.board.machine.faults, []);
  assert.equal(result.xruns, 0);
  assert.equal(result.races.size, 0, [...result.races.keys()].join(","));
  for (const name of ["codec", "spk"]) {
    const out = output(result, name);
    assert.equal(out.sampleRate(), RATE);
    assert.ok(out.framesPlayed() > RATE / 2, `${name} played ${out.framesPlayed()} frames`);
    const hz = dominantFrequency(channel(out.samples()), out.sampleRate());
    assert.ok(Math.abs(hz - 440) < 1, `${name}: measured ${hz} Hz`);
    assert.deepEqual(gaps(out.recording()), [], `${name} has silent gaps`);
  }
});

test("a different tone is measured within 1 Hz too (the rate comes from the I2S registers)", async () => {
  const result = await runSession({
    board: "pico-wm8731",
    machine: FUNCTIONAL,
    steps: parseScript(`
      0 route("media", "codec", true)
      0 play("media", 1000)
      0.8 stop("media")`),
  });
  const out = output(result, "codec");
  const hz = dominantFrequency(channel(out.samples()), out.sampleRate());
  assert.ok(Math.abs(hz - 1000) < 1, `measured ${hz} Hz`);
});

test("frame accounting is exact: a timed tone is played completely on each output routed to it", async () => {
  const result = await runSession({
    board: "pico-wm8731",
    machine: FUNCTIONAL,
    steps: parseScript(`
      0 route("media", "codec", true)
      0 route("media", "spk", true)
      0 play("media", 440, 0.5)
      1.0 stats()`),
  });
  const written = feStat(result, "media", "written");
  assert.equal(written, Math.ceil((0.5 * RATE) / PERIOD_FRAMES) * PERIOD_FRAMES);
  assert.equal(feStat(result, "media", "xruns"), 0);
  for (const name of ["codec", "spk"]) {
    assert.equal(stat(result, name, "played.media"), written, `${name} played`);
    assert.equal(stat(result, name, "dropped.media"), 0, `${name} dropped`);
    // What the output model really emitted: the tone's 4000 frames of sound,
    // then the zero padding of the last period, and nothing lost.
    const samples = output(result, name).samples();
    const first = firstSound(samples);
    let last = -1;
    for (let f = 0; f < samples.length / 2; f++) if (samples[2 * f] !== 0) last = f;
    assert.ok(first >= 0 && first <= 1, `${name}: sound starts at frame ${first}`);
    assert.ok(last - first + 1 >= 0.5 * RATE - 2 && last - first + 1 <= 0.5 * RATE, `${name}: ${last - first + 1} frames of tone`);
  }
});

test("bad console input gets its error, changes nothing, and audio continues", async () => {
  const result = await runSession({
    board: "pico-wm8731",
    machine: FUNCTIONAL,
    steps: parseScript(`
      0 route("media", "codec", true)
      0 play("media", 440)
      0.3 route("media", "headphones", true)
      0.35 route("nosuch", "codec", true)
      0.4 route("media", "codec", "yes")
      0.45 play("media", -5)
      0.5 play("media", 20000)
      0.55 route(
      0.6 stop()
      1.0 stats()`),
  });
  const errors = result.lines.filter((l) => l.startsWith("ERROR "));
  assert.equal(errors.length, 6, errors.join("\n"));
  assert.match(errors[0], /unknown back end "headphones" \(known: codec, spk\)/);
  assert.ok(result.lines.some((l) => /^Uncaught SyntaxError/.test(l)), "the unbalanced line is a syntax error at the prompt");
  const out = output(result, "codec");
  assert.deepEqual(gaps(out.recording()), []);
  assert.ok(out.framesPlayed() >= 0.95 * RATE, `codec kept playing: ${out.framesPlayed()} frames`);
  assert.ok(Math.abs(dominantFrequency(channel(out.samples()), RATE) - 440) < 1);
});

test("a codec that does not answer on I2C gives a clear error and the speaker keeps playing", async () => {
  const { createEmulatedBoard } = await import("../emulator/boards/registry.ts");
  const probe = await createEmulatedBoard("pico-wm8731", FUNCTIONAL);
  const codecAddress = 0x1a;
  assert.ok(probe.machine.i2c.I2C1.device(codecAddress), "the codec model sits at 0x1A on I2C1");
  const result = await runSession({
    board: "pico-wm8731",
    machine: FUNCTIONAL,
    steps: parseScript(`
      0 route("media", "spk", true)
      0 play("media", 440)
      0.3 route("media", "codec", true)
      1.0 stats()`),
    prepare: (machine) => machine.i2c.I2C1.detach(codecAddress),
  });
  const error = result.lines.find((l) => l.startsWith("ERROR route"));
  assert.ok(error, "route to the silent codec must fail");
  assert.match(error, /codec/i);
  assert.match(error, /I2C|ACK|answer/i);
  const spk = output(result, "spk");
  assert.deepEqual(gaps(spk.recording()), []);
  assert.ok(spk.framesPlayed() >= 0.95 * RATE, `spk kept playing: ${spk.framesPlayed()} frames`);
  assert.equal(output(result, "codec").framesPlayed(), 0);
  assert.match(result.lines.find((l) => l.startsWith("STATS be=codec ")) ?? "", /state=(NEW|CLOSE) users=0/);
});

test("a live reroute reaches the new output within two periods and leaves the old one within two", async () => {
  const { createEmulatedBoard } = await import("../emulator/boards/registry.ts");
  const { loadBundleFile } = await import("../emulator/load-bundle.ts");
  const board = await createEmulatedBoard("pico-wm8731", FUNCTIONAL);
  const { machine } = board;
  assert.ok(loadBundleFile(machine, board.bundlePath).ok);
  machine.console.type('route("media", "codec", true)');
  machine.console.type('play("media", 440)');
  machine.runFor(0.5);
  const codec = output({ board } as SessionResult, "codec");
  const spk = output({ board } as SessionResult, "spk");
  assert.equal(spk.framesPlayed(), 0);
  const routedAt = machine.now();
  machine.console.type('route("media", "spk", true)');
  machine.console.type('route("media", "codec", false)');
  // Sample both outputs every millisecond of virtual time: when did sound
  // first come out of the speaker, and when did it last come out of the codec?
  let spkSoundAt = -1;
  let codecLastSoundAt = routedAt;
  let codecSeen = codec.framesPlayed();
  for (let step = 0; step < 200; step++) {
    machine.runFor(0.001);
    const c = codec.samples();
    for (let f = codecSeen; f < c.length / 2; f++) if (c[2 * f] !== 0) codecLastSoundAt = machine.now();
    codecSeen = c.length / 2;
    if (spkSoundAt < 0 && firstSound(spk.samples()) >= 0) spkSoundAt = machine.now();
  }
  const period = PERIOD_FRAMES / RATE;
  assert.ok(spkSoundAt > routedAt, "the speaker never played");
  assert.ok(spkSoundAt - routedAt <= 2 * period, `speaker sound after ${((spkSoundAt - routedAt) * 1000).toFixed(1)} ms`);
  assert.ok(codecLastSoundAt - routedAt <= 2 * period, `codec sound until ${((codecLastSoundAt - routedAt) * 1000).toFixed(1)} ms after`);
  assert.ok(codecLastSoundAt > routedAt, "the codec was playing until the reroute");
});

test("pause, suspend and drain: the run's intervals follow the firmware's states, and a correct run has no problem", async () => {
  const result = await runSession({
    board: "pico-wm8731",
    machine: FUNCTIONAL,
    steps: parseScript(`
      0 route("media", "codec", true)
      0 play("media", 440)
      1.0 pause("media", true)
      2.0 pause("media", false)
      2.5 suspend("media")
      3.0 resume("media")
      3.5 drain("media")
      3.7 route("media", "spk", true)`),
  });
  const codec = result.outputs.find((o) => o.name === "codec")!;
  const spans = codec.intended.map((i) => [Math.round(i.start * 10) / 10, Math.round(i.end * 10) / 10]);
  // The drain plays out the ring written ahead (a few periods), then the FE stops: nothing for spk.
  assert.deepEqual(spans.slice(0, 2), [[0.1, 1], [2, 2.5]]);
  assert.equal(spans.length, 3);
  assert.ok(spans[2]![0] === 3 && spans[2]![1] > 3.5 && spans[2]![1] < 3.7, JSON.stringify(spans));
  assert.deepEqual(result.outputs.find((o) => o.name === "spk")!.intended, []);
  assert.deepEqual(runProblems(result), []);
});

test("at the calibrated pessimistic cost the interrupt starves the main loop: the run says so first and fails", async () => {
  const result = await runSession({
    board: "pico-wm8731",
    // The watchdog at 5 virtual s instead of 60 keeps the test short.
    machine: { statementCostUs: 565.2, maxCallbackSeconds: 5 },
    steps: parseScript(`
      0 route("media", "codec", true)
      0 play("media", 440)
      1 stop("media")`),
  });
  const problems = runProblems(result);
  assert.match(problems[0] ?? "", /^the main loop starved: \d+ time\(s\) it did not return to the idle loop for 5 virtual s \(at 565\.2 us a statement/);
  assert.ok(result.endAt - result.readyAt >= 1.3, "the summary's time is the time that passed, past the script's end");
});

test("an output that runs at 8 kHz and then 48 kHz (or the reverse) in one run: its time, tone and dropouts are measured on one timeline", async () => {
  for (const [first, second] of [[8000, 48000], [48000, 8000]]) {
    const result = await runSession({
      board: "pico-wm8731",
      machine: FUNCTIONAL,
      steps: parseScript(`
        0 route("media", "codec", true)
        0 open("media", ${first})
        0 play("media", 440)
        1.0 stop("media")
        1.2 open("media", ${second})
        1.2 play("media", 440)
        2.0 stop("media")`),
    });
    const codec = result.outputs.find((o) => o.name === "codec")!;
    const meant = codec.intended.reduce((n, iv) => n + iv.end - iv.start, 0);
    assert.ok(Math.abs(codec.seconds - meant) < 0.1, `${first} then ${second}: played ${codec.seconds} s, meant ${meant} s`);
    assert.ok(Math.abs(codec.frequency - 440) < 2, `${first} then ${second}: tone ${codec.frequency} Hz`);
    assert.equal(codec.gaps, 0, `${first} then ${second}: ${JSON.stringify(codec.gapList.slice(0, 3))}`);
    assert.deepEqual(runProblems(result), []);
  }
});
