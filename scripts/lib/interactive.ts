// npm start -- --interactive: the emulated board's console in this terminal,
// with Espruino's own line discipline (emulator/dev-board.ts, after
// src/jsinteractive.c): a ">" prompt, every typed character echoed once by
// the board (the terminal is in raw mode, so it does not echo as well), a
// line runs when Enter ends it with its brackets balanced and otherwise
// continues on a ":" prompt, Ctrl-C clears the input line. The board runs in
// real time meanwhile (virtual time follows the wall clock).
//
// Leaving: Ctrl-D (which Espruino itself ignores), or Ctrl-C twice within a
// second (a single Ctrl-C goes to the board, which clears its input line). With piped input the session ends once the
// input has ended and the board has been quiet for half a second.
//
// reset(), load() and E.reboot() work as on the board: the bundle is in
// Storage as if flashed; each boot is a new machine, which the caller is
// told of (onBoot) to measure from then on.

import { DevBoard, type BootKind } from "../../emulator/dev-board.ts";
import { EspruinoStorage } from "../../emulator/storage.ts";
import type { Machine } from "../../emulator/machine.ts";

export interface InteractiveOptions {
  /** The machine running now (after the demo or script, if any). */
  machine: Machine;
  /** A new machine for a reset/load/reboot. */
  create: () => Promise<Machine>;
  /** The bundle (saved in Storage as .bootcde) and its source map. */
  bundle: string;
  map: string | null;
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  output: { write(s: string): unknown; isTTY?: boolean };
  /** Called after every time step (e.g. to sample the CPU). */
  onStep?: () => void;
  onBoot?: (machine: Machine, kind: BootKind) => void;
}

export interface InteractiveResult {
  machine: Machine;
  /** Boots during the session (reset(), load(), E.reboot()). */
  boots: BootKind[];
}

const CTRL_C = "\x03";
const CTRL_D = "\x04";

export async function runInteractive(o: InteractiveOptions): Promise<InteractiveResult> {
  const storage = new EspruinoStorage();
  storage.writeText(".bootcde", o.bundle);
  const boots: BootKind[] = [];
  const board = await DevBoard.start({
    create: o.create,
    adopt: o.machine,
    storage,
    consoleDevice: "USB",
    sourceMapFor: (code) => (code === o.bundle ? o.map : null),
  });
  // A boot replaces the machine (DevBoard keeps a record of each in board.boots).
  let current = board.machine;
  const checkBoot = (): void => {
    if (board.isBooting || board.machine === current) return;
    current = board.machine;
    const record = board.boots[board.boots.length - 1]!;
    boots.push(record.kind);
    o.onBoot?.(current, record.kind);
  };
  let lastOutput = performance.now();
  board.attach((bytes) => {
    lastOutput = performance.now();
    o.output.write(bytes);
  });
  o.output.write(
    "Interactive: the board's console (help() lists the commands). Ctrl-C clears the line; Ctrl-D, or Ctrl-C twice, ends.\r\n",
  );
  // The board showed its prompt before this terminal was attached: show it now.
  o.output.write(">");

  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const raw = o.input.isTTY === true && typeof o.input.setRawMode === "function";
  let lastCtrlC = -Infinity;
  const onData = (chunk: Buffer | string): void => {
    const s = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    if (s.includes(CTRL_D)) {
      board.input(s.slice(0, s.indexOf(CTRL_D)));
      finish();
      return;
    }
    if (s.includes(CTRL_C)) {
      const now = performance.now();
      if (now - lastCtrlC < 1000) {
        finish();
        return;
      }
      lastCtrlC = now;
    }
    // One input event per line: Espruino returns the prompt only between
    // events (jsinteractive.c: "console will be returned next time around the
    // input loop"), so lines pasted or piped in one chunk would lose their
    // echo. A terminal program pacing a paste does the same.
    // A Ctrl-C ends an event too: Espruino clears the input line as soon as it sees one.
    for (const part of s.match(/[^\r\n\x03]*(\r\n?|\n|\x03)|[^\r\n\x03]+$/g) ?? []) board.input(part);
  };
  const onEnd = (): void => {
    const check = setInterval(() => {
      if (performance.now() - lastOutput >= 500 && !board.isBooting) {
        clearInterval(check);
        finish();
      }
    }, 50);
  };
  if (raw) o.input.setRawMode!(true);
  o.input.on("data", onData);
  o.input.on("end", onEnd);
  o.input.resume();
  process.on("SIGINT", finish);
  process.on("SIGTERM", finish);

  // Virtual time follows the wall clock, at most 50 ms at once (a slow step falls behind rather than blocks).
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    board.advance(Math.min((now - last) / 1000, 0.05));
    last = now;
    checkBoot();
    o.onStep?.();
  }, 5);

  await done;
  clearInterval(timer);
  process.off("SIGINT", finish);
  process.off("SIGTERM", finish);
  o.input.off("data", onData);
  o.input.off("end", onEnd);
  if (raw) o.input.setRawMode!(false);
  o.input.pause();
  await board.settled();
  checkBoot();
  board.detach();
  o.output.write("\r\n");
  return { machine: board.machine, boots };
}
