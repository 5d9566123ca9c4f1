// Schedules as compact strings, for reports and --replay:
//
//   s<scenario>:<mode>:<boundary>,<boundary>,...[@<board>]
//
// e.g. "s1:unsafe:57@generic" fires the interrupt once, just before the
// 57th (0-based) main-loop statement of scenario 1's window, in unsafe mode,
// on the generic board; "s3:safe:12,40@pico-wm8731" fires it twice;
// "s2:safe:@generic" is the scenario with no interrupt in its window at all.
// Without "@board" the board comes from --board. The scenario may also be
// named by its key ("close-path:unsafe:57").

import { findScenario, type Mode, type Scenario } from "./scenarios.ts";

export interface Schedule {
  scenario: Scenario;
  mode: Mode;
  /** Ascending, distinct window boundaries. */
  boundaries: number[];
  /** Board named in the string, if any. */
  board: string | null;
}

export function formatSchedule(scenario: Scenario, mode: Mode, boundaries: readonly number[], board: string): string {
  return `s${scenario.id}:${mode}:${boundaries.join(",")}@${board}`;
}

export function parseSchedule(text: string): Schedule {
  const m = /^\s*([\w-]+):(safe|unsafe):([\d,\s]*)(?:@([\w-]+))?\s*$/.exec(text);
  if (!m) throw new Error(`bad schedule "${text}": expected s<1-4>:<safe|unsafe>:<boundary>,<boundary>...[@board], e.g. s1:unsafe:57`);
  const scenario = findScenario(m[1]);
  if (!scenario) throw new Error(`bad schedule "${text}": no scenario "${m[1]}"`);
  const boundaries = m[3]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  const sorted = [...new Set(boundaries)].sort((a, b) => a - b);
  return { scenario, mode: m[2] as Mode, boundaries: sorted, board: m[4] ?? null };
}
