// Reading a board's console: the raw byte stream (with its prompt, echo,
// "\r\x1B[J" input-line removals and other terminal sequences) turned into
// the text lines a person sees, and the race lines in them counted.
//
// Line formats (ARCHITECTURE.md, "Race detectors and the log line format"):
//   RACE t=<s> kind=<kind> ctx=<main|irq> fe=.. be=.. link=.. at=<site>
//   EVT  t=<s> kind=<kind> ctx=.. ... n=<number>
//   LOST n=<records dropped>
//   RACES total=<n> <kind>=<n> ... log_capacity=<n>     (races())
//   READY dpcm-espruino <version> board=<name> espruino=<VERSION> ...

import { BANNER_LINE, lineFields, type TimedLine } from "./console-events.ts";

/**
 * Turns console bytes into lines, the way a terminal would show them:
 * "\r" returns to the start of the line (what follows overwrites it),
 * "Esc [ ... J/K" erase from the cursor, other escape sequences are dropped,
 * Backspace deletes, other control characters are dropped.
 */
export class TerminalText {
  private line = "";
  private col = 0;
  private esc = 0;

  /** Feed bytes; returns the lines completed by them. */
  push(bytes: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const ch = bytes[i]!;
      const c = ch.charCodeAt(0);
      if (this.esc === 1) {
        this.esc = ch === "[" ? 2 : 0;
        continue;
      }
      if (this.esc === 2) {
        if (c >= 0x40 && c <= 0x7e) {
          this.esc = 0;
          if (ch === "J" || ch === "K") this.line = this.line.slice(0, this.col);
        }
        continue;
      }
      if (c === 27) this.esc = 1;
      else if (ch === "\n") {
        out.push(this.line);
        this.line = "";
        this.col = 0;
      } else if (ch === "\r") this.col = 0;
      else if (c === 8) this.col = Math.max(0, this.col - 1);
      else if (c >= 32 || ch === "\t") {
        this.line = this.line.slice(0, this.col) + ch + this.line.slice(this.col + 1);
        this.col++;
      }
    }
    return out;
  }

  /** The line in progress (a prompt, typed characters). */
  get partial(): string {
    return this.line;
  }
}

/** Clean lines of a whole capture (a complete last line without "\n" included). */
export function terminalLines(bytes: string): string[] {
  const t = new TerminalText();
  const lines = t.push(bytes);
  if (t.partial) lines.push(t.partial);
  return lines;
}

export interface RaceKindSummary {
  kind: string;
  count: number;
  /** Counts by context (main, irq). */
  contexts: Record<string, number>;
  /** Counts by site (at=). */
  sites: Record<string, number>;
  firstT: number | null;
  lastT: number | null;
}

export interface RaceSummary {
  races: number;
  byKind: RaceKindSummary[];
  /** Records the board's log ring dropped (LOST n=...), summed. */
  lost: number;
  /** EVT lines by kind. */
  events: Record<string, number>;
  /** The firmware's start-up lines (READY), one per firmware start seen in the log. */
  boots: string[];
  /** Espruino banners seen: the board powered on or was reset() (a bare interpreter until load()). */
  resets: number;
  /**
   * The last `races()` answer, if any: the board's own counts, which cover
   * only the time since the firmware last started. `linesSinceStart`: RACE
   * lines in this log between the last start or reset before that answer
   * and the answer; `restartedBefore`: whether the log saw such a start.
   */
  boardCount: { total: number; kinds: Record<string, number>; line: string; linesSinceStart: number; restartedBefore: boolean } | null;
  errors: string[];
}

/** Count the race lines (and related evidence) in console lines. */
export function summarize(lines: Iterable<string>): RaceSummary {
  const kinds = new Map<string, RaceKindSummary>();
  const summary: RaceSummary = { races: 0, byKind: [], lost: 0, events: {}, boots: [], resets: 0, boardCount: null, errors: [] };
  let sinceStart = 0;
  let restarted = false;
  for (const raw of lines) {
    // A prompt or typed text can sit in front of a line in a log written without terminal handling.
    const line = raw.replace(/^>+(?=(RACE|EVT|LOST|RACES|READY) )/, "");
    if (line.startsWith("RACE ")) {
      const f = lineFields(line);
      const kind = f.kind ?? "?";
      let k = kinds.get(kind);
      if (!k) kinds.set(kind, (k = { kind, count: 0, contexts: {}, sites: {}, firstT: null, lastT: null }));
      k.count++;
      summary.races++;
      sinceStart++;
      if (f.ctx) k.contexts[f.ctx] = (k.contexts[f.ctx] ?? 0) + 1;
      if (f.at) k.sites[f.at] = (k.sites[f.at] ?? 0) + 1;
      const t = Number(f.t);
      if (Number.isFinite(t)) {
        if (k.firstT === null || t < k.firstT) k.firstT = t;
        if (k.lastT === null || t > k.lastT) k.lastT = t;
      }
    } else if (line.startsWith("EVT ")) {
      const kind = lineFields(line).kind ?? "?";
      summary.events[kind] = (summary.events[kind] ?? 0) + 1;
    } else if (/^LOST n=\d+/.test(line)) {
      summary.lost += Number(lineFields(line).n) || 0;
    } else if (line.startsWith("RACES ")) {
      const f = lineFields(line);
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries(f)) if (k !== "total" && k !== "log_capacity") counts[k] = Number(v);
      summary.boardCount = { total: Number(f.total) || 0, kinds: counts, line, linesSinceStart: sinceStart, restartedBefore: restarted };
    } else if (line.startsWith("READY dpcm-espruino ")) {
      summary.boots.push(line);
      sinceStart = 0;
      restarted = true;
    } else if (BANNER_LINE.test(line)) {
      summary.resets++;
      sinceStart = 0;
      restarted = true;
    } else if (/^(ERROR |Uncaught |WARNING )/.test(line)) {
      summary.errors.push(line);
    }
  }
  summary.byKind = [...kinds.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  return summary;
}

/** The summary as the monitor prints it: only what this log shows. */
export function formatSummary(s: RaceSummary, source: string): string {
  const out: string[] = [];
  out.push(`race summary of ${source}`);
  out.push(`  firmware starts seen (READY lines): ${s.boots.length}${s.boots.length ? ` (last: ${s.boots[s.boots.length - 1]})` : ""}`);
  if (s.resets) out.push(`  board resets seen (Espruino banner: power-on or reset()): ${s.resets}`);
  out.push(`  races logged: ${s.races}`);
  if (s.byKind.length) {
    const w = Math.max(...s.byKind.map((k) => k.kind.length));
    for (const k of s.byKind) {
      const ctx = Object.entries(k.contexts)
        .map(([c, n]) => `${c} ${n}`)
        .join(", ");
      const sites = Object.entries(k.sites)
        .map(([c, n]) => `${c} ${n}`)
        .join(", ");
      const span = k.firstT === null ? "" : `, t=${k.firstT}..${k.lastT} s`;
      out.push(`    ${k.kind.padEnd(w)}  ${String(k.count).padStart(5)}   (ctx: ${ctx || "-"}; at: ${sites || "-"}${span})`);
    }
  }
  if (s.lost) out.push(`  records the board's log dropped (LOST): ${s.lost} (some races may not have a line)`);
  const ev = Object.entries(s.events);
  if (ev.length) out.push(`  events: ${ev.map(([k, n]) => `${k}=${n}`).join(" ")}`);
  const b = s.boardCount;
  if (b) {
    const before = s.races - b.linesSinceStart;
    out.push(
      `  the board's own count (last races()): total=${b.total}, counted since the firmware last started; ` +
        (b.restartedBefore
          ? `this log has ${b.linesSinceStart} RACE line(s) since the last start or reset before that answer` +
            (before > 0 ? ` (the other ${before} came before it, so the board no longer counts them)` : "")
          : `the log saw no start or reset before it, so lines from before the capture began are not in this log`),
    );
  }
  if (s.errors.length) out.push(`  errors/warnings printed: ${s.errors.length}`);
  return out.join("\n");
}

/**
 * Times for the lines of a captured log, where only the log is known. A
 * RACE or EVT line is at the board's own t=; any other line is placed
 * between its stamped neighbours by its position (before the first stamp:
 * at it; after the last: at it). The board's clock may restart at a
 * firmware start or reset, so each start (READY line or Espruino banner)
 * begins a new stretch of the axis after the previous one; a stretch with no
 * stamp at all gets `unstampedSeconds`, its lines spread evenly.
 * `estimated`: how many lines got a placed, not a logged, time.
 */
export function timeLogLines(lines: string[], unstampedSeconds = 1): { lines: TimedLine[]; estimated: number; stretches: number } {
  const segments: string[][] = [[]];
  for (const raw of lines) {
    const line = raw.replace(/^>+(?=(RACE|EVT|READY) )/, "");
    if ((line.startsWith("READY dpcm-espruino ") || BANNER_LINE.test(line)) && segments[segments.length - 1]!.length > 0) segments.push([]);
    segments[segments.length - 1]!.push(raw);
  }
  const out: TimedLine[] = [];
  let offset = 0;
  let estimated = 0;
  for (const seg of segments) {
    const stamps = seg.map((raw) => {
      const m = /^>*(?:RACE|EVT) .*?\bt=([\d.]+)/.exec(raw);
      return m ? Number(m[1]) : NaN;
    });
    const known = stamps.map((t, i) => [i, t] as const).filter(([, t]) => Number.isFinite(t));
    if (known.length === 0) {
      seg.forEach((text, i) => out.push({ t: offset + (unstampedSeconds * i) / Math.max(1, seg.length), text }));
      estimated += seg.length;
      offset += unstampedSeconds;
      continue;
    }
    const base = known[0]![1];
    const end = Math.max(...known.map(([, t]) => t));
    let k = 0;
    seg.forEach((text, i) => {
      let t = stamps[i]!;
      if (!Number.isFinite(t)) {
        estimated++;
        while (k < known.length - 1 && known[k + 1]![0] < i) k++;
        const [i0, t0] = known[k]!;
        const next = known.find(([j]) => j > i);
        if (i < i0) t = t0;
        else if (!next) t = t0;
        else t = t0 + ((next[1] - t0) * (i - i0)) / (next[0] - i0);
      }
      out.push({ t: offset + t - base, text });
    });
    offset += end - base + 0.05;
  }
  return { lines: out, estimated, stretches: segments.length };
}
