// One scripted session on an emulated board: load the bundle, type console
// commands at given virtual times, run, and collect what the board printed
// and what its outputs played. Shared by the demo, the benchmark and tests.

import { readFileSync, existsSync } from "node:fs";
import { loadBundleFile } from "../../emulator/load-bundle.ts";
import type { Machine, MachineOptions } from "../../emulator/machine.ts";
import type { ConsoleOptions } from "../../emulator/console.ts";
import { createEmulatedBoard, type BoardName, type EmulatedBoard } from "../../emulator/boards/registry.ts";
import { channel, dominantFrequency, gaps } from "../../emulator/analysis.ts";

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

/** The demo: a tone rerouted live codec -> spk -> both -> codec, an alert beep on spk meanwhile. */
export function demoScript(board: BoardName, toneHz: number): ScriptStep[] {
  if (board === "generic") {
    return parseScript(`
      0.00 route("media", "line", true)
      0.00 play("media", ${toneHz})
      0.50 route("media", "bt", true)
      1.00 route("alert", "line", true)
      1.00 play("alert", 880, 0.25)
      1.50 stop("media")
      1.60 stats()
      1.60 races()
    `);
  }
  return parseScript(`
    0.00 route("media", "codec", true)
    0.00 route("alert", "spk", true)
    0.00 play("media", ${toneHz})
    1.00 route("media", "spk", true)
    1.00 route("media", "codec", false)
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
}

export interface OutputSummary {
  name: string;
  sampleRate: number;
  framesPlayed: number;
  seconds: number;
  frequency: number;
  /** Silent runs of at least one period inside the recording. */
  gaps: number;
  gapFrames: number;
}

export interface SessionResult {
  board: EmulatedBoard;
  /** Virtual time of READY; step times are relative to it. */
  readyAt: number;
  endAt: number;
  wallSeconds: number;
  lines: string[];
  races: Map<string, number>;
  xruns: number;
  errors: string[];
  outputs: OutputSummary[];
}

export function summarizeOutputs(board: EmulatedBoard, periodFrames: number): OutputSummary[] {
  return board.outputs.map((out) => {
    const samples = out.samples();
    const rate = out.sampleRate();
    const silent = rate > 0 ? gaps(samples, periodFrames) : [];
    return {
      name: out.name,
      sampleRate: rate,
      framesPlayed: out.framesPlayed(),
      seconds: rate > 0 ? out.framesPlayed() / rate : 0,
      frequency: rate > 0 && samples.length > 0 ? dominantFrequency(channel(samples), rate) : 0,
      gaps: silent.length,
      gapFrames: silent.reduce((n, g) => n + g.frames, 0),
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

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const board = await createEmulatedBoard(options.board, { ...options.machine, console: options.console }, options.distDir);
  const { machine } = board;
  if (!existsSync(board.bundlePath)) throw new Error(`${board.bundlePath} is missing: run npm run build first`);
  options.prepare?.(machine);
  const loaded = loadBundleFile(machine, board.bundlePath);
  if (!loaded.ok) throw new Error(`the bundle failed to load: ${loaded.message}`);
  if (!/^READY /m.test(machine.console.text()) && !machine.runUntilOutput(/^READY /m, 2)) throw new Error("the firmware did not print READY within 2 virtual seconds");
  const readyAt = machine.now();
  // Wall time counts the run only: loading and transforming the bundle is a fixed cost.
  const started = performance.now();
  if (options.unsafe) machine.console.type("unsafe(true)", readyAt);
  const random = options.seed === undefined ? null : seededRandom(options.seed);
  const jitter = options.jitter ?? 0;
  for (const step of options.steps) {
    const offset = random ? (random() * 2 - 1) * jitter : 0;
    machine.console.type(step.command, readyAt + Math.max(0, step.at + offset));
  }
  const last = options.steps.length ? options.steps[options.steps.length - 1].at : 0;
  const endAt = readyAt + (options.duration ?? last + 0.3);
  machine.runUntil(endAt);
  machine.console.flush();
  const wallSeconds = (performance.now() - started) / 1000;
  const lines = machine.console.lines();
  return {
    board,
    readyAt,
    endAt,
    wallSeconds,
    lines,
    races: countRaces(lines),
    xruns: lines.filter((l) => /^EVT .*\bkind=xrun\b/.test(l)).length,
    errors: lines.filter((l) => /^ERROR |^Uncaught /.test(l)),
    outputs: summarizeOutputs(board, 128),
  };
}
