// The emulated board as a development board: a machine that boots, resets and
// loads code from its Storage the way Espruino 2v29 does, behind the byte
// stream of its console (what a USB serial port or Espruino's telnet console
// carries). Anything that talks to a real board's console can talk to this:
// the upload tool (npm package `espruino`), `npm run flash`, `npm run
// monitor`, a terminal. tcp-console.ts serves it on a loopback TCP port;
// tests can also wire it to serialport's mock binding.
//
// What is emulated (src/jsinteractive.c, src/jswrap_interactive.c,
// src/jsflash.c; see emulator/SERIAL.md for the whole subset):
//  - The REPL line discipline: typed characters are echoed after a ">"
//    prompt; Enter runs the line once its brackets balance (acorn counts
//    them; an unterminated comment or template waits for more, an
//    unterminated string runs so that it can fail), else the line continues
//    with ":"; Esc+Enter (Alt-Enter) adds a newline without running; DLE
//    (0x10) as the first character of a line turns echo off for that line
//    (no echo, no "=result"); Ctrl-C clears the input line; Ctrl-U/Ctrl-W
//    clear it too; Backspace/Delete remove the last character; other escape
//    sequences (cursor keys, "Esc [ n d" line numbers) are read and ignored.
//    Output printed by code removes the shown input line ("\r\x1B[J") and
//    the prompt comes back after it. Lines end "\r\n" on the wire.
//  - Console code runs through the same statement-preemption transform as
//    the emulator build of a bundle (compileScript), in the global scope.
//  - reset(): a fresh interpreter (a new Machine from the factory), Storage
//    kept, .bootrst run, the Espruino banner, a prompt. load(): a fresh
//    interpreter that runs Storage's .bootrst, .bootcde and .boot0-.boot3
//    (SAVE_ON_SEND=1 writes .bootcde), then E's "init" event and onInit().
//    load(file): like reset(), then runs that file. Power-on: like load(),
//    then the banner (Espruino prints it when no saved RAM image exists).
//    Both take effect once the console input that asked for them has been
//    handled, as on the board (the idle loop runs them).
//  - require("Storage") (storage.ts), E.setBootCode, E.CRC32, E.reboot,
//    echo(on); process.env gains CONSOLE and MODULES.
// Not emulated: save() (RAM images), history, cursor editing, tab
// completion (Tab adds four spaces), the debugger, passwords.

import vm from "node:vm";
import { tokenizer } from "acorn";
import type { Machine } from "./machine.ts";
import { compileScript, loadBundle, syntaxErrorLocation } from "./load-bundle.ts";
import { EspruinoStorage, StorageError, crc32, toBytes } from "./storage.ts";

export type BootKind = "power-on" | "reset" | "load";

export interface DevBoardOptions {
  /** A fresh machine for every boot (power-on, reset(), load(), E.reboot()). */
  create: () => Machine | Promise<Machine>;
  /** The board's flash filesystem; kept across every boot. Default: empty. */
  storage?: EspruinoStorage;
  /**
   * A machine that is already running (e.g. `npm start` loaded the bundle
   * into it) to take as the first boot instead of powering on a new one.
   */
  adopt?: Machine;
  /** process.env.CONSOLE: "Telnet" for the TCP console (default), "USB" for a Pico's USB serial. */
  consoleDevice?: string;
  /** The source map (JSON text) for code booted from Storage, if known: error locations then name the TypeScript. */
  sourceMapFor?: (code: string, fileName: string) => string | null;
  /** Called after every boot with the new machine. */
  onBoot?: (machine: Machine, kind: BootKind) => void;
}

/** What one boot ran from Storage. */
export interface BootRecord {
  kind: BootKind;
  /** Storage files run, in order. */
  ran: string[];
  /** Files that failed to load (Uncaught ...). */
  failed: string[];
}

type Todo = { kind: BootKind; file?: string } | null;

const BOOT_FILES_AFTER_LOAD = [".bootcde", ".boot0", ".boot1", ".boot2", ".boot3"];

/** Espruino's banner (src/jsinteractive.c, jsiSemiInit) for interpreter version `version`. */
export function espruinoBanner(version: string, board: string): string {
  const official = /^(PICO|ESPRUINOBOARD|ESPRUINOWIFI|PUCKJS|PIXLJS|BANGLEJS)/.test(board);
  return (
    (board === "LINUX" ? "" : "\x1B[?7l") +
    "\n" +
    " ____                 _ \n" +
    "|  __|___ ___ ___ _ _|_|___ ___ \n" +
    "|  __|_ -| . |  _| | | |   | . |\n" +
    "|____|___|  _|_| |___|_|_|_|___|\n" +
    "         |_| espruino.com\n" +
    ` ${version} (c) 2025 G.Williams\n` +
    (official
      ? ""
      : "\nEspruino is Open Source. Our work is supported\nonly by sales of official boards and donations:\nhttp://espruino.com/Donate\n") +
    "\n"
  );
}

/**
 * How Espruino decides that an input line is complete: brackets counted with
 * its lexer. <= 0 runs the line; an unterminated comment or template literal
 * waits (1000); an unterminated string runs at once so that it can fail.
 */
export function countBrackets(input: string): number {
  let n = 0;
  try {
    for (const tok of tokenizer(input, { ecmaVersion: "latest", allowHashBang: true })) {
      const label = tok.type.label;
      if (label === "(" || label === "[" || label === "{" || label === "${") n++;
      else if (label === ")" || label === "]" || label === "}") n--;
      if (n < 0) break;
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/Unterminated (comment|template)/.test(message)) return 1000;
    return n > 0 && !/Unterminated string/.test(message) ? n : 0;
  }
  return n;
}

export class DevBoard {
  readonly storage: EspruinoStorage;
  /** Every boot so far, oldest first. */
  readonly boots: BootRecord[] = [];

  private current!: Machine;
  private readonly options: DevBoardOptions;
  private unsubscribe: (() => void) | null = null;
  private tx: ((bytes: string) => void) | null = null;
  private readonly txListeners: Array<(bytes: string) => void> = [];

  // REPL state (jsinteractive.c)
  private inputLine = "";
  private inputLineRemoved = true;
  private echoOff = false;
  private echoOffForLine = false;
  private esc = 0;
  private hadCR = false;
  private ctrlC = false;
  private forwarding = true;

  private todo: Todo = null;
  private booting: Promise<void> | null = null;
  private readonly pending: string[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastWall = 0;

  private constructor(options: DevBoardOptions) {
    this.options = options;
    this.storage = options.storage ?? new EspruinoStorage();
  }

  /** A board powered on (or adopting `options.adopt`). */
  static async start(options: DevBoardOptions): Promise<DevBoard> {
    const board = new DevBoard(options);
    if (options.adopt) {
      board.takeMachine(options.adopt);
      board.boots.push({ kind: "power-on", ran: [], failed: [] });
      board.inputLineRemoved = true;
      board.afterStep();
    } else {
      await board.boot("power-on");
    }
    return board;
  }

  /** The machine running now (a new one after every boot). */
  get machine(): Machine {
    return this.current;
  }

  /** True while a reset/load is in progress (input is held until it is done). */
  get isBooting(): boolean {
    return this.booting !== null;
  }

  /** Wait until any boot in progress is done. */
  async settled(): Promise<void> {
    while (this.booting) await this.booting;
  }

  // ---- the serial line ------------------------------------------------------

  /** Connect the line's transmit side (board to host). One sink at a time. */
  attach(tx: (bytes: string) => void): void {
    this.tx = tx;
  }

  /** Disconnect `tx` (or whatever is attached). Output meanwhile is dropped, as with no USB host. */
  detach(tx?: (bytes: string) => void): void {
    if (tx === undefined || this.tx === tx) this.tx = null;
  }

  /** Be told of every byte the board transmits (whether or not a host is attached). */
  onTransmit(listener: (bytes: string) => void): () => void {
    this.txListeners.push(listener);
    return () => {
      const i = this.txListeners.indexOf(listener);
      if (i >= 0) this.txListeners.splice(i, 1);
    };
  }

  /** Bytes received from the host (one character per byte). */
  input(bytes: string): void {
    if (this.booting) {
      this.pending.push(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i++) this.handleChar(bytes.charCodeAt(i) & 0xff);
    if (this.ctrlC) {
      this.ctrlC = false;
      this.clearInputLine();
    }
    this.afterStep();
  }

  // ---- time ---------------------------------------------------------------

  /** Run the machine for `seconds` of virtual time now, then handle a pending reset/load. */
  advance(seconds: number): void {
    if (this.booting) return;
    if (seconds > 0) this.current.runFor(seconds);
    this.afterStep();
  }

  /**
   * Keep virtual time in step with the wall clock: every `stepMs`, run the
   * machine for the wall time that passed (at most `maxStepSeconds` at once,
   * so a slow model falls behind rather than blocking the event loop).
   */
  startRealTime(options: { stepMs?: number; maxStepSeconds?: number } = {}): void {
    this.stopRealTime();
    const maxStep = options.maxStepSeconds ?? 0.05;
    this.lastWall = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const dt = (now - this.lastWall) / 1000;
      this.lastWall = now;
      this.advance(Math.min(dt, maxStep));
    }, options.stepMs ?? 5);
  }

  stopRealTime(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Power the board off and on again (Storage kept). */
  async powerCycle(): Promise<void> {
    await this.settled();
    await this.boot("power-on");
  }

  // ---- boot -------------------------------------------------------------------

  private takeMachine(m: Machine): void {
    this.unsubscribe?.();
    this.current = m;
    this.installGlobals(m);
    this.unsubscribe = m.console.onData((text) => this.boardOutput(text));
  }

  private boot(kind: BootKind, file?: string): Promise<void> {
    const run = async (): Promise<void> => {
      const old = this.current as Machine | undefined;
      if (old && kind !== "power-on") {
        try {
          old.emitEspruinoEvent("kill");
        } catch {
          // the old interpreter is going away anyway
        }
      }
      const m = await this.options.create();
      this.takeMachine(m);
      this.inputLine = "";
      this.echoOff = false;
      this.echoOffForLine = false;
      this.esc = 0;
      // At power-on Espruino's input line counts as shown, so the first print clears
      // the line ("\r\x1B[J"; a terminal still shows the last prompt). reset() and
      // load() leave it as the line that asked for them left it.
      if (kind === "power-on") this.inputLineRemoved = false;
      const record: BootRecord = { kind, ran: [], failed: [] };
      this.boots.push(record);
      const files = [".bootrst"];
      if (kind !== "reset" && file === undefined) files.push(...BOOT_FILES_AFTER_LOAD);
      for (const name of files) this.runStorageFile(m, name, record);
      m.emitEspruinoEvent("init");
      const onInit = m.global.onInit;
      if (typeof onInit === "function") {
        if (this.echo) m.print("Running onInit()...\n");
        m.dispatchMain(onInit as (...args: unknown[]) => unknown, [], "main");
      }
      if (kind !== "load" || file !== undefined) {
        const env = (m.global.process as { env: Record<string, unknown> }).env;
        if (this.echo) m.print(espruinoBanner(String(env.VERSION), String(env.BOARD)));
      }
      if (file !== undefined) this.runStorageFile(m, file, record);
    };
    const p = run().finally(() => {
      this.booting = null;
      const queued = this.pending.splice(0);
      for (const bytes of queued) this.input(bytes);
      this.afterStep();
    });
    this.booting = p;
    return p;
  }

  private runStorageFile(m: Machine, name: string, record: BootRecord): void {
    const code = this.storage.readText(name);
    if (code === undefined) return;
    record.ran.push(name);
    const map = this.options.sourceMapFor?.(code, name) ?? null;
    const result = loadBundle(m, { code, fileName: name, map, mapUrl: undefined }, { emitInit: false });
    if (!result.ok) record.failed.push(name);
  }

  /** After input or a time step: a pending reset/load, else give the prompt back. */
  private afterStep(): void {
    if (this.booting) return;
    const todo = this.todo;
    if (todo) {
      this.todo = null;
      void this.boot(todo.kind, todo.file);
      return;
    }
    this.returnInputLine();
  }

  // ---- the Espruino globals the console needs ---------------------------------

  private installGlobals(m: Machine): void {
    const g = m.global;
    const ctx = m.context;
    const storage = this.storage;
    const realm = vm.runInContext("({ Object: Object, Array: Array, JSON: JSON })", ctx) as {
      Object: ObjectConstructor;
      Array: ArrayConstructor;
      JSON: JSON;
    };
    const guard = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof StorageError) throw m.makeError(e.message);
        throw e;
      }
    };
    const mod = new realm.Object() as Record<string, unknown>;
    Object.assign(mod, {
      write: (name: unknown, data: unknown, offset?: unknown, size?: unknown) =>
        guard(() => storage.write(String(name), data, offset === undefined ? undefined : Number(offset), size === undefined ? undefined : Number(size))),
      read: (name: unknown, offset?: unknown, length?: unknown) =>
        storage.read(String(name), offset === undefined ? 0 : Number(offset), length === undefined ? undefined : Number(length)),
      readJSON: (name: unknown, noExceptions?: unknown) => {
        const text = storage.read(String(name));
        if (text === undefined) return undefined;
        try {
          return realm.JSON.parse(text);
        } catch (e) {
          if (noExceptions) return undefined;
          throw m.makeError(`Storage.readJSON: ${String(name)} is not JSON (${e instanceof Error ? e.message : String(e)})`);
        }
      },
      writeJSON: (name: unknown, data: unknown) => guard(() => storage.write(String(name), realm.JSON.stringify(data))),
      erase: (name: unknown) => storage.erase(String(name)),
      eraseAll: () => storage.eraseAll(),
      list: (filter?: unknown) => {
        const out = new realm.Array() as string[];
        for (const n of storage.list()) if (!(filter instanceof Object) || (filter as RegExp).test(n)) out.push(n);
        return out;
      },
      getFree: () => storage.getFree(),
      compact: () => undefined,
    });
    const installRequire = vm.runInContext(
      `(function (extra) {
        var builtin = require;
        require = function (name) { var m = extra(name); return m === undefined ? builtin(name) : m; };
        global.require = require;
      })`,
      ctx,
    ) as (extra: (name: unknown) => unknown) => void;
    installRequire((name) => (name === "Storage" ? mod : undefined));

    g.reset = (clearFlash?: unknown) => {
      if (clearFlash) storage.eraseAll();
      this.todo = { kind: "reset" };
    };
    g.load = (file?: unknown) => {
      this.todo = file === undefined ? { kind: "load" } : { kind: "load", file: String(file) };
    };
    g.echo = (on: unknown) => {
      this.echoOff = !on;
    };
    const E = g.E as Record<string, unknown>;
    E.setBootCode = (code: unknown, alwaysExec?: unknown) => {
      guard(() => {
        storage.erase(".bootcde");
        storage.erase(".bootrst");
        if (code !== undefined && String(code).length > 0) storage.write(alwaysExec ? ".bootrst" : ".bootcde", code);
      });
    };
    E.CRC32 = (data: unknown) => crc32(toBytes(data));
    E.reboot = () => {
      this.todo = { kind: "power-on" };
    };
    const env = (g.process as { env: Record<string, unknown> }).env;
    env.CONSOLE = this.options.consoleDevice ?? "Telnet";
    env.MODULES = "Storage,timer";
    env.STORAGE = storage.capacity;
  }

  // ---- the line discipline -----------------------------------------------------

  private get echo(): boolean {
    return !this.echoOff && !this.echoOffForLine;
  }

  private get showInputLine(): boolean {
    return this.echo && !this.inputLineRemoved;
  }

  private send(bytes: string): void {
    if (bytes.length === 0) return;
    this.tx?.(bytes);
    for (const l of this.txListeners) l(bytes);
  }

  /** Text the interpreter printed ("\n" line ends): take the input line off the screen first. */
  private boardOutput(text: string): void {
    if (!this.forwarding) return;
    this.removeInputLine();
    this.send(text.replace(/\r?\n/g, "\r\n"));
  }

  private removeInputLine(): void {
    if (this.inputLineRemoved) return;
    this.inputLineRemoved = true;
    if (this.echo) {
      const up = this.inputLine.split("\n").length - 1;
      this.send("\x1B[A".repeat(up) + "\r\x1B[J");
    }
  }

  private returnInputLine(): void {
    if (!this.inputLineRemoved) return;
    this.inputLineRemoved = false;
    if (this.echo) this.send(">" + this.inputLine.replace(/\n/g, "\r\n:"));
  }

  private clearInputLine(): void {
    if (this.inputLine.length === 0) return;
    this.removeInputLine();
    this.inputLine = "";
  }

  private append(text: string): void {
    this.inputLine += text;
    if (this.showInputLine) this.send(text);
  }

  private handleChar(ch: number): void {
    if (ch === 3) {
      // Ctrl-C: Espruino flags it in the interrupt and clears the line after the input is handled.
      this.ctrlC = true;
      return;
    }
    if (this.esc !== 0) {
      this.escape(ch);
      return;
    }
    if (ch === 27) {
      this.esc = 1;
      return;
    }
    if (ch === 16 && this.inputLine.length === 0) {
      this.echoOffForLine = true; // DLE: no echo, no result for this line
      return;
    }
    const wasCR = this.hadCR;
    this.hadCR = false;
    if (ch === 8 || ch === 127) {
      if (this.inputLine.length === 0) return;
      this.inputLine = this.inputLine.slice(0, -1);
      if (this.showInputLine) this.send("\x08 \x08");
    } else if (ch === 21 || ch === 23) {
      this.clearInputLine();
    } else if (ch === 10 && wasCR) {
      // "\r\n": handled at the "\r"
    } else if (ch === 13 || ch === 10) {
      this.hadCR = ch === 13;
      this.newLine(true);
    } else if (ch === 9) {
      this.append("    ");
    } else if (ch >= 32) {
      this.append(String.fromCharCode(ch));
    }
  }

  /** Escape sequences: Esc+Enter is a newline that does not run; the rest (cursor keys, line numbers) is ignored. */
  private escape(ch: number): void {
    const state = this.esc;
    this.esc = 0;
    if (state === 1) {
      if (ch === 10) this.newLine(false);
      else if (ch === 91) this.esc = 2; // Esc [
      else if (ch === 79) this.esc = 4; // Esc O (numpad): one more character
    } else if (state === 2 || state === 3) {
      // Esc [ parameters (digits, ";") ... final byte. Espruino reads only
      // digits and takes any other byte as the end; taking ";" as a
      // parameter too keeps Ctrl+arrow keys (Esc [ 1 ; 5 D) out of the line.
      if (ch >= 0x30 && ch <= 0x3f) this.esc = 3;
    }
  }

  private newLine(execute: boolean): void {
    if (execute && countBrackets(this.inputLine) <= 0) {
      if (this.showInputLine) this.send("\r\n");
      if (!this.echoOffForLine) this.inputLineRemoved = true;
      const line = this.inputLine.replace(/\s+$/, "");
      this.inputLine = "";
      this.execute(line);
      this.echoOffForLine = false;
    } else {
      if (this.showInputLine) this.send("\r\n:");
      this.inputLine += "\n";
    }
  }

  /** Run one console line in the machine, as a main-loop event at the current virtual time. */
  private execute(line: string): void {
    if (line.length === 0) return;
    const m = this.current;
    if (this.echo) {
      // The typed line goes to the machine's own console record (serial.log) but not back down the wire: it was echoed already.
      this.forwarding = false;
      try {
        m.console.echoInput(line);
      } finally {
        this.forwarding = true;
      }
    }
    m.nowNs += m.dispatchCostNs;
    let compiled: ReturnType<typeof compileScript>;
    try {
      compiled = compileScript(m, line, "console.js", null);
    } catch (e) {
      m.reportUncaught(e, "console", syntaxErrorLocation(m, e, "console.js", null));
      return;
    }
    let value: unknown;
    try {
      value = m.runGuarded(() => compiled.script.runInContext(m.context));
    } catch (e) {
      m.reportUncaught(e, "console");
      return;
    }
    if (this.echo) m.console.printResult(value);
  }
}
