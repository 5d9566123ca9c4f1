// npm start -- --serve [port]: the emulated board as a dev board. Its
// console is served on a loopback TCP port (emulator/tcp-console.ts) and the
// machine runs in real time until Ctrl-C, so the official upload tool,
// `npm run flash` and `npm run monitor` can work with it as with a board on
// a USB port.
//
// By default the board is the session's machine: the bundle loaded as
// `npm start` loads it (and a --script run first, if given), with the same
// bundle in Storage as .bootcde, as if it had been flashed: reset() gives a
// bare Espruino, load() or a power cycle starts the firmware again. With
// --blank, Storage is empty and the board starts as a bare Espruino.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DevBoard } from "../../emulator/dev-board.ts";
import { TcpConsole } from "../../emulator/tcp-console.ts";
import { EspruinoStorage } from "../../emulator/storage.ts";
import { createEmulatedBoard, type BoardName } from "../../emulator/boards/registry.ts";
import type { MachineOptions } from "../../emulator/machine.ts";
import { runSession, type ScriptStep } from "./session.ts";

export interface ServeOptions {
  board: BoardName;
  /** TCP port; 0 picks a free one. */
  port: number;
  host?: string;
  /** Start with empty Storage: a bare Espruino. */
  blank?: boolean;
  /** A script to run (in virtual time) before serving. */
  steps?: ScriptStep[];
  unsafe?: boolean;
  machine?: MachineOptions;
  outDir: string;
  /** Do not echo the board's console on stdout. */
  quiet?: boolean;
  distDir?: string;
}

export interface Served {
  board: DevBoard;
  server: TcpConsole;
  logFile: string;
  stop(): Promise<void>;
}

export async function serveBoard(o: ServeOptions): Promise<Served> {
  mkdirSync(o.outDir, { recursive: true });
  // Its own log, named by the time it started: a served board never overwrites npm start's serial.log.
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const logFile = join(o.outDir, `serve-${stamp}.log`);
  const fd = openSync(logFile, "w");
  const stream = {
    write(s: string): void {
      writeSync(fd, s);
      if (!o.quiet) process.stdout.write(s);
    },
  };
  const distDir = o.distDir ?? "dist";
  const bundlePath = join(distDir, `${o.board}.js`);
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} is missing: run npm run build first`);
  const bundle = readFileSync(bundlePath, "utf8");
  const map = existsSync(bundlePath + ".map") ? readFileSync(bundlePath + ".map", "utf8") : null;
  const create = async () => (await createEmulatedBoard(o.board, { ...o.machine, console: { stream } }, distDir)).machine;
  const storage = new EspruinoStorage();
  const common = { create, storage, consoleDevice: "Telnet", sourceMapFor: (code: string) => (code === bundle ? map : null) };
  let board: DevBoard;
  if (o.blank) {
    board = await DevBoard.start(common);
  } else {
    storage.writeText(".bootcde", bundle);
    const session = await runSession({
      board: o.board,
      steps: o.steps ?? [],
      duration: o.steps?.length ? undefined : 0,
      unsafe: o.unsafe,
      machine: o.machine,
      console: { stream },
      distDir,
    });
    board = await DevBoard.start({ ...common, adopt: session.board.machine });
  }
  const server = await TcpConsole.listen(board, {
    host: o.host,
    port: o.port,
    onEvent: (m) => process.stderr.write(`[serve] ${m}\n`),
  });
  board.startRealTime();
  let stopped = false;
  return {
    board,
    server,
    logFile,
    async stop() {
      if (stopped) return;
      stopped = true;
      board.stopRealTime();
      await server.close();
      closeSync(fd);
    },
  };
}
