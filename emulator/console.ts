// The board's serial console: what the firmware prints, what is typed at the
// REPL prompt, and how values are shown.
//
// Output is kept whole in memory (consoleText()) and can also go, line by
// line, to a stream and/or a log file: the raw serial text, no prefixes.
// Lines end in "\n" (the board sends "\r\n"; tests and logs are easier without
// the "\r").
//
// Typed input is evaluated in the global scope at its virtual time (through
// the same preemption transform as the bundle) and answered like Espruino's
// REPL (src/jsinteractive.c): the line is echoed after a ">" prompt, then
// "=<value>" is printed, including "=undefined" (Espruino prints the result
// whatever it is, except after an error or for an empty line; set
// printUndefined: false to drop "=undefined"), or "Uncaught Error: message"
// when it throws.

import { closeSync, openSync, writeSync } from "node:fs";
import { espruinoJSON, PRINT_FLAGS, REPL_FLAGS, stripPreemption, valueText } from "./espruino-format.ts";

export interface ConsoleOptions {
  /** Echo each typed line as ">line" before its output, as a terminal shows it. Default true. */
  echo?: boolean;
  /** Print "=undefined" for an undefined result, as Espruino does. Default true. */
  printUndefined?: boolean;
  /** Write every complete output line to this file (truncated at start). */
  logFile?: string;
  /** Write every complete output line to this stream (e.g. process.stdout). */
  stream?: { write(chunk: string): unknown };
}

export interface FormatOptions {
  /** Quote object keys: print/console.log do ({ "a": 1 }). The default. */
  quoteKeys?: boolean;
  /** The REPL's "=" line: keys that are identifiers unquoted ({ a: 1 }), long arrays and strings cut with " ... ". */
  dropQuotes?: boolean;
  /** Name for special objects (pins), or undefined. */
  special?: (value: object) => string | undefined;
  /** The board's global object, so an object made by a global constructor prints as "Name: ..." . */
  globals?: Record<string, unknown>;
  /** Whether a function is the board's native code (printed "{ [native code] }"). */
  isNative?: (fn: Function) => boolean;
  /** A global binding by name (a top-level class), to name its instances. */
  lookupGlobal?: (name: string) => unknown;
}

/**
 * Espruino's text for a value (src/jswrap_json.c, ported in
 * espruino-format.ts): as print/console.log show it, or as the REPL's "="
 * line does with `dropQuotes`. Strings quoted, arrays "[ 1, 2 ]", objects
 * "{ "a": 1 }" with Espruino's line breaks, typed arrays
 * "new Int16Array([1, 2])" ("new Int16Array(2)" when all zero), pins by
 * name, functions by their code (without the emulator's preemption calls),
 * cycles as " ... ".
 */
export function formatValue(value: unknown, options: FormatOptions = {}): string {
  return espruinoJSON(value, options.dropQuotes ? REPL_FLAGS : PRINT_FLAGS, {
    special: options.special,
    globals: options.globals,
    isNative: options.isNative,
    lookupGlobal: options.lookupGlobal,
  });
}

/** The text after "Uncaught " for a thrown value: jsvAsString ("Error: message", a string as it is). */
export function uncaughtText(error: unknown): string {
  return valueText(error);
}

export { stripPreemption };

export class SerialConsole {
  private buffer = "";
  private mark = 0;
  private pendingLine = "";
  private readonly listeners: Array<(text: string) => void> = [];
  private readonly fd: number | null;
  private readonly stream: { write(chunk: string): unknown } | null;
  readonly echo: boolean;
  readonly printUndefined: boolean;
  /** How the REPL shows a result (set by the machine so pins print by name). */
  formatResult: (value: unknown) => string = (v) => formatValue(v, { dropQuotes: true });

  constructor(
    private readonly queue: (line: string, atSeconds?: number) => void,
    options: ConsoleOptions,
  ) {
    this.echo = options.echo ?? true;
    this.printUndefined = options.printUndefined ?? true;
    this.stream = options.stream ?? null;
    this.fd = options.logFile ? openSync(options.logFile, "w") : null;
  }

  /** Queue a line for the REPL prompt, evaluated at virtual time `atSeconds` (default: now). */
  type(line: string, atSeconds?: number): void {
    for (const l of line.split("\n")) this.queue(l, atSeconds);
  }

  /** Everything printed so far. */
  text(): string {
    return this.buffer;
  }

  /** Characters printed so far. */
  get length(): number {
    return this.buffer.length;
  }

  /** Output since the previous takeNew() (or the start). */
  takeNew(): string {
    const s = this.buffer.slice(this.mark);
    this.mark = this.buffer.length;
    return s;
  }

  /** Complete lines printed so far. */
  lines(): string[] {
    const l = this.buffer.split("\n");
    l.pop();
    return l;
  }

  /** Be told of every piece of output as it is printed. Returns an unsubscribe function. */
  onData(listener: (text: string) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Serial output from the board. */
  write(text: string): void {
    if (text.length === 0) return;
    this.buffer += text;
    for (const l of this.listeners) l(text);
    if (this.fd === null && this.stream === null) return;
    const all = this.pendingLine + text;
    const cut = all.lastIndexOf("\n") + 1;
    this.pendingLine = all.slice(cut);
    if (cut > 0) this.sink(all.slice(0, cut));
  }

  /** Write out a trailing partial line to the stream/log file. */
  flush(): void {
    if (this.pendingLine) {
      this.sink(this.pendingLine);
      this.pendingLine = "";
    }
  }

  /** Flush and close the log file. */
  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
  }

  /** @internal The terminal's echo of a typed line. */
  echoInput(line: string): void {
    if (this.echo) this.write(`>${line}\n`);
  }

  /** @internal The REPL's answer. */
  printResult(value: unknown): void {
    if (value === undefined && !this.printUndefined) return;
    this.write(`=${this.formatResult(value)}\n`);
  }

  private sink(text: string): void {
    if (this.fd !== null) writeSync(this.fd, text);
    this.stream?.write(text);
  }
}
