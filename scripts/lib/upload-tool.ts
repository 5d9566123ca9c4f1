// Uploading with the official upload tool, the npm package `espruino`
// (EspruinoTools 0.1.67), driven through its own modules exactly as its
// command line does (bin/espruino-cli.js: connect() then sendCode()):
//
//   require("espruino").init()                       load the tool's core and plugins
//   Espruino.Config.*                                what `--no-ble --config K=V -b BAUD` set
//   Espruino.Core.Serial.open(port, ...)             connect; the tool's "connected"
//                                                    processors identify the board with
//                                                    `process.env` and load its board JSON
//   Espruino.callProcessor("transformForEspruino")   the plugins, incl. saveOnSend:
//                                                    SAVE_ON_SEND=1 turns the code into
//                                                    require("Storage").write(".bootcde", ...)
//                                                    chunks and a final load()
//   Espruino.Core.CodeWriter.writeToEspruino(code)   prompt, reset(), print(), the code
//
// which is `espruino --no-ble --config BLUETOOTH_LOW_ENERGY_DBUS=false
// --config SAVE_ON_SEND=1 --config BOARD_JSON_URL=DIR --config MODULE_URL=
// -p PORT BUNDLE.js` (commandLine() prints it). In-process rather than a
// child process because the CLI exits 0 on every failure (no port, lost
// connection) and can only be judged by parsing its output; here each
// failure arrives as a callback. It also lets tests hand the tool
// serialport's mock binding.
//
// No network: BOARD_JSON_URL is a local directory holding <BOARD>.json (the
// tool reads any non-http URL with fs), MODULE_URL is empty (built-in
// modules are listed by the board's process.env.MODULES anyway).
//
// One shim: on machines without udev, serialport cannot list serial ports
// and the tool then refuses a path it did not list; a device path that
// exists is added to the tool's list.

import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { parsePort, type SerialBinding } from "./serial-port.ts";

const require = createRequire(import.meta.url);

export interface ToolUploadOptions {
  /** As the tool takes it: a serial device path or tcp://HOST:PORT. */
  port: string;
  /** The code to upload (the bundle's text). */
  code: string;
  /** The file the code came from (for commandLine()). */
  fileName: string;
  /** A local directory with <BOARD>.json, BOARD being the board's process.env.BOARD. */
  boardJsonDir: string;
  baudRate?: number;
  /** The tool's default: a 250 ms pause after each Storage.write chunk (STORAGE_UPLOAD_METHOD=0). Default true. */
  throttle?: boolean;
  /** Give up after this long in all. Default 120 s. */
  timeoutMs?: number;
  /** Wait this long without output from the board before disconnecting (the CLI waits 500 ms). */
  quietMs?: number;
  onProgress?: (sent: number, total: number) => void;
  /** Each complete line the board printed while the tool was connected. */
  onBoardLine?: (line: string) => void;
  /** Give the tool this serialport binding instead of the platform's (tests: serialport's mock binding). */
  serialBinding?: SerialBinding;
}

export interface ToolUploadResult {
  /** What the tool learnt from process.env and the board JSON. */
  board: string | undefined;
  version: string | undefined;
  boardJsonLoaded: boolean;
  /** Bytes the tool sent for the upload itself, and how many it meant to send. */
  sentBytes: number;
  totalBytes: number;
  /** Everything the board printed while the tool was connected. */
  boardOutput: string;
  /** The tool's notifications (errors, warnings). */
  notes: string[];
  /** The tool's own log (console.log), for --verbose. */
  log: string[];
}

export type UploadStage = "open" | "identify" | "upload" | "timeout";

export class UploadError extends Error {
  constructor(
    readonly stage: UploadStage,
    message: string,
    readonly partial: Partial<ToolUploadResult>,
  ) {
    super(message);
    this.name = "UploadError";
  }
}

/** The CLI command that does what uploadWithTool does. */
export function commandLine(o: Pick<ToolUploadOptions, "port" | "fileName" | "boardJsonDir" | "baudRate" | "throttle">): string {
  const parts = [
    "node node_modules/espruino/bin/espruino-cli.js",
    "--no-ble --config BLUETOOTH_LOW_ENERGY_DBUS=false",
    "--config SAVE_ON_SEND=1",
    `--config BOARD_JSON_URL=${o.boardJsonDir}`,
    "--config MODULE_URL=",
  ];
  if (o.throttle === false) parts.push("--config STORAGE_UPLOAD_METHOD=1");
  if (o.baudRate) parts.push(`-b ${o.baudRate}`);
  parts.push(`-p ${o.port}`, o.fileName);
  return parts.join(" ");
}

/** The tool's version (node_modules/espruino/package.json). */
export function toolVersion(): string {
  return (require("espruino/package.json") as { version: string }).version;
}

// ---- the tool, loaded once per process -------------------------------------------

interface EspruinoGlobal {
  Config: Record<string, unknown>;
  callProcessor(name: string, data: unknown, callback: (result: unknown) => void): void;
  Core: {
    Env: { getData(): Record<string, unknown> };
    Serial: {
      devices: Array<{ name: string; getPorts: (cb: (ports: Array<{ path: string }>, instant?: boolean) => void) => void }>;
      open(port: string, connected: (status: unknown) => void, disconnected: () => void): void;
      close(): void;
      startListening(cb: (data: ArrayBuffer) => void): unknown;
      connection: { writeLowLevel: (s: string) => Promise<void> };
    };
    CodeWriter: { writeToEspruino(code: string, done: () => void): void };
    Notifications: Record<string, (m: unknown) => void>;
    Status: Record<string, unknown>;
  };
}

const captured: string[] = [];
/** Told of the tool's console.error output (a socket error is only ever logged there). */
let onToolError: ((text: string) => void) | null = null;
let consoleSaved: Pick<Console, "log" | "info" | "warn" | "error" | "debug"> | null = null;

/** Route console.* (which the tool uses for its chatter) into `captured` until releaseConsole(). */
function captureConsole(): void {
  if (consoleSaved) return;
  consoleSaved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const keep =
    (level: string) =>
    (...args: unknown[]): void => {
      const text = args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" ");
      captured.push(level === "log" ? text : `${level}: ${text}`);
      if (captured.length > 20000) captured.splice(0, 10000);
      if (level === "error") onToolError?.(text);
    };
  console.log = keep("log");
  console.info = keep("info");
  console.debug = keep("debug");
  console.warn = keep("warn");
  console.error = keep("error");
}

/** Give console.* back (the tool may still log late; that goes to the real console then). */
export function releaseConsole(): void {
  if (!consoleSaved) return;
  Object.assign(console, consoleSaved);
  consoleSaved = null;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

let loaded: Promise<EspruinoGlobal> | null = null;

function loadTool(serialBinding?: SerialBinding): Promise<EspruinoGlobal> {
  if (loaded) return loaded;
  loaded = new Promise((resolve) => {
    if (serialBinding) {
      const binding: SerialBinding = serialBinding;
      // The tool does `require('serialport').SerialPort`: give it one bound to `binding`.
      const id = require.resolve("serialport");
      const real = require("serialport") as Record<string, unknown>;
      const { SerialPortStream } = require("@serialport/stream") as {
        SerialPortStream: new (options: Record<string, unknown>, cb?: (err: Error | null) => void) => object;
      };
      class BoundSerialPort extends SerialPortStream {
        static list = (): Promise<unknown[]> => binding.list();
        static binding = binding;
        constructor(options: Record<string, unknown>, cb?: (err: Error | null) => void) {
          super({ binding, ...options }, cb);
        }
      }
      require.cache[id]!.exports = { ...real, SerialPort: BoundSerialPort };
    }
    captureConsole();
    const tool = require("espruino") as { init(cb: () => void): void };
    tool.init(() => resolve((globalThis as unknown as { Espruino: EspruinoGlobal }).Espruino));
  });
  return loaded;
}

// ---- the upload ------------------------------------------------------------------

export async function uploadWithTool(options: ToolUploadOptions): Promise<ToolUploadResult> {
  const Espruino = await loadTool(options.serialBinding);
  captureConsole();
  const spec = parsePort(options.port);
  const notes: string[] = [];
  const logStart = captured.length;
  const result: ToolUploadResult = {
    board: undefined,
    version: undefined,
    boardJsonLoaded: false,
    sentBytes: 0,
    totalBytes: 0,
    boardOutput: "",
    notes,
    log: [],
  };
  const finish = (): ToolUploadResult => {
    result.log = captured.slice(logStart);
    return result;
  };

  // What `--no-ble --config ...` would set (bin/espruino-cli.js setupConfig).
  const C = Espruino.Config;
  C.BLUETOOTH_LOW_ENERGY = false;
  C.BLUETOOTH_LOW_ENERGY_DBUS = false;
  C.SET_TIME_ON_WRITE = false;
  C.SAVE_ON_SEND = 1;
  C.BOARD_JSON_URL = options.boardJsonDir;
  C.MODULE_URL = "";
  C.STORAGE_UPLOAD_METHOD = options.throttle === false ? 1 : 0;
  if (options.baudRate) C.BAUD_RATE = options.baudRate;
  C.SERIAL_TCPIP = spec.kind === "tcp" ? [options.port] : [];

  Espruino.Core.Notifications = {
    success: (m) => captured.push(`tool: ${String(m)}`),
    info: (m) => captured.push(`tool: ${String(m)}`),
    warning: (m) => notes.push(`warning: ${String(m)}`),
    error: (m) => notes.push(`error: ${String(m)}`),
  };
  // The upload is the first "Sending..." after writeToEspruino starts (the process.env query before it can report one too).
  let armed = false;
  let sending = false;
  Espruino.Core.Status = {
    setStatus: (text: unknown, total?: unknown) => {
      if (armed && !sending && text === "Sending..." && typeof total === "number") {
        sending = true;
        result.totalBytes = total;
        result.sentBytes = 0;
        options.onProgress?.(0, total);
      }
    },
    hasProgress: () => false,
    incrementProgress: () => undefined,
  };
  const serial = Espruino.Core.Serial;
  const conn = serial.connection;
  const writeLowLevel = conn.writeLowLevel;
  conn.writeLowLevel = (s: string) => {
    if (sending) {
      result.sentBytes = Math.min(result.totalBytes || Infinity, result.sentBytes + s.length);
      options.onProgress?.(result.sentBytes, result.totalBytes);
    }
    return writeLowLevel.call(conn, s);
  };
  if (spec.kind === "serial" && !options.serialBinding) {
    const dev = serial.devices.find((d) => d.name === "Node Serial");
    if (dev && !(dev as { shimmed?: boolean }).shimmed) {
      const orig = dev.getPorts;
      dev.getPorts = (cb) =>
        orig((ports, instant) => {
          const list = ports ?? [];
          if (!list.some((p) => p.path === spec.path) && existsSync(spec.path)) list.push({ path: spec.path });
          cb(list, instant);
        });
      (dev as { shimmed?: boolean }).shimmed = true;
    }
  }

  let lastData = Date.now();
  let pendingLine = "";
  serial.startListening((data: ArrayBuffer) => {
    const text = Buffer.from(data).toString("latin1");
    lastData = Date.now();
    result.boardOutput += text;
    pendingLine += text;
    const lines = pendingLine.split("\n");
    pendingLine = lines.pop()!;
    for (const l of lines) options.onBoardLine?.(l.replace(/\r$/, ""));
  });

  let disconnected = false;
  let onDisconnect: (() => void) | null = null;
  // serial_node_socket.js only watches "end": a connection reset is only logged ("RECEIVE ERROR: ...").
  onToolError = (text) => {
    if (/RECEIVE ERROR|SEND ERROR|ECONNRESET|EPIPE/.test(text) && !disconnected) {
      disconnected = true;
      onDisconnect?.();
    }
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const withTimeout = <T>(p: Promise<T>, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new UploadError("timeout", `${what}: no result within ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s`, finish())), remaining());
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });

  // 1. connect; the tool queries process.env and loads <BOARD>.json
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      onDisconnect = () => reject(new UploadError("open", `the upload tool lost the connection to ${options.port} while connecting`, finish()));
      serial.open(
        options.port,
        (status) => {
          if (status === undefined) reject(new UploadError("open", `the upload tool could not open ${options.port}`, finish()));
          else resolve();
        },
        () => {
          disconnected = true;
          onDisconnect?.();
        },
      );
    }),
    `connecting to ${options.port}`,
  ).catch((e) => {
    try {
      serial.close();
    } catch {
      // not open
    }
    throw e;
  });
  const env = Espruino.Core.Env.getData();
  result.board = typeof env.BOARD === "string" ? env.BOARD : undefined;
  result.version = typeof env.VERSION === "string" ? env.VERSION : undefined;
  result.boardJsonLoaded = typeof env.info === "object" && env.info !== null;

  // 2. the plugins (saveOnSend) and the upload
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        onDisconnect = () =>
          reject(
            new UploadError(
              "upload",
              `the connection to ${options.port} was lost during the upload, after ${result.sentBytes} of ${result.totalBytes || "?"} bytes: the upload is truncated`,
              finish(),
            ),
          );
        if (disconnected) return onDisconnect();
        Espruino.callProcessor("transformForEspruino", options.code, (code) => {
          armed = true;
          Espruino.Core.CodeWriter.writeToEspruino(String(code), () => resolve());
        });
      }),
      "uploading",
    );
    // 3. as the CLI does: stay until the board has been quiet for a while (its load() output)
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        onDisconnect = () => reject(new UploadError("upload", `the connection to ${options.port} was lost right after the upload`, finish()));
        const quiet = options.quietMs ?? 500;
        const tick = (): void => {
          if (disconnected) return;
          if (Date.now() - lastData >= quiet) resolve();
          else setTimeout(tick, 50);
        };
        lastData = Date.now();
        tick();
      }),
      "waiting for the board after the upload",
    );
  } finally {
    if (!disconnected) {
      await new Promise<void>((resolve) => {
        onDisconnect = resolve;
        try {
          serial.close();
        } catch {
          resolve();
        }
        setTimeout(resolve, 2000).unref();
      });
    }
    conn.writeLowLevel = writeLowLevel;
    onDisconnect = null;
    onToolError = null;
  }
  if (pendingLine) options.onBoardLine?.(pendingLine.replace(/\r$/, ""));
  return finish();
}
