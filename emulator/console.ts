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
  /** Quote object keys: print/console.log do ({ "a": 1 }). */
  quoteKeys?: boolean;
  /** The REPL drops quotes around keys that are identifiers ({ a: 1 }). */
  dropQuotes?: boolean;
  /** Name for special objects (pins), or undefined. */
  special?: (value: object) => string | undefined;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * Espruino-style text for a value (jsfPrintJSON with JSON_PRETTY): strings
 * quoted, arrays "[ 1, 2 ]", objects "{ "a": 1 }", typed arrays
 * "new Int16Array([1, 2])", pins by name, functions by their code (without
 * the emulator's preemption calls). Single line; cycles print as "~".
 */
export function formatValue(value: unknown, options: FormatOptions = {}, seen: object[] = []): string {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "string":
      return JSON.stringify(value);
    case "symbol":
      return String(value);
    case "function": {
      const special = options.special?.(value);
      if (special !== undefined) return special;
      return stripPreemption(Function.prototype.toString.call(value));
    }
  }
  if (value === null) return "null";
  const obj = value as object;
  const special = options.special?.(obj);
  if (special !== undefined) return special;
  if (seen.includes(obj)) return "~";
  seen.push(obj);
  try {
    if (ArrayBuffer.isView(obj)) {
      if (obj instanceof DataView || Object.prototype.toString.call(obj) === "[object DataView]") {
        return `new DataView(new ArrayBuffer(${(obj as DataView).byteLength}))`;
      }
      const ctor = Object.prototype.toString.call(obj).slice(8, -1);
      return `new ${ctor}([${Array.prototype.join.call(obj, ", ")}])`;
    }
    if (Object.prototype.toString.call(obj) === "[object ArrayBuffer]") {
      return `new Uint8Array([${Array.prototype.join.call(new Uint8Array(obj as ArrayBuffer), ", ")}]).buffer`;
    }
    if (Array.isArray(obj)) {
      if (obj.length === 0) return "[ ]";
      return "[ " + obj.map((x) => formatValue(x, options, seen)).join(", ") + " ]";
    }
    if (isError(obj)) return `${obj.name}: ${obj.message}`;
    const keys = Object.keys(obj);
    if (keys.length === 0) return "{ }";
    const parts = keys.map((k) => {
      const key = options.dropQuotes && IDENT.test(k) ? k : options.quoteKeys || options.dropQuotes ? JSON.stringify(k) : k;
      return `${key}: ${formatValue((obj as Record<string, unknown>)[k], options, seen)}`;
    });
    return "{ " + parts.join(", ") + " }";
  } finally {
    seen.pop();
  }
}

function isError(v: object): v is { name: string; message: string } {
  return Object.prototype.toString.call(v) === "[object Error]";
}

/** Function source as the firmware wrote it: without `__p(n);` calls and their braces' content. */
export function stripPreemption(code: string): string {
  return code.replace(/__p\(\d+\);/g, "");
}

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
