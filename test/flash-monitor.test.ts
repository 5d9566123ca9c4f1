// Flash and monitor, end to end, without a physical board: the emulated
// generic board serves its console on loopback TCP (emulator/tcp-console.ts);
// `npm run flash` uploads dist/generic.js with the real upload tool (npm
// package `espruino`) and `npm run monitor` records sessions, both as child
// processes. Serial-device paths run in this process against serialport's
// mock binding, bridged to an emulated board.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { PassThrough } from "node:stream";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { DevBoard, countBrackets } from "../emulator/dev-board.ts";
import { TcpConsole } from "../emulator/tcp-console.ts";
import { EspruinoStorage, crc32 } from "../emulator/storage.ts";
import { createGenericMachine } from "../emulator/boards/generic.ts";
import { runFlash, EXIT } from "../scripts/lib/flash.ts";
import { runMonitor } from "../scripts/lib/monitor.ts";
import { summarize, terminalLines, type RaceSummary } from "../scripts/lib/race-log.ts";
import { openPort } from "../scripts/lib/serial-port.ts";
import { EspruinoLink } from "../scripts/lib/espruino-link.ts";

interface MockPort {
  isOpen: boolean;
  pendingRead: ((err?: Error) => void) | null;
  write(buffer: Buffer): Promise<void>;
  close(): Promise<void>;
  emitData(data: Buffer): void;
}
/** serialport's mock binding (@serialport/binding-mock, installed with serialport). */
const { MockBinding } = createRequire(import.meta.url)("@serialport/binding-mock") as {
  MockBinding: {
    createPort(path: string, options: { echo?: boolean; record?: boolean }): void;
    list(): Promise<Array<{ path: string }>>;
    open(options: Record<string, unknown>): Promise<MockPort>;
  };
};

const ROOT = resolve(import.meta.dirname, "..");
const BUNDLE_PATH = join(ROOT, "dist/generic.js");
if (!existsSync(BUNDLE_PATH)) throw new Error("dist/generic.js is missing: run npm run build first (npm test does)");
const BUNDLE = readFileSync(BUNDLE_PATH, "utf8");
const FIRMWARE_VERSION = /READY dpcm-espruino (\S+) /.exec(BUNDLE)![1]!;
const TMP = mkdtempSync(join(tmpdir(), "flash-monitor-"));

// ---- rigs ------------------------------------------------------------------------------

interface Rig {
  board: DevBoard;
  server: TcpConsole;
  url: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(TMP, { recursive: true, force: true });
});

/** An emulated generic board on a loopback port, in real time. `flashed`: dist/generic.js already in Storage. */
async function startBoard(o: { flashed?: boolean; version?: string; dropAfterBytes?: number; consoleDevice?: string } = {}): Promise<Rig> {
  const storage = new EspruinoStorage();
  if (o.flashed) storage.writeText(".bootcde", BUNDLE);
  const board = await DevBoard.start({
    create: () => createGenericMachine({ env: o.version ? { VERSION: o.version } : {} }).machine,
    storage,
    consoleDevice: o.consoleDevice,
  });
  const server = await TcpConsole.listen(board, { dropAfterBytes: o.dropAfterBytes });
  board.startRealTime();
  cleanups.push(async () => {
    board.stopRealTime();
    await server.close();
  });
  return { board, server, url: server.url };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `npm run --silent <args>` (npm: true) or `node --import tsx <args>`, in the repository. */
function run(args: string[], o: { npm?: boolean; stdin?: PassThrough; timeoutMs?: number; onStdout?: (all: string) => void } = {}): Promise<Ran> {
  const child = o.npm
    ? spawn("npm", ["run", "--silent", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true })
    : spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    o.onStdout?.(stdout);
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  if (o.stdin) o.stdin.pipe(child.stdin);
  else child.stdin.end();
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  cleanups.push(killGroup);
  const timer = setTimeout(killGroup, o.timeoutMs ?? 45_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function waitFor(test: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (test()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** A free loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const bundleBytes = new TextEncoder().encode(BUNDLE);

// ---- the console protocol, in-process ----------------------------------------------------

describe("the emulated board's console", () => {
  test("counts brackets the way Espruino decides that a line is complete", () => {
    assert.equal(countBrackets("print(1)"), 0);
    assert.equal(countBrackets("function f() {"), 1);
    assert.equal(countBrackets("x = [1, {a: (2"), 3);
    assert.equal(countBrackets("s = '(' + \"{\""), 0, "brackets inside strings do not count");
    assert.equal(countBrackets("t = `${a}`"), 0, "a template's ${} balances");
    assert.equal(countBrackets("/* open comment"), 1000, "an unterminated comment waits");
    assert.equal(countBrackets("print('oops"), 0, "an unterminated string runs so that it can fail");
    assert.equal(countBrackets("a)"), -1);
  });

  test("echo, prompt, =result, DLE, Ctrl-C, continuation lines, and errors on the wire", async () => {
    const board = await DevBoard.start({ create: () => createGenericMachine().machine });
    let wire = "";
    board.attach((b) => (wire += b));
    board.advance(0);
    const typed = (s: string): string => {
      wire = "";
      board.input(s);
      return wire;
    };
    assert.equal(typed("1+2\r"), "1+2\r\n=3\r\n>", "echo, then =result, then the prompt");
    assert.equal(typed("\x10print('quiet')\n"), "quiet\r\n>", "DLE: no echo and no =result, the printed text only");
    assert.equal(typed("x = (1 +\r"), "x = (1 +\r\n:", "open brackets continue the line");
    assert.equal(typed("2)\r"), "2)\r\n=3\r\n>");
    assert.equal(typed("abc\x03"), "abc\r\x1B[J>", "Ctrl-C clears the typed line");
    assert.equal(typed("\x1B[A\x1B[1;5D7\r"), "7\r\n=7\r\n>", "escape sequences are read and ignored");
    assert.match(typed("nope()\r"), /^nope\(\)\r\nUncaught ReferenceError: "nope" is not defined\r\n/);
    assert.equal(typed("12\x08\x083\r"), "12\x08 \x08\x08 \x083\r\n=3\r\n>", "backspace");
    // code runs through the preemption transform: its statements are counted
    const before = board.machine.stats.statements;
    typed("for (var i = 0; i < 10; i++) { i; }\r");
    assert.ok(board.machine.stats.statements - before >= 10, "console code is preemptible statement by statement");
  });

  test("reset() keeps Storage and prints the banner; load() and power-on run .bootcde", async () => {
    const board = await DevBoard.start({ create: () => createGenericMachine().machine });
    let wire = "";
    board.attach((b) => (wire += b));
    board.input('\x10require("Storage").write(".bootcde", "print(\\"BOOT \\" + process.env.BOARD)", 0, 40)\n');
    board.input('\x10require("Storage").write(".bootcde", ";     ", 34)\n');
    assert.equal(board.storage.read(".bootcde"), 'print("BOOT " + process.env.BOARD);     ');
    wire = "";
    board.input("global.mark = 1; reset()\r");
    await board.settled();
    assert.match(wire, /espruino\.com\r\n 2v29 \(c\) 2025 G\.Williams\r\n/, "the banner after reset()");
    assert.doesNotMatch(wire, /BOOT/, "reset() does not run .bootcde");
    assert.equal(board.machine.global.mark, undefined, "a fresh interpreter");
    wire = "";
    board.input("load()\r");
    await board.settled();
    assert.match(wire, /BOOT GENERIC\r\n/);
    wire = "";
    await board.powerCycle();
    assert.match(wire, /^\r\x1B\[JBOOT GENERIC\r\n.*espruino\.com/s, "power-on clears the stale prompt, runs .bootcde, then the banner");
    assert.deepEqual(
      board.boots.map((b) => `${b.kind}:${b.ran.join(",")}`),
      ["power-on:", "reset:", "load:.bootcde", "power-on:.bootcde"],
    );
    assert.equal(board.machine.evaluate('E.CRC32("hello")'), crc32("hello"));
  });

  test("serves loopback only, one client at a time", async () => {
    const board = await DevBoard.start({ create: () => createGenericMachine().machine });
    await assert.rejects(TcpConsole.listen(board, { host: "0.0.0.0" }), /loopback/);
    const server = await TcpConsole.listen(board);
    cleanups.push(() => server.close());
    const a = await openPort(server.url);
    await waitFor(() => server.clientConnected, "the first client");
    const b = await openPort(server.url);
    let got = "";
    b.onData((d) => (got += d));
    await waitFor(() => !b.isOpen, "the second client to be sent away");
    assert.match(got, /console busy/);
    await a.close();
  });
});

// ---- npm run flash -------------------------------------------------------------------------

describe("npm run flash", { concurrency: true }, () => {
  test("uploads the bundle with the real upload tool, saved to Storage; the board answers from it and after a reset", { timeout: 60_000 }, async () => {
    const rig = await startBoard();
    const r = await run(["flash", "--", "--board", "generic", "--port", rig.url, "--no-build"], { npm: true });
    assert.equal(r.code, 0, `flash failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /upload: espruino 0\.1\.\d+ \(the official upload tool\)/);
    assert.match(r.stdout, /the tool identified GENERIC 2v29 \(board JSON boards\/generic\/board\.json\)/, "the tool read process.env and the local board JSON");
    assert.match(r.stdout, new RegExp(`verify: the firmware answers: dpcm-espruino ${FIRMWARE_VERSION.replace(/\./g, "\\.")} on GENERIC`));
    assert.match(r.stdout, /^OK flashed/m);
    // What the board holds and did: exactly the bundle in .bootcde, written by the tool's reset + Storage.write + load()
    assert.deepEqual(board(rig).storage.bytes(".bootcde"), bundleBytes);
    assert.match(r.stdout, new RegExp(`CRC32 0x${crc32(bundleBytes).toString(16).padStart(8, "0")}`));
    const kinds = board(rig).boots.map((b) => b.kind);
    assert.deepEqual(kinds.slice(-2), ["reset", "load"], "the tool reset the board, then load() booted the upload");
    assert.deepEqual(board(rig).boots.at(-1)!.ran, [".bootcde"]);
    assert.deepEqual(board(rig).boots.at(-1)!.failed, []);
    assert.equal(board(rig).machine.evaluate("DPCM.version"), FIRMWARE_VERSION);
    // it survives a reset: power off and on, and the firmware starts from Storage
    await board(rig).powerCycle();
    // READY follows once the timer task has been seen to fire (two periods of real time).
    await waitFor(() => /^READY dpcm-espruino /m.test(board(rig).machine.consoleText()), "READY after the power cycle");
    assert.equal(board(rig).machine.evaluate("DPCM.version"), FIRMWARE_VERSION);
  });

  test("no such port: a closed TCP port and a missing serial device", { timeout: 30_000 }, async () => {
    const port = await closedPort();
    const [tcp, serial] = await Promise.all([
      run(["scripts/flash.ts", "--board", "generic", "--port", `tcp://127.0.0.1:${port}`, "--no-build"]),
      run(["scripts/flash.ts", "--board", "generic", "--port", "/dev/ttyDPCM-NOPE", "--no-build"]),
    ]);
    assert.equal(tcp.code, EXIT.noPort, tcp.stderr);
    assert.match(tcp.stderr, /flash: error: tcp:\/\/127\.0\.0\.1:\d+: connection refused/);
    assert.equal(serial.code, EXIT.noPort, serial.stderr);
    assert.match(serial.stderr, /flash: error: \/dev\/ttyDPCM-NOPE: no such serial device/);
  });

  test("the port is checked before the build: a wrong port fails at once, nothing built", { timeout: 30_000 }, async () => {
    // A root whose build could not even start (no node_modules): reaching the build would fail with exit 1.
    const root = join(TMP, "unbuildable");
    mkdirSync(join(root, "boards/generic"), { recursive: true });
    writeFileSync(join(root, "boards/generic/main.ts"), "// test board\n");
    writeFileSync(join(root, "boards/generic/board.json"), readFileSync(join(ROOT, "boards/generic/board.json")));
    const port = await closedPort();
    for (const where of [`tcp://127.0.0.1:${port}`, "/dev/ttyDPCM-NOPE"]) {
      let out = "";
      const r = await runFlash({ board: "generic", port: where, root, out: (t) => (out += t) });
      assert.equal(r.code, EXIT.noPort, out);
      assert.doesNotMatch(out, /^build:/m, "no build before the port answered");
      assert.match(out, /flash: error: .*(connection refused|no such serial device)/);
    }
    // and with --no-build, a missing bundle is refused before the port is opened
    let out = "";
    const r = await runFlash({ board: "generic", port: `tcp://127.0.0.1:${port}`, build: false, root, out: (t) => (out += t) });
    assert.equal(r.code, EXIT.usage, out);
    assert.match(out, /dist\/generic\.js is missing/);
    assert.doesNotMatch(out, /^board:/m);
  });

  test("a peer that never answers", { timeout: 30_000 }, async () => {
    const peers = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      peers.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    cleanups.push(() => {
      for (const p of peers) p.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    });
    const port = (silent.address() as net.AddressInfo).port;
    const r = await run(["scripts/flash.ts", "--board", "generic", "--port", `tcp://127.0.0.1:${port}`, "--no-build", "--timeout", "1"]);
    assert.equal(r.code, EXIT.noAnswer, r.stderr);
    assert.match(r.stderr, /connected, but no Espruino answered within 1\.0 s \(nothing came back\)/);
  });

  test("a truncated upload (the connection drops mid-upload)", { timeout: 30_000 }, async () => {
    const rig = await startBoard({ dropAfterBytes: 8000 });
    const r = await run(["scripts/flash.ts", "--board", "generic", "--port", rig.url, "--no-build"]);
    assert.equal(r.code, EXIT.uploadFailed, r.stdout + r.stderr);
    assert.match(r.stderr, /upload failed: the connection to tcp:\/\/127\.0\.0\.1:\d+ was lost during the upload, after \d+ of \d+ bytes: the upload is truncated/);
    const stored = board(rig).storage.bytes(".bootcde");
    assert.ok(stored && stored.length === bundleBytes.length, "the tool's first write declared the whole size");
    assert.notEqual(crc32(stored), crc32(bundleBytes), "but only part of it arrived");
    assert.doesNotMatch(r.stdout, /^OK/m);
  });

  test("an Espruino older than the firmware needs", { timeout: 30_000 }, async () => {
    const rig = await startBoard({ version: "2v20" });
    const r = await run(["scripts/flash.ts", "--board", "generic", "--port", rig.url, "--no-build"]);
    assert.equal(r.code, EXIT.wrongBoard, r.stderr);
    assert.match(r.stderr, /the board runs Espruino 2v20, but dpcm-espruino needs 2v29 or later/);
    assert.equal(board(rig).storage.bytes(".bootcde"), undefined, "nothing was uploaded");
  });

  test("a bundle for another board (board.json names the board's process.env.BOARD)", { timeout: 30_000 }, async () => {
    const root = join(TMP, "other-board");
    mkdirSync(join(root, "boards/picoish"), { recursive: true });
    mkdirSync(join(root, "dist"), { recursive: true });
    writeFileSync(join(root, "boards/picoish/main.ts"), "// test board\n");
    writeFileSync(join(root, "boards/picoish/board.json"), JSON.stringify({ BOARD: "PICO_R1_3", info: { name: "a Pico", binary_version: "2v29" } }));
    writeFileSync(join(root, "dist/picoish.js"), BUNDLE);
    const rig = await startBoard();
    let out = "";
    const r = await runFlash({ board: "picoish", port: rig.url, build: false, root, out: (t) => (out += t) });
    assert.equal(r.code, EXIT.wrongBoard, out);
    assert.match(out, /dist\/picoish\.js is for a PICO_R1_3 board \(a Pico\), but this board says BOARD=GENERIC/);
    assert.equal(board(rig).storage.bytes(".bootcde"), undefined, "nothing was uploaded");
  });

  test("a console another program holds", { timeout: 30_000 }, async () => {
    const rig = await startBoard();
    const holder = await openPort(rig.url);
    cleanups.push(() => holder.close());
    await waitFor(() => rig.server.clientConnected, "the holder to connect");
    const r = await run(["scripts/flash.ts", "--board", "generic", "--port", rig.url, "--no-build"]);
    assert.equal(r.code, EXIT.noPort, r.stderr);
    assert.match(r.stderr, /the console is in use by another connection/);
  });
});

function board(rig: Rig): DevBoard {
  return rig.board;
}

// ---- npm run monitor -----------------------------------------------------------------------

async function monitorSession(script: string, name: string): Promise<{ log: string; summary: RaceSummary; text: string }> {
  const rig = await startBoard({ flashed: true });
  const logFile = join(TMP, `${name}.log`);
  const r = await run(["monitor", "--", "--port", rig.url, "--script", `test/fixtures/serial/${script}`, "--log", logFile, "--color", "never"], { npm: true });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /race summary of /, "the session's summary at exit");
  const log = readFileSync(logFile, "utf8");
  const json = await run(["monitor", "--", "--summary", logFile, "--json"], { npm: true });
  assert.equal(json.code, 0, json.stderr);
  const text = await run(["scripts/monitor.ts", "--summary", logFile]);
  assert.equal(text.code, 0, text.stderr);
  return { log, summary: JSON.parse(json.stdout) as RaceSummary, text: text.stdout };
}

function assertRerouted(log: string): void {
  for (const line of ['OK route media bt true', 'OK play media 440 Hz', 'OK route media line true', 'OK route media bt false', 'OK stop media']) {
    assert.ok(log.includes(line), `the log shows "${line}"`);
  }
}

describe("npm run monitor", { concurrency: true }, () => {
  test("captures a tone rerouted live in unsafe mode; the summary counts the races it logged", { timeout: 60_000 }, async () => {
    const { log, summary, text } = await monitorSession("unsafe-reroute.txt", "unsafe");
    assertRerouted(log);
    const raceLines = log.split("\n").filter((l) => l.startsWith("RACE "));
    assert.ok(raceLines.length > 0, "unsafe mode logged races");
    assert.equal(summary.races, raceLines.length);
    assert.equal(summary.byKind.reduce((n, k) => n + k.count, 0), raceLines.length);
    const listChanges = summary.byKind.find((k) => k.kind === "unmasked-list-change");
    assert.ok(listChanges && listChanges.count > 0, "the reroute changed lists with the interrupt unmasked");
    assert.equal(summary.boardCount?.total, summary.races, "the board's own races() count agrees with the lines");
    assert.match(text, new RegExp(`races logged: ${summary.races}\\n`));
    assert.match(text, new RegExp(`unmasked-list-change\\s+${listChanges.count}\\s`));
  });

  test("the same session in safe mode counts zero races", { timeout: 60_000 }, async () => {
    const { log, summary, text } = await monitorSession("safe-reroute.txt", "safe");
    assertRerouted(log);
    assert.match(log, /^OK unsafe false$/m);
    assert.equal(summary.races, 0);
    assert.equal(summary.boardCount?.total, 0);
    assert.match(text, /races logged: 0\n/);
  });

  test("survives the board resetting and the port going away and coming back", { timeout: 60_000 }, async () => {
    const rig = await startBoard({ flashed: true });
    const port = rig.server.port;
    const logFile = join(TMP, "survive.log");
    const stdin = new PassThrough();
    let out = "";
    const done = run(["scripts/monitor.ts", "--port", rig.url, "--log", logFile, "--retry-ms", "100"], { stdin, onStdout: (s) => (out = s) });
    stdin.write("unsafe(false)\n"); // typed before the port is open: sent once it is
    await waitFor(() => out.includes("--- connected to"), "the monitor to connect");
    await waitFor(() => /^OK unsafe false$/m.test(out), "the early input to reach the board");
    await rig.board.powerCycle();
    await waitFor(() => /^READY dpcm-espruino /m.test(out), "the firmware's READY after the reset");
    await rig.server.close(); // the port disappears
    await waitFor(() => out.includes("--- lost tcp://"), "the monitor to notice");
    const again = await TcpConsole.listen(rig.board, { port });
    cleanups.push(() => again.close());
    await waitFor(() => out.includes("--- reconnected to"), "the monitor to reconnect", 15_000);
    stdin.write("races()\n");
    await waitFor(() => /^RACES total=0 /m.test(out), "the board's answer after reconnecting");
    stdin.end();
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const log = readFileSync(logFile, "utf8");
    assert.match(log, /^READY dpcm-espruino /m);
    assert.match(log, /^--- \S+ lost tcp:\/\//m);
    assert.match(log, /^--- \S+ reconnected to /m);
    assert.match(log, /^RACES total=0 /m);
  });

  test("npm start -- --serve: the session's board on a loopback port, running its firmware, until SIGINT", { timeout: 30_000 }, async () => {
    const out = join(TMP, "serve-out");
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/run-emulator.ts", "--board", "generic", "--serve", "0", "--quiet", "--out", out], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(() => void child.kill("SIGKILL"));
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    await waitFor(() => /console is on tcp:\/\/127\.0\.0\.1:\d+ \(loopback only\)/.test(err), "the server to start", 20_000);
    const url = /(tcp:\/\/127\.0\.0\.1:\d+)/.exec(err)![1]!;
    assert.match(err, new RegExp(`npm run flash -- --board generic --port ${url}`));
    const conn = await openPort(url);
    const link = new EspruinoLink(conn);
    assert.equal(await link.getPrompt(3000), true);
    assert.equal(await link.evaluate("DPCM.version"), JSON.stringify(FIRMWARE_VERSION), "the session's firmware answers");
    assert.equal(await link.evaluate('require("Storage").read(".bootcde").length'), String(bundleBytes.length), "with its bundle in Storage");
    link.dispose();
    await conn.close();
    child.kill("SIGINT");
    assert.equal(await exited, 0);
    const log = /serial log: (\S+)/.exec(err)?.[1];
    assert.ok(log && /serve-\d{8}-\d{6}\.log$/.test(log), `the served board's own log: ${err}`);
    assert.match(readFileSync(log, "utf8"), /^READY dpcm-espruino /m);
    assert.ok(!existsSync(join(out, "serial.log")), "not npm start's serial.log");
  });

  test("a port it never reaches: exit 2 and one line saying so, over TCP and for a missing serial device", { timeout: 30_000 }, async () => {
    const port = await closedPort();
    const tcp = await run(["scripts/monitor.ts", "--port", `tcp://127.0.0.1:${port}`, "--duration", "1", "--no-log"]);
    assert.equal(tcp.code, 2, tcp.stderr);
    assert.match(tcp.stderr, new RegExp(`^monitor: never connected to tcp://127\\.0\\.0\\.1:${port} in \\d+\\.\\d s of trying: connection refused`, "m"));
    assert.doesNotMatch(tcp.stderr, /race summary/, "no summary of a session that did not happen");
    let notes = "";
    const serial = await runMonitor({
      port: "/dev/ttyMOCK-ABSENT",
      binding: { list: async () => [], open: async () => Promise.reject(new Error("Error: No such file or directory, cannot open /dev/ttyMOCK-ABSENT")) },
      logFile: null,
      input: null,
      durationSeconds: 0.3,
      retryMs: 50,
      output: { write: () => undefined },
      notes: { write: (t: string) => (notes += t) },
    });
    assert.equal(serial.code, 2);
    assert.equal(serial.connects, 0);
    assert.match(notes, /^monitor: never connected to \/dev\/ttyMOCK-ABSENT in \d+\.\d s of trying: no such serial device/m);
  });

  test("a log it cannot write, and --json without --summary: exit 1 with one line, before connecting", { timeout: 30_000 }, async () => {
    const notAFolder = join(TMP, "a-file");
    writeFileSync(notAFolder, "");
    const logFile = join(notAFolder, "x.log");
    let notes = "";
    const r = await runMonitor({ port: "tcp://127.0.0.1:1", logFile, input: null, durationSeconds: 0.2, output: { write: () => undefined }, notes: { write: (t: string) => (notes += t) } });
    assert.equal(r.code, 1);
    assert.match(notes, /^monitor: cannot write the log \S+\/a-file\/x\.log: E[A-Z]+: .* \(give --log <file> elsewhere, or --no-log\)\n$/);
    const json = await run(["scripts/monitor.ts", "--port", "tcp://127.0.0.1:1", "--json", "--no-log", "--duration", "1"]);
    assert.equal(json.code, 1, json.stderr);
    assert.equal(json.stderr, "monitor: --json goes with --summary <log file>\n");
  });

  test("a script whose commands were due while the port was down: exit 1, saying how many were not sent", { timeout: 30_000 }, async () => {
    // A console that hangs up at once and is gone after: the monitor connects once, then never again.
    const server = net.createServer((s) => {
      s.on("error", () => undefined);
      s.destroy();
      server.close();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    let notes = "";
    let shown = "";
    const r = await runMonitor({
      port: `tcp://127.0.0.1:${port}`,
      logFile: null,
      input: null,
      script: [{ at: 0.4, command: "races()" }],
      quietSeconds: 0.2,
      retryMs: 50,
      output: { write: (t: string) => (shown += t) },
      notes: { write: (t: string) => (notes += t) },
    });
    assert.equal(r.connects, 1, shown);
    assert.match(shown, /not connected: "races\(\)" not sent/);
    assert.equal(r.code, 1, notes);
    assert.match(notes, /^monitor: 1 of 1 script command\(s\) not sent: tcp:\/\/127\.0\.0\.1:\d+ was not connected when they were due/m);
  });

  test("--summary of a raw capture (prompts, erase sequences, LOST) and of a missing file", async () => {
    const s = summarize(terminalLines(readFileSync(join(ROOT, "test/fixtures/serial/raw-capture.serial"), "latin1")));
    assert.equal(s.races, 3);
    assert.deepEqual(
      s.byKind.map((k) => [k.kind, k.count]),
      [
        ["unmasked-list-change", 2],
        ["use-after-free", 1],
      ],
    );
    assert.equal(s.lost, 3);
    assert.equal(s.boardCount?.total, 6, "the board counted the 3 races whose lines were lost too");
    assert.equal(s.events.xrun, 1);
    assert.equal(s.boots.length, 1);
    const missing = await run(["scripts/monitor.ts", "--summary", join(TMP, "nope.log")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such log file/);
  });
});

// ---- serial devices, through serialport's mock binding ------------------------------------

/** An emulated board behind a mock serial device: bytes written to the port reach the board, the board's output is the port's input. */
class BoardOnMockSerial {
  present = true;
  private open: MockPort | null = null;
  constructor(
    readonly path: string,
    readonly board: DevBoard,
  ) {
    MockBinding.createPort(path, { echo: false, record: false });
  }
  readonly binding = {
    list: async () => (this.present ? (await MockBinding.list()).filter((p) => p.path === this.path) : []),
    open: async (options: { path: string; baudRate: number } & Record<string, unknown>) => {
      if (!this.present || options.path !== this.path) throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
      const port = await MockBinding.open(options);
      const write = port.write.bind(port);
      port.write = async (buffer: Buffer) => {
        await write(buffer);
        this.board.input(buffer.toString("latin1"));
      };
      const tx = (bytes: string): void => {
        if (port.isOpen) port.emitData(Buffer.from(bytes, "latin1"));
      };
      this.board.attach(tx);
      const close = port.close.bind(port);
      port.close = async () => {
        this.board.detach(tx);
        await close();
      };
      this.open = port;
      return port;
    },
  };
  /** The USB cable comes out: the pending read fails and the device is gone. */
  unplug(): void {
    this.present = false;
    this.open?.pendingRead?.(new Error("device disconnected"));
  }
  plug(): void {
    this.present = true;
  }
}

async function boardOnSerial(path: string, flashed: boolean): Promise<BoardOnMockSerial> {
  const storage = new EspruinoStorage();
  if (flashed) storage.writeText(".bootcde", BUNDLE);
  const board = await DevBoard.start({ create: () => createGenericMachine().machine, storage, consoleDevice: "USB" });
  board.startRealTime();
  cleanups.push(() => board.stopRealTime());
  return new BoardOnMockSerial(path, board);
}

describe("serial devices (serialport mock binding)", () => {
  test("flash over a serial device: the upload tool talks to serialport, the board answers", { timeout: 60_000 }, async () => {
    const dev = await boardOnSerial("/dev/ttyMOCK-FLASH", false);
    let out = "";
    const result = await runFlash({
      board: "generic",
      port: dev.path,
      build: false,
      throttle: false,
      root: ROOT,
      serialBinding: dev.binding,
      out: (t) => (out += t),
    });
    assert.equal(result.code, EXIT.ok, out);
    assert.equal(result.upload?.board, "GENERIC");
    assert.equal(result.firmwareVersion, FIRMWARE_VERSION);
    assert.deepEqual(dev.board.storage.bytes(".bootcde"), bundleBytes);
    assert.deepEqual(dev.board.boots.map((b) => b.kind).slice(-2), ["reset", "load"]);
    assert.match(out, /^OK flashed .* on \/dev\/ttyMOCK-FLASH /m);
    // and a serial path that does not exist
    let out2 = "";
    const missing = await runFlash({ board: "generic", port: "/dev/ttyMOCK-NONE", build: false, root: ROOT, serialBinding: dev.binding, out: (t) => (out2 += t) });
    assert.equal(missing.code, EXIT.noPort);
    assert.match(out2, /\/dev\/ttyMOCK-NONE: no such serial device/);
  });

  test("monitor over a serial device that is unplugged and plugged back in", { timeout: 30_000 }, async () => {
    const dev = await boardOnSerial("/dev/ttyMOCK-MON", true);
    const input = new PassThrough();
    let shown = "";
    let stopMonitor!: () => void;
    const logFile = join(TMP, "serial-monitor.log");
    const running = runMonitor({
      port: dev.path,
      binding: dev.binding,
      logFile,
      input,
      output: { write: (s: string) => (shown += s) },
      notes: { write: () => undefined },
      retryMs: 50,
      stop: new Promise<void>((r) => (stopMonitor = r)),
    });
    await waitFor(() => shown.includes("--- connected to /dev/ttyMOCK-MON"), "the monitor to open the device");
    input.write("unsafe(true)\n");
    await waitFor(() => shown.includes("OK unsafe true"), "the board's answer");
    input.write('route("media", "line", true)\n');
    input.write('play("media", 440)\n');
    await waitFor(() => /^RACE .*kind=unmasked-list-change/m.test(shown), "a race line");
    dev.unplug();
    await waitFor(() => shown.includes("--- lost /dev/ttyMOCK-MON"), "the monitor to notice the unplug");
    await new Promise((r) => setTimeout(r, 200));
    dev.plug();
    await waitFor(() => shown.includes("--- reconnected to /dev/ttyMOCK-MON"), "the monitor to reopen the device");
    input.write("races()\n");
    await waitFor(() => /^RACES total=\d+ /m.test(shown), "races() after reconnecting");
    stopMonitor();
    const result = await running;
    assert.equal(result.code, 0);
    assert.equal(result.connects, 2);
    assert.equal(result.disconnects, 1);
    assert.ok(result.summary.races >= 1);
    assert.equal(result.summary.boardCount?.total, result.summary.races, "every race the board counted has its line in the log");
    assert.match(readFileSync(logFile, "utf8"), /^RACE t=\S+ kind=unmasked-list-change ctx=main fe=media be=line /m);
  });

  test("the transport: a mock device answers the tool's process.env question", async () => {
    const dev = await boardOnSerial("/dev/ttyMOCK-LINK", false);
    const conn = await openPort(dev.path, { binding: dev.binding });
    const link = new EspruinoLink(conn);
    assert.equal(await link.getPrompt(2000), true);
    const env = JSON.parse((await link.evaluate("process.env"))!) as Record<string, unknown>;
    assert.equal(env.BOARD, "GENERIC");
    assert.equal(env.CONSOLE, "USB");
    link.dispose();
    await conn.close();
  });
});
