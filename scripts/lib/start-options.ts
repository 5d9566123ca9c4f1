// npm start's options, in one place: scripts/run-emulator.ts parses them and
// scripts/readme-figures.ts writes README's options table from them.

import { Command, InvalidArgumentError } from "commander";
import { BOARD_NAMES } from "../../emulator/boards/registry.ts";
import { FUNCTIONAL_STATEMENT_COST_US, PICO_STATEMENT_COST_US, parseStatementCost } from "../../emulator/cost-model.ts";

function positive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0`);
    return n;
  };
}

/** npm start's command line (README's options table is generated from it: scripts/readme-figures.ts). */
export function startProgram(): Command {
  return new Command()
    .name("npm start --")
    .description("Run a board's firmware bundle on the host emulator and summarize what it played.")
    .option("--board <name>", `board to emulate (${BOARD_NAMES.join(", ")})`, "pico-wm8731")
    .option("--tone <hz>", "media tone frequency in the demo", positive("--tone"), 440)
    .option(
      "--rate <hz>",
      "sample rate of the demo's streams: both FEs are opened at it (open(fe, hz) at the console; the period keeps the board's period time); " +
        "default the board's own rate",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("--rate must be a whole number of Hz above 0, e.g. 48000");
        return n;
      },
    )
    .option("--script <file>", "route script: one '<seconds> <console command>' per line (instead of the demo)")
    .option("--demo", "run the demo (the default, except with --interactive)")
    .option("--duration <s>", "virtual seconds to run after the firmware is ready", positive("--duration"))
    .option("--unsafe", "start with unsafe(true): no critical sections, no trigger deferral")
    .option("--seed <n>", "jitter each scripted command by up to 8 ms, reproducibly, keeping the script's order", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new InvalidArgumentError("--seed must be an integer");
      return n;
    })
    .option(
      "--statement-cost <cost>",
      `virtual CPU time per JavaScript statement: microseconds, or the calibrated Pico ends optimistic ` +
        `(${PICO_STATEMENT_COST_US.optimistic} us) or pessimistic (${PICO_STATEMENT_COST_US.pessimistic} us) from ` +
        `emulator/cost-model.json; default ${FUNCTIONAL_STATEMENT_COST_US} us, at which the firmware keeps up`,
      (v) => {
        const us = parseStatementCost(v);
        if (us instanceof Error) throw new InvalidArgumentError(us.message);
        return us;
      },
    )
    .option("--interactive", "type console commands at the board's prompt, in real time (an idle board unless --demo or --script)")
    .option("--out <dir>", "directory for the WAV files, serial.log, report.html and run.json", "out")
    .option("--quiet", "do not echo the serial console while running")
    // --serve: the emulated board as a dev board (scripts/lib/serve.ts)
    .option("--serve [port]", "serve the board's console on 127.0.0.1:PORT (default 2323, 0 = any free port) and run in real time until Ctrl-C")
    .option("--blank", "with --serve: start with empty Storage, a bare Espruino to flash with npm run flash")
    .option("--espruino <version>", "with --serve: the Espruino version the emulated board reports (process.env.VERSION)", "2v29")
    .addHelpText(
      "after",
      "\nExit status: 0 when the run did what was asked; 1 when it did not (a console ERROR or Uncaught line,\n" +
        "an output that sounded for less than half the time it was meant to or played another tone, a hardware\n" +
        "fault, a race in safe mode, a main loop starved by its interrupt) or for bad arguments or a failed build.",
    );
}
