// npm start, explore and their exit statuses, as a user runs them: what
// goes into the output folder (and what is cleaned out of it), a refused
// tone failing the run, the interactive console, and clear errors.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wavefile from "wavefile";
import { terminalLines } from "../scripts/lib/race-log.ts";
import { FUNCTIONAL_STATEMENT_COST_US, PICO_STATEMENT_COST_US } from "../emulator/cost-model.ts";

const TMP = mkdtempSync(join(tmpdir(), "npm-start-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

before(() => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/build.ts", "--if-stale", "pico-wm8731", "generic"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

function start(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/run-emulator.ts", "--quiet", ...args], { encoding: "utf8", input, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function wav(path: string): { seconds: number; left: Int16Array; rate: number } {
  const w = new wavefile.WaveFile(readFileSync(path));
  const samples = w.getSamples(true, Int16Array) as unknown as Int16Array;
  const rate = (w.fmt as { sampleRate: number }).sampleRate;
  const left = new Int16Array(samples.length / 2);
  for (let i = 0; i < left.length; i++) left[i] = samples[2 * i]!;
  return { seconds: left.length / rate, left, rate };
}

describe("npm start", { concurrency: true }, () => {
  test("--statement-cost pessimistic: the interrupt starves the main loop; the run says so, gives no CPU share, and exits 1", () => {
    const r = start(["--statement-cost", "pessimistic", "--out", join(TMP, "pessimistic")]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^npm start: the run did not do what was asked: the main loop starved: /);
    assert.match(r.stdout, /^interrupt CPU share per period \(emulator estimate at [\d.]+ us a statement\): not given: the interrupt ran back to back/m);
    assert.doesNotMatch(r.stdout, /the same statements at the calibrated Pico cost/);
  });

  test("options only a served board reads are refused without --serve", () => {
    for (const [args, want] of [
      [["--blank"], /--blank needs --serve/],
      [["--espruino", "2v20"], /--espruino needs --serve/],
    ] as const) {
      const r = start([...args, "--out", join(TMP, "no-serve")]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, want);
    }
  });

  test("a tone the firmware refuses fails the run with a one-line reason", () => {
    for (const tone of ["5000", "1e9"]) {
      const r = start(["--tone", tone, "--out", join(TMP, `tone-${tone}`)]);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^npm start: the run did not do what was asked: 1 console error\(s\), first: ERROR play: media: frequency must be above 0 and below 4000 Hz/);
      assert.match(r.stdout, /^result: FAILED/m);
    }
  });

  test("the demo's recordings follow the clock: codec played 0-1 s and 2-3.5 s, its WAV has the second of silence", () => {
    const out = join(TMP, "demo");
    const r = start(["--out", out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^result: OK$/m);
    const codec = wav(join(out, "codec.wav"));
    assert.equal(codec.rate, 8000);
    assert.ok(codec.seconds > 3.8, `codec.wav is ${codec.seconds} s`);
    const at = (s: number) => Math.round(s * codec.rate);
    assert.ok(codec.left.subarray(at(1.1), at(1.9)).every((v) => v === 0), "silent while rerouted away");
    assert.ok(codec.left.subarray(at(0.2), at(0.9)).some((v) => v !== 0), "sound before");
    assert.ok(codec.left.subarray(at(2.2), at(3.4)).some((v) => v !== 0), "sound after");
    const manifest = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { files: string[]; problems: string[] };
    assert.deepEqual(manifest.files.sort(), ["codec.wav", "report.html", "serial.log", "spk.wav"]);
    assert.deepEqual(manifest.problems, []);
    // The CPU figure at the run's cost, and the same statements projected onto the calibrated Pico cost.
    const cpu = /interrupt CPU share per period \(emulator estimate at ([\d.]+) us a statement\): mean ([\d.]+)%, peak ([\d.]+)%/.exec(r.stdout);
    const proj = /calibrated Pico cost \(([\d.]+)-([\d.]+) us\): mean ([\d.]+)%-([\d.]+)%, peak ([\d.]+)%-([\d.]+)%(.*)/.exec(r.stdout);
    assert.ok(cpu && proj, r.stdout);
    const [cost, mean, peak] = cpu.slice(1, 4).map(Number) as [number, number, number];
    const [lo, hi, pm0, pm1, pp0, pp1] = proj.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    assert.equal(cost, FUNCTIONAL_STATEMENT_COST_US);
    assert.deepEqual([lo, hi], [PICO_STATEMENT_COST_US.optimistic, PICO_STATEMENT_COST_US.pessimistic]);
    assert.ok(mean > 0 && peak >= mean, r.stdout);
    for (const [got, base, scale] of [[pm0, mean, lo], [pm1, mean, hi], [pp0, peak, lo], [pp1, peak, hi]] as const) {
      assert.ok(Math.abs(got - (base * scale) / cost) <= 0.06 * (scale / cost) + 0.05, `${got}% projected from ${base}% x ${scale}/${cost}`);
    }
    assert.equal(/would not keep up/.test(proj[7]!), pp1 > 100, proj[0]);
  });

  test("--rate 48000 opens the demo's FEs at 48 kHz: both WAVs at that rate, the console says so; a bad rate is refused", () => {
    const out = join(TMP, "rate48");
    const r = start(["--rate", "48000", "--out", out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(wav(join(out, "codec.wav")).rate, 48000);
    assert.equal(wav(join(out, "spk.wav")).rate, 48000);
    const log = readFileSync(join(out, "serial.log"), "utf8");
    assert.match(log, /^OK open media 48000 Hz, 768-frame periods/m);
    assert.match(log, /^OK open alert 48000 Hz/m);
    // The main loop builds the 48 kHz tone table before the BE starts: no block is owed before then.
    assert.doesNotMatch(log, /^WARN /m, "a false dead-interrupt warning");
    const bad = start(["--rate", "44.1", "--out", join(TMP, "rate-bad")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--rate must be a whole number of Hz/);
  });

  test("each run replaces the last one's files whole, and touches no file it did not write", () => {
    const out = join(TMP, "replace");
    assert.equal(start(["--out", out]).code, 0);
    assert.ok(existsSync(join(out, "codec.wav")));
    writeFileSync(join(out, "mine.txt"), "not npm start's");
    const r = start(["--board", "generic", "--out", out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ["mine.txt", "report.html", "run.json", "serial.log"]);
  });

  test("the generic board's demo runs without an error and shows the reroute", () => {
    const out = join(TMP, "generic");
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/run-emulator.ts", "--board", "generic", "--out", out], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /^ERROR /m);
    for (const l of ["OK route media bt true", "OK route media line true", "OK route media bt false"]) assert.match(r.stdout, new RegExp(`^${l}$`, "m"));
  });

  test("--interactive: a prompt, each line echoed once, an unfinished line continues on ':', no demo unless asked", () => {
    const out = join(TMP, "interactive");
    const r = start(["--interactive", "--out", out], 'route("media", "codec", true\n)\nplay("media", 440)\nroutes()\ngarbage\x03races()\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const shown = terminalLines(r.stdout);
    const typed = shown.filter((l) => /^[>:]/.test(l));
    assert.deepEqual(typed.slice(0, 4), ['>route("media", "codec", true', ":)", '>play("media", 440)', ">routes()"]);
    assert.equal(shown.filter((l) => l.includes('play("media", 440)')).length, 1, "echoed once");
    assert.equal(shown.filter((l) => l === "OK route media codec true").length, 1, "the idle board ran no demo");
    assert.ok(!shown.includes("OK route media spk true"), "no demo");
    assert.ok(shown.includes(">races()"), "Ctrl-C cleared the line typed before it");
    assert.ok(!shown.some((l) => /garbage|Uncaught/.test(l)), "and nothing of it ran");
    assert.match(r.stdout, /^output codec +\d+ frames played/m);
    const demo = start(["--interactive", "--demo", "--out", out], "");
    assert.equal(demo.code, 0);
    assert.match(readFileSync(join(out, "serial.log"), "utf8"), /^OK route media spk true/m, "--demo runs the demo first");
  });
});

describe("npm run explore", { concurrency: true }, () => {
  test("--trace into a missing folder is a clear error, not a stack", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/explore.ts", "--replay", "s1:unsafe:72@generic", "--trace", "/missing/dir/x.json"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), "npm run explore: --trace /missing/dir/x.json: no such directory /missing/dir");
  });

  test("--mode safe says nothing about unsafe scenarios it did not run", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "scripts/explore.ts", "--mode", "safe", "--scenario", "1", "--pairs", "0", "--random", "0", "--board", "generic", "--no-progress"],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /verdict: safe mode clean, unsafe mode not run$/m);
    assert.doesNotMatch(r.stdout, /every unsafe scenario/);
  });
});

describe("npm start -- --serve", () => {
  test("a served board logs to its own file and leaves the demo's serial.log alone", { timeout: 60_000 }, async () => {
    const out = join(TMP, "serve");
    assert.equal(start(["--out", out]).code, 0);
    const demoLog = readFileSync(join(out, "serial.log"), "utf8");
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/run-emulator.ts", "--board", "generic", "--serve", "0", "--quiet", "--out", out], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const closed = new Promise<number | null>((r) => child.on("close", r));
    const deadline = Date.now() + 40_000;
    while (!/serial log: (\S+)/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGINT");
    assert.equal(await closed, 0, err);
    const served = /serial log: (\S+)/.exec(err)?.[1];
    assert.ok(served, err);
    assert.match(served, /serve-\d{8}-\d{6}\.log$/);
    assert.match(readFileSync(served, "utf8"), /^READY dpcm-espruino /m);
    assert.equal(readFileSync(join(out, "serial.log"), "utf8"), demoLog, "serial.log untouched");
  });
});
