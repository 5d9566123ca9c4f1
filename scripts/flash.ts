// npm run flash -- --board <name> --port <port>
// Check the board on the port (before building: a wrong port fails at once),
// build the board's bundle and upload it with the official upload tool, saved
// to Storage so that it survives a reset; succeed only once the board
// answers from the new firmware. See scripts/lib/flash.ts for the steps and
// the exit codes.

import { createRequire } from "node:module";
import { Command, InvalidArgumentError } from "commander";
import { runFlash, EXIT } from "./lib/flash.ts";

const require = createRequire(import.meta.url);

interface Bar {
  start(total: number, value: number): void;
  update(value: number): void;
  stop(): void;
}

function progressBar(): { start(total: number): void; update(sent: number): void; stop(): void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const cliProgress = require("cli-progress") as {
    SingleBar: new (options: Record<string, unknown>, preset: unknown) => Bar;
    Presets: Record<string, unknown>;
  };
  let bar: Bar | null = null;
  return {
    start(total) {
      bar = new cliProgress.SingleBar(
        { format: "upload: [{bar}] {percentage}% {value}/{total} bytes", hideCursor: true, clearOnComplete: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update(sent) {
      bar?.update(sent);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a whole number above 0`);
    return n;
  };
}

const program = new Command()
  .name("npm run flash --")
  .description(
    "Check the board on the port (before the build, so a wrong port fails at once), build its bundle and upload it with the " +
      "official Espruino upload tool, saved to Storage (runs after every reset). " +
      "Succeeds only once the board answers from the new firmware.",
  )
  .requiredOption("--board <name>", "board to build and flash (a folder in boards/ with main.ts and board.json)")
  .requiredOption("--port <port>", "serial device (e.g. /dev/ttyACM0) or tcp://HOST:PORT (e.g. npm start -- --serve)")
  .option("--no-build", "upload dist/<board>.js as it is, without building it first")
  .option("-b, --baud <rate>", "serial baud rate (USB ignores it)", positiveInt("--baud"), 9600)
  .option("--no-throttle", "do not pause after each Storage chunk (the tool's STORAGE_UPLOAD_METHOD=1)")
  .option("--selftest", "run selftest() on the board after flashing and require every check to pass")
  .option("--timeout <s>", "seconds to wait for the board to answer at each step", positiveInt("--timeout"), 3)
  .option("--verbose", "print the upload tool's log and everything the board prints")
  .addHelpText(
    "after",
    "\nExit codes: 0 flashed, 1 bad arguments or build failure, 2 no such port, 3 no Espruino answers,\n" +
      "4 Espruino too old or wrong board, 5 upload failed or truncated, 6 the new firmware does not answer.",
  )
  .parse();

const opts = program.opts<{
  board: string;
  port: string;
  build: boolean;
  baud: number;
  throttle: boolean;
  selftest?: boolean;
  timeout: number;
  verbose?: boolean;
}>();

const result = await runFlash({
  board: opts.board,
  port: opts.port,
  build: opts.build,
  baudRate: opts.baud,
  throttle: opts.throttle,
  selftest: opts.selftest,
  answerTimeoutMs: opts.timeout * 1000,
  verbose: opts.verbose,
  progress: progressBar(),
  out: (t) => void (t.startsWith("flash: error") ? process.stderr : process.stdout).write(t),
});
// The upload tool leaves timers and listeners behind: leave explicitly.
process.exit(result.code === EXIT.ok ? 0 : result.code);
