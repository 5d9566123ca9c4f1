// The race explorer's scenarios: each one a console session on the emulated
// board that brings the firmware to the state a historical DPCM race needs,
// then one console line, the WINDOW, during which the explorer fires the
// period interrupt at chosen statement boundaries.
//
// Common set-up (see ARCHITECTURE.md, "The race explorer"):
//  - the commands below run with the timer task firing on its own;
//  - then the DRY front end's application stops writing
//    (`DPCM.player.voices[i].tone = null`: the blocking write of the 2014
//    report has returned and nothing more comes), and the machine runs until
//    its ring has been played to the last frame, the FE still RUNNING;
//  - the timer task is then held off (execTasksFire = false) for one more
//    period, so every running BE has a completion overdue: the first
//    interrupt the explorer fires finds an FE with no data (an xrun);
//  - `unsafe(true)` in unsafe mode, then the window line.
// Front and back ends are taken from the board by position (fes[0] is A,
// fes[1] is B; bes[0] is X, bes[1] is Y), so the same scenario runs on the
// generic board (media, alert; line, bt), the bench board and the Pico.

export type Mode = "safe" | "unsafe";
export const MODES: readonly Mode[] = ["safe", "unsafe"];

export interface ScenarioPlan {
  /** Console lines typed, in order, with the timer task running. */
  setup: string[];
  /** Index of the front end whose application stops writing. */
  dryFe: number;
  /** The console line the interrupt is fired into. */
  window: string;
}

export interface Scenario {
  id: number;
  /** Short name for --scenario. */
  key: string;
  title: string;
  /** The kernel history it stands for (../shared/design.md). */
  history: string;
  /** Race kinds the unsafe search must find (any one of them) on at least one schedule. */
  expect: string[];
  /** For the expected kind: the context the detector must report (use-after-free from the interrupt). */
  expectCtx: "irq" | "main" | null;
  plan(fes: string[], bes: string[]): ScenarioPlan;
}

function q(name: string): string {
  return JSON.stringify(name);
}

function dry(fe: number): string {
  return `DPCM.player.voices[${fe}].tone = null`;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    key: "close-path",
    title: "the 2014 report: the path closes while the interrupt stops the FE after an xrun",
    history:
      "alsa-devel 2014-08-28 (Marvell): playback drained, the application closed the path; " +
      "dpcm_be_disconnect unlinked and freed the FE's link while the DMA interrupt ran " +
      "snd_pcm_period_elapsed -> xrun -> snd_pcm_stop -> dpcm_be_dai_trigger and walked be_clients. " +
      "Fixed by a9764869 (lists changed under a spinlock with interrupts off) and 9f620684 (free outside it).",
    expect: ["use-after-free"],
    expectCtx: "irq",
    plan(fes, bes) {
      // A plays on Y and X, both started together so they run dry together;
      // the window disconnects X. Y keeps running, so the interrupt has a BE
      // whose period walk finds A dry and stops A, walking A's BE clients
      // while X's link retires.
      const a = fes[0];
      return {
        setup: [`route(${q(a)}, ${q(bes[1])}, true)`, `route(${q(a)}, ${q(bes[0])}, true)`, `play(${q(a)}, 440)`],
        dryFe: 0,
        window: `route(${q(a)}, ${q(bes[0])}, false)`,
      };
    },
  },
  {
    id: 2,
    key: "cross-fe-free",
    title: "use after free across FEs: B's route change frees its link on a BE A shares while A stops",
    history:
      "a9764869 \"ASoC: dpcm: prevent snd_soc_dpcm use after free\": a BE's fe_clients list walked by " +
      "one FE's trigger while another FE's runtime update deleted and freed its link on that BE.",
    expect: ["use-after-free"],
    expectCtx: "irq",
    plan(fes, bes) {
      // A and B both play on X; A runs dry; the window disconnects B from X.
      // The interrupt walks X's FE clients (period walk) to find A's xrun and
      // meets B's link while it retires.
      const a = fes[0];
      const b = fes[1];
      const x = bes[0];
      return {
        setup: [`route(${q(a)}, ${q(x)}, true)`, `route(${q(b)}, ${q(x)}, true)`, `play(${q(a)}, 440)`, `play(${q(b)}, 660)`],
        dryFe: 0,
        window: `route(${q(b)}, ${q(x)}, false)`,
      };
    },
  },
  {
    id: 3,
    key: "shared-be",
    title: "shared BE: B resumes on a BE that A uses, A stops, B stops, while the interrupt stops A",
    history:
      "2021-22 \"fix trigger race conditions with shared BE\" (b7898396, b2ae80663008 serialize BE " +
      "triggers, 848aedfdc6ba test refcount before triggering, 3aa1e96a2b95 BE handling of PAUSE_RELEASE): " +
      "a BE shared by several FEs got two STARTs and sometimes no STOP; the fix keeps a start count and " +
      "triggers the hardware only on 0 -> 1 and 1 -> 0.",
    expect: ["double-start", "left-running", "unbalanced-stop"],
    expectCtx: null,
    plan(fes, bes) {
      // A and B play on X, B is paused, A runs dry. The window resumes B
      // (PAUSE_RELEASE: X's start count 1 -> 2), stops A (2 -> 1, while the
      // interrupt's xrun stops A too) and stops B (1 -> 0: the hardware stop).
      const a = fes[0];
      const b = fes[1];
      const x = bes[0];
      return {
        setup: [
          `route(${q(a)}, ${q(x)}, true)`,
          `route(${q(b)}, ${q(x)}, true)`,
          `play(${q(a)}, 440)`,
          `play(${q(b)}, 660)`,
          `pause(${q(b)}, true)`,
        ],
        dryFe: 0,
        window: `pause(${q(b)}, false); stop(${q(a)}); stop(${q(b)})`,
      };
    },
  },
  {
    id: 4,
    key: "trigger-during-update",
    title: "a trigger during a routing update: the xrun STOP lands while A is being connected to a new BE",
    history:
      "ea9d0d771fcd \"ASoC: dpcm: Fix race between FE/BE updates and trigger\": a trigger that arrives " +
      "during an FE's runtime update is stored (trigger_pending) and replayed when the update ends.",
    expect: ["lost-trigger"],
    expectCtx: null,
    plan(fes, bes) {
      // A plays on Y and runs dry; the window connects A to X as well.
      const a = fes[0];
      return {
        setup: [`route(${q(a)}, ${q(bes[1])}, true)`, `play(${q(a)}, 440)`],
        dryFe: 0,
        window: `route(${q(a)}, ${q(bes[0])}, true)`,
      };
    },
  },
];

export function dryLine(fe: number): string {
  return dry(fe);
}

/** A scenario by number ("1"), by key ("close-path") or by "s1". */
export function findScenario(name: string): Scenario | undefined {
  const n = /^s?(\d+)$/.exec(name);
  if (n) return SCENARIOS.find((s) => s.id === Number(n[1]));
  return SCENARIOS.find((s) => s.key === name);
}
