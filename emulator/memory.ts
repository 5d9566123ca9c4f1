// process.memory() for the emulated board. Espruino stores every value in
// fixed-size blocks (JsVars); the board reports how many are in use. The
// emulator cannot count Node's heap that way, so it estimates (see
// JsVarStore.usage): a lower bound good to a few hundred vars, enough to see
// the firmware's buffers and console state against the board's pool.

/** process.memory() as Espruino 2v29 returns it (units: JsVars, except blocksize in bytes). */
export interface ProcessMemory {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc: number;
  gctime: number;
  blocksize: number;
}

/** What holds JsVars, as the machine knows it. */
export interface JsVarHolders {
  /** Functions and characters of code loaded. */
  codeFunctions: number;
  codeChars: number;
  /** Buffers the firmware gave a flat address (E.getAddressOf): the DMA buffers. */
  flatBuffers: readonly ArrayBuffer[];
  /** JsVars held by globals the firmware added, not counting code nor the flat buffers. */
  globalsVars: number;
  /** Extra JsVars a board model wants counted. */
  extraVars: number;
}

/** The board's JsVar pool: its size, and the estimate of what is in use. */
export class JsVarStore {
  /**
   * `total` JsVars of `blockSize` bytes; `baselineVars` in use before any
   * code is loaded; `codeCharsPerVar` 0 for code in flash, else characters
   * of code per JsVar (code uploaded to RAM).
   */
  constructor(
    readonly total: number,
    readonly blockSize: number,
    readonly baselineVars: number,
    readonly codeCharsPerVar: number,
  ) {}

  /**
   * Estimated JsVars in use:
   *  - baselineVars (the interpreter's own, 40 by default);
   *  - code: each function in the loaded code costs 2 (its function var and
   *    its code reference, code in flash), or, with codeCharsPerVar > 0
   *    (code uploaded to RAM), ceil(characters / codeCharsPerVar) more;
   *  - each flat buffer the firmware registered with E.getAddressOf (the DMA
   *    buffers): ceil(bytes / blocksize) plus the flat-string header, the
   *    ArrayBuffer and the view;
   *  - what is reachable from properties the firmware added to the global
   *    object (console commands and what they reference), as E.getSizeOf
   *    counts it, without code (counted above);
   *  - extraVars, for a board model.
   * Not counted: objects only closures hold (the bundle is an iife, so most
   * firmware state) apart from the registered flat buffers. So this is a
   * lower bound of what the board would report, good to a few hundred vars.
   */
  usage(h: JsVarHolders): number {
    let vars = this.baselineVars + h.extraVars + 2 * h.codeFunctions;
    if (this.codeCharsPerVar > 0) vars += Math.ceil(h.codeChars / this.codeCharsPerVar);
    for (const b of h.flatBuffers) vars += 3 + Math.ceil(b.byteLength / this.blockSize);
    return vars + h.globalsVars;
  }

  /** process.memory() with `usage` JsVars in use (capped at the pool). */
  report(usage: number): ProcessMemory {
    const used = Math.min(this.total, usage);
    return { free: this.total - used, usage: used, total: this.total, history: 0, gc: 0, gctime: 0, blocksize: this.blockSize };
  }
}
