// The race explorer's historical scenarios on the real interpreter, with the
// interrupt really preempting (issue 8, part 3). The timer build
// (`espruino-timer`: EXEC timer tasks fire from a POSIX timer and run at the
// next statement boundary of the running JavaScript, as on a board) runs
// the generic bundle as built, and each run types the explorer's console
// lines for a scenario (read from its own definitions, see
// historicalScenarios), with the interrupt's phase aimed in microseconds.
// What a run does, and why, is in batchLine (the interpreter side) and
// sweep (the aims). In short: the set-up lines with the board's timer task
// firing on its own; the dry FE's application stops writing; once its
// links are nearly played out the handler is held off (irq.masked: a
// firing only sets pending) until two completions with no data are overdue,
// as the explorer holds its timer task; then the window line, with one
// interrupt in it, from either
//  - the board's own timer task, its next firing aimed `lead` microseconds
//    into the window (a firing is caught first, then the wait is timed), or
//  - ANCHORED: a one-shot EXEC task running the board's interrupt entry,
//    started when the window makes its k-th log record (in unsafe mode the
//    unguarded list and count changes record themselves), `lead`
//    microseconds after it: the window's own pace, which the host varies by
//    more than a race's width, no longer moves the aim.
// The findings of a run are the log ring's records from the window on (kind
// and context, as the explorer reports them), the race counts' difference,
// and the explorer's end-state check.
//
// Measured on this build (see test/real-races.test.ts and npm run bench):
// the interrupt lands only at some statement boundaries, and a firing that
// comes while a function is being entered waits for the next firing
// (src/jsparse.c: entering a function sets execInfo.execute afresh, and the
// EXEC_RUN_INTERRUPT_JS flag is lost; the queued task runs at the next
// firing or when the main loop goes idle). About a third of the firings
// aimed into a window land in it.

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
  /** Completions with no data left overdue on every running BE before the window (the explorer's hold). */
  overdue: number;
  /** The console line the interrupt is fired into. */
  window: string;
  /** Race kinds the unsafe search must find (any one). */
  expect: string[];
  /** Context the expected RACE line must report, or null. */
  expectCtx: "irq" | "main" | null;
}

/**
 * The explorer's historical scenarios (ids 1-4, interrupt only) with a
 * board's names, read from the explorer's own scenario files (scenarios/*.json,
 * `$A $B $X $Y` for the board's first two FEs and BEs; format in
 * ARCHITECTURE.md, "Scenario files"), so the lines typed are the same.
 */
export async function historicalScenarios(fes: string[], bes: string[], dir = join(REPO_ROOT, "scenarios")): Promise<RealScenario[]> {
  if (!existsSync(dir)) throw new Error(`no scenario files: ${dir} is missing`);
  const names: Record<string, string> = { $A: fes[0]!, $B: fes[1]!, $X: bes[0]!, $Y: bes[1]! };
  const sub = (line: string): string => line.replace(/\$[ABXY]\b/g, (m) => JSON.stringify(names[m]));
  const out: RealScenario[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const s = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      id?: number;
      key: string;
      setup: string[];
      dry?: string | null;
      overdue?: number;
      window: string;
      events?: string[];
      expect?: { unsafe?: { any?: string[]; ctx?: "irq" | "main" } | string };
    };
    // The historical four: numbered 1 to 4, a dry FE, the period interrupt the only event.
    if (typeof s.id !== "number" || s.id < 1 || s.id > 4 || !s.dry) continue;
    if (s.events && (s.events.length !== 1 || s.events[0] !== "irq")) continue;
    const unsafe = typeof s.expect?.unsafe === "object" ? s.expect.unsafe : {};
    out.push({
      id: s.id,
      key: s.key,
      setup: s.setup.map(sub),
      dryFe: s.dry === "$B" ? 1 : 0,
      overdue: s.overdue ?? 2,
      window: sub(s.window),
      expect: unsafe.any ?? [],
      expectCtx: unsafe.ctx ?? null,
    });
  }
  return out.sort((a, b) => a.id - b.id);
}

export type RaceMode = "safe" | "unsafe";

/** Wall milliseconds of play after the set-up lines (the explorer's SETTLE_SECONDS is 0.05 virtual). */
export const SETTLE_MS = 30;
/** Wall milliseconds after the window: the main loop prints the log ring (the explorer's TAIL_SECONDS is 0.06). */
export const TAIL_MS = 30;
/** Longest wait for the dry FE's ring to play out, seconds (in the interpreter). */
const DRY_LIMIT_S = 1;

/** What one run did. */
export interface RealRaceRun {
  scenario: number;
  mode: RaceMode;
  /** Where the interrupt was aimed: microseconds after the window's start, or (anchored) after the anchor record. */
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
  /** Which of the window's records the one-shot was started from (0-based), or -1: the board's own firing aimed `leadUs` in. */
  anchor: number;
  /** Anchored runs: microseconds from the window's start to the record that started the one-shot, or null. */
  anchorUs: number | null;
  /** RACE records by kind from the window on (the RACES counts' difference). */
  races: Record<string, number>;
  /** The races recorded from the window on: "RACE kind=<kind> ctx=<irq|main> t_us=<us after the window's start>". */
  raceLines: string[];
  /**
   * Microseconds from the window's start to each record the main loop made in
   * it (ctx=main RACE lines: in unsafe mode, the unguarded list and count
   * changes), in the order made: where the window touches shared state.
   */
  mainRecordsUs: number[];
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
 * A BATCH of runs of one scenario, one console line: for each aim in turn
 * (a CYCLE, all in the interpreter, so no console round trip sits in it):
 *  1. the scenario's set-up lines, then SETTLE_MS of play;
 *  2. the dry FE's application stops writing, and a poll every millisecond
 *     (the main loop still refills the other FE) waits until every running
 *     link of the dry FE has at most one period left;
 *  3. then in one go: unsafe(true) in unsafe mode; the handler held off
 *     (irq.masked, so a firing only sets pending) for as many periods as
 *     leave two completions with no data overdue on every running BE (the
 *     explorer's set-up); a firing of the board's task caught, and a wait so
 *     that the next one comes the aim into the window; unmasked; the window
 *     line; a WINDOW line: ok (1: the dry FE still RUNNING after the hold,
 *     2: a firing caught to time the window from), the task's interval,
 *     where the handler first ran (microseconds after the window's start;
 *     -1: not before it ended), the window's length, handler runs and
 *     deferred runs in it, the race counts before it;
 *  4. TAIL_MS later: a REC line for each record the log ring took since the
 *     window began (kind index, context, microseconds after the start),
 *     races(), the end-state check (END lines), `teardown`, "RUN done".
 * A cycle whose counts moved beyond the unsafe baseline ends the batch (the
 * teardown may not undo what a race did); the last prints "BATCH done".
 */
export function batchLine(s: RealScenario, mode: RaceMode, leadsUs: number[], teardown: string, anchors: number[] = []): string {
  const P = "RR.f.params.periodFrames";
  const go = [
    // unsafe(true) first: what it prints drains during the hold (the window must not wait on a full output buffer).
    ...(mode === "unsafe" ? ["unsafe(true)"] : []),
    // Hold the handler off: a firing only sets pending (irqEntry).
    `RR.q.masked=true;RR.q.pending=false;RR.w=getTime()`,
    `while(getTime()-RR.w<(m+${s.overdue})*${P}/RR.f.params.rate){RR.x++;}`,
    `RR.st=RR.f.state;RR.ok=RR.st===${FeState.Running}?1:0`,
    `RR.c0=DPCM.ring.counts.join(",");RR.r0=DPCM.ring.written`,
    // The board's timer task interval now (a stream's rate may have shortened it). list() is
    // indexed by task id, and may miss a task while it is being fired.
    `RB.I=0;RR.w=getTime();while(!RB.I&&getTime()-RR.w<0.1){RB.T=require("timer").list();for(var k in RB.T)if(RB.T[k].type==="EXEC"){RB.I=RB.T[k].interval/1000;RB.E=RB.T[k].fn;}}`,
    // Catch a firing, then wait so that the next one comes the aim into the window; when the
    // wait overran (the host descheduled the interpreter, and that firing came already), again.
    `for(RR.t=0;RR.t<20;RR.t++){RR.q.pending=false;RR.w=getTime();while(!RR.q.pending&&getTime()-RR.w<3*RB.I){RR.x++;}` +
      `if(!RR.q.pending)break;RR.q.pending=false;RR.w=getTime();while(getTime()-RR.w<RB.I-RR.lead/1e6){RR.x++;}if(!RR.q.pending){RR.ok+=2;break;}}`,
    // Note when the handler first runs (the task's own run, or a run deferred to a section's end).
    `RR.q.handler=function(){if(RR.land<0)RR.land=getTime();RR.H();}`,
    // Anchored: the (A+1)-th record the window makes starts a one-shot EXEC task running the
    // board's interrupt entry the aim after it (the log ring's counter, watched through an accessor).
    `if(RB.A[RB.i]>=0){RR.wv=DPCM.ring.written;Object.defineProperty(DPCM.ring,"written",{configurable:true,enumerable:true,get:function(){return RR.wv;},` +
      `set:function(v){RR.wv=v;if(++RR.n===RB.A[RB.i]+1){RR.at=getTime();require("timer").add({type:"EXEC",fn:RB.E,time:RB.L[RB.i]/1000});}}});}`,
    `RR.h1=RR.q.handlerRuns;RR.d1=RR.q.deferredRuns;RR.q.pending=false;RR.q.masked=false;RR.w0=getTime()`,
    s.window,
    `RR.w1=getTime();RR.h2=RR.q.handlerRuns;RR.d1=RR.q.deferredRuns-RR.d1`,
    `if(RB.A[RB.i]>=0){delete DPCM.ring.written;DPCM.ring.written=RR.wv;}`,
    `RB.done()`,
  ].join(";");
  const done = [
    `print("WINDOW ok="+RR.ok+" interval_us="+Math.round(RB.I*1e6)+" land_us="+(RR.land<0?-1:Math.round((RR.land-RR.w0)*1e6))+` +
      `" window_us="+Math.round((RR.w1-RR.w0)*1e6)+" runs="+(RR.h2-RR.h1)+" deferred="+RR.d1+" anchor_us="+(RR.at<0?-1:Math.round((RR.at-RR.w0)*1e6))+" counts="+RR.c0)`,
    `setTimeout(RB.tail,${TAIL_MS})`,
  ].join(";");
  const baselineKinds = JSON.stringify(UNSAFE_BASELINE_KINDS.map((k) => KIND_NAMES.indexOf(k)));
  const tail = [
    `RR.q.handler=RR.H;var g=DPCM.ring,i,j`,
    `if(RR.ok)for(i=RR.r0;i<g.written;i++){j=i%g.kind.length;print("REC kind="+g.kind[j]+" ctx="+g.ctx[j]+" t_us="+Math.round((g.time[j]-RR.w0)*1e6));}`,
    `var c1=g.counts.join(",")`,
    "races()",
    END_STATE_LINE,
    teardown,
    `print("RUN done")`,
    // Only the unguarded changes themselves (unsafe mode's baseline) may have moved the counts.
    `var a=RR.c0.split(","),b=c1.split(","),beyond=false;if(RR.ok)for(i=0;i<${RACE_KINDS};i++)if(a[i]!==b[i]&&${baselineKinds}.indexOf(i)<0)beyond=true`,
    `RB.i++;if(beyond||RB.i>=RB.L.length){print("BATCH done");return;}setTimeout(RB.cycle,1)`,
  ].join(";");
  const cycle = [
    `RR={f:DPCM.card.fes[${s.dryFe}],q:DPCM.irq,H:DPCM.irq.handler,t:0,w:0,g:0,x:0,ok:0,st:-1,land:-1,w0:0,w1:0,h1:0,h2:0,d1:0,r0:0,c0:"",n:0,at:-1,wv:0,lead:RB.A[RB.i]>=0?3000:RB.L[RB.i]}`,
    ...s.setup,
    `setTimeout(RB.start,${SETTLE_MS})`,
  ].join(";");
  const start = [
    `DPCM.player.voices[${s.dryFe}].tone=null;RR.g=getTime()`,
    `RR.iv=setInterval(function(){var m=RB.near();if(m<0&&getTime()-RR.g<${DRY_LIMIT_S})return;clearInterval(RR.iv);if(m<0){RR.st=RR.f.state;RB.done();}else RB.go(m);},1)`,
  ].join(";");
  return [
    `RB={L:${JSON.stringify(leadsUs)},A:${JSON.stringify(leadsUs.map((_, i) => anchors[i] ?? -1))},i:0,I:0,T:null,E:null}`,
    // -1 until every running link of the FE has at most one period left; then 1 if one has a period, else 0.
    `RB.near=function(){var f=RR.f,r=0,m=0;if(f.state!==${FeState.Running})return -1;for(var n=f.beClients.next;n!==f.beClients&&n.owner;n=n.next){if(n.owner.state!==${LinkState.Running})continue;r++;var left=f.applPtr-n.owner.pos;if(left>${P})return -1;if(left>0)m=1;}return r>0?m:-1;}`,
    `RB.go=function(m){${go}}`,
    `RB.done=function(){${done}}`,
    `RB.tail=function(){${tail}}`,
    `RB.start=function(){${start}}`,
    `RB.cycle=function(){${cycle}}`,
    `RB.cycle()`,
  ].join(";");
}

/** One cycle's output (from its set-up to before its "RUN done") as a run. */
function parseRun(s: RealScenario, mode: RaceMode, leadUs: number, text: string, anchor: number): RealRaceRun {
  const w = /^WINDOW ok=(\d+) interval_us=(\d+) land_us=(-?\d+) window_us=(\d+) runs=(\d+) deferred=(\d+) anchor_us=(-?\d+) counts=(\S*)$/m.exec(text);
  const after = /^RACES .*$/m.exec(text)?.[0];
  if (!w || !after) throw new Error(`scenario ${s.id} on the real interpreter: no WINDOW line or RACES line:\n${text.slice(-1500)}`);
  const races: Record<string, number> = {};
  if (w[1] !== "0") {
    // 0: the FE ran dry before the window could be set up: nothing ran.
    const before = w[8]!.split(",").map(Number);
    const a = parseRaces(after);
    for (let k = 0; k < RACE_KINDS; k++) {
      const n = (a[KIND_NAMES[k]!] ?? 0) - (before[k] ?? 0);
      if (n > 0) races[KIND_NAMES[k]!] = n;
    }
  }
  const records = [...text.matchAll(/^REC kind=(\d+) ctx=(\d) t_us=(-?\d+)$/gm)].map((m) => ({
    kind: KIND_NAMES[Number(m[1])] ?? "?",
    race: Number(m[1]) < RACE_KINDS,
    ctx: m[2] === "1" ? "irq" : "main",
    us: Number(m[3]),
  }));
  const raceLines = records.filter((r) => r.race).map((r) => `RACE kind=${r.kind} ctx=${r.ctx} t_us=${r.us}`);
  const windowUs = Number(w[4]);
  const mainRecordsUs = records.filter((r) => r.race && r.ctx === "main" && r.us >= 0 && r.us <= windowUs).map((r) => r.us);
  const expected = records.some((r) => r.race && s.expect.includes(r.kind) && (s.expectCtx === null || r.ctx === s.expectCtx));
  const endState = text.split("\n").filter((l) => l.startsWith("END ")).map((l) => l.slice(4));
  const land = Number(w[3]);
  const anchorUs = Number(w[7]);
  return {
    scenario: s.id,
    mode,
    leadUs,
    valid: w[1] === "3",
    intervalUs: Number(w[2]),
    landUs: land < 0 ? null : land,
    windowUs,
    inside: Number(w[5]) > 0,
    deferred: Number(w[6]),
    anchor,
    anchorUs: anchorUs < 0 ? null : anchorUs,
    races,
    raceLines,
    mainRecordsUs,
    endState,
    expected,
    transcript: text,
  };
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

  /**
   * Run `s` in `mode` once per aim in `leadsUs` (microseconds into the
   * window), in batches (see batchLine): a batch that ends early, on a race
   * beyond the unsafe baseline or an end-state problem, retires the
   * interpreter, and the rest goes to a fresh one. `stop` ends the runs
   * early when it returns true for a run.
   */
  async runs(
    s: RealScenario,
    mode: RaceMode,
    leadsUs: number[],
    stop?: (run: RealRaceRun) => boolean,
    anchors: number[] = [],
  ): Promise<RealRaceRun[]> {
    const out: RealRaceRun[] = [];
    while (out.length < leadsUs.length) {
      const session = this.session && !this.session.exitedAlready ? this.session : await this.fresh();
      const mark = session.mark();
      const teardown = ["unsafe(false)", ...this.fes.map((f) => `stop(${JSON.stringify(f)})`)];
      for (const f of this.fes) for (const b of this.bes) teardown.push(`route(${JSON.stringify(f)}, ${JSON.stringify(b)}, false)`);
      const leads = leadsUs.slice(out.length);
      session.type(batchLine(s, mode, leads, teardown.join(";"), anchors.slice(out.length)));
      await session.waitFor(/^BATCH done\n/m, 5000 + leads.length * 1000, mark);
      const text = session.since(mark);
      const bad = /^(?:ERROR|Uncaught) .*$/m.exec(text);
      if (bad) {
        await this.close();
        throw new Error(`scenario ${s.id} on the real interpreter: ${bad[0]}`);
      }
      const pieces = text.split(/^RUN done\n/m);
      pieces.pop();
      for (let i = 0; i < pieces.length; i++) {
        const run = parseRun(s, mode, leads[i]!, pieces[i]!, anchors[out.length] ?? -1);
        out.push(run);
        if (stop?.(run)) return out;
      }
      // The batch ended early (a race beyond the baseline): a fresh interpreter for the rest.
      if (pieces.length < leads.length) await this.close();
    }
    return out;
  }

  /** Run `s` once in `mode`, the board's next firing aimed `leadUs` into the window. */
  async run(s: RealScenario, mode: RaceMode, leadUs: number): Promise<RealRaceRun> {
    return (await this.runs(s, mode, [leadUs]))[0]!;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.kill();
  }
}

/** What a sweep of one scenario in one mode found. */
export interface SweepResult {
  scenario: number;
  key: string;
  mode: RaceMode;
  /** The window's length with no interrupt in it (median of the baseline runs), microseconds. */
  windowUs: number;
  /** Where the window touches shared state unguarded: median microseconds from its start of each record the main loop makes in it (unsafe mode). */
  anchorsUs: number[];
  /**
   * The moment each swept run aimed its interrupt at, microseconds after the
   * window's start (anchored runs: that run's anchor record plus its aim):
   * give them to the other mode's sweep to aim the same.
   */
  phasesUs: number[];
  runs: RealRaceRun[];
  /** Runs whose set-up held. */
  valid: number;
  /** Of those, runs whose handler ran inside the window. */
  inside: number;
  /** Runs with the scenario's expected finding (unsafe mode). */
  expected: number;
  /** Per finding kind (RACE kinds, "end-state"): the runs that showed it. */
  kinds: Record<string, number>;
  /** Handler runs deferred by a critical section, over all runs. */
  deferred: number;
  /** Interpreters started. */
  starts: number;
  seconds: number;
}

export interface SweepOptions {
  /** Swept runs after the baseline (ignored when `phasesUs` is given). */
  runs: number;
  /** Aim the board's own firing at these moments (another sweep's phasesUs) instead. */
  phasesUs?: number[];
  /** Stop at the first run with the expected finding. */
  untilExpected?: boolean;
  /** Anchor on every record of the window in turn (the default), or only on the last one. */
  anchors?: "all" | "last";
  /** Aims from this many microseconds after the anchor record (default AIM_FROM_US) ... */
  fromUs?: number;
  /** ... to this many (default AIM_TO_US). */
  toUs?: number;
  /** Called after each run. */
  onRun?: (run: RealRaceRun) => void;
}

/** Baseline runs per sweep: the board's firing aimed 3 ms in, after the window. */
export const BASELINE_RUNS = 3;
/** Aims after an anchor record, microseconds: from ... */
export const AIM_FROM_US = 0;
/** ... to (a one-shot lands 60 to 120 us after it is started on this build). */
export const AIM_TO_US = 100;

/** The i-th point in [0, 1) of a sequence whose every prefix covers it evenly (bit reversal). */
function spread(i: number): number {
  let x = 0;
  let f = 0.5;
  for (let k = i + 1; k > 0; k >>= 1, f /= 2) if (k & 1) x += f;
  return x;
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/**
 * The phase sweep of one scenario in one mode on `rig`. First BASELINE_RUNS
 * runs with the board's firing aimed 3 ms in (after the window's end): the
 * window's length and, in unsafe mode, the records the main loop makes in
 * it (the unguarded list and count changes: where every historical race
 * lives). Then `runs` ANCHORED runs: the k-th such record starts a one-shot
 * EXEC task that runs the board's interrupt entry, the aim (from `fromUs` to
 * `toUs`, spread so that any first runs cover the range evenly) after it;
 * k is every record in turn, or the last one. Anchoring on the record
 * rather than on the window's start takes out the window's own pace, which
 * the host varies by more than the race's width. With no records (safe
 * mode) the board's own firing is aimed in time instead: at `phasesUs`
 * (an unsafe sweep's) when given, else across the whole window. Where the
 * handler really landed is in each run (landUs).
 */
export async function sweep(rig: RaceRig, s: RealScenario, mode: RaceMode, options: SweepOptions): Promise<SweepResult> {
  const started = Date.now();
  const startsBefore = rig.starts;
  const runs: RealRaceRun[] = [];
  const record = (r: RealRaceRun): void => {
    runs.push(r);
    options.onRun?.(r);
  };
  const baseline = await rig.runs(s, mode, Array.from({ length: BASELINE_RUNS }, () => 3000));
  baseline.forEach(record);
  const clean = baseline.filter((r) => r.valid && !r.inside);
  const windowUs = clean.length ? median(clean.map((r) => r.windowUs)) : 1000;
  // Per record index, the median time, over the clean runs with the usual number of records.
  const counts = clean.map((r) => r.mainRecordsUs.length);
  const usual = counts.length ? median(counts) : 0;
  const withUsual = clean.filter((r) => r.mainRecordsUs.length === usual);
  const anchorsUs = Array.from({ length: usual }, (_, k) => median(withUsual.map((r) => r.mainRecordsUs[k]!)));
  const from = options.fromUs ?? AIM_FROM_US;
  const to = options.toUs ?? AIM_TO_US;
  let leads: number[];
  let anchors: number[];
  if (options.phasesUs) {
    leads = options.phasesUs.map((p) => Math.max(50, Math.round(p)));
    anchors = leads.map(() => -1);
  } else if (usual > 0) {
    const pick = options.anchors === "last" ? [usual - 1] : Array.from({ length: usual }, (_, k) => k);
    anchors = Array.from({ length: options.runs }, (_, i) => pick[i % pick.length]!);
    leads = Array.from({ length: options.runs }, (_, i) => Math.round(from + spread(Math.floor(i / pick.length)) * (to - from)));
  } else {
    leads = Array.from({ length: options.runs }, (_, i) => Math.max(50, Math.round((0.05 + spread(i)) * windowUs)));
    anchors = leads.map(() => -1);
  }
  const swept = await rig.runs(
    s,
    mode,
    leads,
    (r) => {
      record(r);
      return options.untilExpected === true && r.expected;
    },
    anchors,
  );
  const phasesUs = swept.map((r) => (r.anchor >= 0 ? (r.anchorUs ?? anchorsUs[r.anchor] ?? 0) + r.leadUs : r.leadUs));
  const kinds: Record<string, number> = {};
  for (const r of runs) {
    for (const k of Object.keys(r.races)) kinds[k] = (kinds[k] ?? 0) + 1;
    if (r.endState.length) kinds["end-state"] = (kinds["end-state"] ?? 0) + 1;
  }
  return {
    scenario: s.id,
    key: s.key,
    mode,
    windowUs,
    anchorsUs,
    phasesUs,
    runs,
    valid: runs.filter((r) => r.valid).length,
    inside: runs.filter((r) => r.valid && r.inside).length,
    expected: runs.filter((r) => r.expected).length,
    kinds,
    deferred: runs.reduce((n, r) => n + r.deferred, 0),
    starts: rig.starts - startsBefore,
    seconds: (Date.now() - started) / 1000,
  };
}
