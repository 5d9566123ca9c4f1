// One route script, run on the real interpreter and on the emulator, and
// their console transcripts compared line by line (issue 8, part 2).
//
// The script: A plays on Y; A is rerouted live to X, then taken off Y; B is
// mixed into X with a timed tone (it drains and closes by itself); A is
// stopped; then stats(), races(), routes(). A and B are the board's first
// two front ends, X and Y its first two back ends (generic: media, alert;
// line, bt. bench: f0, f1; s0, s1).
//
// Why the transcripts can be compared at all. On the stock Linux build the
// timer task never fires, so the board runs its interrupt from setInterval
// (READY says so); the emulator is run the same way (its EXEC tasks do not
// fire), so both run the same code paths with no preemption. What is left
// is time: the real interpreter runs on the wall clock of a shared host.
// So every step of the script waits for a stream position, not a time: the
// SEQUENCER (one line typed at the console, the same on both) polls every
// millisecond and runs a step when the back end it names has completed
// exactly the number of periods the step says. A step that ends a link is
// timed by that link's own back end, so no count depends on the phase
// between two back ends' clocks; stopping A also waits for A's ring to be
// full (the main loop's refill has run), so the frames written are exact.
// Periods per BE, frames written per FE and played per route, race counts
// are then the same on both, and compared exactly.
//
// A host that stalls the interpreter can still spoil a run: a step found
// its count already past (the sequencer prints LATE), the watchdog warned,
// an FE underran. Such a run is DISTURBED: it says nothing about the
// emulator, and is run again (see realTranscript); an undisturbed run must
// match line for line.
//
// The fields that depend on time are named in one place, TIME_FIELDS.

import { existsSync, readFileSync } from "node:fs";
import { createGenericMachine } from "../../emulator/boards/generic.ts";
import { loadBundleFile } from "../../emulator/load-bundle.ts";
import { EspruinoSession } from "./real-espruino.ts";
import { BeState, FeState, LinkState } from "../../firmware/dpcm/dpcm.ts";

/**
 * The fields whose values depend on time or on the machine, and nothing
 * else: each pattern's first group is the value, replaced by "*" before
 * two lines are compared. Everything else (states, counts of periods,
 * frames written, played, dropped and silent per route, races) is compared
 * exactly.
 */
export const TIME_FIELDS: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /\bt=(\S+)/g, why: "RACE/EVT lines: getTime() when the record was made" },
  { pattern: /^STATS irq .*?\b(?:runs|deferred)=(\d+)/g, why: "handler runs: one per timer firing, so per wall time" },
  { pattern: /\blongest_(?:handler|latency|masked)=(\d+ us)/g, why: "measured with getTime()" },
  { pattern: /^STATS cpu (.*)$/g, why: "the CPU load meter: getTime() shares" },
  { pattern: /^STATS memory (.*)$/g, why: "JsVars: the emulator estimates (emulator/memory.ts), the interpreter counts" },
];

/** A line with every time-dependent field's value replaced by "*". */
export function maskTimeFields(line: string): string {
  let out = line;
  for (const f of TIME_FIELDS) {
    out = out.replace(new RegExp(f.pattern.source, f.pattern.flags), (whole: string, value: string) => whole.replace(value, "*"));
  }
  return out;
}

/** When a step runs: at once, at a BE's completed periods (and, for `full`, that FE's ring full), or when all is idle. */
export type StepWhen = "now" | { be: number; periods: number; full?: number } | "idle";

export interface RouteStep {
  when: StepWhen;
  /** Console commands, run together. */
  commands: string[];
}

export interface RouteScript {
  /** Run by the sequencer, in order. */
  steps: RouteStep[];
}

/** The route script for a board's first two FEs and BEs (see the header). */
export function routeScript(fes: string[], bes: string[]): RouteScript {
  const [a, b] = [JSON.stringify(fes[0]), JSON.stringify(fes[1])];
  const [x, y] = [JSON.stringify(bes[0]), JSON.stringify(bes[1])];
  return {
    steps: [
      { when: "now", commands: [`route(${a}, ${y}, true)`, `play(${a}, 440)`] },
      { when: { be: 1, periods: 10 }, commands: [`route(${a}, ${x}, true)`] },
      { when: { be: 1, periods: 20 }, commands: [`route(${a}, ${y}, false)`] },
      { when: { be: 0, periods: 12 }, commands: [`route(${b}, ${x}, true)`, `play(${b}, 660, 0.25)`] },
      { when: { be: 0, periods: 60, full: 0 }, commands: [`stop(${a})`] },
      { when: "idle", commands: ["stats()", "races()", "routes()"] },
    ],
  };
}

/**
 * The sequencer, one console line: a setInterval every millisecond that
 * runs the next step when its condition holds. A step found late (its BE
 * already past the count) prints "LATE step <n> ..." and runs anyway; the
 * end prints "SCRIPT done".
 */
export function sequencerLine(script: RouteScript): string {
  const conds = script.steps.map((s) => {
    if (s.when === "now") return "function(){return 1;}";
    if (s.when === "idle") {
      // Every FE closed, no BE started, the log ring printed.
      return `function(){var c=DPCM.card,i;for(i=0;i<c.fes.length;i++)if(c.fes[i].state!==${FeState.Closed})return 0;for(i=0;i<c.bes.length;i++)if(c.bes[i].state===${BeState.Start})return 0;return DPCM.ring.read===DPCM.ring.written?1:0;}`;
    }
    const be = `DPCM.card.bes[${s.when.be}]`;
    if (s.when.full === undefined) return `function(){var n=${be}.periods;return n<${s.when.periods}?0:n===${s.when.periods}?1:2;}`;
    const fe = `DPCM.card.fes[${s.when.full}]`;
    // The ring is full: the main loop's refill after the last completion has run.
    const full = `(function(f){var m=f.applPtr;for(var n=f.beClients.next;n!==f.beClients;n=n.next)if(n.owner.state===${LinkState.Running}&&n.owner.pos<m)m=n.owner.pos;return f.applPtr-m>=f.bufferFrames;})(${fe})`;
    return `function(){var n=${be}.periods;if(n<${s.when.periods})return 0;if(n>${s.when.periods})return 2;return ${full}?1:0;}`;
  });
  const runs = script.steps.map((s) => `function(){${s.commands.join(";")};}`);
  return (
    `SEQ={i:0,w:[${conds.join(",")}],r:[${runs.join(",")}]};` +
    `SEQ.iv=setInterval(function(){if(SEQ.i>=SEQ.w.length)return;var k=SEQ.w[SEQ.i]();if(!k)return;` +
    `if(k===2)print("LATE step "+(SEQ.i+1));SEQ.r[SEQ.i]();SEQ.i++;if(SEQ.i>=SEQ.w.length){clearInterval(SEQ.iv);print("SCRIPT done");}},1);undefined`
  );
}

/** What makes a real run disturbed by the host (see the header), one reason a line found. */
export function disturbances(lines: readonly string[]): string[] {
  return lines.filter((l) => /^(LATE |WARN |LOST )/.test(l) || /^EVT .*\bkind=xrun\b/.test(l));
}

export interface LineDifference {
  /** 1-based line number. */
  line: number;
  emulator: string | undefined;
  real: string | undefined;
}

/** Compare two transcripts line by line, time fields masked. */
export function compareTranscripts(emulator: readonly string[], real: readonly string[]): { compared: number; differences: LineDifference[] } {
  const n = Math.max(emulator.length, real.length);
  const differences: LineDifference[] = [];
  for (let i = 0; i < n; i++) {
    const e = emulator[i];
    const r = real[i];
    if (e === undefined || r === undefined || maskTimeFields(e) !== maskTimeFields(r)) differences.push({ line: i + 1, emulator: e, real: r });
  }
  return { compared: n, differences };
}

/** Lines of a transcript (the cleaned console text), the final partial line dropped. */
function lines(text: string): string[] {
  const l = text.split("\n");
  l.pop();
  return l;
}

/** The board's FE and BE names from its READY line. */
export function readyNames(text: string): { fes: string[]; bes: string[] } {
  const m = /^READY .* fes=(\S+) bes=(\S+) /m.exec(text);
  if (!m) throw new Error("no READY line");
  return { fes: m[1]!.split(","), bes: m[2]!.split(",") };
}

/**
 * selftest() then the script on the emulator, configured as the stock Linux build: BOARD
 * "LINUX", 27-byte JsVars, an x86 core's statement cost, its EXEC timer
 * tasks never firing (so the firmware falls back to setInterval, as on the
 * real build). Returns the
 * transcript from the READY line on.
 */
export function emulatorTranscript(bundlePath: string, limitSeconds = 10): string[] {
  // selftest() first, then the route script: the same lines the real run types.
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run npm run build first`);
  const { machine } = createGenericMachine({
    board: "LINUX",
    jsVarBlockSize: 27,
    flatThresholdBytes: 41,
    execTasksFire: false,
    // The Linux build on an x86 core, not a Pico: scenario 1's window, 172 statements here,
    // ran in 600 to 700 us on the real interpreter on this machine (real-races.ts).
    statementCostUs: 4,
  });
  const loaded = loadBundleFile(machine, bundlePath);
  if (!loaded.ok) throw new Error(`${bundlePath} failed to load: ${loaded.message}`);
  if (!machine.runUntilOutput(/^READY .*\n/m, 2)) throw new Error(`${bundlePath}: no READY within 2 virtual seconds`);
  const names = readyNames(machine.console.text());
  machine.console.type("selftest()");
  machine.console.type(sequencerLine(routeScript(names.fes, names.bes)));
  if (!machine.runUntilOutput(/^SCRIPT done\n/m, limitSeconds)) throw new Error(`the emulator did not finish the route script in ${limitSeconds} virtual seconds`);
  machine.runFor(0.01);
  const text = machine.console.text();
  return lines(text.slice(text.search(/^READY /m)));
}

export interface RealTranscript {
  lines: string[];
  /** Why the run is disturbed (empty: it is not). */
  disturbed: string[];
}

/**
 * selftest() then the script, once, on the real interpreter (`bin`), the
 * bundle run as a file, as it was built. Not booted from Storage: there the
 * Linux build keeps each function's code in its flash file and reads it
 * through a file each time (3,246 file opens in 1.5 s of an idle generic
 * board, strace), too slow for a 16 kHz stream; the flash test boots it
 * from Storage. Returns the transcript from READY on.
 */
export async function realTranscriptOnce(bin: string, bundlePath: string, timeoutMs = 20000): Promise<RealTranscript> {
  const session = new EspruinoSession({ path: bin, script: readFileSync(bundlePath, "utf8"), timeoutMs });
  try {
    await session.waitFor(/^READY .*\n/m, 5000);
    const names = readyNames(session.text());
    await session.command("selftest()", 10000);
    await session.command(sequencerLine(routeScript(names.fes, names.bes)));
    await session.waitFor(/^SCRIPT done\n/m, timeoutMs);
    await session.idle();
    const text = session.text();
    const l = lines(text.slice(text.search(/^READY /m)));
    return { lines: l, disturbed: disturbances(l) };
  } finally {
    await session.kill();
  }
}

/** Up to `attempts` real runs, until one is not disturbed by the host: that one, and every disturbed one's reasons. */
export async function realTranscript(
  bin: string,
  bundlePath: string,
  attempts = 3,
): Promise<{ run: RealTranscript; disturbedRuns: string[][] }> {
  const disturbedRuns: string[][] = [];
  for (let i = 0; ; i++) {
    const run = await realTranscriptOnce(bin, bundlePath);
    if (run.disturbed.length === 0 || i + 1 >= attempts) return { run, disturbedRuns };
    disturbedRuns.push(run.disturbed);
  }
}
