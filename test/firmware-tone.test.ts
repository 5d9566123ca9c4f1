// firmware/tone.ts: the table's frequency is the one asked for, and a stream
// made of many period-sized refills is one continuous sine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeTone, fillTone, toneTableFrames, type Tone } from "../firmware/tone.ts";
import { jsSampleOps } from "../firmware/native/mix.ts";

const ops = jsSampleOps();

const RATE = 8000;
const PERIOD = 128;
const AMPLITUDE = 8000;

function tone(frequency: number, rate = RATE): Tone {
  const t = makeTone(frequency, rate, AMPLITUDE, PERIOD, 4 * PERIOD);
  if (typeof t === "string") throw new Error(t);
  return t;
}

/** Left channel of `periods` refills of `frames` frames each. */
function stream(t: Tone, periods: number, frames = PERIOD): Int16Array {
  const out = new Int16Array(periods * frames);
  const buf = new Int16Array(frames * 2);
  for (let p = 0; p < periods; p++) {
    buf.fill(-1);
    fillTone(ops, t, buf, frames);
    for (let i = 0; i < frames; i++) out[p * frames + i] = buf[2 * i];
  }
  return out;
}

/** Frequency from rising zero crossings, interpolated between samples. */
function zeroCrossingFrequency(x: Int16Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + -x[i - 1] / (x[i] - x[i - 1]));
  }
  const cycles = crossings.length - 1;
  return (cycles * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

test("440 Hz at 8000 Hz: the table's frequency is within 0.01 Hz", () => {
  const t = tone(440);
  assert.ok(Math.abs(t.frequency - 440) < 0.01, "table frequency " + t.frequency);
  const choice = toneTableFrames(440, RATE, PERIOD, 4 * PERIOD);
  assert.ok(choice[1] >= PERIOD, "a table at least one period long needs at most two copies a refill");
  assert.equal(t.frames, choice[1]);
});

test("other tones stay close to the request within the table limit", () => {
  for (const f of [100, 261.63, 1000, 1234.5, 3000]) {
    const t = tone(f);
    // Best achievable with at most 4 periods of table: one frame of error over the table.
    const bound = Math.max(0.01, (f / t.frames) * 0.5 + 1e-9);
    assert.ok(Math.abs(t.frequency - f) <= bound, f + " Hz gave " + t.frequency);
  }
});

test("the generated stream measures 440 Hz by zero crossings over many refills", () => {
  const t = tone(440);
  const x = stream(t, 63); // about one second
  const measured = zeroCrossingFrequency(x, RATE);
  assert.ok(Math.abs(measured - 440) < 1, "measured " + measured + " Hz");
});

test("the generated stream of 1000 Hz at 16000 Hz measures within 1 Hz", () => {
  const t = tone(1000, 16000);
  const measured = zeroCrossingFrequency(stream(t, 125), 16000);
  assert.ok(Math.abs(measured - 1000) < 1, "measured " + measured + " Hz");
});

test("phase continuity: concatenated period refills equal one continuous sine", () => {
  for (const f of [440, 523.25, 97]) {
    const t = tone(f);
    const periods = 40;
    const x = stream(t, periods);
    const w = (2 * Math.PI * t.frequency) / RATE;
    let worst = 0;
    for (let n = 0; n < x.length; n++) {
      const want = AMPLITUDE * Math.sin(w * n);
      worst = Math.max(worst, Math.abs(x[n] - want));
    }
    assert.ok(worst <= 1, f + " Hz: worst deviation from one continuous sine " + worst + " LSB");
    // And no jump at a period boundary larger than the sine's own largest step.
    const maxStep = AMPLITUDE * w + 2;
    for (let p = 1; p < periods; p++) {
      const i = p * PERIOD;
      assert.ok(Math.abs(x[i] - x[i - 1]) <= maxStep, "jump at boundary " + p);
    }
  }
});

test("phase continuity with odd refill sizes, both channels equal", () => {
  const t = tone(440);
  const ref = stream(tone(440), 1, 3000);
  const sizes = [1, 37, 128, 200, 199, 5, 400, 1000, 1030];
  const got: number[] = [];
  for (const size of sizes) {
    const buf = new Int16Array(size * 2);
    fillTone(ops, t, buf, size);
    for (let i = 0; i < size; i++) {
      assert.equal(buf[2 * i], buf[2 * i + 1]);
      got.push(buf[2 * i]);
    }
  }
  assert.deepEqual(got, Array.from(ref.subarray(0, got.length)));
});

test("fillTone writes exactly the frames asked for and nothing past them", () => {
  const t = tone(440);
  const buf = new Int16Array(PERIOD * 2).fill(12345);
  fillTone(ops, t, buf, 10);
  assert.equal(buf[19] !== 12345 || buf[18] !== 12345, true);
  assert.ok(buf.subarray(20).every((v) => v === 12345));
  assert.equal(t.phase, 10);
});

test("makeTone refuses a frequency at or above half the rate, zero, negative or NaN", () => {
  for (const f of [0, -5, NaN, 4000, 5000]) {
    const t = makeTone(f, RATE, AMPLITUDE, PERIOD, 4 * PERIOD);
    assert.equal(typeof t, "string", "frequency " + f);
    assert.match(t as string, /above 0 and below 4000 Hz/);
  }
});

test("every frequency below half the rate plays a table below half the rate, or is refused: never a silent one (3999 Hz at 8 kHz)", () => {
  for (const rate of [8000, 16000, 48000]) {
    for (let f = rate / 2 - 40; f < rate / 2; f += 0.5) {
      const t = makeTone(f, rate, AMPLITUDE, PERIOD, 4 * PERIOD);
      if (typeof t === "string") {
        assert.match(t, /^frequency too close to half the sample rate/);
        continue;
      }
      assert.ok(t.frequency < rate / 2, `${f} Hz at ${rate} Hz plays ${t.frequency} Hz`);
      assert.ok(Math.abs(t.frequency - f) <= Math.max(2, 0.01 * f), `${f} Hz at ${rate} Hz plays ${t.frequency} Hz`);
      assert.ok(t.table.some((v) => v !== 0), `${f} Hz at ${rate} Hz: a silent table`);
    }
  }
  assert.equal(typeof makeTone(3999, 8000, AMPLITUDE, PERIOD, 4 * PERIOD), "string", "no table of at most 512 frames plays 3999 Hz below 4000 Hz");
  assert.equal(typeof makeTone(1, 8000, AMPLITUDE, PERIOD, 4 * PERIOD), "object", "a 1 Hz cycle is longer than maxFrames, and still played");
});
