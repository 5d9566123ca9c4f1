// What a run did, read from the board's console lines: the routing switches
// and tone commands the firmware accepted (its OK lines), the xruns and
// races it logged (EVT/RACE lines, with the firmware's own t=), errors,
// firmware starts and board resets. Shared by the npm start verdict and
// page, and the monitor's summary and page. Line formats: firmware/console.ts
// and ARCHITECTURE.md ("Race detectors and the log line format").

import type { Interval } from "../../emulator/analysis.ts";

/** One console line and the virtual time (seconds) it was printed at. */
export interface TimedLine {
  t: number;
  text: string;
}

export interface RouteEvent {
  t: number;
  fe: string;
  be: string;
  on: boolean;
}

export interface MarkEvent {
  t: number;
  /** RACE/EVT kind, e.g. "use-after-free", "xrun"; "ready"/"reset" for boots. */
  kind: string;
  text: string;
}

export interface RunEvents {
  routes: RouteEvent[];
  /** Accepted tone commands; `seconds` for a timed tone. */
  plays: Array<{ t: number; fe: string; hz: number; seconds?: number }>;
  /** Accepted stop() commands. */
  stops: Array<{ t: number; fe: string }>;
  /**
   * FE states the firmware reported after an accepted pause(), suspend(),
   * resume() or drain() (their OK lines end "(state X)", firmware/console.ts
   * feCommand), and SETUP at each drain's end (its EVT kind=drained line).
   */
  states: Array<{ t: number; fe: string; state: string }>;
  /** unsafe(true|false) accepted. */
  unsafe: Array<{ t: number; on: boolean }>;
  xruns: MarkEvent[];
  races: MarkEvent[];
  /** ERROR lines and uncaught exceptions. */
  errors: MarkEvent[];
  /** Firmware starts (READY lines) and board resets (the Espruino banner). */
  boots: MarkEvent[];
}

const FIELD = /(?:^|\s)([\w-]+)=(\S*)/g;

/** key=value fields of a log line; keys may hold hyphens (use-after-free=0). */
export function lineFields(line: string): Record<string, string> {
  const f: Record<string, string> = {};
  for (const m of line.matchAll(FIELD)) f[m[1]!] = m[2]!;
  return f;
}

/** The Espruino banner's version line (src/jsinteractive.c): printed at power-on and by reset(). */
export const BANNER_LINE = /^ \d+v\d+(\.\d+)? \(c\) \d{4} G\.Williams/;

/**
 * Read the events out of timed console lines. RACE/EVT times come from
 * their own t= field (the firmware's clock, when the record was made, not
 * when the log drained it), unless `useLineTimes` (a captured log whose
 * line times were placed on another axis: race-log.ts timeLogLines).
 */
export function parseEvents(lines: TimedLine[], useLineTimes = false): RunEvents {
  const ev: RunEvents = { routes: [], plays: [], stops: [], states: [], unsafe: [], xruns: [], races: [], errors: [], boots: [] };
  for (const { t, text: raw } of lines) {
    const text = raw.replace(/^>+(?=(RACE|EVT|OK|ERROR|READY|Uncaught) )/, "");
    let m: RegExpExecArray | null;
    if ((m = /^OK route (\S+) (\S+) (true|false)$/.exec(text))) ev.routes.push({ t, fe: m[1]!, be: m[2]!, on: m[3] === "true" });
    else if ((m = /^OK play (\S+) ([\d.e+-]+) Hz(?: for ([\d.e+-]+) s)?$/.exec(text))) {
      ev.plays.push({ t, fe: m[1]!, hz: Number(m[2]), ...(m[3] ? { seconds: Number(m[3]) } : {}) });
    } else if ((m = /^OK stop (\S+)$/.exec(text))) ev.stops.push({ t, fe: m[1]! });
    else if ((m = /^OK (?:pause|suspend|resume|drain) (\S+)(?: (?:true|false))? \(state ([A-Z_]+)\)$/.exec(text))) {
      ev.states.push({ t, fe: m[1]!, state: m[2]! });
    }
    else if ((m = /^OK unsafe (true|false)\b/.exec(text))) ev.unsafe.push({ t, on: m[1] === "true" });
    else if (/^(RACE|EVT) /.test(text)) {
      const f = lineFields(text);
      const at = Number(f.t);
      const mark = { t: Number.isFinite(at) && !useLineTimes ? at : t, kind: f.kind ?? "?", text };
      if (text.startsWith("RACE ")) ev.races.push(mark);
      else if (mark.kind === "xrun") ev.xruns.push(mark);
      else if (mark.kind === "drained" && f.fe) ev.states.push({ t: mark.t, fe: f.fe, state: "SETUP" });
    } else if (/^(ERROR |Uncaught )/.test(text)) ev.errors.push({ t, kind: "error", text });
    else if (text.startsWith("READY dpcm-espruino ")) ev.boots.push({ t, kind: "ready", text });
    else if (BANNER_LINE.test(text)) ev.boots.push({ t, kind: "reset", text: text.trim() });
  }
  return ev;
}

/** One stretch of time in which a back end was meant to sound, and the tones meant to be on it. */
export interface IntendedInterval extends Interval {
  tones: number[];
}

/**
 * When back end `be` was meant to sound, from the firmware's OK lines: while
 * a front end routed to it plays a tone and is neither paused nor suspended,
 * until a drain has played out. A timed tone
 * ends `seconds` after its play line; stop() ends a tone. Overlapping
 * stretches of several front ends merge. A firmware start or reset ends
 * everything. `endT` closes what is still open.
 */
export function intendedIntervals(ev: RunEvents, be: string, endT: number): IntendedInterval[] {
  type Change = { t: number; apply: (s: State) => void };
  type State = Map<string, { routed: boolean; hz: number; until: number; paused: boolean }>;
  const changes: Change[] = [];
  const fe = (s: State, name: string) => {
    let x = s.get(name);
    if (!x) s.set(name, (x = { routed: false, hz: 0, until: Infinity, paused: false }));
    return x;
  };
  for (const r of ev.routes) if (r.be === be) changes.push({ t: r.t, apply: (s) => void (fe(s, r.fe).routed = r.on) });
  for (const p of ev.plays) {
    changes.push({
      t: p.t,
      apply: (s) => {
        const x = fe(s, p.fe);
        x.hz = p.hz;
        x.paused = false;
        x.until = p.seconds === undefined ? Infinity : p.t + p.seconds;
      },
    });
  }
  for (const p of ev.stops) changes.push({ t: p.t, apply: (s) => void (fe(s, p.fe).hz = 0) });
  // Paused or suspended: silent until a release or resume. A drain plays out
  // what was written, then the FE stops (SETUP at its drained line).
  for (const p of ev.states) {
    changes.push({
      t: p.t,
      apply: (s) => {
        const x = fe(s, p.fe);
        x.paused = p.state === "PAUSED" || p.state === "SUSPENDED";
        if (p.state === "SETUP" || p.state === "PREPARED") x.hz = 0;
      },
    });
  }
  // A firmware start or reset begins with nothing routed and nothing playing.
  for (const b of ev.boots) changes.push({ t: b.t, apply: (s) => s.clear() });
  changes.sort((a, b) => a.t - b.t);
  // Sample the state at every change and at every timed tone's end.
  const state: State = new Map();
  const out: IntendedInterval[] = [];
  let open: IntendedInterval | null = null;
  const sounding = (t: number): number[] => {
    const tones: number[] = [];
    for (const x of state.values()) if (x.routed && x.hz > 0 && !x.paused && t < x.until) tones.push(x.hz);
    return tones;
  };
  const step = (t: number): void => {
    const tones = sounding(t);
    if (tones.length && !open) open = { start: t, end: endT, tones: [...tones] };
    else if (tones.length && open) {
      for (const h of tones) if (!open.tones.includes(h)) open.tones.push(h);
    } else if (!tones.length && open) {
      open.end = t;
      out.push(open);
      open = null;
    }
  };
  const ends = (): number[] => [...state.values()].map((x) => x.until).filter((u) => Number.isFinite(u)).sort((a, b) => a - b);
  let lastT = -Infinity;
  // Timed tones that ran out in (lastT, t].
  const runOut = (t: number): void => {
    for (const u of ends()) if (u > lastT && u <= t) step(u);
  };
  let i = 0;
  while (i < changes.length) {
    const t = changes[i]!.t;
    runOut(t);
    while (i < changes.length && changes[i]!.t === t) changes[i++]!.apply(state);
    step(t);
    lastT = t;
  }
  runOut(endT);
  if (open) {
    (open as IntendedInterval).end = endT;
    out.push(open);
  }
  return out.filter((iv) => iv.end > iv.start);
}

/**
 * Races logged while the board was in safe mode: every RACE line, except
 * those after an accepted unsafe(true) and before the next unsafe(false)
 * or firmware start (a start comes up in safe mode).
 */
export function racesInSafeMode(ev: RunEvents): MarkEvent[] {
  const toggles = [
    ...ev.unsafe.map((u) => ({ t: u.t, on: u.on })),
    ...ev.boots.map((b) => ({ t: b.t, on: false })),
  ].sort((a, b) => a.t - b.t);
  return ev.races.filter((r) => {
    let unsafe = false;
    for (const x of toggles) if (x.t <= r.t) unsafe = x.on;
    return !unsafe;
  });
}
