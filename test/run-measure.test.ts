// What npm start measures and how it decides a run did what was asked:
// recordings on the machine's clock, dropouts inside the intervals an output
// was meant to play, the intervals read from the console's OK lines, the
// seeded jitter that keeps the script's order, and the verdict.

import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import fc from "fast-check";
import { SampleRecorder } from "../emulator/devices/recorder.ts";
import { gaps, soundFrames } from "../emulator/analysis.ts";
import type { Recording } from "../emulator/hardware.ts";
import { intendedIntervals, parseEvents, racesInSafeMode, type TimedLine } from "../scripts/lib/console-events.ts";
import { demoScript, jitterTimes, parseScript, runProblems, runSession, seededRandom } from "../scripts/lib/session.ts";

before(() => {
  for (const board of ["pico-wm8731", "generic"]) {
    if (!existsSync(`dist/${board}.js`)) execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts", "--if-stale", board]);
  }
});

/** A recording of `frames` frames of a sine, with `spans` where it played. */
function recording(rate: number, values: number[], spans: Array<[number, number]>): Recording {
  const samples = new Int16Array(values.length * 2);
  values.forEach((v, i) => {
    samples[2 * i] = v;
    samples[2 * i + 1] = v;
  });
  return { rate, samples, spans: spans.map(([start, end]) => ({ start, frames: end - start })) };
}

function tone(frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
}

describe("the recorder keeps the machine's clock", () => {
  test("a bus that played 0-1 s and 2-3.5 s gives 3.5 s with a second of silence; samples() keeps only what played", () => {
    const r = new SampleRecorder("codec");
    const rate = 100;
    r.clockStarted(0, rate);
    r.setSampleRate(rate);
    for (let i = 0; i < 100; i++) r.push(1000, -1000);
    r.clockStarted(2, rate);
    for (let i = 0; i < 150; i++) r.push(2000, -2000);
    const rec = r.recording(3.6);
    assert.equal(rec.rate, rate);
    assert.equal(rec.samples.length / 2, 360, "3.6 s asked for");
    assert.deepEqual(rec.spans, [
      { start: 0, frames: 100 },
      { start: 200, frames: 150 },
    ]);
    assert.equal(rec.samples[2 * 99], 1000);
    assert.ok(rec.samples.subarray(200, 400).every((v) => v === 0), "1-2 s is silence");
    assert.equal(rec.samples[2 * 200], 2000);
    assert.ok(rec.samples.subarray(700).every((v) => v === 0), "after 3.5 s: silence to the end");
    assert.equal(r.framesPlayed(), 250);
    assert.equal(r.samples().length, 500);
    assert.equal(r.samples()[2 * 100], 2000, "samples(): back to back");
  });

  test("frames the bus clocked but the device did not play (muted, shut down) are silence at their time", () => {
    const r = new SampleRecorder("spk");
    r.clockStarted(0.5, 10);
    for (let i = 0; i < 10; i++) r.push(5, 5);
    for (let i = 0; i < 5; i++) r.skip();
    for (let i = 0; i < 5; i++) r.push(7, 7);
    const rec = r.recording();
    assert.equal(rec.samples.length / 2, 25);
    assert.deepEqual(rec.spans, [
      { start: 5, frames: 10 },
      { start: 20, frames: 5 },
    ]);
    assert.ok(rec.samples.subarray(30, 40).every((v) => v === 0));
  });

  test("a bus at another rate is placed on the first rate's timeline by time", () => {
    const r = new SampleRecorder("spk");
    r.clockStarted(0, 10);
    r.push(1, 1);
    r.clockStarted(1, 20); // twice as fast: two frames per timeline frame
    for (let i = 0; i < 20; i++) r.push(i + 1, i + 1);
    const rec = r.recording();
    assert.equal(rec.rate, 10);
    assert.equal(rec.samples.length / 2, 20, "1 s + 1 s at 10 Hz");
    assert.equal(rec.samples[2 * 10], 1, "the first frame of the faster run");
    assert.equal(rec.samples[2 * 11], 3, "every other frame of it");
  });
});

describe("dropouts: gaps inside the intervals an output was meant to play", () => {
  test("a two-frame silence between sound is found; a sine's lone zero is not", () => {
    const v = tone(800);
    v[400] = 0;
    v[401] = 0;
    const found = gaps(recording(8000, v, [[0, 800]]));
    assert.deepEqual(
      found.filter((g) => g.frames >= 2),
      [{ start: 400, frames: 2 }],
    );
    assert.equal(found.length, 1, "a 440 Hz tone's exact zeros (every 100 frames) are single frames");
  });

  test("silence before the first sound, after the last, and between intervals is intended", () => {
    const v = [...new Array(50).fill(0), ...tone(100), ...new Array(100).fill(0), ...tone(100), ...new Array(50).fill(0)];
    const rec = recording(1000, v, [
      [0, 150],
      [250, 400],
    ]);
    assert.deepEqual(gaps(rec), [], "by the spans");
    assert.deepEqual(gaps(rec, { intervals: [{ start: 0, end: 0.15 }, { start: 0.25, end: 0.4 }] }), [], "by intended intervals");
    // One interval over both: the silence between the tones is a dropout (101 frames: the second tone starts at sin(0) = 0).
    assert.deepEqual(gaps(rec, { intervals: [{ start: 0, end: 0.4 }] }), [{ start: 150, frames: 101 }]);
    assert.equal(soundFrames(rec, { start: 0, end: 0.4 }), 200 - 2 /* the two tones' zero crossings at frame 0 join the silence before them */);
  });

  test("a tone at a quarter of the rate (8000, 0, -8000, 0, ...) sounds in every frame: lone zeros are zero crossings", () => {
    const v = Array.from({ length: 400 }, (_, i) => [8000, 0, -8000, 0][i % 4]!);
    const rec = recording(8000, v, [[0, 400]]);
    assert.equal(soundFrames(rec, { start: 0, end: 0.05 }), 400);
    assert.deepEqual(gaps(rec), []);
    v[200] = 0;
    assert.equal(soundFrames(recording(8000, v, [[0, 400]]), { start: 0, end: 0.05 }), 397, "a dropped -8000 joins its two zero neighbours: three silent frames");
  });
});

describe("what the console says was meant to play", () => {
  const lines = (text: string): TimedLine[] =>
    text
      .trim()
      .split("\n")
      .map((l) => {
        const m = /^(\S+) (.*)$/.exec(l.trim())!;
        return { t: Number(m[1]), text: m[2]! };
      });

  test("routes, tones, timed tones, pauses, suspends, drains and stops give each back end its intervals", () => {
    const ev = parseEvents(
      lines(`
        0.0 OK route media codec true
        0.0 OK play media 440 Hz
        1.0 OK route media codec false
        1.0 OK route media spk true
        1.5 OK play alert 880 Hz for 0.25 s
        1.5 OK route alert codec true
        2.0 OK pause media true (state PAUSED)
        2.5 OK pause media false (state RUNNING)
        3.0 OK stop media
        3.2 OK route media codec true
        3.2 OK play media 440 Hz
        3.4 OK suspend media (state SUSPENDED)
        3.6 OK resume media (state RUNNING)
        3.8 OK drain media (state DRAINING)
        3.9 EVT t=3.85 kind=drained ctx=irq fe=media be=- link=- at=fe-advance n=128
        0.3 ERROR route: nothing
        0.4 RACE t=0.35 kind=use-after-free ctx=irq fe=media be=codec link=0#1 at=period-walk
      `),
    );
    assert.deepEqual(
      intendedIntervals(ev, "codec", 4).map((i) => [i.start, i.end, i.tones]),
      [
        [0, 1, [440]],
        [1.5, 1.75, [880]],
        [3.2, 3.4, [440]],
        [3.6, 3.85, [440]],
      ],
      "the timed alert tone ends 0.25 s after its play line; suspended until resumed; a drain sounds until its drained line's t=",
    );
    assert.deepEqual(
      intendedIntervals(ev, "spk", 4).map((i) => [i.start, i.end, i.tones]),
      [
        [1, 2, [440]],
        [2.5, 3, [440]],
        [3.2, 3.4, [440]],
        [3.6, 3.85, [440]],
      ],
    );
    assert.equal(ev.errors.length, 1);
    assert.equal(ev.races[0]!.t, 0.35, "a RACE line is at its own t=");
    assert.equal(ev.races[0]!.kind, "use-after-free", "hyphenated kinds stay whole");
  });

  test("a firmware start ends every route and tone; races count as safe-mode races unless unsafe(true) was on", () => {
    const ev = parseEvents(
      lines(`
        0.0 OK route media codec true
        0.0 OK play media 440 Hz
        0.5 RACE t=0.5 kind=lost-trigger ctx=irq fe=media be=codec link=- at=trigger
        1.0 OK unsafe true: critical sections and the trigger deferral are OFF; races can happen
        1.5 RACE t=1.5 kind=unmasked-list-change ctx=main fe=media be=codec link=0#0 at=link-add
        2.0 READY dpcm-espruino 0.1.0 board=pico-wm8731
        2.5 RACE t=2.5 kind=double-start ctx=irq fe=media be=codec link=- at=trigger
      `),
    );
    assert.deepEqual(
      intendedIntervals(ev, "codec", 3).map((i) => [i.start, i.end]),
      [[0, 2]],
    );
    assert.deepEqual(
      racesInSafeMode(ev).map((r) => r.kind),
      ["lost-trigger", "double-start"],
      "the board came up in safe mode again after READY",
    );
  });
});

describe("seeded jitter keeps the script's order", () => {
  test("no step moves past its neighbour, whatever the seed and the times", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 30 }), fc.integer(), (cents, seed) => {
        const steps = cents.sort((a, b) => a - b).map((c, i) => ({ at: c / 100, command: `c${i}` }));
        const times = jitterTimes(steps, 0.008, seededRandom(seed));
        for (let i = 0; i < times.length; i++) {
          assert.ok(times[i]! >= 0);
          if (i > 0) assert.ok(times[i]! >= times[i - 1]!, `step ${i} ran before step ${i - 1}`);
          assert.ok(times[i]! <= steps[i]!.at + 0.008 || times[i] === times[i - 1], "moved by at most the jitter, or held behind its neighbour");
        }
      }),
    );
  });

  test("npm start --seed 1..5: the demo still routes before it plays, and every output plays its tone", async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const result = await runSession({ board: "pico-wm8731", steps: demoScript("pico-wm8731", 440), seed, jitter: 0.008 });
      assert.deepEqual(runProblems(result), [], `seed ${seed}`);
      for (const o of result.outputs) assert.ok(o.soundFrames > 0.9 * 8000 * 1.9, `seed ${seed}: ${o.name} sounded ${o.soundFrames} frames`);
    }
  });
});

describe("the verdict", () => {
  test("the demo on each board does what was asked", async () => {
    for (const board of ["pico-wm8731", "generic"] as const) {
      const result = await runSession({ board, steps: demoScript(board, 440) });
      assert.deepEqual(runProblems(result), [], board);
    }
  });

  test("the generic demo reroutes live between compatible back ends", async () => {
    const result = await runSession({ board: "generic", steps: demoScript("generic", 440) });
    const routes = result.events.routes.map((r) => `${r.fe} ${r.be} ${r.on}`);
    assert.deepEqual(routes.slice(0, 3), ["media bt true", "media line true", "media bt false"]);
    assert.match(result.lines.find((l) => l.startsWith("STATS be=line ")) ?? "", /played\.media=[1-9]/);
    assert.match(result.lines.find((l) => l.startsWith("STATS be=bt ")) ?? "", /played\.media=[1-9]/);
  });

  test("a refused tone, a muted codec, a hardware fault: each is a problem with its reason", async () => {
    const refused = await runSession({ board: "pico-wm8731", steps: demoScript("pico-wm8731", 5000) });
    assert.match(runProblems(refused).join("\n"), /console error\(s\), first: ERROR play: media: frequency must be above 0 and below 4000 Hz/);
    const muted = await runSession({
      board: "pico-wm8731",
      steps: parseScript(`
        0 route("media", "codec", true)
        0 play("media", 440)
        0.05 I2C1.writeTo(0x1a, [0x0a, 0x08])
        1.0 stop("media")`),
    });
    assert.match(runProblems(muted).join("\n"), /output codec was meant to play 440 Hz for 0\.\d+ s but sounded for 0\.0\d s/);
    const fault = await runSession({
      board: "pico-wm8731",
      steps: parseScript(`
        0 poke32(0x40003C20, 2)
        0.1 route("media", "codec", true)
        0.1 play("media", 440)
        0.5 stop("media")`),
    });
    assert.match(runProblems(fault).join("\n"), /1 hardware fault\(s\), first: SPI3\.I2SPR/);
  });

  test("a slow CPU: the summary's dropouts are exactly the silent runs of the recording inside the intended intervals", async () => {
    const result = await runSession({ board: "pico-wm8731", steps: demoScript("pico-wm8731", 440), machine: { statementCostUs: 100 } });
    assert.ok(result.xruns > 0, "a 100 us statement cost makes the interrupt late");
    const spk = result.outputs.find((o) => o.name === "spk")!;
    assert.ok(spk.gaps > 0, "the xruns are heard as dropouts");
    // Count them again straight from the samples.
    const s = spk.recording.samples;
    let runs = 0;
    let frames = 0;
    for (const iv of spk.intended) {
      let first = -1;
      let last = -1;
      const from = Math.round(iv.start * 8000);
      const to = Math.round(iv.end * 8000);
      for (let f = from; f < to; f++) if (s[2 * f] !== 0) (first < 0 && (first = f), (last = f));
      let run = 0;
      for (let f = first; f <= last; f++) {
        if (s[2 * f] === 0 && s[2 * f + 1] === 0) run++;
        else {
          if (run >= 2) (runs++, (frames += run));
          run = 0;
        }
      }
    }
    assert.equal(spk.gaps, runs);
    assert.equal(spk.gapFrames, frames);
    assert.deepEqual(runProblems(result), [], "dropouts are measured, not failures");
  });
});
