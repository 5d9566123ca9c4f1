// The race explorer's historical scenarios on the real interpreter, with the
// interrupt really preempting: the timer build (`espruino-timer`, whose EXEC
// timer tasks fire from a POSIX timer and run between two statements of the
// running JavaScript, as on a board) runs the generic bundle as flashed, and
// one run types the explorer's console lines (scripts/lib/explorer/) for a
// scenario, then fires the firmware's own interrupt entry once, from a
// one-shot timer task started at a chosen offset before the window line.
// Sweeping the offset moves where the interrupt lands in the window: the
// real-time counterpart of the explorer's boundary search.
//
// One run, in the interpreter (one console line does steps 2 to 6, so no
// console round trip sits between them):
//  1. the scenario's set-up lines, typed with the board's own timer task
//     firing (every half period), then SETTLE_MS of play;
//  2. the dry front end's application stops writing (the explorer's
//     dryLine) and the line busy-waits, preempted by the timer task, until
//     every running link of that FE has less than a period left;
//  3. the board's timer task is removed (its function, the firmware's
//     irqEntry, kept: `require("timer").list()` gives it) and the line waits
//     two more of the FE's periods: completions are overdue on every running
//     BE, so the interrupt, wherever it lands, finds the FE dry (the xrun);
//     the run is VALID only if no handler ran meanwhile and the FE is still
//     RUNNING (the explorer's set-up, which it enforces by holding the task);
//  4. `unsafe(true)` in unsafe mode, then `races()` (the counts before);
//  5. a one-shot EXEC task at `offsetUs` runs the firmware's irqEntry once
//     (wrapped to note getTime() as it starts: where it landed), and the
//     window line runs at once;
//  6. the board's timer task is added back with its interval;
//  7. after TAIL_MS (the main loop prints the log ring) `races()` again, and
//     the explorer's end-state check (start, pause and suspend counts
//     against the links) run at the prompt.
// The findings of a run are the RACE lines printed from the window on (kind
// and ctx, as the explorer reports them), the RACES counts' difference, and
// END lines (end-state problems).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EspruinoSession, REPO_ROOT } from "./real-espruino.ts";
import { BeState, FeState, LinkState } from "../../firmware/dpcm/dpcm.ts";
import { KIND_NAMES, RACE_KINDS } from "../../firmware/log.ts";

/** One historical scenario as console lines, front and back ends by the board's names. */
export interface RealScenario {
  id: number;
  key: string;
  /** Typed in order with the timer task firing. */
  setup: string[];
  /** Index of the front end whose application stops writing. */
  dryFe: number;
  /** The console line the interrupt is fired into. */
  window: string;
  /** Race kinds the unsafe search must find (any one). */
  expect: string[];
  /** Context the expected RACE line must report, or null. */
  expectCtx: "irq" | "main" | null;
}

/**
 * The explorer's historical scenarios (ids 1-4), with the generic board's
 * names. Read from the explorer's own definitions so the lines are the
 * same: scenario data files (`scenarios/*.json`, `$A $B $X $Y` for the
 * board's first two FEs and BEs) when the repository has them, else
 * scripts/lib/explorer/scenarios.ts.
 */
export async function historicalScenarios(fes: string[], bes: string[]): Promise<RealScenario[]> {
  const dir = join(REPO_ROOT, "scenarios");
  if (existsSync(dir)) {
    const names: Record<string, string> = { $A: fes[0]!, $B: fes[1]!, $X: bes[0]!, $Y: bes[1]! };
    const sub = (line: string): string => line.replace(/\$[ABXY]\b/g, (m) => JSON.stringify(names[m]));
    const out: RealScenario[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      const s = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
        id?: number;
        key: string;
        setup: string[];
        dry?: string;
        window: string;
        events?: string[];
        expect?: { unsafe?: { any?: string[]; ctx?: "irq" | "main" } | string };
      };
      if (typeof s.id !== "number" || s.id < 1 || s.id > 4) continue; // the four interrupt-only historical ones
      if (s.events && (s.events.length !== 1 || s.events[0] !== "irq")) continue;
      const unsafe = typeof s.expect?.unsafe === "object" ? s.expect.unsafe : {};
      out.push({
        id: s.id,
        key: s.key,
        setup: s.setup.map(sub),
        dryFe: s.dry === "$B" ? 1 : 0,
        window: sub(s.window),
        expect: unsafe.any ?? [],
        expectCtx: unsafe.ctx ?? null,
      });
    }
    return out.sort((a, b) => a.id - b.id);
  }
  const mod = (await import("./explorer/scenarios.ts")) as {
    SCENARIOS: ReadonlyArray<{
      id: number;
      key: string;
      expect: string[];
      expectCtx: "irq" | "main" | null;
      plan(fes: string[], bes: string[]): { setup: string[]; dryFe: number; window: string };
    }>;
  };
  return mod.SCENARIOS.map((s) => {
    const p = s.plan(fes, bes);
    return { id: s.id, key: s.key, setup: p.setup, dryFe: p.dryFe, window: p.window, expect: s.expect, expectCtx: s.expectCtx };
  });
}

export type RaceMode = "safe" | "unsafe";

/** Wall milliseconds of play after the set-up lines (the explorer's SETTLE_SECONDS is 0.05 virtual). */
export const SETTLE_MS = 50;
/** Wall milliseconds after the window: the main loop prints the log ring (the explorer's TAIL_SECONDS is 0.06). */
export const TAIL_MS = 60;
/** Longest wait for the dry FE's ring to play out, seconds (in the interpreter). */
const DRY_LIMIT_S = 1;

/** What one run did. */
export interface RealRaceRun {
  scenario: number;
  mode: RaceMode;
  /** Where the board's next firing was aimed: microseconds after the window's start. */
  leadUs: number;
  /** Whether the set-up held: the dry FE still RUNNING after the hold, and a firing caught to time the window from. */
  valid: boolean;
  /** The board's timer task interval, microseconds. */
  intervalUs: number;
  /** Microseconds from the window's start to the handler's first run, or null when it ran only after the window. */
  landUs: number | null;
  /** Microseconds the window line took (the handler's run included when it landed inside). */
  windowUs: number;
  /** The handler ran during the window (landed inside it; in safe mode possibly deferred to the end of a section). */
  inside: boolean;
  /** Handler runs deferred by a critical section during the window. */
  deferred: number;
  /** RACE records by kind from the window on (the RACES counts' difference). */
  races: Record<string, number>;
  /** The RACE lines printed from the window on. */
  raceLines: string[];
  /** The explorer's end-state problems, one a line. */
  endState: string[];
  /** Whether the scenario's expected finding (kind, and ctx when it names one) was seen. */
  expected: boolean;
  /** The console transcript of the run from the window line on. */
  transcript: string;
}

/** RACES line -> counts by kind. */
export function parseRaces(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/ ([a-z-]+)=(\d+)/g)) if (m[1] !== "total" && m[1] !== "log_capacity") out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * The in-interpreter part of a run, one console line typed after the
 * set-up lines: after SETTLE_MS it stops the dry FE's application, polls
 * (every millisecond, so the main loop still refills the other FE) until
 * every running link of the dry FE has at most one period left, then, in
 * one go: holds the handler off (irq.masked, so a firing only sets
 * pending) for as many periods as it takes to leave two completions with
 * no data overdue on every running BE (the explorer's set-up), unsafe(true)
 * in unsafe mode, races(), catches a firing of the board's task, waits so
 * that the next one comes `leadUs` into the window, unmasks and runs the
 * window line. It prints a WINDOW line: ok (1: the dry FE still RUNNING
 * after the hold, 2: a firing caught to time the window from), the task's
 * interval, where the handler first ran (microseconds after the window's
 * start; -1: not before the window ended), the window's length, handler
 * runs and deferred runs in it. After TAIL_MS: races(), the end-state
 * check, `teardown`, and "RUN done".
 */
export function runLine(s: RealScenario, mode: RaceMode, leadUs: number, teardown: string): string {
  const P = "RR.f.params.periodFrames";
  const go = [
    // unsafe(true) first: what it prints drains during the hold (the window must not wait on a full output buffer).
    ...(mode === "unsafe" ? ["unsafe(true)"] : []),
    // Hold the handler off: a firing only sets pending (irqEntry).
    `RR.q.masked=true;RR.q.pending=false;RR.w=getTime()`,
    `while(getTime()-RR.w<(m+2)*${P}/RR.f.params.rate){RR.x++;}`,
    `RR.st=RR.f.state;RR.ok=RR.st===${FeState.Running}?1:0`,
    // The race counts before the window, printed after it.
    `RR.c0=DPCM.ring.counts.join(",")`,
    // Catch a firing, then wait so that the next one comes leadUs into the window; when the
    // wait overran (the host descheduled the interpreter, and that firing came already), again.
    `for(RR.t=0;RR.t<20;RR.t++){RR.q.pending=false;RR.w=getTime();while(!RR.q.pending&&getTime()-RR.w<3*RR.I){RR.x++;}` +
      `if(!RR.q.pending)break;RR.q.pending=false;RR.w=getTime();while(getTime()-RR.w<RR.I-${(leadUs / 1e6).toFixed(6)}){RR.x++;}if(!RR.q.pending){RR.ok+=2;break;}}`,
    // Note when the handler first runs (the task's own run, or a run deferred to a section's end).
    `RR.q.handler=function(){if(RR.land<0)RR.land=getTime();RR.H();}`,
    `RR.h1=RR.q.handlerRuns;RR.d1=RR.q.deferredRuns;RR.q.pending=false;RR.q.masked=false;RR.w0=getTime()`,
    s.window,
    `RR.w1=getTime();RR.h2=RR.q.handlerRuns;RR.d1=RR.q.deferredRuns-RR.d1;RR.q.handler=RR.H`,
    `RR.done()`,
  ].join(";");
  const done =
    `print("WINDOW ok="+RR.ok+" interval_us="+Math.round(RR.I*1e6)+" land_us="+(RR.land<0?-1:Math.round((RR.land-RR.w0)*1e6))+` +
    `" window_us="+Math.round((RR.w1-RR.w0)*1e6)+" runs="+(RR.h2-RR.h1)+" deferred="+RR.d1+" fe_state="+RR.st+" near_ms="+Math.round(RR.dt*1000)+" syncs="+RR.t+" counts="+RR.c0);` +
    `setTimeout(function(){races();${END_STATE_LINE};${teardown};print("RUN done")},${TAIL_MS})`;
  const setup = [
    `RR={f:DPCM.card.fes[${s.dryFe}],q:DPCM.irq,H:DPCM.irq.handler,I:0,t:0,L:null,w:0,g:0,x:0,ok:0,st:-1,dt:0,land:-1,w0:0,w1:0,h1:0,h2:0,d1:0}`,
    // The board's timer task interval (list() is indexed by task id, and may miss a task while it is being fired).
    `RR.g=getTime();while(!RR.I&&getTime()-RR.g<1){RR.L=require("timer").list();for(var k in RR.L)if(RR.L[k].type==="EXEC")RR.I=RR.L[k].interval/1000;}`,
    // -1 until every running link of the FE has at most one period left; then 1 if one has a period, else 0.
    `RR.near=function(){var f=RR.f,r=0,m=0;if(f.state!==${FeState.Running})return -1;for(var n=f.beClients.next;n!==f.beClients&&n.owner;n=n.next){if(n.owner.state!==${LinkState.Running})continue;r++;var left=f.applPtr-n.owner.pos;if(left>${P})return -1;if(left>0)m=1;}return r>0?m:-1;}`,
    `RR.go=function(m){${go}}`,
    `RR.done=function(){${done}}`,
    `DPCM.player.voices[${s.dryFe}].tone=null;RR.g=getTime()`,
    `RR.iv=setInterval(function(){var m=RR.near();if(m<0&&getTime()-RR.g<${DRY_LIMIT_S})return;clearInterval(RR.iv);RR.dt=getTime()-RR.g;if(m<0){RR.st=RR.f.state;RR.done();}else RR.go(m);},1)`,
  ].join(";");
  return `setTimeout(function(){${setup}},${SETTLE_MS})`;
}

/** The explorer's end-state check (runner.ts endStateProblems), typed at the prompt: one END line a problem. */
export const END_STATE_LINE =
  'DPCM.card.bes.forEach(function(be){var r=0,p=0,s=0,n=be.feClients.next,i=0;for(;n!==be.feClients&&!n.poison&&i<1000;n=n.next,i++){if(!n.owner)continue;' +
  `if(n.owner.state===${LinkState.Running})r++;else if(n.owner.state===${LinkState.Paused})p++;else if(n.owner.state===${LinkState.Suspended})s++;}` +
  'if(be.startCount!==r)print("END "+be.name+": start count "+be.startCount+", running links "+r);' +
  'if(be.pauseCount!==p)print("END "+be.name+": pause count "+be.pauseCount+", paused links "+p);' +
  'if(be.suspendCount!==s)print("END "+be.name+": suspend count "+be.suspendCount+", suspended links "+s);' +
  `if(be.state===${BeState.Start}&&r===0)print("END "+be.name+": started with no running link (no STOP)");` +
  `if(be.state!==${BeState.Start}&&r>0)print("END "+be.name+": "+r+" running link(s) but the BE is not started");})`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Race kinds every unsafe run reports whatever the interrupt does: the unguarded list and count changes themselves. */
export const UNSAFE_BASELINE_KINDS = ["unmasked-list-change", "unmasked-count-change"];

/**
 * One interpreter (the timer build) running the generic bundle, for many
 * runs: each run sets a scenario up from a stopped card, and is torn down
 * after (both FEs stopped, every route off, unsafe off). A run that leaves
 * anything the teardown may not undo (a finding beyond the unsafe baseline,
 * an end-state problem) retires the interpreter: the next run starts a
 * fresh one, as the explorer starts a fresh machine for every schedule.
 */
export class RaceRig {
  private session: EspruinoSession | null = null;
  private fes: string[] = [];
  private bes: string[] = [];
  /** Interpreters started so far. */
  starts = 0;

  constructor(
    readonly bin: string,
    readonly bundle: string,
  ) {}

  private async fresh(): Promise<EspruinoSession> {
    await this.close();
    const session = new EspruinoSession({ path: this.bin, script: this.bundle, timeoutMs: 600000 });
    this.session = session;
    this.starts++;
    const ready = await session.waitFor(/^READY .* fes=(\S+) bes=(\S+) .*\n/m, 5000);
    this.fes = ready[1]!.split(",");
    this.bes = ready[2]!.split(",");
    // No echo of the long typed lines: the Linux build's console output drains slowly, and a
    // print in the window (OK route ...) waiting on a full buffer would hold the interrupt off.
    const mark = session.mark();
    session.type('echo(false);print("ECHO off")');
    await session.waitFor(/^ECHO off\n/m, 5000, mark);
    return session;
  }

  /** The board's FE and BE names (after the first run). */
  get names(): { fes: string[]; bes: string[] } {
    return { fes: this.fes, bes: this.bes };
  }

  /** Run `s` once in `mode`, the board's next firing aimed `leadUs` into the window. */
  async run(s: RealScenario, mode: RaceMode, leadUs: number): Promise<RealRaceRun> {
    const session = this.session && !this.session.exitedAlready ? this.session : await this.fresh();
    const mark = session.mark();
    // One write for the whole run: each console round trip costs tens of
    // milliseconds on the Linux build (its input thread polls stdin).
    const teardown = ["unsafe(false)", ...this.fes.map((f) => `stop(${JSON.stringify(f)})`)];
    for (const f of this.fes) for (const b of this.bes) teardown.push(`route(${JSON.stringify(f)}, ${JSON.stringify(b)}, false)`);
    session.type([...s.setup, runLine(s, mode, leadUs, teardown.join(";"))].join("\n"));
    await session.waitFor(/^RUN done\n/m, 10000, mark);
    const text = session.since(mark);
    const bad = /^(?:ERROR|Uncaught) .*$/m.exec(text);
    if (bad) {
      await this.close();
      throw new Error(`scenario ${s.id} on the real interpreter: ${bad[0]}`);
    }
    const w = /^WINDOW ok=(\d+) interval_us=(\d+) land_us=(-?\d+) window_us=(\d+) runs=(\d+) deferred=(\d+) fe_state=(-?\d+) near_ms=(\d+) syncs=(\d+) counts=(\S*)$/m.exec(text);
    const after = [...text.matchAll(/^RACES .*$/gm)].pop()?.[0];
    if (!w || !after) {
      await this.close();
      throw new Error(`scenario ${s.id} on the real interpreter: no WINDOW line or RACES line:\n${text.slice(-1500)}`);
    }
    const races: Record<string, number> = {};
    const reached = w[1] !== "0"; // 0: the FE ran dry before the window could be set up: nothing ran
    if (reached) {
      const before = w[10]!.split(",").map(Number);
      const a = parseRaces(after);
      for (let k = 0; k < RACE_KINDS; k++) {
        const n = (a[KIND_NAMES[k]!] ?? 0) - (before[k] ?? 0);
        if (n > 0) races[KIND_NAMES[k]!] = n;
      }
    }
    const windowText = text.slice(text.indexOf(w[0]) + w[0].length, text.lastIndexOf(after));
    const raceLines = windowText.split("\n").filter((l) => /^RACE /.test(l));
    const endState = text.slice(text.lastIndexOf(after)).split("\n").filter((l) => l.startsWith("END ")).map((l) => l.slice(4));
    const expected = raceLines.some((l) => {
      const k = /kind=(\S+)/.exec(l)?.[1];
      const ctx = /ctx=(\S+)/.exec(l)?.[1];
      return k !== undefined && s.expect.includes(k) && (s.expectCtx === null || ctx === s.expectCtx);
    });
    const land = Number(w[3]);
    const run: RealRaceRun = {
      scenario: s.id,
      mode,
      leadUs,
      valid: w[1] === "3",
      intervalUs: Number(w[2]),
      landUs: land < 0 ? null : land,
      windowUs: Number(w[4]),
      inside: Number(w[5]) > 0,
      deferred: Number(w[6]),
      races,
      raceLines,
      endState,
      expected,
      transcript: text,
    };
    // Anything beyond the unsafe baseline may leave the card in a state the teardown does not undo.
    const beyond = Object.keys(races).some((k) => !UNSAFE_BASELINE_KINDS.includes(k));
    if (beyond || endState.length > 0) await this.close();
    return run;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.kill();
  }
}
