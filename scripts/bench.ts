// npm run bench: figures, not pass/fail. Deterministic counts (statements in
// the interrupt handler, statements with the handler masked) are the main
// measure; wall time appears only as emulator speed (virtual seconds per
// wall second) and is a ratio within this run.

import { loadBundleFile } from "../emulator/load-bundle.ts";
import { createEmulatedBoard } from "../emulator/boards/registry.ts";
import { demoScript, runSession } from "./lib/session.ts";
import { runRealBench } from "./lib/bench-real.ts";

interface IrqView {
  masked: boolean;
  inHandler: boolean;
}

interface ScaleFigures {
  links: number;
  fes: number;
  bes: number;
  periods: number;
  handlerStatementsPerPeriod: number;
  longestHandlerRun: number;
  longestMaskedMain: number;
  maskedSections: number;
}

/**
 * Route `fes` front ends each to `bes` sinks of the bench board and play a
 * tone on each: count the handler's statements per completed period in the
 * steady state, then reroute one link off and on every 25 ms and find the
 * longest run of main-loop statements with the handler masked.
 */
async function measureScaling(fes: number, bes: number): Promise<ScaleFigures> {
  const board = await createEmulatedBoard("generic", {});
  const bundle = "dist/bench.js";
  const { machine } = board;
  const loaded = loadBundleFile(machine, bundle);
  if (!loaded.ok) throw new Error(`${bundle}: ${loaded.message}`);
  machine.runFor(0.05);
  for (let f = 0; f < fes; f++) {
    for (let b = 0; b < bes; b++) machine.console.type(`route("f${f}", "s${b}", true)`);
    machine.console.type(`play("f${f}", ${300 + 50 * f})`);
  }
  machine.runFor(0.1);
  const irq = (machine.global.DPCM as { irq: IrqView }).irq;
  let inSection = 0;
  let longestMasked = 0;
  let sections = 0;
  let handlerRun = 0;
  let longestHandler = 0;
  let lastInTask = false;
  machine.onStatement = (_site, _index, inTask) => {
    if (inTask) {
      handlerRun = lastInTask ? handlerRun + 1 : 1;
      if (handlerRun > longestHandler) longestHandler = handlerRun;
    } else if (irq.masked && !irq.inHandler) {
      if (inSection === 0) sections++;
      inSection++;
      if (inSection > longestMasked) longestMasked = inSection;
    } else {
      inSection = 0;
    }
    lastInTask = inTask;
  };
  // Steady state: the handler's cost per completed period.
  const before = machine.stats;
  const periodsBefore = periodsOf(machine.global.DPCM);
  machine.runFor(0.5);
  const steady = machine.stats;
  const periods = periodsOf(machine.global.DPCM) - periodsBefore;
  // Reroutes: one link off and on every 25 ms, while every tone plays.
  for (let i = 0; i < 20; i++) {
    machine.console.type(`route("f0", "s0", false)`);
    machine.runFor(0.025);
    machine.console.type(`route("f0", "s0", true)`);
    machine.runFor(0.025);
  }
  machine.onStatement = null;
  return {
    links: fes * bes,
    fes,
    bes,
    periods,
    handlerStatementsPerPeriod: (steady.interruptStatements - before.interruptStatements) / Math.max(1, periods),
    longestHandlerRun: longestHandler,
    longestMaskedMain: longestMasked,
    maskedSections: sections,
  };
}

function periodsOf(dpcm: unknown): number {
  const bes = (dpcm as { card: { bes: { periods: number }[] } }).card.bes;
  return bes.reduce((n, be) => n + be.periods, 0);
}

async function main(): Promise<void> {
  const p = (s: string) => process.stdout.write(s + "\n");
  p("== emulator speed: the npm start demo, preemption calls on (virtual s per wall s)");
  p("   cold = the first run in this process (includes V8 warm-up); warm = median of the next 5");
  for (const name of (process.env.BENCH_BOARDS ?? "pico-wm8731,generic").split(",") as ("pico-wm8731" | "generic")[]) {
    const ratios: number[] = [];
    let cold = "";
    for (let run = 0; run < 6; run++) {
      const result = await runSession({ board: name, steps: demoScript(name, 440) });
      const virtual = result.endAt - result.readyAt;
      ratios.push(virtual / result.wallSeconds);
      if (run === 0) {
        const stats = result.board.machine.stats;
        cold =
          `${virtual.toFixed(2)} virtual s, ${stats.statements} statements (${stats.interruptStatements} in the interrupt); ` +
          `cold ${(virtual / result.wallSeconds).toFixed(1)}x in ${result.wallSeconds.toFixed(3)} s`;
      }
    }
    const warm = ratios.slice(1).sort((a, b) => a - b)[2];
    p(`${name.padEnd(12)} ${cold}; warm ${warm.toFixed(1)}x real time`);
  }
  p("");
  p("== interrupt path and critical sections vs links (bench board, statements)");
  p("links  FExBE  handler stmts/period  longest handler run  longest masked section  sections");
  for (const shape of [
    [1, 1],
    [1, 4],
    [4, 1],
    [4, 4],
  ] as const) {
    const f = await measureScaling(shape[0], shape[1]);
    p(
      `${String(f.links).padStart(5)}  ${f.fes}x${f.bes}  ${f.handlerStatementsPerPeriod.toFixed(1).padStart(20)}  ` +
        `${String(f.longestHandlerRun).padStart(19)}  ${String(f.longestMaskedMain).padStart(22)}  ${String(f.maskedSections).padStart(8)}`,
    );
  }
}

await main();
await runRealBench();
