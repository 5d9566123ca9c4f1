// Asking an Espruino board something over its console, the way the upload
// tool does it (EspruinoTools core/utils.js): get a prompt (send a newline,
// expect ">"; if nothing comes, Ctrl-C and try again), then send
//   \x10print("<","<<",JSON.stringify(EXPR),">>",">")
// (DLE: no echo for that line) and read the JSON between "< <<" and ">> >".

import type { Connection } from "./serial-port.ts";

export class EspruinoLink {
  /** Everything received so far. */
  received = "";
  private readonly waiters: Array<() => void> = [];
  private readonly off: () => void;

  constructor(readonly conn: Connection) {
    this.off = conn.onData((bytes) => {
      this.received += bytes;
      for (const w of this.waiters.splice(0)) w();
    });
    conn.onClose(() => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  dispose(): void {
    this.off();
  }

  /** Wait until `test` holds for the received text (checked on every chunk), or `ms` pass. */
  private waitFor(test: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (test()) return resolve(true);
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(check);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(test());
      }, ms);
      const check = (): void => {
        if (test()) {
          clearTimeout(timer);
          resolve(true);
        } else if (!this.conn.isOpen) {
          clearTimeout(timer);
          resolve(false);
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  /**
   * Get the board to show its prompt. Tries a newline, then Ctrl-C (which
   * also breaks out of running code), within `timeoutMs` in all. Returns
   * false when the board never answers with ">".
   */
  async getPrompt(timeoutMs = 3000): Promise<boolean> {
    const attempts = ["\n", "\x03", "\x03\n"];
    const each = Math.max(200, Math.floor(timeoutMs / attempts.length));
    for (const a of attempts) {
      if (!this.conn.isOpen) return false;
      const from = this.received.length;
      await this.conn.write(a).catch(() => undefined);
      if (await this.waitFor(() => /(^|[\r\n])>[^\r\n]*$/.test(this.received.slice(from)) || this.received.slice(from).endsWith(">"), each)) return true;
    }
    return false;
  }

  /**
   * Evaluate `expression` on the board and return its JSON text, or
   * undefined when no framed answer arrives within `timeoutMs`.
   */
  async evaluate(expression: string, timeoutMs = 3000): Promise<string | undefined> {
    return this.framed(`\x10print("<","<<",JSON.stringify(${expression}),">>",">")\n`, timeoutMs);
  }

  /** Run statements and return what they printed, or undefined on timeout. */
  async printed(statements: string, timeoutMs = 3000): Promise<string | undefined> {
    return this.framed(`\x10print("<","<<");${statements};print(">>",">")\n`, timeoutMs);
  }

  private async framed(command: string, timeoutMs: number): Promise<string | undefined> {
    const from = this.received.length;
    await this.conn.write(command);
    const find = (): string | undefined => {
      const text = this.received.slice(from);
      const start = text.indexOf("< <<");
      const end = start >= 0 ? text.indexOf(">> >", start) : -1;
      return start >= 0 && end > start ? text.slice(start + 4, end).trim() : undefined;
    };
    await this.waitFor(() => find() !== undefined, timeoutMs);
    return find();
  }

  /** What arrived since `from` (for error messages), printable and short. */
  snippet(from = 0, max = 160): string {
    const t = this.received
      .slice(from)
      .replace(/\x1B\[[0-9;?]*[A-Za-z]/g, "")
      .replace(/[\r\n]+/g, " | ")
      .replace(/[^\x20-\x7e|]/g, "")
      .trim();
    return t.length > max ? t.slice(0, max) + "..." : t;
  }
}

/** "2v29" -> 2.29, "2v29.12" -> 2.29; NaN if it is not a version. */
export function espruinoVersion(text: string): number {
  const m = /^(\d+)v(\d+)/.exec(text.trim());
  return m ? Number(m[1]) + Number(m[2]) / 100 : NaN;
}
