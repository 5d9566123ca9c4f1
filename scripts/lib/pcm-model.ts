// Model-based test of the PCM state machines from the outside (issue 9):
// random sequences of console commands typed at the generic board's bundle
// (dist/generic.js) in the emulator, checked against a small reference model
// of ALSA's rules written here, never imported from the firmware. Shared by
// test/pcm-model.test.ts (a few dozen runs in npm test) and
// scripts/check-pcm.ts (npm run check:pcm, as many runs as asked).
//
// The reference model (sound/core/pcm_native.c and sound/soc/soc-pcm.c as
// read in torvalds/linux; issue 9 names the functions):
//   START only from PREPARED; PAUSE_PUSH only from RUNNING; PAUSE_RELEASE
//   only from PAUSED (snd_pcm_pre_pause); SUSPEND from PREPARED, RUNNING,
//   XRUN, DRAINING, PAUSED, remembering that state, -EBUSY otherwise
//   (snd_pcm_pre_suspend); RESUME only from SUSPENDED, back to exactly that
//   state (snd_pcm_pre_resume, 1225675ca74c); drain refused when CLOSED or
//   SUSPENDED, PAUSED is released first, RUNNING -> DRAINING, XRUN -> SETUP,
//   SETUP and DRAINING unchanged, PREPARED -> DRAINING or SETUP by whether
//   data was written (snd_pcm_drain, snd_pcm_do_drain_init); the xrun ioctl:
//   XRUN -> no-op, RUNNING -> XRUN, else -EBADFD (snd_pcm_xrun). A BE
//   serves an FE only at the FE's params: its hw_params fixup (bt: 16 kHz
//   only) or the params another FE already runs it at must equal them, and an
//   open FE's params never change (dpcm_be_dai_hw_params: there is no
//   resampler). The application side is the firmware's player: play() opens
//   a closed FE at the rate its routes call for (a busy BE's rate, else bt's
//   16 kHz, else 8 kHz) with 128-frame periods and starts it; on an open FE
//   it keeps the rate, retunes RUNNING, PAUSED and SUSPENDED streams without
//   touching their state and (re)starts the others.
//
// Things that happen on their own. The model is a set of possible worlds
// (every FE's state, suspended-from state, tone, rate and period, and the
// routing switches). Two kinds of spontaneous move are allowed:
//   interrupt (any instant, even in the middle of a console command), for an
//     FE with an output: an underrun RUNNING -> XRUN; the end of a drain
//     DRAINING -> SETUP;
//   main loop (between console lines: the player's service tick): xrun
//     recovery XRUN -> RUNNING; a timed tone's last period RUNNING ->
//     DRAINING; a drained stream closed SETUP -> CLOSED (when a tone played).
// Before a command the model's worlds are closed under both kinds (only the
// interrupt's when the previous command ran in the same console line) and
// filtered by what the firmware shows now (DPCM.card, read from the host by a
// function the console line calls: no firmware statement runs meanwhile);
// the command's OK or ERROR must be what at least one of them predicts,
// closed under interrupt moves; the state read back after it must match at
// least one resulting world. Anything else fails the run.
//
// Properties checked on every run (safe mode):
//   (a) no RACE or LOST line, and races() total 0 at the end; no watchdog
//       WARN either, unless the interrupt was really overloaded then (the
//       emulator dropped timer task firings: mixing two FEs in JavaScript at
//       16 kHz or more costs more than a period on this board);
//   (b) a refused command changed nothing: the stats() and routes() output
//       taken in the same console line just before and just after it are
//       equal apart from time-dependent fields (BE periods, played.*,
//       silent.*, the irq and memory lines); compared whenever no FE changed
//       state or counted an xrun meanwhile (an interrupt move explains the
//       change otherwise; those are counted as skipped);
//   (c) exact frame accounting per session (open to close) and per route,
//       from stats() and the xrun events (see checkSession);
//   (d) an open FE's rate= and period= never change until it closes;
//   (e) no Uncaught error and no hardware fault;
//   (f) at every quiet point, the DPCM paths and counts as soc-pcm keeps
//       them (see pathsWrong).
// The seven firmware bugs this test found when it was written are fixed;
// each has a regression test in test/pcm-model-regressions.test.ts.

import { existsSync } from "node:fs";
import fc from "fast-check";
import { createGenericMachine } from "../../emulator/boards/generic.ts";
import { loadBundleFile } from "../../emulator/load-bundle.ts";
import type { Machine } from "../../emulator/machine.ts";
// Names only, for decoding DPCM.card's numbers; the rules above are this file's own.
import { BE_STATE_NAMES, FE_STATE_NAMES, LINK_STATE_NAMES } from "../../firmware/dpcm/dpcm.ts";
import { KIND_NAMES } from "../../firmware/log.ts";

export const BUNDLE = "dist/generic.js";

// ---- The board, as its documentation gives it (boards/generic/board.ts, help()) ----

export const FE_NAMES = ["media", "alert"];
export const BE_NAMES = ["line", "bt"];
const LINE = 0;
const BT = 1;
const BOARD_RATE = 8000;
const BOARD_PERIOD = 128;
const LINE_RATES = [8000, 16000, 32000, 48000];
const BT_RATE = 16000;
const MIN_PERIOD = 16;
const MAX_PERIOD = 4096;
/** The generic board serves no period shorter than this (the default Board.minPeriodMs), ms. */
const MIN_PERIOD_MS = 4;

/** Left out, a period keeps the board's period time (16 ms) at `rate`, in even frames. */
function defaultPeriod(rate: number): number {
  return 2 * Math.round((BOARD_PERIOD * rate) / BOARD_RATE / 2);
}
/** The generic board's timer task interval, ms (half its 16 ms period). */
const HANDLER_MS = 8;


// ---- The reference model ---------------------------------------------------------

export type FeStateName = "CLOSED" | "SETUP" | "PREPARED" | "RUNNING" | "XRUN" | "DRAINING" | "PAUSED" | "SUSPENDED";
type Tone = "none" | "endless" | "timed";

interface FeModel {
  state: FeStateName;
  /** The state SUSPEND left (runtime->suspended_state); "" unless SUSPENDED. */
  from: FeStateName | "";
  /** What the player plays on it: a timed tone drains and closes on its own. */
  tone: Tone;
  /** Hz and frames, fixed from open to close; 0 while closed. */
  rate: number;
  period: number;
}

/** One possible state of the whole card. */
export interface World {
  fe: FeModel[];
  /** Routing switches, fe * BE_NAMES.length + be. */
  on: boolean[];
}

type Arg = string | number | boolean;

/** One console command (or time passing), with its arguments exactly as typed; invalid ones included. */
export type Op =
  | { kind: "route"; fe: Arg; be: Arg; on: Arg }
  | { kind: "play"; fe: Arg; hz: Arg; seconds?: Arg }
  | { kind: "open"; fe: Arg; rate: Arg; period?: Arg }
  | { kind: "pause"; fe: Arg; on: Arg }
  | { kind: "stop" | "suspend" | "resume" | "drain" | "xrun"; fe: Arg }
  | { kind: "wait"; seconds: number }
  | { kind: "chain"; ops: ConsoleOp[] };

/** A single console command. */
export type ConsoleOp = Exclude<Op, { kind: "wait" } | { kind: "chain" }>;

interface Outcome {
  ok: boolean;
  /** For a refusal: why, as a kind for the figures ("pause:state", "open:args", ...). */
  why: string;
  next: World;
}

export function initialWorld(): World {
  const fe = FE_NAMES.map((): FeModel => ({ state: "CLOSED", from: "", tone: "none", rate: 0, period: 0 }));
  return { fe, on: new Array(FE_NAMES.length * BE_NAMES.length).fill(false) };
}

function copy(w: World): World {
  return { fe: w.fe.map((f) => ({ ...f })), on: [...w.on] };
}

function key(w: World): string {
  return JSON.stringify(w);
}

function dedupe(ws: World[]): World[] {
  const seen = new Set<string>();
  return ws.filter((w) => {
    const k = key(w);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function lit(a: Arg): string {
  return typeof a === "string" ? JSON.stringify(a) : String(a);
}

/** The console line for an op ("wait(0.016)" for time passing). */
export function opText(op: Op): string {
  switch (op.kind) {
    case "wait":
      return `wait(${op.seconds})`;
    case "chain":
      return op.ops.map(opText).join(";");
    case "route":
      return `route(${lit(op.fe)},${lit(op.be)},${lit(op.on)})`;
    case "play":
      return `play(${lit(op.fe)},${lit(op.hz)}${op.seconds === undefined ? "" : "," + lit(op.seconds)})`;
    case "open":
      return `open(${lit(op.fe)},${lit(op.rate)}${op.period === undefined ? "" : "," + lit(op.period)})`;
    case "pause":
      return `pause(${lit(op.fe)},${lit(op.on)})`;
    default:
      return `${op.kind}(${lit(op.fe)})`;
  }
}

function feIndex(a: Arg): number {
  return typeof a === "string" ? FE_NAMES.indexOf(a) : -1;
}

function beIndex(a: Arg): number {
  return typeof a === "string" ? BE_NAMES.indexOf(a) : -1;
}

function isOpen(f: FeModel): boolean {
  return f.state !== "CLOSED";
}

/** The other FE when it holds BE b open (so b runs at its params), else null. */
function otherUser(w: World, f: number, b: number): FeModel | null {
  for (let g = 0; g < w.fe.length; g++) {
    if (g !== f && isOpen(w.fe[g]) && w.on[g * BE_NAMES.length + b]) return w.fe[g];
  }
  return null;
}

/** Why BE b cannot serve FE f at these params, or "" (dpcm_be_dai_hw_params with the BE's fixup; no resampler). */
function serveRefusal(w: World, f: number, b: number, rate: number, period: number): string {
  const other = otherUser(w, f, b);
  if (other) return other.rate === rate && other.period === period ? "" : "be-busy";
  if (b === LINE) return LINE_RATES.includes(rate) ? "" : "be-rate";
  return rate === BT_RATE ? "" : "be-rate";
}

/** Why FE f cannot open at these params with its current routes, or "". */
function openRefusal(w: World, f: number, rate: number, period: number): string {
  let routed = 0;
  for (let b = 0; b < BE_NAMES.length; b++) {
    if (!w.on[f * BE_NAMES.length + b]) continue;
    routed++;
    const why = serveRefusal(w, f, b, rate, period);
    if (why) return why;
  }
  return routed ? "" : "no-route";
}

/** The rate play() opens a closed FE at: what its routed BEs fix (a busy BE's rate, bt's 16 kHz), else the board's; -1 if they disagree. */
function playRate(w: World, f: number): number {
  let rate = 0;
  for (let b = 0; b < BE_NAMES.length; b++) {
    if (!w.on[f * BE_NAMES.length + b]) continue;
    const other = otherUser(w, f, b);
    const fixed = other ? other.rate : b === BT ? BT_RATE : 0;
    if (!fixed) continue;
    if (rate && fixed !== rate) return -1;
    rate = fixed;
  }
  return rate || BOARD_RATE;
}

const SUSPENDABLE: FeStateName[] = ["PREPARED", "RUNNING", "XRUN", "DRAINING", "PAUSED"];

/** What a command does in world w: one outcome, or two where the model cannot know (drain of PREPARED). */
export function apply(w: World, op: ConsoleOp): Outcome[] {
  const refuse = (why: string): Outcome[] => [{ ok: false, why: `${op.kind}:${why}`, next: w }];
  const accept = (change: (n: World) => void): Outcome[] => {
    const n = copy(w);
    change(n);
    return [{ ok: true, why: "", next: n }];
  };
  const f = feIndex(op.fe);
  if (f < 0) return refuse("args");
  const fe = w.fe[f];
  const to = (state: FeStateName) => (n: World) => {
    n.fe[f].state = state;
    if (state !== "SUSPENDED") n.fe[f].from = "";
  };
  switch (op.kind) {
    case "route": {
      const b = beIndex(op.be);
      if (b < 0 || typeof op.on !== "boolean") return refuse("args");
      const i = f * BE_NAMES.length + b;
      if (w.on[i] !== op.on && isOpen(fe) && op.on) {
        const why = serveRefusal(w, f, b, fe.rate, fe.period);
        if (why) return refuse(why);
      }
      return accept((n) => {
        n.on[i] = op.on as boolean;
      });
    }
    case "play": {
      if (typeof op.hz !== "number" || !(op.hz > 0)) return refuse("args");
      if (op.seconds !== undefined && (typeof op.seconds !== "number" || !(op.seconds > 0))) return refuse("args");
      const tone: Tone = op.seconds === undefined ? "endless" : "timed";
      const hz = op.hz;
      if (!isOpen(fe)) {
        const rate = playRate(w, f);
        if (rate < 0) return refuse("rates-differ");
        if (!(hz < rate / 2)) return refuse("frequency");
        const why = openRefusal(w, f, rate, defaultPeriod(rate));
        if (why) return refuse(why);
        return accept((n) => {
          n.fe[f] = { state: "RUNNING", from: "", tone, rate, period: defaultPeriod(rate) };
        });
      }
      if (!(hz < fe.rate / 2)) return refuse("frequency");
      const keep = fe.state === "RUNNING" || fe.state === "PAUSED" || fe.state === "SUSPENDED";
      return accept((n) => {
        n.fe[f].tone = tone;
        if (!keep) to("RUNNING")(n);
      });
    }
    case "open": {
      if (typeof op.rate !== "number" || !Number.isInteger(op.rate) || !(op.rate > 0)) return refuse("args");
      if (op.period !== undefined && (typeof op.period !== "number" || !Number.isInteger(op.period) || op.period <= 0)) return refuse("args");
      if (isOpen(fe)) return refuse("already-open");
      const rate = op.rate;
      const period = op.period === undefined ? defaultPeriod(rate) : (op.period as number);
      if (period < MIN_PERIOD || period > MAX_PERIOD || period % 2 !== 0) return refuse("args");
      // A period-time constraint (ALSA's PERIOD_TIME): shorter periods are refused.
      if ((period / rate) * 1000 < MIN_PERIOD_MS) return refuse("period-time");
      const why = openRefusal(w, f, rate, period);
      if (why) return refuse(why);
      return accept((n) => {
        n.fe[f] = { state: "SETUP", from: "", tone: "none", rate, period };
      });
    }
    case "stop":
      return accept((n) => {
        n.fe[f] = { state: "CLOSED", from: "", tone: "none", rate: 0, period: 0 };
      });
    case "pause": {
      if (typeof op.on !== "boolean") return refuse("args");
      if (op.on) return fe.state === "RUNNING" ? accept(to("PAUSED")) : refuse("state");
      return fe.state === "PAUSED" ? accept(to("RUNNING")) : refuse("state");
    }
    case "suspend":
      if (!SUSPENDABLE.includes(fe.state)) return refuse("state");
      return accept((n) => {
        n.fe[f].from = fe.state;
        n.fe[f].state = "SUSPENDED";
      });
    case "resume":
      if (fe.state !== "SUSPENDED" || fe.from === "") return refuse("state");
      return accept(to(fe.from));
    case "drain":
      switch (fe.state) {
        case "CLOSED":
        case "SUSPENDED":
          return refuse("state");
        case "PREPARED":
          return [...accept(to("DRAINING")), ...accept(to("SETUP"))];
        case "RUNNING":
        case "PAUSED":
          return accept(to("DRAINING"));
        case "XRUN":
          return accept(to("SETUP"));
        default:
          return accept(() => {});
      }
    case "xrun":
      if (fe.state === "XRUN") return accept(() => {});
      return fe.state === "RUNNING" ? accept(to("XRUN")) : refuse("state");
  }
}

/** Whether FE f has an output (a routed BE, hence a link): only an output's periods can underrun or end a drain. */
function hasOutput(w: World, f: number): boolean {
  return BE_NAMES.some((_, b) => w.on[f * BE_NAMES.length + b]);
}

/** Spontaneous moves the interrupt may make at any instant: an underrun, the end of a drain (both need an output). */
function interruptMoves(w: World): World[] {
  const out: World[] = [];
  w.fe.forEach((fe, f) => {
    const move = (state: FeStateName) => {
      const n = copy(w);
      n.fe[f].state = state;
      out.push(n);
    };
    if (fe.state === "RUNNING" && hasOutput(w, f)) move("XRUN");
    if (fe.state === "DRAINING" && hasOutput(w, f)) move("SETUP");
  });
  return out;
}

/** Spontaneous moves of the player's service tick (main loop, between console lines). */
function serviceMoves(w: World): World[] {
  const out: World[] = [];
  w.fe.forEach((fe, f) => {
    const n = copy(w);
    // An xrun'd timed tone recovers, or (its last period written already) closes.
    if (fe.state === "XRUN" && fe.tone === "timed") {
      const closed = copy(w);
      closed.fe[f] = { state: "CLOSED", from: "", tone: "none", rate: 0, period: 0 };
      out.push(closed);
    }
    if (fe.state === "XRUN" && fe.tone !== "none") n.fe[f].state = "RUNNING";
    else if (fe.state === "RUNNING" && fe.tone === "timed") n.fe[f].state = "DRAINING";
    else if (fe.state === "SETUP" && fe.tone !== "none") n.fe[f] = { state: "CLOSED", from: "", tone: "none", rate: 0, period: 0 };
    else return;
    out.push(n);
  });
  return out;
}

function closure(ws: World[], moves: (w: World) => World[]): World[] {
  const all = new Map<string, World>();
  const todo = [...ws];
  while (todo.length) {
    const w = todo.pop()!;
    const k = key(w);
    if (all.has(k)) continue;
    all.set(k, w);
    todo.push(...moves(w));
  }
  return [...all.values()];
}


// ---- What the firmware shows ---------------------------------------------------------

interface FeView {
  state: string;
  from: string;
  rate: number;
  period: number;
  xruns: number;
}

interface BeView {
  state: string;
  startCount: number;
  pauseCount: number;
  suspendCount: number;
}

/** The card as the host reads it from DPCM.card: no firmware statement runs, so no time passes. */
export interface Obs {
  t: number;
  fe: FeView[];
  on: boolean[];
  be: BeView[];
  /** Links in use: fe index, be index, link state name. */
  links: Array<{ fe: number; be: number; state: string }>;
  /** Drains ended so far (the log's drained count). */
  drained: number;
}

/** Whether world w is what obs shows (FE `except` not compared). */
function matches(w: World, o: Obs, except = -1): boolean {
  for (let f = 0; f < w.fe.length; f++) {
    if (f === except) continue;
    const m = w.fe[f];
    const v = o.fe[f];
    if (m.state !== v.state) return false;
    if (m.state === "SUSPENDED" && m.from !== v.from) return false;
    if (m.state !== "CLOSED" && (m.rate !== v.rate || m.period !== v.period)) return false;
  }
  return w.on.every((on, i) => on === o.on[i]);
}

/** What each link of an FE in this state must be (soc-pcm: a running FE's BEs run, a paused one's are paused...). */
function linkStateFor(state: string): string {
  if (state === "RUNNING" || state === "DRAINING") return "RUNNING";
  if (state === "PAUSED") return "PAUSED";
  if (state === "SUSPENDED") return "SUSPENDED";
  return "IDLE";
}

/**
 * (f) The DPCM paths and the BE counts, read at a quiet point: an open FE
 * is linked to exactly the BEs routed to it, a closed one to none
 * (dpcm_add_paths/dpcm_prune_paths); every link is in the state its FE's
 * state asks; each BE's start, pause and suspend counts are the numbers of
 * its links running, paused and suspended (be_start, be_pause), and the BE
 * runs (START) exactly when its start count is above 0. "" or what is wrong.
 */
function pathsWrong(o: Obs, skip: ReadonlySet<number> = new Set()): string {
  return pathsCheck(o, skip).message;
}

/** pathsWrong, with the FE whose links disagree with its state (-1 for a BE count). */
function pathsCheck(o: Obs, skip: ReadonlySet<number>): { fe: number; message: string } {
  const bad = (fe: number, message: string) => ({ fe, message });
  for (let f = 0; f < o.fe.length; f++) {
    if (skip.has(f)) continue;
    for (let b = 0; b < BE_NAMES.length; b++) {
      const linked = o.links.filter((l) => l.fe === f && l.be === b);
      const want = o.fe[f].state !== "CLOSED" && o.on[f * BE_NAMES.length + b] ? 1 : 0;
      const route = `${FE_NAMES[f]}>${BE_NAMES[b]}`;
      if (linked.length !== want) return bad(f, `${route}: ${linked.length} links for ${FE_NAMES[f]} ${o.fe[f].state} with the route ${want ? "on" : "off"}`);
      if (want && linked[0].state !== linkStateFor(o.fe[f].state)) return bad(f, `${route}: link ${linked[0].state} for ${FE_NAMES[f]} ${o.fe[f].state}`);
    }
  }
  for (let b = 0; b < BE_NAMES.length; b++) {
    const be = o.be[b];
    const count = (state: string) => o.links.filter((l) => l.be === b && l.state === state).length;
    const [run, pause, susp] = [count("RUNNING"), count("PAUSED"), count("SUSPENDED")];
    if (be.startCount !== run || be.pauseCount !== pause || be.suspendCount !== susp) {
      return bad(-1, `${BE_NAMES[b]}: start/pause/suspend counts ${be.startCount}/${be.pauseCount}/${be.suspendCount}, links running/paused/suspended ${run}/${pause}/${susp}`);
    }
    if ((be.state === "START") !== run > 0) return bad(-1, `${BE_NAMES[b]}: state ${be.state} with ${run} links running`);
  }
  return bad(-1, "");
}

function describeWorld(w: World): string {
  const fes = w.fe.map((f, i) => {
    let s = `${FE_NAMES[i]}=${f.state}`;
    if (f.state === "SUSPENDED") s += `(from ${f.from})`;
    if (f.state !== "CLOSED") s += `@${f.rate}/${f.period}` + (f.tone === "none" ? "" : ` ${f.tone}`);
    return s;
  });
  const on = w.on.map((v, i) => (v ? `${FE_NAMES[Math.floor(i / BE_NAMES.length)]}>${BE_NAMES[i % BE_NAMES.length]}` : "")).filter(Boolean);
  return `${fes.join(" ")} routes[${on.join(",")}]`;
}

function describeObs(o: Obs): string {
  const fes = o.fe.map((v, i) => {
    let s = `${FE_NAMES[i]}=${v.state}`;
    if (v.state === "SUSPENDED") s += `(from ${v.from})`;
    if (v.state !== "CLOSED") s += `@${v.rate}/${v.period}`;
    return s;
  });
  const on = o.on.map((v, i) => (v ? `${FE_NAMES[Math.floor(i / BE_NAMES.length)]}>${BE_NAMES[i % BE_NAMES.length]}` : "")).filter(Boolean);
  return `${fes.join(" ")} routes[${on.join(",")}]`;
}

/** One stats() + routes() print, parsed. */
interface Snapshot {
  lines: string[];
  be: Map<string, Map<string, string>>;
  fe: Map<string, Map<string, string>>;
}

function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of line.split(" ")) {
    const eq = part.indexOf("=");
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

function parseSnapshot(lines: string[]): Snapshot {
  const be = new Map<string, Map<string, string>>();
  const fe = new Map<string, Map<string, string>>();
  for (const l of lines) {
    if (l.startsWith("STATS be=")) {
      const f = fields(l);
      be.set(f.get("be")!, f);
    } else if (l.startsWith("STATS fe=")) {
      const f = fields(l);
      fe.set(f.get("fe")!, f);
    }
  }
  return { lines, be, fe };
}

function num(m: Map<string, string> | undefined, k: string): number {
  const v = m?.get(k);
  if (v === undefined) throw new PcmModelFailure(`stats(): no field ${k}`);
  return Number(v);
}

/**
 * The part of stats() and routes() a refused command must leave as it was:
 * without the fields that move with time (a BE's periods, played.* and
 * silent.* counted by the interrupt, the irq and memory lines). A BE that
 * is not open reads the same whatever its history: NEW reads as CLOSE (NEW
 * only says it never was open, and a refused open that got as far as
 * starting a BE up leaves it CLOSE, as soc-pcm.c's dpcm_be_dai_shutdown
 * does after a failed hw_params), and its rate= (the last hw_params it
 * was given, kept like the kernel's be->dpcm[].hw_params) is left out.
 */
function stable(s: Snapshot): string[] {
  return s.lines
    .filter((l) => !l.startsWith("STATS irq ") && !l.startsWith("STATS memory "))
    .map((l) => {
      if (!l.startsWith("STATS be=")) return l;
      let t = l.replace(/ periods=\d+/, "").replace(/ (played|silent)\.\w+=\d+/g, "").replace(/ state=NEW /, " state=CLOSE ");
      if (/ state=CLOSE /.test(t)) t = t.replace(/ rate=\d+/, " rate=-");
      return t;
    });
}

// ---- The figures of a run or many --------------------------------------------------------

export class Figures {
  runs = 0;
  commands = 0;
  accepted = 0;
  refused = 0;
  waits = 0;
  virtualSeconds = 0;
  refusals = new Map<string, number>();
  /** Refused commands whose stats()/routes() were compared before and after. */
  unchangedChecked = 0;
  /** Refused commands during which an interrupt move changed an FE: not comparable. */
  unchangedSkipped = 0;
  /** Sessions (open to close) checked, by how each route was linked. */
  routesChecked = new Map<string, number>();
  xrunEvents = 0;
  xrunsInjected = 0;
  drainedEvents = 0;

  /** FE states seen at the quiet points (before each command, after each wait), by name. */
  states = new Map<string, number>();
  /** Commands accepted, by command. */
  accepts = new Map<string, number>();

  /**
   * Watchdog warnings while the interrupt was overloaded (the emulator dropped
   * timer task firings): true alarms, not failures. Mixing two FEs in
   * JavaScript at 16 kHz or more costs more than a period on the generic board.
   */
  overloadWarnings = 0;
  countState(state: string): void {
    this.states.set(state, (this.states.get(state) ?? 0) + 1);
  }
  countAccept(kind: string): void {
    this.accepts.set(kind, (this.accepts.get(kind) ?? 0) + 1);
  }
  countRefusal(kind: string): void {
    this.refusals.set(kind, (this.refusals.get(kind) ?? 0) + 1);
  }
  countRoute(status: string): void {
    this.routesChecked.set(status, (this.routesChecked.get(status) ?? 0) + 1);
  }
}

export class PcmModelFailure extends Error {}

// ---- Frame accounting ------------------------------------------------------------------

type RouteStatus = "unlinked" | "throughout" | "joined" | "left" | "mixed";

interface RouteCounters {
  played: number;
  dropped: number;
  silent: number;
}

/** One FE from open to close, and how each of its routes was linked meanwhile. */
interface Session {
  fe: number;
  openedAt: number;
  closedAt: number;
  rate: number;
  period: number;
  base: RouteCounters[];
  status: RouteStatus[];
  /** written= when a route joined (an upper bound of the FE's hw_ptr then). */
  writtenAtJoin: number[];
  final: RouteCounters[] | null;
  written: number;
}

function counters(s: Snapshot, fe: number): RouteCounters[] {
  const name = FE_NAMES[fe];
  return BE_NAMES.map((b) => {
    const m = s.be.get(b);
    return { played: num(m, `played.${name}`), dropped: num(m, `dropped.${name}`), silent: num(m, `silent.${name}`) };
  });
}

interface XrunEvent {
  t: number;
  fe: string;
  n: number;
}

// ---- The rig: one emulated board per run ------------------------------------------------

/** How an interleaving failed: the message, with the console lines typed so far. */
function failure(rig: PcmRig, message: string): PcmModelFailure {
  const tail = rig.output.filter((l) => !/^(STATS |ROUTES? |@@)/.test(l)).slice(-15).join("\n");
  return new PcmModelFailure(`${message}\n-- console lines typed (virtual seconds after READY):\n${rig.typed.join("\n")}\n-- last lines the board printed (stats() and routes() left out):\n${tail}`);
}

/** The host function a console line calls to have the card read at that point. */
const OBS = "__pcmObserve";

/** One generic board running dist/generic.js, its model, and the checks. */
export class PcmRig {
  readonly machine: Machine;
  readonly readyAt: number;
  readonly figures: Figures;
  worlds: World[] = [initialWorld()];
  /** Every line the board printed. */
  readonly output: string[] = [];
  /** Every command typed, as "<t> <command>" relative to READY. */
  readonly typed: string[] = [];
  private readonly card: {
    fes: Array<{ index: number; state: number; suspendedState: number; params: { rate: number; periodFrames: number }; xruns: number }>;
    bes: Array<{ index: number; state: number; startCount: number; pauseCount: number; suspendCount: number }>;
    switches: Uint8Array;
    links: { items: Array<{ inUse: boolean; state: number; fe: { index: number }; be: { index: number } }> };
  };
  private readonly sessions: Session[] = [];
  private readonly open: Array<Session | null> = FE_NAMES.map(() => null);
  /** A session whose FE was seen closed, waiting for a stats() printed while it is. */
  private readonly closing: Array<Session | null> = FE_NAMES.map(() => null);
  private readonly xruns: XrunEvent[] = [];
  private captured: Obs[] = [];
  private readonly ring: { counts: Int32Array };
  /** The emulator's dropped timer task firings, sampled at each collect (for overloaded()). */
  private readonly dropped: Array<{ t: number; n: number }> = [];
  /** The card as last read at a quiet point. */
  private lastObs: Obs | null = null;

  constructor(figures: Figures, bundle = BUNDLE) {
    this.figures = figures;
    const { machine } = createGenericMachine({ console: { echo: false, printUndefined: false } });
    this.machine = machine;
    const loaded = loadBundleFile(machine, bundle);
    if (!loaded.ok) throw new Error(`${bundle} failed to load: ${loaded.message}`);
    if (!machine.runUntilOutput(/^READY /m, 2)) throw new Error(`${bundle}: no READY within 2 virtual seconds`);
    this.readyAt = machine.now();
    this.collect(machine.console.takeNew());
    const dpcm = machine.global.DPCM as { card: PcmRig["card"]; ring: PcmRig["ring"] };
    this.card = dpcm.card;
    this.ring = dpcm.ring;
    machine.global[OBS] = (slot: number) => {
      this.captured[slot] = this.observe();
    };
    figures.runs++;
  }

  observe(): Obs {
    return {
      t: this.machine.now(),
      fe: this.card.fes.map((fe) => ({
        state: FE_STATE_NAMES[fe.state],
        from: FE_STATE_NAMES[fe.suspendedState],
        rate: fe.params.rate,
        period: fe.params.periodFrames,
        xruns: fe.xruns,
      })),
      on: Array.from(this.card.switches, (v) => v === 1),
      be: this.card.bes.map((be) => ({ state: BE_STATE_NAMES[be.state], startCount: be.startCount, pauseCount: be.pauseCount, suspendCount: be.suspendCount })),
      links: this.card.links.items
        .filter((l) => l.inUse)
        .map((l) => ({ fe: l.fe.index, be: l.be.index, state: LINK_STATE_NAMES[l.state] })),
      drained: this.ring.counts[KIND_NAMES.indexOf("drained")],
    };
  }

  private stamp(): string {
    return (this.machine.now() - this.readyAt).toFixed(4);
  }

  /** New console output: (a) and (e) on every line; xrun events kept for (c). */
  private collect(text: string): string[] {
    this.dropped.push({ t: this.machine.now(), n: this.machine.stats.droppedFirings });
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (const l of lines) {
      this.output.push(l);
      if (/^(RACE|WARN|LOST) /.test(l) && !this.trueAlarm(l)) throw failure(this, `(a) a detector reported on a legal sequence: ${l}`);
      if (/^Uncaught/.test(l)) throw failure(this, `(e) ${l}`);
      const x = /^EVT t=(\S+) kind=xrun ctx=\S+ fe=(\S+) .* n=(\d+)$/.exec(l);
      if (x) {
        this.xruns.push({ t: Number(x[1]), fe: x[2], n: Number(x[3]) });
        this.figures.xrunEvents++;
      }
      if (/^EVT .*kind=drained /.test(l)) this.figures.drainedEvents++;
    }
    if (this.machine.errors.length) throw failure(this, `(e) uncaught: ${this.machine.errors[0].message}`);
    if (this.machine.faults.length) throw failure(this, `(e) hardware fault: ${this.machine.faults[0].register}: ${this.machine.faults[0].message}`);
    return lines;
  }

  /** Whether a watchdog line is a true alarm: the interrupt was overloaded (counted, not a failure). */
  private trueAlarm(line: string): boolean {
    if (/^WARN (be=\S+ started but no period completed|irq: the interrupt handler has not run) /.test(line) && this.overloaded()) {
      // The watchdog is right: the interrupt could not keep up (see Figures.overloadWarnings).
      this.figures.overloadWarnings++;
      return true;
    }
    return false;
  }

  /** (f) at a quiet point: every link in the state its FE asks, every BE's counts those of its links. */
  private checkPaths(obs: Obs, where: string): void {
    const wrong = pathsCheck(obs, new Set());
    if (wrong.message) throw failure(this, `(f) ${where}: ${wrong.message}`);
  }

  /**
   * Whether the interrupt was overloaded lately: the emulator dropped timer
   * task firings (due while the previous run had not finished) in the last
   * 0.1 s of virtual time. Then the watchdog's warnings are true ones.
   */
  private overloaded(): boolean {
    const now = this.machine.now();
    const dropped = this.machine.stats.droppedFirings;
    const before = [...this.dropped].reverse().find((d) => d.t <= now - 0.1) ?? this.dropped[0];
    return before !== undefined && dropped > before.n;
  }

  /** Type one line and run it now; returns what it printed (and what the main loop printed first). */
  private typeLine(line: string): string[] {
    this.machine.console.type(line);
    this.machine.runFor(0);
    return this.collect(this.machine.console.takeNew());
  }

  /** Close the model under every spontaneous move and keep the worlds the firmware shows. */
  private settle(obs: Obs, where: string, service = true): void {
    this.checkPaths(obs, where);
    this.lastObs = obs;
    obs.fe.forEach((v) => this.figures.countState(v.state));
    const reachable = closure(this.worlds, (w) => [...interruptMoves(w), ...(service ? serviceMoves(w) : [])]);
    const kept = reachable.filter((w) => matches(w, obs));
    if (!kept.length) {
      throw failure(
        this,
        `${where}: the firmware shows ${describeObs(obs)}, which no allowed spontaneous move reaches from ${this.worlds.map(describeWorld).join(" | ")}`,
      );
    }
    this.worlds = kept;
  }

  /** Let `seconds` of virtual time pass. */
  wait(seconds: number): void {
    this.typed.push(`# ${this.stamp()} wait ${seconds} s`);
    this.machine.runFor(seconds);
    this.collect(this.machine.console.takeNew());
    this.figures.waits++;
    const obs = this.observe();
    this.settle(obs, `after wait(${seconds})`);
    this.noteClosures(obs);
  }

  /**
   * Type one console command between two stats()+routes() prints and check
   * it against the model. The card is read at the start and at the end of
   * that console line (by a host function it calls): between the two only
   * the interrupt can act, never the main loop's service tick.
   */
  command(op: ConsoleOp): void {
    this.line([op]);
  }

  /**
   * Several commands typed in one console line (as "a;b"): the player's
   * service tick cannot run between them, so states it would leave at once
   * (XRUN before the recovery, a tone's last period before its drain) meet
   * the next command. Each command is checked as command() checks one.
   */
  line(ops: ConsoleOp[]): void {
    const texts = ops.map(opText);
    this.typed.push(`${this.stamp()} ${texts.join(";")}`);
    this.captured = [];
    const lines = this.typeLine(
      texts.map((t, k) => `${OBS}(${2 * k});print("@@A");stats();routes();print("@@B");${t};print("@@C");stats();routes();print("@@D");${OBS}(${2 * k + 1})`).join(";"),
    );
    let from = 0;
    ops.forEach((op, k) => {
      const obs0 = this.captured[2 * k];
      const obs1 = this.captured[2 * k + 1];
      const at = (m: string, after: number) => lines.indexOf(m, after);
      const a = at("@@A", from);
      const b = at("@@B", a);
      const c = at("@@C", b);
      const d = at("@@D", c);
      if (!obs0 || !obs1 || a < 0 || b < 0 || c < 0 || d < 0) throw failure(this, `${texts[k]}: the console line did not complete`);
      from = d + 1;
      this.check(op, texts[k], obs0, obs1, lines.slice(b + 1, c), parseSnapshot(lines.slice(a + 1, b)), parseSnapshot(lines.slice(c + 1, d)), k > 0);
    });
  }

  /** One command of a console line: `chained` when the previous command ran in the same line (no service tick between). */
  private check(op: ConsoleOp, text: string, obs0: Obs, obs1: Obs, result: string[], before: Snapshot, after: Snapshot, chained: boolean): void {
    this.settle(obs0, `before ${text}`, !chained);
    this.noteClosures(obs0);
    const pre = closure(this.worlds, interruptMoves);
    const outcomes = pre.flatMap((w) => apply(w, op));
    if (result.length !== 1) throw failure(this, `${text}: expected one OK or ERROR line, got ${JSON.stringify(result)}`);
    const ok = result[0].startsWith(`OK ${op.kind}`);
    if (!ok && !result[0].startsWith(`ERROR ${op.kind}: `)) throw failure(this, `${text}: neither OK nor ERROR: ${result[0]}`);
    this.figures.commands++;
    const agreeing = outcomes.filter((o) => o.ok === ok);
    const next = closure(dedupe(agreeing.map((o) => o.next)), interruptMoves).filter((w) => matches(w, obs1));
    if (!agreeing.length) {
      const said = outcomes.map((o) => (o.ok ? "accept" : `refuse (${o.why})`));
      throw failure(
        this,
        `${text}: the model says ${[...new Set(said)].join(" or ")} in ${this.worlds.map(describeWorld).join(" | ")}; the firmware printed: ${result[0]}`,
      );
    } else if (!next.length) {
      throw failure(
        this,
        `${text} (${result[0]}): the firmware shows ${describeObs(obs1)} after it; the model expects ${dedupe(agreeing.map((o) => o.next)).map(describeWorld).join(" | ")}`,
      );
    } else {
      this.worlds = next;
    }
    this.checkPaths(obs1, `after ${text}`);
    this.lastObs = obs1;
    if (ok) {
      this.figures.accepted++;
      this.figures.countAccept(op.kind);
      if (op.kind === "xrun") this.figures.xrunsInjected++;
    } else {
      this.figures.refused++;
      this.figures.countRefusal(agreeing[0].why);
      this.checkUnchanged(op, text, result[0], obs0, obs1, before, after);
    }
    this.track(op, obs0, obs1, before, after);
  }

  /** (b): a refused command changed nothing, unless an interrupt move changed an FE meanwhile. */
  private checkUnchanged(op: ConsoleOp, text: string, result: string, obs0: Obs, obs1: Obs, before: Snapshot, after: Snapshot): void {
    const moved = obs0.fe.some((v, f) => v.state !== obs1.fe[f].state || v.xruns !== obs1.fe[f].xruns);
    if (moved) {
      this.figures.unchangedSkipped++;
      return;
    }
    const x = stable(before);
    const y = stable(after);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if (x[i] !== y[i]) {
        throw failure(this, `(b) ${text} was refused (${result}) yet changed stats()/routes():\n  before: ${x[i]}\n  after:  ${y[i]}`);
      }
    }
    this.figures.unchangedChecked++;
  }

  /** (c), (d): sessions opened and closed, routes joining and leaving, params while open. */
  private track(op: ConsoleOp, obs0: Obs, obs1: Obs, before: Snapshot, after: Snapshot): void {
    for (let f = 0; f < FE_NAMES.length; f++) {
      const was = obs0.fe[f].state !== "CLOSED";
      const is = obs1.fe[f].state !== "CLOSED";
      if (!was) this.finish(f, before);
      if (!was && is) {
        const s: Session = {
          fe: f,
          openedAt: obs0.t,
          closedAt: -1,
          rate: obs1.fe[f].rate,
          period: obs1.fe[f].period,
          base: counters(before, f),
          status: BE_NAMES.map((_, b) => (obs1.on[f * BE_NAMES.length + b] ? "throughout" : "unlinked")),
          writtenAtJoin: BE_NAMES.map(() => 0),
          final: null,
          written: 0,
        };
        this.open[f] = s;
        this.sessions.push(s);
      } else if (was && is && this.open[f]) {
        const s = this.open[f]!;
        for (let b = 0; b < BE_NAMES.length; b++) {
          const i = f * BE_NAMES.length + b;
          if (obs0.on[i] === obs1.on[i]) continue;
          if (op.kind !== "route") throw failure(this, `${opText(op)} changed the switch ${FE_NAMES[f]}>${BE_NAMES[b]}`);
          if (obs1.on[i]) {
            s.status[b] = s.status[b] === "unlinked" ? "joined" : "mixed";
            s.writtenAtJoin[b] = num(before.fe.get(FE_NAMES[f]), "written");
          } else {
            s.status[b] = s.status[b] === "throughout" ? "left" : "mixed";
          }
        }
      }
      for (const snap of [before, after]) this.checkParams(f, snap);
    }
    this.noteClosures(obs1);
    for (let f = 0; f < FE_NAMES.length; f++) if (obs1.fe[f].state === "CLOSED") this.finish(f, after);
  }

  /** (d): an open FE's rate= and period= in stats() are those it opened with. */
  private checkParams(f: number, snap: Snapshot): void {
    const s = this.open[f];
    const line = snap.fe.get(FE_NAMES[f]);
    if (!s || !line || line.get("state") === "CLOSED") return;
    if (num(line, "rate") !== s.rate || num(line, "period") !== s.period) {
      throw failure(this, `(d) ${FE_NAMES[f]} opened at ${s.rate} Hz, ${s.period} frames; stats() now says rate=${line.get("rate")} period=${line.get("period")}`);
    }
  }

  /** FEs seen closed: their sessions end now; the counters are read from the next stats() printed while closed. */
  private noteClosures(obs: Obs): void {
    for (let f = 0; f < FE_NAMES.length; f++) {
      const s = this.open[f];
      if (s && obs.fe[f].state === "CLOSED") {
        s.closedAt = obs.t;
        this.open[f] = null;
        this.closing[f] = s;
      }
    }
  }

  private finish(f: number, snap: Snapshot): void {
    const s = this.closing[f];
    if (!s) return;
    const line = snap.fe.get(FE_NAMES[f]);
    if (line?.get("state") !== "CLOSED") throw failure(this, `${FE_NAMES[f]}: closed, yet stats() says state=${line?.get("state")}`);
    s.final = counters(snap, f);
    s.written = num(line, "written");
    this.closing[f] = null;
    this.checkSession(s, false);
  }

  /**
   * (c) Frame accounting of one session. A link's position moves only when
   * it copies a period (played += frames) and when prepare or close discards
   * what it had not played (dropped += appl_ptr - pos, pos = appl_ptr); a
   * link made at open starts at 0, one made later at the FE's hw_ptr, and
   * close discards up to appl_ptr = written. Hence, per route:
   *   linked from open to close:     played + dropped = written, and
   *                                  silent = the sum of n over the FE's xrun events in the session;
   *   linked later, until close:     written - (played + dropped) is a whole number of periods
   *                                  between 0 and written at the join (the hw_ptr it started at);
   *                                  silent <= that sum;
   *   linked at open, removed later: played + dropped <= written (what it had not played is
   *                                  left to the other links, not dropped); silent <= the sum;
   *   never linked:                  played = dropped = silent = 0.
   * The silent part waits for the end of the run: events print a tick later.
   */
  private checkSession(s: Session, withEvents: boolean): void {
    if (!s.final) return;
    const name = FE_NAMES[s.fe];
    const xrunSum = this.xruns.filter((e) => e.fe === name && e.t >= s.openedAt - 1e-6 && e.t <= s.closedAt + 1e-6).reduce((n, e) => n + e.n, 0);
    for (let b = 0; b < BE_NAMES.length; b++) {
      const played = s.final[b].played - s.base[b].played;
      const dropped = s.final[b].dropped - s.base[b].dropped;
      const silent = s.final[b].silent - s.base[b].silent;
      const route = `${name}>${BE_NAMES[b]}`;
      const where = `(c) session of ${name} opened at ${(s.openedAt - this.readyAt).toFixed(4)} s, closed by ${(s.closedAt - this.readyAt).toFixed(4)} s, route ${route} (${s.status[b]}): played ${played} + dropped ${dropped}, written ${s.written}, silent ${silent}, xrun events ${xrunSum}`;
      const bad = (why: string) => failure(this, `${where}: ${why}`);
      switch (s.status[b]) {
        case "unlinked":
          if (played || dropped || silent) throw bad("a route never linked counted frames");
          break;
        case "throughout":
          if (played + dropped !== s.written) throw bad("played + dropped != written");
          if (withEvents && silent !== xrunSum) throw bad("silent != the sum of n of its xrun events");
          break;
        case "joined": {
          const missing = s.written - (played + dropped);
          if (missing < 0 || missing > s.writtenAtJoin[b] || missing % s.period !== 0) {
            throw bad(`written - (played + dropped) = ${missing} is not a whole number of periods from 0 to ${s.writtenAtJoin[b]} (written at the join)`);
          }
          if (withEvents && silent > xrunSum) throw bad("silent > the sum of n of its xrun events");
          break;
        }
        case "left":
          if (played + dropped > s.written) throw bad("played + dropped > written");
          if (withEvents && silent > xrunSum) throw bad("silent > the sum of n of its xrun events");
          break;
        case "mixed":
          if (withEvents && silent > xrunSum) throw bad("silent > the sum of n of its xrun events");
          break;
      }
      if (played < 0 || dropped < 0 || silent < 0) throw bad("a counter went down");
      if (withEvents) this.figures.countRoute(s.status[b]);
    }
  }

  /** The end of a run: stop both FEs, let the log drain, then (a) races() total 0 and (c) for every session. */
  end(): void {
    for (const fe of FE_NAMES) this.command({ kind: "stop", fe });
    this.wait(0.05);
    const lines = this.typeLine(`print("@@A");stats();routes();races();print("@@B")`);
    const snap = parseSnapshot(lines.slice(lines.indexOf("@@A") + 1, lines.indexOf("@@B")));
    for (let f = 0; f < FE_NAMES.length; f++) this.finish(f, snap);
    const races = lines.find((l) => l.startsWith("RACES "));
    const total = races ? Number(/^RACES total=(\d+) /.exec(races)?.[1]) : NaN;
    if (total !== 0) throw failure(this, `(a) races() at the end: ${races}`);
    for (const s of this.sessions) {
      if (!s.final) throw failure(this, `${FE_NAMES[s.fe]}: a session never seen closed`);
      this.checkSession(s, true);
    }
    this.figures.virtualSeconds += this.machine.now() - this.readyAt;
  }
}

// ---- Generators ------------------------------------------------------------------------------

type Model = { rig: PcmRig | null };

class PcmCommand implements fc.Command<Model, PcmRig> {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  run(_m: Model, rig: PcmRig): void {
    if (this.op.kind === "wait") rig.wait(this.op.seconds);
    else if (this.op.kind === "chain") rig.line(this.op.ops);
    else rig.command(this.op);
  }
  toString(): string {
    return opText(this.op);
  }
}

/** Mostly valid names, sometimes not. */
const feArb = fc.oneof(
  { arbitrary: fc.constant("media"), weight: 16 },
  { arbitrary: fc.constant("alert"), weight: 5 },
  { arbitrary: fc.constantFrom<Arg>("radio", 1), weight: 1 },
);
const beArb = fc.oneof({ arbitrary: fc.constantFrom("line", "bt"), weight: 20 }, { arbitrary: fc.constantFrom<Arg>("hdmi"), weight: 1 });
const boolArb = fc.oneof({ arbitrary: fc.boolean(), weight: 20 }, { arbitrary: fc.constantFrom<Arg>(1, "yes"), weight: 1 });
const feOp = (kind: "stop" | "suspend" | "resume" | "drain" | "xrun") => fc.record({ kind: fc.constant(kind), fe: feArb });

/**
 * Legal and illegal arguments of every command, and time passing (0 to a few
 * periods of 16 ms). Weighted towards what reaches the interesting states:
 * routes on three times as often as off, plays, pauses, suspends and resumes.
 */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("route" as const), fe: feArb, be: beArb, on: fc.oneof({ arbitrary: fc.constant(true), weight: 2 }, boolArb) }), weight: 8 },
  {
    arbitrary: fc.record(
      {
        kind: fc.constant("play" as const),
        fe: feArb,
        hz: fc.oneof({ arbitrary: fc.constantFrom(440, 1000, 3000), weight: 12 }, { arbitrary: fc.constantFrom<Arg>(5000, 9000, 0, -1, "440"), weight: 1 }),
        seconds: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 6 },
          { arbitrary: fc.constantFrom(0.01, 0.05, 0.2), weight: 4 },
          { arbitrary: fc.constantFrom<Arg>(0, -1, "1"), weight: 1 },
        ),
      },
      { requiredKeys: ["kind", "fe", "hz"] },
    ),
    weight: 8,
  },
  {
    arbitrary: fc.record(
      {
        kind: fc.constant("open" as const),
        fe: feArb,
        rate: fc.oneof(
          { arbitrary: fc.constantFrom(8000, 16000, 32000, 48000), weight: 8 },
          { arbitrary: fc.constantFrom<Arg>(44100, 24000, 0, -8000, 8000.5, "8000"), weight: 1 },
        ),
        period: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 6 },
          { arbitrary: fc.constantFrom(64, 128, 256, 16), weight: 4 },
          { arbitrary: fc.constantFrom<Arg>(15, 17, 8, 8192, 100.5, "128", 0), weight: 1 },
        ),
      },
      { requiredKeys: ["kind", "fe", "rate"] },
    ),
    // Most opens meet an FE already open (play opens it) or one with no route: weighted up so some land.
    weight: 5,
  },
  { arbitrary: fc.record({ kind: fc.constant("pause" as const), fe: feArb, on: boolArb }), weight: 6 },
  { arbitrary: feOp("suspend"), weight: 3 },
  { arbitrary: feOp("resume"), weight: 6 },
  { arbitrary: feOp("drain"), weight: 2 },
  { arbitrary: feOp("xrun"), weight: 2 },
  { arbitrary: feOp("stop"), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.constantFrom(0.002, 0.008, 0.016, 0.04, 0.1, 0.25) }), weight: 6 },
) as fc.Arbitrary<Op>;

/** What a chained line starts with: commands whose result the service tick would change at once. */
const chainFirstArb: fc.Arbitrary<ConsoleOp> = fc.oneof(
  feOp("xrun"),
  feOp("suspend"),
  feOp("drain"),
  fc.record({ kind: fc.constant("pause" as const), fe: feArb, on: fc.constant(true) }),
  fc.record({ kind: fc.constant("play" as const), fe: feArb, hz: fc.constant(440), seconds: fc.constant(0.01) }),
) as fc.Arbitrary<ConsoleOp>;

/** Single commands, time passing, and now and then two commands in one console line. */
const anyOpArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: opArb, weight: 12 },
  {
    arbitrary: fc
      .tuple(chainFirstArb, opArb.filter((op): op is ConsoleOp => op.kind !== "wait" && op.kind !== "chain"))
      .map(([a, b]): Op => ({ kind: "chain", ops: [a, b] })),
    weight: 1,
  },
);

/** `replayPath`: the /*replayPath="..."*\/ fast-check prints with a counterexample, to replay it with its seed and path. */
export function commandsArb(maxCommands: number, replayPath?: string): fc.Arbitrary<Iterable<fc.Command<Model, PcmRig>>> {
  return fc.commands([anyOpArb.map((op) => new PcmCommand(op))], { maxCommands, size: "max", replayPath });
}

/** The replayPath of a counterexample's commands, from their printed form. */
export function replayPathOf(commands: unknown): string | undefined {
  return /\/\*replayPath="([^"]*)"\*\//.exec(String(commands))?.[1];
}

/** Routes switched on before the commands, so that most runs have outputs to play to (shrinks towards none). */
const ROUTES_FIRST: Op[] = FE_NAMES.flatMap((fe) => BE_NAMES.map((be): Op => ({ kind: "route", fe, be, on: true })));
export const initialRoutesArb = fc.subarray(ROUTES_FIRST).map((ops) => ops.map((op) => new PcmCommand(op)));

type Sequence = [PcmCommand[], Iterable<fc.Command<Model, PcmRig>>];

/** The property: one fresh board per sequence (routes first, then the commands), every command checked, then the end-of-run checks. */
export function pcmProperty(
  figures: Figures,
  maxCommands: number,
  replayPath?: string,
  bundle = BUNDLE,
): fc.IPropertyWithHooks<Sequence> {
  return fc.property(initialRoutesArb, commandsArb(maxCommands, replayPath), (routes, cmds) => {
    const rig = new PcmRig(figures, bundle);
    for (const r of routes) r.run({ rig }, rig);
    fc.modelRun(() => ({ model: { rig }, real: rig }), cmds);
    rig.end();
  });
}

export function bundleMissing(bundle = BUNDLE): string | null {
  return existsSync(bundle) ? null : `${bundle} is missing: run npm run build first`;
}
