// One scripted session on an emulated board: load the bundle, type console
// commands at given virtual times, run, and collect what the board printed
// and what its outputs played. Shared by the demo, the benchmark and tests.

import { readFileSync, existsSync } from "node:fs";
import { loadBundleFile } from "../../emulator/load-bundle.ts";
import type { Machine, MachineOptions } from "../../emulator/machine.ts";
import type { ConsoleOptions } from "../../emulator/console.ts";
import { createEmulatedBoard, type BoardName, type EmulatedBoard } from "../../emulator/boards/registry.ts";
import { dominantFrequency, gaps, soundFrames, soundOnly, type Gap } from "../../emulator/analysis.ts";
import type { Recording } from "../../emulator/hardware.ts";
import { intendedIntervals, parseEvents, racesInSafeMode, type IntendedInterval, type RunEvents, type TimedLine } from "./console-events.ts";

export interface ScriptStep {
  /** Seconds after the firmware printed READY. */
  at: number;
  command: string;
}

/** "<seconds> <command>" per line; blank lines and lines starting with # are skipped. */
export function parseScript(text: string, source = "script"): ScriptStep[] {
  const steps: ScriptStep[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(\d+(?:\.\d+)?)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected "<seconds> <command>", got "${line}"`);
    steps.push({ at: Number(m[1]), command: m[2] });
  });
  return steps.sort((a, b) => a.at - b.at);
}

export function readScript(path: string): ScriptStep[] {
  if (!existsSync(path)) throw new Error(`no such route script: ${path}`);
  return parseScript(readFileSync(path, "utf8"), path);
}

/**
 * The demo. Pico: a tone rerouted live codec -> spk -> both -> codec, an
 * alert beep on spk meanwhile. Generic: the tone opens on bt (fixed at
 * 16 kHz, so media runs at 16 kHz), is rerouted live to line (which takes
 * any common rate) and bt is dropped; an alert beeps on line meanwhile.
 */
export function demoScript(board: BoardName, toneHz: number, rateHz?: number): ScriptStep[] {
  // A chosen rate: both FEs opened at it before anything plays (the player
  // keeps an open FE's rate; alert closes after its tone, so it is opened
  // again just before it plays).
  const open = (at: string, fe: string): string => (rateHz ? `${at} open("${fe}", ${rateHz})` : "");
  if (board === "generic") {
    return parseScript(`
      ${open("0.00", "media")}
      0.00 route("media", "bt", true)
      0.00 play("media", ${toneHz})
      0.50 route("media", "line", true)
      0.60 route("media", "bt", false)
      1.00 route("alert", "line", true)
      ${open("1.00", "alert")}
      1.00 play("alert", 880, 0.25)
      1.50 stop("media")
      1.60 stats()
      1.60 races()
    `);
  }
  return parseScript(`
    0.00 route("media", "codec", true)
    0.00 route("alert", "spk", true)
    ${open("0.00", "media")}
    0.00 play("media", ${toneHz})
    1.00 route("media", "spk", true)
    1.00 route("media", "codec", false)
    ${open("1.50", "alert")}
    1.50 play("alert", 880, 0.25)
    2.00 route("media", "codec", true)
    3.00 route("media", "spk", false)
    3.50 stop("media")
    3.60 stats()
    3.60 races()
  `);
}

/** A small seeded generator (mulberry32), so a seed gives the same jitter every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The script's times, each moved by up to +-jitter seconds with `random`,
 * never before 0 and never past a neighbour: a step runs no earlier than
 * the step before it, so commands that share a time (route, then play)
 * keep the script's order.
 */
export function jitterTimes(steps: ScriptStep[], jitter: number, random: (() => number) | null): number[] {
  const times: number[] = [];
  let previous = 0;
  for (const step of steps) {
    const offset = random ? (random() * 2 - 1) * jitter : 0;
    const at = Math.max(previous, step.at + offset, 0);
    times.push(at);
    previous = at;
  }
  return times;
}

export interface SessionOptions {
  board: BoardName;
  steps: ScriptStep[];
  /** Virtual seconds to run after READY; default: last step + 0.3. */
  duration?: number;
  unsafe?: boolean;
  /** Jitter every step by up to +-jitter seconds with this seed. */
  seed?: number;
  jitter?: number;
  machine?: MachineOptions;
  console?: ConsoleOptions;
  distDir?: string;
  /** Change the emulated hardware before the bundle loads (e.g. detach a device). */
  prepare?: (machine: Machine) => void;
  /** Virtual seconds between two CPU-load samples; default one period (PERIOD_SECONDS). */
  sampleSeconds?: number;
}

/**
 * One period of the boards' front ends: 128 frames at 8 kHz
 * (boards/*\/main.ts PARAMS), the interval the CPU load is sampled over.
 */
export const PERIOD_SECONDS = 128 / 8000;

export interface OutputSummary {
  name: string;
  sampleRate: number;
  framesPlayed: number;
  seconds: number;
  frequency: number;
  /** Where the console's OK lines meant this output to sound (seconds, with the tones meant). */
  intended: IntendedInterval[];
  /** Frames with sound inside the intended intervals. */
  soundFrames: number;
  /** Dropouts (analysis.ts gaps) inside the intended intervals, however short. */
  gaps: number;
  gapFrames: number;
  gapList: Gap[];
  /** The recording from virtual time 0 to the end of the run, silence included. */
  recording: Recording;
}

/** The interrupt's share of the CPU, one sample per interval. */
export interface CpuSeries {
  /**
   * Series name. This one is the emulator's estimate: the interrupt's
   * statements in the interval times the statement cost, over the interval.
   * A firmware-measured figure would come under another name.
   */
  name: string;
  description: string;
  /** Interval start (virtual s) and the share of it spent in the interrupt (0..1). */
  t: number[];
  load: number[];
}

export const CPU_SERIES_NAME = "irq share (emulator: interrupt statements x statement cost)";

/** Samples the interrupt's share of each interval from the machine's statement counts. */
export class CpuSampler {
  readonly series: CpuSeries = {
    name: CPU_SERIES_NAME,
    description: "per period: statements run inside the interrupt (EXEC timer task) x the statement cost, divided by the period",
    t: [],
    load: [],
  };
  private lastT: number;
  private lastStatements: number;
  constructor(
    private machine: Machine,
    readonly interval: number,
  ) {
    this.lastT = machine.now();
    this.lastStatements = machine.stats.interruptStatements;
  }

  /** Follow another machine (after a reset) from now on. */
  follow(machine: Machine): void {
    this.machine = machine;
    this.lastT = machine.now();
    this.lastStatements = machine.stats.interruptStatements;
  }

  /** Record the time since the last sample if it is at least one interval. */
  sampleIfDue(): void {
    if (this.machine.now() - this.lastT >= this.interval) this.sample();
  }

  /** Record the interval that ended now (call at least once an interval). */
  sample(): void {
    const m = this.machine;
    const now = m.now();
    const dt = now - this.lastT;
    if (dt <= 0) return;
    const statements = m.stats.interruptStatements;
    this.series.t.push(this.lastT);
    this.series.load.push(((statements - this.lastStatements) * m.statementCostNs) / 1e9 / dt);
    this.lastT = now;
    this.lastStatements = statements;
  }
}

/** Every console line of a machine with the virtual time it was completed. */
export class LineClock {
  readonly lines: TimedLine[] = [];
  private partial = "";
  private off: () => void = () => undefined;
  constructor(machine: Machine) {
    this.follow(machine);
  }

  follow(machine: Machine): void {
    this.off();
    this.off = machine.console.onData((text) => {
      const all = this.partial + text;
      const parts = all.split("\n");
      this.partial = parts.pop()!;
      const t = machine.now();
      for (const p of parts) this.lines.push({ t, text: p.replace(/\r$/, "") });
    });
  }
}

export interface SessionResult {
  board: EmulatedBoard;
  /** Virtual time of READY; step times are relative to it. */
  readyAt: number;
  endAt: number;
  wallSeconds: number;
  lines: string[];
  /** The same lines with the virtual time each was printed at. */
  timedLines: TimedLine[];
  events: RunEvents;
  races: Map<string, number>;
  xruns: number;
  errors: string[];
  outputs: OutputSummary[];
  cpu: CpuSeries;
  /** The script's steps and the virtual times they were typed at. */
  typed: Array<{ at: number; command: string }>;
  unsafe: boolean;
}

/** What each output did over the run, measured against what the console says it was meant to do. */
export function summarizeOutputs(board: EmulatedBoard, events: RunEvents, endAt: number): OutputSummary[] {
  return board.outputs.map((out) => {
    const rate = out.sampleRate();
    const recording = out.recording(endAt);
    // Time and tone from the recording's timeline (one rate, the first the
    // output ran at): an output that ran at two rates in one run (open(fe,
    // 48000) after 8 kHz) has device frames of both, which no one rate times.
    const played = recording.spans.reduce((n, sp) => n + sp.frames, 0);
    const sound = recording.rate > 0 ? soundOnly(recording) : new Float64Array(0);
    const intended = intendedIntervals(events, out.name, endAt);
    const found = recording.rate > 0 ? gaps(recording, { intervals: intended }) : [];
    return {
      name: out.name,
      sampleRate: rate,
      framesPlayed: out.framesPlayed(),
      seconds: recording.rate > 0 ? played / recording.rate : 0,
      frequency: sound.length > 0 ? dominantFrequency(sound, recording.rate) : 0,
      intended,
      soundFrames: intended.reduce((n, iv) => n + soundFrames(recording, iv), 0),
      gaps: found.length,
      gapFrames: found.reduce((n, g) => n + g.frames, 0),
      gapList: found,
      recording,
    };
  });
}

/** Parse RACE lines into counts by kind. */
export function countRaces(lines: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const m = /^RACE .*\bkind=(\S+)/.exec(line);
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

/** Measure a session from its machine, lines and samples (at the end of a run, or again after an interactive part). */
export function collectResult(
  base: Pick<SessionResult, "board" | "readyAt" | "endAt" | "wallSeconds" | "typed" | "unsafe">,
  clock: LineClock,
  cpu: CpuSampler,
): SessionResult {
  const { machine } = base.board;
  machine.console.flush();
  const lines = machine.console.lines();
  const events = parseEvents(clock.lines);
  return {
    ...base,
    lines,
    timedLines: clock.lines.slice(),
    events,
    races: countRaces(lines),
    xruns: lines.filter((l) => /^EVT .*\bkind=xrun\b/.test(l)).length,
    errors: lines.filter((l) => /^ERROR |^Uncaught /.test(l)),
    outputs: summarizeOutputs(base.board, events, base.endAt),
    cpu: cpu.series,
  };
}

/** Run `machine` to virtual time `endAt`, sampling the CPU once an interval. */
export function runSampled(machine: Machine, endAt: number, cpu: CpuSampler): void {
  // Stop on the target, not on now() >= endAt: the machine keeps whole nanoseconds.
  for (let next = machine.now(); next < endAt; ) {
    next = Math.min(endAt, next + cpu.interval);
    machine.runUntil(next);
    cpu.sample();
  }
}

export async function runSession(options: SessionOptions): Promise<SessionResult & { clock: LineClock; sampler: CpuSampler }> {
  const board = await createEmulatedBoard(options.board, { ...options.machine, console: options.console }, options.distDir);
  const { machine } = board;
  if (!existsSync(board.bundlePath)) throw new Error(`${board.bundlePath} is missing: run npm run build first`);
  options.prepare?.(machine);
  const clock = new LineClock(machine);
  const cpu = new CpuSampler(machine, options.sampleSeconds ?? PERIOD_SECONDS);
  const loaded = loadBundleFile(machine, board.bundlePath);
  if (!loaded.ok) throw new Error(`the bundle failed to load: ${loaded.message}`);
  if (!/^READY /m.test(machine.console.text()) && !machine.runUntilOutput(/^READY /m, 2)) throw new Error("the firmware did not print READY within 2 virtual seconds");
  const readyAt = machine.now();
  // Wall time counts the run only: loading and transforming the bundle is a fixed cost.
  const started = performance.now();
  if (options.unsafe) machine.console.type("unsafe(true)", readyAt);
  const times = jitterTimes(options.steps, options.jitter ?? 0, options.seed === undefined ? null : seededRandom(options.seed));
  const typed = options.steps.map((step, i) => ({ at: readyAt + times[i]!, command: step.command }));
  for (const t of typed) machine.console.type(t.command, t.at);
  const last = options.steps.length ? times[times.length - 1]! : 0;
  const endAt = readyAt + (options.duration ?? last + 0.3);
  runSampled(machine, endAt, cpu);
  const wallSeconds = (performance.now() - started) / 1000;
  // A callback that overran (a starved main loop) carries the clock past endAt: report the time that passed.
  const ranTo = Math.max(endAt, machine.now());
  const result = collectResult({ board, readyAt, endAt: ranTo, wallSeconds, typed, unsafe: options.unsafe === true }, clock, cpu);
  return { ...result, clock, sampler: cpu };
}

/**
 * Why a run did not do what was asked, one short reason each (empty: it
 * did): console errors, an output meant to play a tone that sounded for
 * less than half the time it was meant to or played another frequency, hardware faults, races logged while the
 * board was in safe mode. Dropouts and xruns are measured, not failures:
 * they are what a slow CPU (--statement-cost) is expected to show.
 */
export function runProblems(result: SessionResult): string[] {
  const problems: string[] = [];
  const ev = result.events;
  const m = result.board.machine;
  const starved = m.stats.watchdogInterrupts;
  if (starved) {
    // The interrupt handler ran back to back: its timer task came due again before each run ended.
    problems.push(
      `the main loop starved: ${starved} time(s) it did not return to the idle loop for ${(m.maxCallbackNs / 1e9).toFixed(0)} virtual s ` +
        `(at ${(m.statementCostNs / 1000).toFixed(1)} us a statement the interrupt handler outlasts its timer period; a Pico would hang the same way: npm run bench)`,
    );
  }
  if (ev.errors.length) problems.push(`${ev.errors.length} console error(s), first: ${ev.errors[0]!.text}`);
  for (const o of result.outputs) {
    const meant = o.intended.reduce((n, iv) => n + (iv.end - iv.start), 0);
    if (meant <= 0) continue;
    const tones = [...new Set(o.intended.flatMap((iv) => iv.tones))];
    const sounded = o.recording.rate > 0 ? o.soundFrames / o.recording.rate : 0;
    // Half the meant time: start-up latency and dropouts (a slow CPU) cost far less than that.
    if (sounded < 0.5 * meant) {
      problems.push(`output ${o.name} was meant to play ${tones.join("+")} Hz for ${meant.toFixed(2)} s but sounded for ${sounded.toFixed(2)} s`);
    } else if (tones.length === 1 && o.frequency > 0 && Math.abs(o.frequency - tones[0]!) > Math.max(2, 0.01 * tones[0]!)) {
      problems.push(`output ${o.name} played ${o.frequency.toFixed(1)} Hz, ${tones[0]} Hz was asked for`);
    }
  }
  const faults = result.board.machine.faults;
  if (faults.length) problems.push(`${faults.length} hardware fault(s), first: ${faults[0]!.register}: ${faults[0]!.message}`);
  const safeRaces = racesInSafeMode(ev);
  if (safeRaces.length) problems.push(`${safeRaces.length} race(s) logged in safe mode, first: ${safeRaces[0]!.text}`);
  return problems;
}
