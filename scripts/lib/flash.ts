// npm run flash: build a board's bundle, check the board, upload the bundle
// with the official upload tool saving it to Storage (SAVE_ON_SEND=1, so it
// runs again after every reset), and report success only once the board
// answers from the new firmware.
//
//  1. check     open the port ourselves, get a prompt, read process.env:
//               a missing port, a peer that never answers and an Espruino
//               older than the firmware needs stop here, before the build
//               and before anything is sent
//  2. build     BOARD=<name> rollup -c, then the Espruino-dialect scan of dist/<name>.js
//  3. upload    the upload tool (upload-tool.ts), with boards/<name>/board.json
//               as its board JSON (copied to a temporary BOARD_JSON_URL
//               directory as <process.env.BOARD>.json)
//  4. verify    open the port again: Storage .bootcde must hold exactly the
//               bundle (length and E.CRC32), and the firmware must answer
//               with its version (DPCM.version, the one in its READY line);
//               --selftest also runs selftest() and wants fail=0
//
// Exit codes: 0 flashed; 1 bad arguments or build failure; 2 the port cannot
// be opened; 3 the port opens but no Espruino answers; 4 the board's Espruino
// is too old or not the board the bundle is for; 5 the upload failed or was
// cut short; 6 the board does not answer from the new firmware.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openPort, parsePort, PortError, type Connection, type PortSpec, type SerialBinding } from "./serial-port.ts";
import { EspruinoLink, espruinoVersion } from "./espruino-link.ts";
import { uploadWithTool, commandLine, toolVersion, releaseConsole, UploadError, type ToolUploadResult } from "./upload-tool.ts";
import { crc32 } from "../../emulator/storage.ts";

export const EXIT = { ok: 0, usage: 1, noPort: 2, noAnswer: 3, wrongBoard: 4, uploadFailed: 5, notRunning: 6 } as const;

export interface FlashOptions {
  board: string;
  port: string;
  /** Skip the build: upload dist/<board>.js as it is. */
  build?: boolean;
  baudRate?: number;
  /** Pause after each Storage chunk as the tool does by default. Default true. */
  throttle?: boolean;
  /** Run selftest() after flashing and require fail=0. */
  selftest?: boolean;
  /** How long to wait for the board to answer at each step, ms. Default 3000. */
  answerTimeoutMs?: number;
  /** Whole upload time limit, ms. Default 120000. */
  uploadTimeoutMs?: number;
  verbose?: boolean;
  /** Repository root (boards/, dist/). Default the current directory. */
  root?: string;
  /** serialport binding for serial devices (tests: serialport's mock binding). */
  serialBinding?: SerialBinding;
  /** Where progress and results go. Default stdout. */
  out?: (text: string) => void;
  /** Upload progress, when there is a terminal to draw it on. */
  progress?: { start(total: number): void; update(sent: number): void; stop(): void };
}

export interface FlashResult {
  code: number;
  message: string;
  board?: string;
  espruino?: string;
  firmwareVersion?: string;
  upload?: ToolUploadResult;
}

class FlashFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface BoardJson {
  /** Some board JSONs name the board's process.env.BOARD at the top level. */
  BOARD?: string;
  info?: { name?: string; binary_version?: string; builtin_modules?: string[] };
  dpcm?: { board?: string; min_espruino?: string; process_env_board?: string | null };
}

/** The firmware's version, as its READY line in the bundle states it. */
export function bundleFirmwareVersion(code: string): string | null {
  const m = /READY dpcm-espruino (\S+?) board=/.exec(code);
  return m ? m[1]! : null;
}

export async function runFlash(options: FlashOptions): Promise<FlashResult> {
  const out = options.out ?? ((t: string) => void process.stdout.write(t));
  const say = (line: string): void => out(line + "\n");
  const root = resolve(options.root ?? ".");
  const answerMs = options.answerTimeoutMs ?? 3000;
  const started = Date.now();
  const result: FlashResult = { code: EXIT.ok, message: "" };
  try {
    // ---- arguments and board files ----
    const boardDir = join(root, "boards", options.board);
    const boardJsonPath = join(boardDir, "board.json");
    if (!existsSync(join(boardDir, "main.ts"))) throw new FlashFailure(EXIT.usage, `unknown board "${options.board}": no boards/${options.board}/main.ts`);
    if (!existsSync(boardJsonPath)) throw new FlashFailure(EXIT.usage, `boards/${options.board}/board.json is missing: the upload tool needs a board JSON file`);
    let boardJson: BoardJson;
    try {
      boardJson = JSON.parse(readFileSync(boardJsonPath, "utf8")) as BoardJson;
    } catch (e) {
      throw new FlashFailure(EXIT.usage, `boards/${options.board}/board.json is not valid JSON: ${(e as Error).message}`);
    }
    let spec: PortSpec;
    try {
      spec = parsePort(options.port);
    } catch (e) {
      throw new FlashFailure(EXIT.usage, (e as Error).message);
    }
    const needs = boardJson.dpcm?.min_espruino ?? "2v29";

    // ---- 1. check the board, before the build ----
    // A wrong port, a silent peer or an old Espruino costs no build time. The
    // board is opened here once, as it always was before the upload (the
    // check only moved ahead of the build): it gets Ctrl-C, a prompt and
    // process.env, and sits at its prompt while the bundle builds.
    const bundlePath = join(root, "dist", `${options.board}.js`);
    if (options.build === false && !existsSync(bundlePath)) {
      throw new FlashFailure(EXIT.usage, `dist/${options.board}.js is missing: run npm run build (or leave out --no-build)`);
    }
    say(`board: ${spec.text}`);
    const env = await withLink(spec, options, answerMs, async (link, conn) => {
      const text = await link.evaluate("process.env", answerMs);
      if (text === undefined) throw new FlashFailure(EXIT.noAnswer, `${conn.spec.text}: an Espruino prompt, but no answer to process.env (got: ${link.snippet() || "nothing"})`);
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new FlashFailure(EXIT.noAnswer, `${conn.spec.text}: process.env did not come back as JSON (${text.slice(0, 120)})`);
      }
    });
    const boardName = String(env.BOARD ?? "?");
    const version = String(env.VERSION ?? "?");
    result.board = boardName;
    result.espruino = version;
    const have = espruinoVersion(version);
    const min = espruinoVersion(needs);
    if (!(have >= min)) {
      throw new FlashFailure(
        EXIT.wrongBoard,
        `the board runs Espruino ${version}, but dpcm-espruino needs ${needs} or later (hardware timer tasks, require("timer").add({type: "EXEC"})): update the board's firmware (https://www.espruino.com/Download), then flash again`,
      );
    }
    const wantBoard = boardJson.dpcm?.process_env_board ?? boardJson.BOARD;
    if (wantBoard && wantBoard !== boardName) {
      throw new FlashFailure(EXIT.wrongBoard, `dist/${options.board}.js is for a ${wantBoard} board (${boardJson.info?.name ?? options.board}), but this board says BOARD=${boardName}`);
    }
    say(`board: ${boardName}, Espruino ${version} (needs ${needs} or later): ok`);

    // ---- 2. build ----
    if (options.build !== false) {
      say(`build: BOARD=${options.board} rollup -c, then the Espruino-dialect scan`);
      const rollup = spawnSync(process.execPath, [join(root, "node_modules/rollup/dist/bin/rollup"), "-c", "rollup.config.js", "--silent"], {
        cwd: root,
        env: { ...process.env, BOARD: options.board },
        encoding: "utf8",
      });
      if (rollup.status !== 0) throw new FlashFailure(EXIT.usage, `build failed:\n${(rollup.stderr || rollup.stdout).trim()}`);
      const scan = spawnSync(process.execPath, ["--import", "tsx", "scripts/scan-bundles.ts", bundlePath], { cwd: root, encoding: "utf8" });
      if (scan.status !== 0) throw new FlashFailure(EXIT.usage, `the bundle uses something Espruino 2v29 rejects:\n${(scan.stderr || scan.stdout).trim()}`);
    }
    if (!existsSync(bundlePath)) throw new FlashFailure(EXIT.usage, `dist/${options.board}.js is missing: run npm run build (or leave out --no-build)`);
    const code = readFileSync(bundlePath, "utf8");
    const fwVersion = bundleFirmwareVersion(code);
    const stored = new TextEncoder().encode(code);
    const expectCrc = crc32(stored);
    say(`bundle: dist/${options.board}.js, ${stored.length} bytes, dpcm-espruino ${fwVersion ?? "?"}, CRC32 ${hex(expectCrc)}`);

    // ---- 3. upload with the official tool ----
    const jsonDir = mkdtempSync(join(tmpdir(), "dpcm-board-json-"));
    let upload: ToolUploadResult;
    try {
      writeFileSync(join(jsonDir, `${boardName}.json`), readFileSync(boardJsonPath));
      const toolOptions = {
        port: spec.kind === "tcp" ? spec.text : spec.path,
        code,
        fileName: `dist/${options.board}.js`,
        boardJsonDir: jsonDir,
        baudRate: options.baudRate,
        throttle: options.throttle,
        timeoutMs: options.uploadTimeoutMs,
        serialBinding: options.serialBinding,
      };
      say(`upload: espruino ${toolVersion()} (the official upload tool), SAVE_ON_SEND=1: Storage .bootcde, run at every boot`);
      if (options.verbose) {
        say(`upload: the same as running: ${commandLine({ ...toolOptions, boardJsonDir: "<dir>" })}`);
        say(`upload:   (<dir>: a directory holding boards/${options.board}/board.json as ${boardName}.json)`);
      }
      let started = false;
      upload = await uploadWithTool({
        ...toolOptions,
        onProgress: (sent, total) => {
          if (!options.progress) return;
          if (!started) {
            options.progress.start(total);
            started = true;
          }
          options.progress.update(sent);
        },
        onBoardLine: (line) => {
          const clean = line.replace(/\x1B\[[0-9;?]*[A-Za-z]/g, "").replace(/^.*\r/, "").trim();
          if (options.verbose || /^(READY |WARNING |Uncaught |ERROR )/.test(clean)) {
            options.progress?.stop();
            say(`  board> ${clean}`);
          }
        },
      }).finally(() => options.progress?.stop());
    } catch (e) {
      if (e instanceof UploadError) {
        if (options.verbose) for (const l of e.partial.log ?? []) say(`  tool: ${short(l)}`);
        const notes = e.partial.notes?.length ? ` (the tool said: ${e.partial.notes.join("; ")})` : "";
        throw new FlashFailure(EXIT.uploadFailed, `upload failed: ${e.message}${notes}`);
      }
      throw e;
    } finally {
      rmSync(jsonDir, { recursive: true, force: true });
      releaseConsole();
    }
    result.upload = upload;
    if (options.verbose) for (const l of upload.log) say(`  tool: ${short(l)}`);
    say(
      `upload: the tool identified ${upload.board ?? "?"} ${upload.version ?? "?"}` +
        `${upload.boardJsonLoaded ? ` (board JSON boards/${options.board}/board.json)` : " (no board JSON loaded)"}, sent ${upload.sentBytes} bytes`,
    );
    for (const n of upload.notes) say(`upload: the tool says ${n}`);

    // ---- 4. verify: Storage holds the bundle and the firmware answers ----
    const check = await withLink(spec, options, answerMs, async (link) => {
      const expr =
        '(function(){var s=require("Storage").read(".bootcde");' +
        'return {fw:(typeof DPCM=="object"&&DPCM)?DPCM.version:null,len:s===undefined?-1:s.length,crc:s===undefined?0:E.CRC32(s)};})()';
      let last: { fw: string | null; len: number; crc: number } | undefined;
      // The firmware starts at load(); give it a moment if it is not up yet.
      for (let i = 0; i < 5; i++) {
        const text = await link.evaluate(expr, answerMs);
        if (text !== undefined) last = JSON.parse(text) as { fw: string | null; len: number; crc: number };
        if (last && last.fw) break;
        await sleep(300);
      }
      let selftest: string | undefined;
      if (options.selftest && last?.fw) selftest = await link.printed("selftest()", Math.max(answerMs, 10000));
      return { state: last, selftest, seen: link.snippet(0, 400) };
    });
    if (!check.state) throw new FlashFailure(EXIT.notRunning, `after the upload the board no longer answers on ${spec.text}`);
    const s = check.state;
    if (s.len !== stored.length || (s.crc >>> 0) !== expectCrc) {
      throw new FlashFailure(
        EXIT.uploadFailed,
        `Storage .bootcde does not hold the bundle (${s.len < 0 ? "no such file" : `${s.len} bytes, CRC32 ${hex(s.crc >>> 0)}`}; expected ${stored.length} bytes, CRC32 ${hex(expectCrc)}): the upload was truncated or corrupted`,
      );
    }
    say(`verify: Storage .bootcde = dist/${options.board}.js (${s.len} bytes, CRC32 ${hex(expectCrc)})`);
    if (!s.fw) throw new FlashFailure(EXIT.notRunning, `the bundle is in Storage but the firmware does not answer (no DPCM object); the board printed: ${check.seen || "nothing"}`);
    if (fwVersion && s.fw !== fwVersion) throw new FlashFailure(EXIT.notRunning, `the board answers as dpcm-espruino ${s.fw}, but dist/${options.board}.js is ${fwVersion}`);
    result.firmwareVersion = s.fw;
    say(`verify: the firmware answers: dpcm-espruino ${s.fw} on ${boardName} (Espruino ${version})`);
    if (options.selftest) {
      const st = check.selftest ?? "";
      for (const l of st.split(/\r?\n/)) if (l.trim()) say(`  board> ${l.trim()}`);
      const m = /SELFTEST done pass=(\d+) fail=(\d+)/.exec(st);
      if (!m || m[2] !== "0") throw new FlashFailure(EXIT.notRunning, m ? `selftest failed: ${m[0]}` : "selftest() did not finish");
    }
    result.message = `flashed dpcm-espruino ${s.fw} to ${boardName} on ${spec.text} in ${((Date.now() - started) / 1000).toFixed(1)} s; it starts from Storage at every reset`;
    say(`OK ${result.message}`);
    return result;
  } catch (e) {
    if (e instanceof FlashFailure) {
      result.code = e.code;
      result.message = e.message;
    } else if (e instanceof PortError) {
      result.code = EXIT.noPort;
      result.message = e.message;
    } else {
      result.code = EXIT.uploadFailed;
      result.message = e instanceof Error ? e.stack ?? e.message : String(e);
    }
    out(`flash: error: ${result.message}\n`);
    return result;
  }
}

/** Open the port, get a prompt, run `fn`, close. */
async function withLink<T>(
  spec: PortSpec,
  options: FlashOptions,
  answerMs: number,
  fn: (link: EspruinoLink, conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await openPort(spec, { baudRate: options.baudRate, binding: options.serialBinding, timeoutMs: answerMs + 2000 });
  const link = new EspruinoLink(conn);
  try {
    if (!(await link.getPrompt(answerMs))) {
      const busy = /console busy/.test(link.received);
      if (busy) throw new FlashFailure(EXIT.noPort, `${spec.text}: the console is in use by another connection (close the monitor or terminal first)`);
      const got = link.snippet();
      throw new FlashFailure(
        EXIT.noAnswer,
        `${spec.text}: connected, but no Espruino answered within ${(answerMs / 1000).toFixed(1)} s (${got ? `got: ${got}` : "nothing came back"}); ` +
          (spec.kind === "serial" ? "is it an Espruino, at the right baud rate (-b)?" : "is an Espruino console listening there?"),
      );
    }
    return await fn(link, conn);
  } finally {
    link.dispose();
    await conn.close();
  }
}

function short(line: string): string {
  return line.length > 240 ? `${line.slice(0, 240)}... (${line.length} characters)` : line;
}

function hex(n: number): string {
  return "0x" + (n >>> 0).toString(16).padStart(8, "0");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
