// Export of one run as a Chrome trace-event JSON file (the "JSON Object
// Format": {"traceEvents": [...]}), which Perfetto (ui.perfetto.dev) and
// chrome://tracing open. Time is the emulator's virtual time in
// microseconds; everything is sampled at statement boundaries, so spans are
// exact to one statement (20 us on the default statement cost).
//
// Tracks (one pid, one tid each):
//   1  main loop          the window line ("window"), the serial log as instants
//   2  interrupt          EXEC timer task runs ("timer task", forced ones say
//                         where they landed) and handler runs inside them, or
//                         deferred to irqRestore on the main loop
//   3  irq mask           main-loop critical sections (irq.masked outside the handler)
//   4  detectors          one instant per RACE record, at the time it was made
//   5  hardware events    one instant per DMA block end or I2C NAK the explorer placed
//   10+f  FE <name> update     routing updates of that FE (fe.updating)
//   30+f  FE <name> state      the FE's state (RUNNING, XRUN, ...)
//   20+b  BE <name>            the BE's state (START, STOP, ...); counter "<name> start_count"
// Event categories (cat): window, interrupt, handler, masked, routing,
// fe-state, be-state, be-start-count, log, race, hardware.

import type { Machine } from "../../../emulator/machine.ts";
import { BE_STATE_NAMES, FE_STATE_NAMES } from "../../../firmware/dpcm/dpcm.ts";
import type { FwDpcm } from "./runner.ts";

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: "X" | "i" | "C" | "M";
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: "t" | "p" | "g";
  args?: Record<string, unknown>;
}

export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms" | "ns";
  otherData: Record<string, unknown>;
}

const PID = 1;
const TID_MAIN = 1;
const TID_IRQ = 2;
const TID_MASK = 3;
const TID_RACE = 4;
const TID_HW = 5;
const TID_FE_UPDATE = 10;
const TID_BE = 20;
const TID_FE_STATE = 30;

interface Open {
  name: string;
  ts: number;
  args?: Record<string, unknown>;
}

/** One span per track at a time (nested spans use separate Span objects on the same tid). */
class Span {
  private open: Open | null = null;
  constructor(
    private readonly out: TraceEvent[],
    private readonly tid: number,
    private readonly cat: string,
  ) {}
  get active(): boolean {
    return this.open !== null;
  }
  begin(name: string, ts: number, args?: Record<string, unknown>): void {
    if (this.open) this.end(ts);
    this.open = { name, ts, args };
  }
  end(ts: number): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    const ev: TraceEvent = { name: o.name, cat: this.cat, ph: "X", ts: o.ts, dur: Math.max(0, ts - o.ts), pid: PID, tid: this.tid };
    if (o.args) ev.args = o.args;
    this.out.push(ev);
  }
}

export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private machine: Machine | null = null;
  private dpcm: FwDpcm | null = null;
  private costUs = 20;
  private task!: Span;
  private handler!: Span;
  private mask!: Span;
  private window!: Span;
  private feUpdate: Span[] = [];
  private feState: Span[] = [];
  private beState: Span[] = [];
  private lastFeUpdating: boolean[] = [];
  private lastFeState: number[] = [];
  private lastBeState: number[] = [];
  private lastBeStarts: number[] = [];
  private lastInTask = false;
  private lastTaskRuns = 0;
  private lastTaskUs = 0;
  private pendingForced: { boundary: number; location: string } | null = null;
  private partial = "";
  private finished = false;

  constructor(readonly title: string) {
    this.task = new Span(this.events, TID_IRQ, "interrupt");
    this.handler = new Span(this.events, TID_IRQ, "handler");
    this.mask = new Span(this.events, TID_MASK, "masked");
    this.window = new Span(this.events, TID_MAIN, "window");
  }

  private nowUs(): number {
    return this.machine ? this.machine.nowNs / 1000 : 0;
  }

  /** Follow a fresh machine from before its bundle loads. */
  attach(machine: Machine): void {
    this.machine = machine;
    this.costUs = machine.statementCostNs / 1000;
    machine.console.onData((text) => this.onSerial(text));
    const sample = this.sampler();
    machine.onStatement = (siteId, _index, inTask) => {
      sample(siteId, inTask, false);
      return false;
    };
  }

  /** The firmware's DPCM global, once the bundle has run. */
  bind(dpcm: FwDpcm): void {
    this.dpcm = dpcm;
    const rt = dpcm.card;
    this.feUpdate = rt.fes.map((_, f) => new Span(this.events, TID_FE_UPDATE + f, "routing"));
    this.feState = rt.fes.map((_, f) => new Span(this.events, TID_FE_STATE + f, "fe-state"));
    this.beState = rt.bes.map((_, b) => new Span(this.events, TID_BE + b, "be-state"));
    this.lastFeUpdating = rt.fes.map(() => false);
    this.lastFeState = rt.fes.map(() => -1);
    this.lastBeState = rt.bes.map(() => -1);
    this.lastBeStarts = rt.bes.map(() => -1);
  }

  /** The per-statement sampler (the window's hook calls it too). */
  sampler(): (siteId: number, inTask: boolean, inWindow: boolean) => void {
    return (_siteId, inTask) => {
      const m = this.machine;
      if (!m || this.finished) return;
      const ts = this.nowUs() - this.costUs;
      if (inTask) {
        const runs = m.stats.taskRuns;
        if (!this.lastInTask || runs !== this.lastTaskRuns) {
          if (this.task.active) {
            this.handler.end(this.lastTaskUs);
            this.task.end(this.lastTaskUs);
          }
          const forced = this.pendingForced;
          this.pendingForced = null;
          this.task.begin(
            forced ? `timer task (forced at boundary ${forced.boundary})` : "timer task",
            ts,
            forced ? { forced: true, boundary: forced.boundary, landed: forced.location } : { forced: false },
          );
          this.lastTaskRuns = runs;
        }
        this.lastTaskUs = ts + this.costUs;
      } else if (this.lastInTask) {
        this.handler.end(this.lastTaskUs);
        this.task.end(this.lastTaskUs);
      }
      this.lastInTask = inTask;
      const d = this.dpcm;
      if (!d) return;
      const irq = d.irq;
      if (irq.inHandler) {
        if (!this.handler.active) this.handler.begin(inTask ? "handler" : "handler (deferred: run at irqRestore)", ts);
      } else if (this.handler.active) {
        this.handler.end(ts);
      }
      if (!inTask) {
        const masked = irq.masked && !irq.inHandler;
        if (masked && !this.mask.active) this.mask.begin("masked", ts);
        else if (!masked && this.mask.active) this.mask.end(ts);
      }
      const rt = d.card;
      for (let f = 0; f < rt.fes.length; f++) {
        const fe = rt.fes[f];
        if (fe.updating !== this.lastFeUpdating[f]) {
          if (fe.updating) this.feUpdate[f].begin(`update ${fe.name}`, ts);
          else this.feUpdate[f].end(ts);
          this.lastFeUpdating[f] = fe.updating;
        }
        if (fe.state !== this.lastFeState[f]) {
          this.feState[f].begin(FE_STATE_NAMES[fe.state] ?? String(fe.state), ts);
          this.lastFeState[f] = fe.state;
        }
      }
      for (let b = 0; b < rt.bes.length; b++) {
        const be = rt.bes[b];
        if (be.state !== this.lastBeState[b]) {
          this.beState[b].begin(BE_STATE_NAMES[be.state] ?? String(be.state), ts);
          this.lastBeState[b] = be.state;
        }
        if (be.startCount !== this.lastBeStarts[b]) {
          this.events.push({ name: `${be.name} start_count`, cat: "be-start-count", ph: "C", ts, pid: PID, args: { start_count: be.startCount } });
          this.lastBeStarts[b] = be.startCount;
        }
      }
    };
  }

  windowBegins(line: string): void {
    this.window.begin(`window: ${line}`, this.nowUs() - this.costUs, { line });
  }

  windowEnds(): void {
    this.window.end(this.nowUs());
  }

  /** The explorer forces the interrupt at this boundary (the task starts next). */
  forced(boundary: number, location: string): void {
    this.pendingForced = { boundary, location };
    this.events.push({
      name: `interrupt fired at boundary ${boundary}`,
      cat: "interrupt",
      ph: "i",
      s: "t",
      ts: this.nowUs() - this.costUs,
      pid: PID,
      tid: TID_MAIN,
      args: { boundary, landed: location },
    });
  }

  /** The explorer placed a hardware event (a DMA block end, an I2C NAK) at this boundary. */
  hardware(kind: string, boundary: number, location: string, took: boolean): void {
    const what = kind === "dma" ? "DMA block end" : kind === "nak" ? "I2C NAK armed" : kind;
    this.events.push({
      name: `${what} at boundary ${boundary}${took ? "" : " (nothing to act on)"}`,
      cat: "hardware",
      ph: "i",
      s: "t",
      ts: this.nowUs() - this.costUs,
      pid: PID,
      tid: TID_HW,
      args: { kind, boundary, landed: location, took },
    });
  }

  private onSerial(text: string): void {
    const all = this.partial + text;
    const lines = all.split("\n");
    this.partial = lines.pop() ?? "";
    const ts = this.nowUs();
    for (const line of lines) {
      if (line === "") continue;
      const race = /^RACE t=(\S+) kind=(\S+)/.exec(line);
      this.events.push({ name: line.length > 80 ? line.slice(0, 77) + "..." : line, cat: race ? "race" : "log", ph: "i", s: "t", ts, pid: PID, tid: TID_MAIN, args: { line } });
      if (race) {
        this.events.push({ name: `RACE ${race[2]}`, cat: "race", ph: "i", s: "t", ts: Number(race[1]) * 1e6, pid: PID, tid: TID_RACE, args: { line } });
      }
    }
  }

  /** Close every open span at the end of the run. */
  finish(): void {
    if (this.finished) return;
    const ts = this.nowUs();
    this.handler.end(ts);
    this.task.end(this.lastInTask ? this.lastTaskUs : ts);
    this.mask.end(ts);
    this.window.end(ts);
    for (const s of [...this.feUpdate, ...this.feState, ...this.beState]) s.end(ts);
    if (this.machine) this.machine.onStatement = null;
    this.finished = true;
  }

  toJSON(meta: Record<string, unknown> = {}): TraceFile {
    this.finish();
    const names: TraceEvent[] = [
      { name: "process_name", ph: "M", pid: PID, args: { name: this.title } },
      ...thread(TID_MAIN, "main loop", 0),
      ...thread(TID_IRQ, "interrupt (EXEC timer task)", 1),
      ...thread(TID_MASK, "irq mask (main-loop critical sections)", 2),
      ...thread(TID_RACE, "race detectors", 3),
      ...thread(TID_HW, "hardware events (explorer)", 4),
    ];
    const rt = this.dpcm?.card;
    if (rt) {
      rt.fes.forEach((fe, f) => {
        names.push(...thread(TID_FE_UPDATE + f, `FE ${fe.name} routing update`, 10 + 2 * f));
        names.push(...thread(TID_FE_STATE + f, `FE ${fe.name} state`, 11 + 2 * f));
      });
      rt.bes.forEach((be, b) => names.push(...thread(TID_BE + b, `BE ${be.name} state`, 30 + b)));
    }
    const events = [...this.events].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
    return { traceEvents: [...names, ...events], displayTimeUnit: "ms", otherData: { ...meta, timeBase: "emulator virtual time, microseconds" } };
  }
}

function thread(tid: number, name: string, order: number): TraceEvent[] {
  return [
    { name: "thread_name", ph: "M", pid: PID, tid, args: { name } },
    { name: "thread_sort_index", ph: "M", pid: PID, tid, args: { sort_index: order } },
  ];
}

/** Problems that would keep a trace viewer from reading the file (empty when it is valid trace-event JSON). */
export function validateTrace(file: unknown): string[] {
  const problems: string[] = [];
  if (typeof file !== "object" || file === null) return ["not an object"];
  const events = (file as { traceEvents?: unknown }).traceEvents;
  if (!Array.isArray(events)) return ["no traceEvents array"];
  events.forEach((e: TraceEvent, i) => {
    if (typeof e.name !== "string") problems.push(`event ${i}: no name`);
    if (!["X", "i", "C", "M"].includes(e.ph)) problems.push(`event ${i}: unknown ph ${e.ph}`);
    if (typeof e.pid !== "number") problems.push(`event ${i}: no pid`);
    if (e.ph !== "M" && (typeof e.ts !== "number" || !Number.isFinite(e.ts))) problems.push(`event ${i}: bad ts`);
    if (e.ph === "X" && (typeof e.dur !== "number" || e.dur < 0)) problems.push(`event ${i}: bad dur`);
    if ((e.ph === "X" || e.ph === "i") && typeof e.tid !== "number") problems.push(`event ${i}: no tid`);
  });
  return problems;
}
