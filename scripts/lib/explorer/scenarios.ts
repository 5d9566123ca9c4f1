// The race explorer's scenarios, as data: each one a JSON file (scenarios/
// in the repository, or any file given with --scenario-file) that says how
// to bring the firmware to the state a race needs (console lines typed at
// the emulated board), the console line the explorer perturbs (the WINDOW),
// which events it places at the window's boundaries (the period interrupt,
// a DMA block end, an I2C NAK), and what each mode must show. The format is
// documented in ARCHITECTURE.md ("Scenario files"); parseScenario checks
// every field and names the file, line and field of the first problem.
//
// Common set-up (see ARCHITECTURE.md, "The race explorer"):
//  - the set-up lines run with the timer task firing on its own;
//  - then, when the scenario names a DRY front end, its application stops
//    writing (`DPCM.player.voices[i].tone = null`) and the machine runs until
//    its ring has been played to the last frame, the FE still RUNNING;
//  - the timer task is then held off for "overdue" periods (default 2: two
//    completions overdue on every running BE, so the first interrupt, wherever
//    it lands, queues silence and starts it playing: the xrun);
//  - `unsafe(true)` in unsafe mode, then the window line.
// Front and back ends are named by position ($A, $B are the board's first
// two FEs, $X, $Y its first two BEs), so one scenario runs on every board.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KIND_NAMES, RACE_KINDS } from "../../../firmware/log.ts";

export type Mode = "safe" | "unsafe";
export const MODES: readonly Mode[] = ["safe", "unsafe"];

/**
 * What the explorer can place at a boundary: `irq` fires the period
 * interrupt (the board's EXEC timer task) before a main-loop statement of
 * the window; `dma` ends the current block of every DMA stream feeding an
 * I2S port, now (the I2S clock's phase jumps to the block end); `nak` makes
 * the next I2C write to the codec fail. Hardware events (dma, nak) count
 * boundaries over every statement the window runs, the interrupt's included.
 */
export const EVENT_KINDS = ["irq", "dma", "nak"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export const HARDWARE_EVENTS: readonly EventKind[] = ["dma", "nak"];

/** One event of a schedule: its kind and the boundary it lands at. */
export interface ScheduleEvent {
  kind: EventKind;
  boundary: number;
}

/** Finding kinds besides the firmware's RACE kinds (runner.ts makes them). */
export const HANDLER_ERROR = "handler-error";
export const UNCAUGHT = "uncaught";
/** The explorer's check at the end of a run: counts against links (runner.ts endStateProblems). */
export const END_STATE = "end-state";
/** A fault a register model recorded during the window or the tail (a driver breaking a hardware rule). */
export const HW_FAULT = "hw-fault";
/** A BE whose card counted other than the periods its DMA completed. */
export const PERIOD_COUNT = "period-count";
/** The DMA read a buffer while it was rewritten more often than the firmware logged late-refill. */
export const UNREPORTED_LATE_REFILL = "unreported-late-refill";
export const FINDING_KINDS: readonly string[] = [
  ...KIND_NAMES.slice(0, RACE_KINDS),
  HANDLER_ERROR,
  UNCAUGHT,
  END_STATE,
  HW_FAULT,
  PERIOD_COUNT,
  UNREPORTED_LATE_REFILL,
];

/** What one mode must show over all its schedules. */
export interface Expectation {
  /** No finding at all, on any schedule. */
  none: boolean;
  /** At least one schedule shows one of these kinds (other findings are allowed). */
  any: string[];
  /** For `any`: the context the RACE line must report. */
  ctx: "irq" | "main" | null;
}

export interface Scenario {
  /** Number for s<id> in schedules and --scenario; null: named by key only. */
  id: number | null;
  /** Short name for --scenario and schedules. */
  key: string;
  title: string;
  /** The history it stands for (../shared/design.md), or why it exists. */
  history: string;
  /** Console lines typed with the timer task running, $A/$B/$X/$Y not yet replaced. */
  setup: string[];
  /** Index of the FE whose application stops writing (0 = $A), or null. */
  dry: number | null;
  /** Periods the timer task is held off before the window (0..4). */
  overdue: number;
  /** The console line the events are placed in. */
  window: string;
  /** Event kinds the search places. */
  events: EventKind[];
  /** Events every schedule has (e.g. the interrupt at boundary 0). */
  fixed: ScheduleEvent[];
  /** Boards it runs on; null: every board that can place its events. */
  boards: string[] | null;
  /** What each mode must show; a mode with no entry is not run. */
  expect: Partial<Record<Mode, Expectation>>;
  /** The file it came from. */
  source: string;
}

export interface ScenarioPlan {
  /** Console lines typed, in order, with the timer task running. */
  setup: string[];
  /** Index of the front end whose application stops writing, or null. */
  dryFe: number | null;
  /** The console line the events are placed in. */
  window: string;
}

/** A scenario file that cannot be used: the message names the file, line and field. */
export class ScenarioFormatError extends Error {}

const PLACEHOLDERS: Record<string, ["fe" | "be", number]> = { $A: ["fe", 0], $B: ["fe", 1], $X: ["be", 0], $Y: ["be", 1] };

/** Replace $A, $B (FEs) and $X, $Y (BEs) by the board's names, as string literals. */
export function substitute(line: string, fes: readonly string[], bes: readonly string[]): string {
  return line.replace(/\$[A-Z]\b/g, (token) => {
    const p = PLACEHOLDERS[token];
    if (!p) throw new ScenarioFormatError(`unknown placeholder ${token} in "${line}" (known: $A, $B, $X, $Y)`);
    const names = p[0] === "fe" ? fes : bes;
    const name = names[p[1]];
    if (name === undefined) throw new ScenarioFormatError(`${token} needs a ${p[0] === "fe" ? "front" : "back"} end #${p[1] + 1}; the board has ${names.length}`);
    return JSON.stringify(name);
  });
}

/** The plan of a scenario on a board with these FE and BE names. */
export function planScenario(scenario: Scenario, fes: readonly string[], bes: readonly string[]): ScenarioPlan {
  return {
    setup: scenario.setup.map((l) => substitute(l, fes, bes)),
    dryFe: scenario.dry,
    window: substitute(scenario.window, fes, bes),
  };
}

/** The line dry mode types: the FE's application stops writing. */
export function dryLine(fe: number): string {
  return `DPCM.player.voices[${fe}].tone = null`;
}

// ---- parsing and validation ------------------------------------------------------------

const FIELDS = ["id", "key", "title", "history", "setup", "dry", "overdue", "window", "events", "fixed", "boards", "expect"] as const;
const REQUIRED = ["key", "title", "setup", "window", "events", "expect"] as const;
const BOARD_NAMES = ["generic", "bench", "pico-wm8731"];

/** "line 12, column 5" for an offset in text. */
function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** The line of a field's key in the file ("line 7"), for messages; "" when not found. */
function fieldLine(text: string, path: string): string {
  const key = /([A-Za-z]+)(?:\[\d+\])*$/.exec(path)?.[1];
  if (!key) return "";
  const at = text.indexOf(`"${key}"`);
  return at < 0 ? "" : `line ${lineCol(text, at).line}, `;
}

/** A schedule event written as text: "irq@0", "dma@12". */
export function parseEvent(text: string): ScheduleEvent | null {
  const m = /^\s*(irq|dma|nak)@(\d+)\s*$/.exec(text);
  return m ? { kind: m[1] as EventKind, boundary: Number(m[2]) } : null;
}

/**
 * Parse and check one scenario file's text. Throws ScenarioFormatError
 * naming `source`, the line and the field of the first problem.
 */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos ? lineCol(text, Number(pos[1])) : null;
    throw new ScenarioFormatError(`${source}${where ? `:${where.line}:${where.column}` : ""}: not valid JSON: ${msg}`);
  }
  const fail = (path: string, message: string): never => {
    throw new ScenarioFormatError(`${source}: ${fieldLine(text, path)}field "${path}": ${message}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("(top)", "a scenario file is one JSON object");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(k)) fail(k, `unknown field (fields: ${FIELDS.join(", ")})`);
  }
  for (const k of REQUIRED) if (!(k in o)) fail(k, "missing (required: " + REQUIRED.join(", ") + ")");

  const str = (path: string, v: unknown): string => {
    if (typeof v !== "string" || v.trim() === "") fail(path, "must be a non-empty string");
    return v as string;
  };
  const strings = (path: string, v: unknown): string[] => {
    if (!Array.isArray(v)) fail(path, "must be an array of strings");
    return (v as unknown[]).map((x, i) => str(`${path}[${i}]`, x));
  };
  const checkLine = (path: string, line: string): void => {
    const bad = /\$[A-Z]\b/g;
    for (const m of line.matchAll(bad)) if (!PLACEHOLDERS[m[0]]) fail(path, `unknown placeholder ${m[0]} (known: $A, $B, $X, $Y)`);
  };

  let id: number | null = null;
  if (o.id !== undefined && o.id !== null) {
    if (!Number.isInteger(o.id) || (o.id as number) < 1) fail("id", "must be a whole number from 1");
    id = o.id as number;
  }
  const key = str("key", o.key);
  if (!/^[a-z][a-z0-9-]*$/.test(key)) fail("key", `"${key}" must be lower-case letters, digits and dashes, starting with a letter`);
  const title = str("title", o.title);
  const history = o.history === undefined ? "" : str("history", o.history);
  const setup = strings("setup", o.setup);
  setup.forEach((l, i) => checkLine(`setup[${i}]`, l));
  const window = str("window", o.window);
  checkLine("window", window);

  let dry: number | null = null;
  if (o.dry !== undefined && o.dry !== null) {
    if (o.dry !== "$A" && o.dry !== "$B") fail("dry", `must be "$A", "$B" or null (the FE whose application stops writing)`);
    dry = o.dry === "$A" ? 0 : 1;
  }
  let overdue = 2;
  if (o.overdue !== undefined) {
    if (!Number.isInteger(o.overdue) || (o.overdue as number) < 0 || (o.overdue as number) > 4) fail("overdue", "must be a whole number of periods, 0 to 4");
    overdue = o.overdue as number;
  }

  const events = strings("events", o.events).map((e, i) => {
    if (!(EVENT_KINDS as readonly string[]).includes(e)) fail(`events[${i}]`, `unknown event "${e}" (known: ${EVENT_KINDS.join(", ")})`);
    return e as EventKind;
  });
  if (events.length === 0) fail("events", "name at least one event kind to place");
  if (new Set(events).size !== events.length) fail("events", "an event kind is named twice");

  const fixed: ScheduleEvent[] = [];
  if (o.fixed !== undefined) {
    strings("fixed", o.fixed).forEach((e, i) => {
      const ev = parseEvent(e);
      if (!ev) fail(`fixed[${i}]`, `"${e}" is not an event (write kind@boundary, e.g. "irq@0")`);
      fixed.push(ev as ScheduleEvent);
    });
  }

  let boards: string[] | null = null;
  if (o.boards !== undefined && o.boards !== null) {
    boards = strings("boards", o.boards);
    boards.forEach((b, i) => {
      if (!BOARD_NAMES.includes(b)) fail(`boards[${i}]`, `unknown board "${b}" (known: ${BOARD_NAMES.join(", ")})`);
    });
  }

  if (typeof o.expect !== "object" || o.expect === null || Array.isArray(o.expect)) {
    fail("expect", `must be an object with "safe" and/or "unsafe"`);
  }
  const expect: Partial<Record<Mode, Expectation>> = {};
  for (const [mode, v] of Object.entries(o.expect as Record<string, unknown>)) {
    const path = `expect.${mode}`;
    if (!(MODES as readonly string[]).includes(mode)) fail(path, `unknown mode (modes: ${MODES.join(", ")})`);
    if (v === "none") {
      expect[mode as Mode] = { none: true, any: [], ctx: null };
      continue;
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, `must be "none" or { "any": [kinds], "ctx": "irq" | "main" }`);
    const e = v as Record<string, unknown>;
    for (const k of Object.keys(e)) if (k !== "any" && k !== "ctx") fail(`${path}.${k}`, `unknown field (fields: any, ctx)`);
    const any = strings(`${path}.any`, e.any);
    if (any.length === 0) fail(`${path}.any`, "name at least one finding kind");
    any.forEach((k, i) => {
      if (!FINDING_KINDS.includes(k)) fail(`${path}.any[${i}]`, `unknown finding kind "${k}" (known: ${FINDING_KINDS.join(", ")})`);
    });
    let ctx: "irq" | "main" | null = null;
    if (e.ctx !== undefined && e.ctx !== null) {
      if (e.ctx !== "irq" && e.ctx !== "main") fail(`${path}.ctx`, `must be "irq" or "main"`);
      ctx = e.ctx as "irq" | "main";
    }
    expect[mode as Mode] = { none: false, any, ctx };
  }
  if (Object.keys(expect).length === 0) fail("expect", "say what at least one mode must show");

  return { id, key, title, history, setup, dry, overdue, window, events, fixed, boards, expect, source };
}

/** Read and check a scenario file. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ScenarioFormatError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return parseScenario(text, path);
}

/** Every *.json in a folder, by id then key; ids and keys must be unique. */
export function loadScenarioDir(dir: string): Scenario[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  return checkUnique(files.map((f) => loadScenarioFile(join(dir, f))));
}

/** Throws when two scenarios share an id or a key. */
export function checkUnique(list: Scenario[]): Scenario[] {
  const ids = new Map<number, string>();
  const keys = new Map<string, string>();
  for (const s of list) {
    if (s.id !== null) {
      if (ids.has(s.id)) throw new ScenarioFormatError(`${s.source}: field "id": ${s.id} is also the id of ${ids.get(s.id)}`);
      ids.set(s.id, s.source);
    }
    if (keys.has(s.key)) throw new ScenarioFormatError(`${s.source}: field "key": "${s.key}" is also the key of ${keys.get(s.key)}`);
    keys.set(s.key, s.source);
  }
  return [...list].sort((a, b) => (a.id ?? Infinity) - (b.id ?? Infinity) || a.key.localeCompare(b.key));
}

/** The repository's scenarios folder. */
export const SCENARIO_DIR = fileURLToPath(new URL("../../../scenarios/", import.meta.url));

/** The repository's scenarios (scenarios/*.json), read once. */
export const SCENARIOS: readonly Scenario[] = loadScenarioDir(SCENARIO_DIR);

/** A scenario by number ("1"), by "s1" or by key ("close-path"), among `list`. */
export function findScenario(name: string, list: readonly Scenario[] = SCENARIOS): Scenario | undefined {
  const n = /^s?(\d+)$/.exec(name);
  if (n) return list.find((s) => s.id === Number(n[1]));
  return list.find((s) => s.key === name);
}

/** "s1" or the key: how schedules name a scenario. */
export function scenarioName(s: Scenario): string {
  return s.id !== null ? `s${s.id}` : s.key;
}
