// Schedules as compact strings, for reports and --replay:
//
//   <scenario>:<mode>:<event>,<event>,...[@<board>]
//
// <scenario> is s<id> ("s1") or the scenario's key ("close-path"); an event
// is <kind><boundary> ("irq72", "dma37", "nak5"), a bare number being the
// period interrupt ("72" = "irq72"). E.g. "s1:unsafe:57@generic" fires the
// interrupt once, just before the 57th (0-based) main-loop statement of
// scenario 1's window, in unsafe mode, on the generic board;
// "s3:safe:12,40@pico-wm8731" fires it twice; "s5:safe:dma37@pico-wm8731"
// ends the DMA blocks before the 37th statement the window runs (either
// context); "s2:safe:@generic" is the baseline, the window with only the
// scenario's fixed events. Without "@board" the board comes from --board.

import { findScenario, scenarioName, type EventKind, type Mode, type Scenario, type ScheduleEvent } from "./scenarios.ts";

export interface Schedule {
  scenario: Scenario;
  mode: Mode;
  /** Distinct events, by boundary. */
  events: ScheduleEvent[];
  /** Board named in the string, if any. */
  board: string | null;
}

/** "irq72" (written "72" for the interrupt, as before hardware events existed), "dma37". */
export function formatEvent(e: ScheduleEvent): string {
  return e.kind === "irq" ? String(e.boundary) : `${e.kind}${e.boundary}`;
}

export function formatSchedule(scenario: Scenario, mode: Mode, events: readonly ScheduleEvent[], board: string): string {
  return `${scenarioName(scenario)}:${mode}:${events.map(formatEvent).join(",")}@${board}`;
}

/** Interrupt-only schedules as boundaries (the form the first explorer used). */
export function irqEvents(boundaries: readonly number[]): ScheduleEvent[] {
  return boundaries.map((boundary) => ({ kind: "irq" as EventKind, boundary }));
}

export function parseSchedule(text: string, scenarios?: readonly Scenario[]): Schedule {
  const m = /^\s*([\w-]+):(safe|unsafe):([\w,\s]*?)(?:@([\w-]+))?\s*$/.exec(text);
  if (!m) {
    throw new Error(`bad schedule "${text}": expected <s<id>|key>:<safe|unsafe>:<event>,<event>...[@board], e.g. s1:unsafe:57 or s5:safe:dma37`);
  }
  const scenario = findScenario(m[1], scenarios);
  if (!scenario) throw new Error(`bad schedule "${text}": no scenario "${m[1]}"`);
  const events: ScheduleEvent[] = [];
  const seen = new Set<string>();
  for (const part of m[3].split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const e = /^(irq|dma|nak)?(\d+)$/.exec(part);
    if (!e) throw new Error(`bad schedule "${text}": "${part}" is not an event (irq<n>, dma<n>, nak<n>, or a number for irq)`);
    const ev: ScheduleEvent = { kind: (e[1] ?? "irq") as EventKind, boundary: Number(e[2]) };
    const key = `${ev.kind}@${ev.boundary}`;
    if (!seen.has(key)) {
      seen.add(key);
      events.push(ev);
    }
  }
  events.sort((a, b) => a.boundary - b.boundary || a.kind.localeCompare(b.kind));
  return { scenario, mode: m[2] as Mode, events, board: m[4] ?? null };
}
