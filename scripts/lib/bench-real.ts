// npm run bench, the real interpreter's part (issue 8, parts 3 and 6):
//
//  - MEMORY: each bundle that runs on Linux (generic, bench) stored in
//    Storage as `npm run flash` leaves it and booted by the real
//    interpreter; JsVars in use (process.memory(), after its garbage
//    collection) after load and while two FEs play, beside the emulator's
//    estimate (emulator/memory.ts) for the same build. Booted from Storage,
//    functions keep their code there, as on a Pico: the Linux build's flash
//    is a file it does not memory-map (jshFlashGetMemMapAddress returns 0,
//    targets/linux/jshardware.c), so it reads the code through flash
//    strings (3,246 file opens in 1.5 s of an idle generic board, strace),
//    and none of it is in RAM. So the emulator is asked for code in flash
//    too. For a Pico only the emulator's estimate exists.
//  - SWEEP: each historical scenario of the explorer on the timer build,
//    unsafe then safe mode, the interrupt anchored on each unguarded change
//    of the window in turn (real-races.ts); the hit rate (runs with the
//    scenario's expected finding) and every kind seen, per scenario.
//  - SOAK: the generic bundle on the timer build for `soakSeconds` per mode,
//    two FEs playing, one random live reroute every 5 to 25 ms; races per
//    minute by kind.
// Every figure is measured in this run; nothing is carried over.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenericMachine } from "../../emulator/boards/generic.ts";
import { loadBundleFile } from "../../emulator/load-bundle.ts";
import type { MachineOptions } from "../../emulator/machine.ts";
import { KIND_NAMES, RACE_KINDS } from "../../firmware/log.ts";
import { EspruinoSession, findEspruino, storeBootCode } from "./real-espruino.ts";
import { RaceRig, historicalScenarios, parseRaces, sweep, type SweepResult } from "./real-races.ts";
import { readyNames } from "./real-transcript.ts";

/** JsVars in use at the two moments, with the JsVar size they count in. */
export interface MemoryFigures {
  /** After the firmware printed READY. */
  afterLoad: number;
  /** The most seen over three samples with two FEs playing. */
  playing: number;
  /** Bytes a JsVar. */
  blockSize: number;
  /** JsVars the pool has. */
  total: number;
}

export interface BundleMemory {
  bundle: string;
  /** The real interpreter (Linux build), booted from Storage. */
  real: MemoryFigures;
  /** The interpreter alone, before any code: what both counts include. */
  realBare: number;
  /** The emulator's estimate for the same build: code in Storage, 27-byte JsVars. */
  emulatorLinux: MemoryFigures;
  /** The emulator's estimate for an Espruino Pico running the code from flash (nothing to measure it against here). */
  emulatorPico: MemoryFigures;
  /** The same with the code uploaded to RAM instead (12 characters a 16-byte JsVar). */
  emulatorPicoRam: MemoryFigures;
}

/** process.memory() out of a line printed as `<tag> {json}`. */
function memoryOf(text: string, tag: string): { usage: number; total: number; blocksize: number } {
  const m = new RegExp(`^${tag} (\\{.*\\})$`, "m").exec(text);
  if (!m) throw new Error(`no ${tag} line in:\n${text.slice(-800)}`);
  return JSON.parse(m[1]!) as { usage: number; total: number; blocksize: number };
}

/** The commands that make two FEs play, on the board's names: A on X, B on Y. */
function twoFes(fes: string[], bes: string[]): string {
  const q = JSON.stringify;
  return `route(${q(fes[0])}, ${q(bes[0])}, true);route(${q(fes[1])}, ${q(bes[1])}, true);play(${q(fes[0])}, 440);play(${q(fes[1])}, 660)`;
}

/** The emulator's process.memory() estimate after load and while two FEs play. */
export function emulatorMemory(bundlePath: string, options: MachineOptions): MemoryFigures {
  const { machine } = createGenericMachine(options);
  const loaded = loadBundleFile(machine, bundlePath);
  if (!loaded.ok) throw new Error(`${bundlePath}: ${loaded.message}`);
  if (!machine.runUntilOutput(/^READY .*\n/m, 2)) throw new Error(`${bundlePath}: no READY`);
  const names = readyNames(machine.console.text());
  machine.console.type('print("LOAD "+JSON.stringify(process.memory()))');
  machine.runFor(0.05);
  machine.console.type(twoFes(names.fes, names.bes));
  machine.runFor(0.5);
  let playing = 0;
  for (let i = 0; i < 3; i++) {
    machine.console.type(`print("PLAY${i} "+JSON.stringify(process.memory()))`);
    machine.runFor(0.1);
    playing = Math.max(playing, memoryOf(machine.console.text(), `PLAY${i}`).usage);
  }
  const load = memoryOf(machine.console.text(), "LOAD");
  return { afterLoad: load.usage, playing, blockSize: load.blocksize, total: load.total };
}

/**
 * The real interpreter's process.memory() for a bundle booted from Storage:
 * a script stores the bundle as .bootcde (what npm run flash leaves there),
 * then the interpreter starts again in that directory and boots it.
 */
export async function realMemory(bin: string, bundlePath: string): Promise<{ figures: MemoryFigures; bare: number }> {
  const dir = mkdtempSync(join(tmpdir(), "real-memory-"));
  try {
    await storeBootCode(bin, dir, readFileSync(bundlePath, "utf8"));
    const session = new EspruinoSession({ path: bin, cwd: dir, timeoutMs: 30000 });
    try {
      await session.waitFor(/^READY .*\n/m, 5000);
      const names = readyNames(session.text());
      // Typed, then waited for by its tag: what the board prints on its own (EVT lines) may come between.
      const ask = async (tag: string): Promise<{ usage: number; total: number; blocksize: number }> => {
        const mark = session.mark();
        session.type(`print("${tag} "+JSON.stringify(process.memory()))`);
        await session.waitFor(new RegExp(`^${tag} \\{.*\\}\\n`, "m"), 5000, mark);
        return memoryOf(session.since(mark), tag);
      };
      const load = await ask("LOAD");
      session.type(twoFes(names.fes, names.bes));
      await new Promise((r) => setTimeout(r, 500));
      let playing = 0;
      for (let i = 0; i < 3; i++) {
        playing = Math.max(playing, (await ask(`PLAY${i}`)).usage);
        await new Promise((r) => setTimeout(r, 100));
      }
      const bare = new EspruinoSession({ path: bin, timeoutMs: 10000 });
      try {
        await bare.idle();
        const mark = bare.mark();
        bare.type('print("BARE "+JSON.stringify(process.memory()))');
        await bare.waitFor(/^BARE \{.*\}\n/m, 5000, mark);
        const b = memoryOf(bare.since(mark), "BARE");
        return { figures: { afterLoad: load.usage, playing, blockSize: load.blocksize, total: load.total }, bare: b.usage };
      } finally {
        await bare.kill();
      }
    } finally {
      await session.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Memory of each bundle that runs on Linux: real and estimated. */
export async function memoryFigures(bin: string, bundles = ["generic", "bench"]): Promise<BundleMemory[]> {
  const out: BundleMemory[] = [];
  for (const b of bundles) {
    const path = `dist/${b}.js`;
    const real = await realMemory(bin, path);
    out.push({
      bundle: b,
      real: real.figures,
      realBare: real.bare,
      emulatorLinux: emulatorMemory(path, {
        board: "LINUX",
        // Not the pool's size: an estimate above it would read as the pool, full.
        jsVarTotal: 1 << 20,
        jsVarBlockSize: real.figures.blockSize,
        flatThresholdBytes: 41,
        memoryBaselineVars: real.bare,
      }),
      emulatorPico: emulatorMemory(path, { board: "PICO_R1_3", jsVarTotal: 1 << 20, jsVarBlockSize: 16, flatThresholdBytes: 17 }),
      emulatorPicoRam: emulatorMemory(path, { board: "PICO_R1_3", jsVarTotal: 1 << 20, jsVarBlockSize: 16, flatThresholdBytes: 17, codeCharsPerVar: 12 }),
    });
  }
  return out;
}

/** What a soak found in one mode. */
export interface SoakResult {
  mode: "safe" | "unsafe";
  seconds: number;
  reroutes: number;
  /** RACE records by kind (the firmware's own count). */
  races: Record<string, number>;
  handlerRuns: number;
  deferredRuns: number;
  uncaught: number;
  xruns: number;
}

/**
 * The generic bundle on the timer build: both FEs opened at 16 kHz (so either
 * BE takes either), playing, and every 5 to 25 ms one random route of the
 * four turned over, live, for `seconds`; in unsafe mode with unsafe(true).
 */
export async function soak(bin: string, mode: "safe" | "unsafe", seconds: number): Promise<SoakResult> {
  const session = new EspruinoSession({ path: bin, script: readFileSync("dist/generic.js", "utf8"), timeoutMs: (seconds + 60) * 1000 });
  try {
    await session.waitFor(/^READY .*\n/m, 5000);
    const { fes, bes } = readyNames(session.text());
    const q = JSON.stringify;
    const mark = session.mark();
    const line =
      `echo(false);${mode === "unsafe" ? "unsafe(true);" : ""}` +
      `open(${q(fes[0])}, 16000);open(${q(fes[1])}, 16000);route(${q(fes[0])}, ${q(bes[0])}, true);route(${q(fes[1])}, ${q(bes[1])}, true);` +
      `play(${q(fes[0])}, 440);play(${q(fes[1])}, 660);` +
      `SK={n:0,on:[[1,0],[0,1]],F:${q(fes.slice(0, 2))},B:${q(bes.slice(0, 2))},end:getTime()+${seconds}};` +
      `SK.step=function(){if(getTime()>SK.end){races();stats();print("SOAK done reroutes="+SK.n);return;}` +
      `var f=Math.floor(Math.random()*2),b=Math.floor(Math.random()*2);SK.on[f][b]=1-SK.on[f][b];route(SK.F[f],SK.B[b],SK.on[f][b]===1);SK.n++;` +
      `setTimeout(SK.step,5+Math.random()*20);};SK.step()`;
    session.type(line);
    const done = await session.waitFor(/^SOAK done reroutes=(\d+)\n/m, (seconds + 30) * 1000, mark);
    const text = session.since(mark);
    const racesLine = [...text.matchAll(/^RACES .*$/gm)].pop()?.[0] ?? "";
    const counts = parseRaces(racesLine);
    const races: Record<string, number> = {};
    for (let k = 0; k < RACE_KINDS; k++) if ((counts[KIND_NAMES[k]!] ?? 0) > 0) races[KIND_NAMES[k]!] = counts[KIND_NAMES[k]!]!;
    const irq = /^STATS irq runs=(\d+) deferred=(\d+)/m.exec(text);
    const xruns = [...text.matchAll(/^STATS fe=\S+ .* xruns=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    return {
      mode,
      seconds,
      reroutes: Number(done[1]),
      races,
      handlerRuns: irq ? Number(irq[1]) : 0,
      deferredRuns: irq ? Number(irq[2]) : 0,
      uncaught: (text.match(/^Uncaught /gm) ?? []).length,
      xruns,
    };
  } finally {
    await session.kill();
  }
}

export interface RealBenchOptions {
  /** Seconds of soak per mode. Default 60 (REAL_SOAK_SECONDS overrides). */
  soakSeconds?: number;
  /** Swept runs per scenario and mode. Default 40 (REAL_SWEEP_RUNS overrides). */
  sweepRuns?: number;
  out?: (line: string) => void;
}

export interface RealBenchResult {
  memory: BundleMemory[] | null;
  sweeps: SweepResult[];
  soaks: SoakResult[];
  /** Problems: a race in safe mode (the unsafe hit rates are figures; npm test checks scenario 1 reproduces). */
  problems: string[];
  skipped: string[];
}

function kb(vars: number, blockSize: number): string {
  return `${((vars * blockSize) / 1000).toFixed(1)} kB`;
}

/** Run and print the real interpreter's part of npm run bench. */
export async function runRealBench(options: RealBenchOptions = {}): Promise<RealBenchResult> {
  const p = options.out ?? ((s: string) => void process.stdout.write(s + "\n"));
  const soakSeconds = options.soakSeconds ?? Number(process.env.REAL_SOAK_SECONDS ?? 60);
  const sweepRuns = options.sweepRuns ?? Number(process.env.REAL_SWEEP_RUNS ?? 40);
  const result: RealBenchResult = { memory: null, sweeps: [], soaks: [], problems: [], skipped: [] };
  const stock = findEspruino("stock");
  const timer = findEspruino("timer");

  p("");
  p("== real interpreter: memory, JsVars in use (process.memory()), booted from Storage as npm run flash leaves it");
  if (!stock.path) {
    result.skipped.push(`memory: ${stock.reason}`);
    p(`   skipped: ${stock.reason}`);
  } else {
    result.memory = await memoryFigures(stock.path);
    p("   bundle   where                                    after load            two FEs playing       (bytes: JsVars x JsVar size)");
    for (const m of result.memory) {
      const row = (label: string, f: MemoryFigures): string =>
        `   ${m.bundle.padEnd(8)} ${label.padEnd(40)} ${`${f.afterLoad} (${kb(f.afterLoad, f.blockSize)})`.padEnd(21)} ${f.playing} (${kb(f.playing, f.blockSize)})`;
      p(row(`real, Linux build (${m.real.blockSize}-byte JsVars)`, m.real));
      p(row("emulator estimate, same build", m.emulatorLinux));
      const pct = (est: number, real: number): string => {
        const r = (est / real - 1) * 100;
        return (r >= 0 ? "+" : "") + r.toFixed(0) + "%";
      };
      p(
        `   ${"".padEnd(8)} ${"  estimate vs real".padEnd(40)} ${pct(m.emulatorLinux.afterLoad, m.real.afterLoad).padEnd(21)} ` +
          `${pct(m.emulatorLinux.playing, m.real.playing)}   (the interpreter alone: ${m.realBare} JsVars)`,
      );
      p(row("emulator estimate, Pico, code in flash", m.emulatorPico) + ` of 5100`);
    }
    p("   (booted from Storage the code stays there, read through flash strings, on the Linux build as on a Pico)");
  }

  p("");
  p(`== real interpreter: the explorer's scenarios, preempted for real (timer build), ${sweepRuns} aimed runs per scenario and mode`);
  if (!timer.path) {
    result.skipped.push(`sweep and soak: ${timer.reason}`);
    p(`   skipped: ${timer.reason}`);
    verdict(result, p);
    return result;
  }
  const rig = new RaceRig(timer.path, readFileSync("dist/generic.js", "utf8"));
  try {
    const scenarios = await historicalScenarios(["media", "alert"], ["line", "bt"]);
    p("   scenario                  mode    runs  valid  in window  expected  hit rate  kinds (runs)");
    for (const s of scenarios) {
      const unsafe = await sweep(rig, s, "unsafe", { runs: sweepRuns });
      const safe = await sweep(rig, s, "safe", { runs: 0, phasesUs: unsafe.phasesUs });
      const rows: Array<[SweepResult, string]> = [[unsafe, unsafe.mode], [safe, safe.mode]];
      // Scenario 1's use-after-free needs the handler within tens of microseconds
      // after the unlink, the window's last unguarded change: aimed there as
      // test/real-races.test.ts aims it, and its safe twin at the same moments.
      if (s.id === 1) {
        const aimed = await sweep(rig, s, "unsafe", { runs: sweepRuns, anchors: "last", fromUs: 15, toUs: 65 });
        const twin = await sweep(rig, s, "safe", { runs: 0, phasesUs: aimed.phasesUs });
        rows.push([aimed, "unsafe*"], [twin, "safe*"]);
      }
      for (const [r, label] of rows) {
        result.sweeps.push(r);
        const swept = r.runs.length;
        const rate = r.mode === "unsafe" ? `${((100 * r.expected) / swept).toFixed(1)}%` : "-";
        const kinds = Object.entries(r.kinds).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
        p(
          `   s${s.id} ${s.key.padEnd(22)} ${label.padEnd(7)}${String(swept).padStart(5)} ${String(r.valid).padStart(6)} ${String(r.inside).padStart(10)} ` +
            `${String(r.mode === "unsafe" ? r.expected : "-").padStart(9)} ${rate.padStart(9)}  ${kinds}`,
        );
        if (r.mode === "safe" && Object.keys(r.kinds).length) result.problems.push(`s${s.id} safe sweep: ${JSON.stringify(r.kinds)}`);
      }
    }
  } finally {
    await rig.close();
  }
  p("   (hit rate: runs with the scenario's expected finding; the unsafe baseline's unmasked-* kinds come with every unsafe run;");
  p("    * aimed 15 to 65 us after the window's last unguarded change, the unlink, where scenario 1's use-after-free lives)");

  p("");
  p(`== real interpreter: soak, ${soakSeconds} s per mode of random live reroutes of two FEs (generic bundle, timer build)`);
  for (const mode of ["safe", "unsafe"] as const) {
    const s = await soak(timer.path, mode, soakSeconds);
    result.soaks.push(s);
    const minutes = s.seconds / 60;
    const kinds = Object.entries(s.races).map(([k, n]) => `${k} ${(n / minutes).toFixed(1)}/min`).join(", ") || "no race";
    p(
      `   ${mode.padEnd(6)} ${s.reroutes} reroutes (${(s.reroutes / minutes).toFixed(0)}/min), ${s.handlerRuns} handler runs (${s.deferredRuns} deferred by a section), ` +
        `${s.xruns} xruns, ${s.uncaught} uncaught: ${kinds}`,
    );
    if (mode === "safe" && Object.keys(s.races).length) result.problems.push(`safe soak: ${JSON.stringify(s.races)}`);
  }
  verdict(result, p);
  return result;
}

/** The verdict line; a problem makes the process exit non-zero (npm run bench did not show what it must). */
function verdict(result: RealBenchResult, p: (line: string) => void): void {
  p("");
  if (result.problems.length) {
    p(`verdict (real interpreter): ${result.problems.length} problem(s): ${result.problems.join("; ")}`);
    process.exitCode = 1;
  } else if (result.skipped.length) {
    p(`verdict (real interpreter): not measured: ${result.skipped.join("; ")}`);
  } else {
    const hits = [...new Set(result.sweeps.filter((r) => r.mode === "unsafe" && r.expected > 0).map((r) => `s${r.scenario}`))];
    p(
      `verdict (real interpreter): no race in safe mode (sweeps and soak); the expected race reproduced in unsafe mode in ${hits.join(", ") || "no scenario"} ` +
        `of ${new Set(result.sweeps.filter((r) => r.mode === "unsafe").map((r) => r.scenario)).size}`,
    );
  }
}

/** Whether the bundles the real part needs are built. */
export function realBenchReady(): boolean {
  return existsSync("dist/generic.js") && existsSync("dist/bench.js");
}

