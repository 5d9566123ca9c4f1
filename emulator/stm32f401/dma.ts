// DMA1 of the STM32F401 (RM0368 ch. 9 "DMA controller"), memory-to-peripheral
// streams in direct mode, as the I2S driver uses them: circular double-buffer
// (DBM) streaming paced by the I2S model's requests, in virtual time.
//
// Register map (RM0368 §9.5): LISR 0x00, HISR 0x04, LIFCR 0x08, HIFCR 0x0C,
// then per stream x: SxCR 0x10+0x18*x, SxNDTR 0x14+.., SxPAR 0x18+..,
// SxM0AR 0x1C+.., SxM1AR 0x20+.., SxFCR 0x24+..
// Flags per stream in LISR (streams 0-3) / HISR (4-7) at bit offsets 0, 6, 16,
// 22: FEIF +0, DMEIF +2, TEIF +3, HTIF +4, TCIF +5.
// SxCR: EN 0, DMEIE 1, TEIE 2, HTIE 3, TCIE 4, PFCTRL 5, DIR 7:6, CIRC 8,
// PINC 9, MINC 10, PSIZE 12:11, MSIZE 14:13, PINCOS 15, PL 17:16, DBM 18,
// CT 19, PBURST 22:21, MBURST 24:23, CHSEL 27:25.
//
// Behaviour modelled from RM0368 §9.3: protected fields written while EN=1
// are ignored; NDTR/PAR/FCR are writable only with EN=0; in DBM the memory
// address register not currently targeted may be rewritten on the fly; at
// NDTR=0 a circular/DBM stream reloads NDTR, DBM toggles CT, and TCIF is set;
// clearing EN by software sets TCIF too ("end of transfer"); the stream's
// flags must be cleared before it is enabled again.
//
// Stopping takes time (RM0368 §9.3.17, stream configuration step 1: "Writing
// this bit to 0 is not immediately effective since it is actually written to
// 0 once all the current transfers are finished. When the EN bit is read as
// 0, this means that the stream is ready to be configured"; ST's
// HAL_DMA_Abort polls EN for that). The real delay is a few AHB cycles,
// less than one JavaScript statement, so the model stretches it over the
// bus instead of over time: after software clears EN, the stream serves no
// more requests and TCIF is set at once, but SxCR reads EN = 1 on the first
// read; from the second read on it reads 0. A stream register written
// before EN has read back 0 is a fault (the write then applies, so one
// mistake does not cascade).
//
// Two hooks for checks beyond the registers: `blockEnds(x)` counts the
// blocks a stream completed (the truth a driver's period count is checked
// against), and `rewrittenBlocks(x)` counts blocks whose memory changed while
// the stream was reading them (a refill that ended after its block began:
// the firmware wrote into the buffer the DMA was playing).

import type { MachineServices, Peripheral } from "../hardware";
import { AHB1ENR_DMA1EN, Rcc, RCC_AHB1ENR } from "./rcc";

export const DMA1_BASE = 0x40026000;
export const DMA_LISR = 0x00;
export const DMA_HISR = 0x04;
export const DMA_LIFCR = 0x08;
export const DMA_HIFCR = 0x0c;

export const SXCR_EN = 1 << 0;
export const SXCR_INTERRUPT_ENABLES = 0x1e; // DMEIE TEIE HTIE TCIE
export const SXCR_DIR_SHIFT = 6;
export const SXCR_CIRC = 1 << 8;
export const SXCR_PINC = 1 << 9;
export const SXCR_MINC = 1 << 10;
export const SXCR_PSIZE_SHIFT = 11;
export const SXCR_MSIZE_SHIFT = 13;
export const SXCR_DBM = 1 << 18;
export const SXCR_CT = 1 << 19;
export const SXCR_CHSEL_SHIFT = 25;

export const FLAG_FE = 1 << 0;
export const FLAG_DME = 1 << 2;
export const FLAG_TE = 1 << 3;
export const FLAG_HT = 1 << 4;
export const FLAG_TC = 1 << 5;
const ALL_FLAGS = FLAG_FE | FLAG_DME | FLAG_TE | FLAG_HT | FLAG_TC;
const FLAG_SHIFT = [0, 6, 16, 22];

export function streamCr(x: number): number {
  return 0x10 + 0x18 * x;
}
export function streamNdtr(x: number): number {
  return 0x14 + 0x18 * x;
}
export function streamPar(x: number): number {
  return 0x18 + 0x18 * x;
}
export function streamM0ar(x: number): number {
  return 0x1c + 0x18 * x;
}
export function streamM1ar(x: number): number {
  return 0x20 + 0x18 * x;
}
export function streamFcr(x: number): number {
  return 0x24 + 0x18 * x;
}
/** Bit position of a stream's flag group in LISR/HISR. */
export function flagShift(x: number): number {
  return FLAG_SHIFT[x & 3];
}

/**
 * DMA1 request mapping, RM0368 Table 28 (rows used by the SPI/I2S models):
 * request -> [stream, channel] pairs that serve it.
 */
export const DMA1_REQUESTS: Record<string, Array<[number, number]>> = {
  SPI3_RX: [[0, 0], [2, 0]],
  SPI2_RX: [[3, 0]],
  SPI2_TX: [[4, 0]],
  SPI3_TX: [[5, 0], [7, 0]],
};

/** Anything whose clock paces the DMA (an I2S model): brought up to date before DMA registers are read or written. */
export interface DmaRequester {
  advanceTo(now: number): void;
}

class Stream {
  cr = 0;
  /** Items left in the current block. */
  ndtr = 0;
  /** Last NDTR value software programmed: the circular reload value. */
  reload = 0;
  par = 0;
  m0ar = 0;
  m1ar = 0;
  fcr = 0x21; // reset value: direct mode, FTH half
  /** Items transferred in the current block (address offset with MINC). */
  index = 0;
  transferred = 0;
  /** EN cleared by software and not yet read back as 0 (see the header). */
  stopping = false;
  /** Reads of SxCR since the disable (EN reads 1 on the first). */
  stopReads = 0;
  /** Blocks completed (NDTR reached 0) since reset. */
  blockEnds = 0;
  /** Blocks whose memory changed while the stream read them. */
  rewritten = 0;
  /** The block's memory as it was when its first item was read (null: not tracked). */
  snapshot: Int16Array | null = null;
  snapshotBase = 0;
}

export class Dma implements Peripheral {
  readonly name = "DMA1";
  readonly base = DMA1_BASE;
  readonly size = 0x400;
  private services: MachineServices;
  private rcc: Rcc;
  private streams: Stream[] = [];
  /** LISR (index 0) and HISR (index 1). */
  private isr = [0, 0];
  private requesters: DmaRequester[] = [];
  private syncing = false;

  constructor(services: MachineServices, rcc: Rcc) {
    this.services = services;
    this.rcc = rcc;
    for (let i = 0; i < 8; i++) this.streams.push(new Stream());
  }

  addRequester(r: DmaRequester): void {
    this.requesters.push(r);
  }

  advanceTo(now: number): void {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (const r of this.requesters) r.advanceTo(now);
    } finally {
      this.syncing = false;
    }
  }

  // --- inspection, for tests and the other models -------------------------

  enabled(x: number): boolean {
    return (this.streams[x].cr & SXCR_EN) !== 0;
  }
  ct(x: number): number {
    return (this.streams[x].cr & SXCR_CT) !== 0 ? 1 : 0;
  }
  ndtr(x: number): number {
    return this.streams[x].ndtr;
  }
  flags(x: number): number {
    return (this.isr[x >> 2] >>> flagShift(x)) & ALL_FLAGS;
  }
  itemsTransferred(x: number): number {
    return this.streams[x].transferred;
  }
  /** Blocks stream x completed since reset (each one a TCIF and, in DBM, a CT toggle). */
  blockEnds(x: number): number {
    return this.streams[x].blockEnds;
  }
  /** Blocks of stream x whose memory was written while the stream read them (late refills). */
  rewrittenBlocks(x: number): number {
    return this.streams[x].rewritten;
  }
  /** Index in its block of the item requestItem returned last (0 = the block's first): even items are left samples. */
  lastIndex = 0;

  // --- register interface ----------------------------------------------------

  read32(offset: number): number {
    this.advanceTo(this.services.now());
    if (offset === DMA_LISR) return this.isr[0] >>> 0;
    if (offset === DMA_HISR) return this.isr[1] >>> 0;
    if (offset === DMA_LIFCR || offset === DMA_HIFCR) return 0;
    const x = Math.floor((offset - 0x10) / 0x18);
    if (x < 0 || x > 7) return 0;
    const s = this.streams[x];
    switch (offset - 0x18 * x) {
      case 0x10:
        if (s.stopping) {
          // EN reads back 1 once after the disable (see the header).
          if (s.stopReads++ === 0) return (s.cr | SXCR_EN) >>> 0;
          s.stopping = false;
        }
        return s.cr >>> 0;
      case 0x14:
        return s.ndtr;
      case 0x18:
        return s.par >>> 0;
      case 0x1c:
        return s.m0ar >>> 0;
      case 0x20:
        return s.m1ar >>> 0;
      case 0x24:
        return s.fcr >>> 0;
    }
    return 0;
  }

  write32(offset: number, value: number): void {
    this.advanceTo(this.services.now());
    value = value >>> 0;
    if (!this.rcc.enabled(RCC_AHB1ENR, AHB1ENR_DMA1EN)) {
      this.services.fault(`DMA1.${this.regName(offset)}`, "write ignored: RCC.AHB1ENR.DMA1EN=0 (DMA1 not clocked)");
      return;
    }
    if (offset === DMA_LISR || offset === DMA_HISR) return; // read-only
    if (offset === DMA_LIFCR || offset === DMA_HIFCR) {
      const i = offset === DMA_LIFCR ? 0 : 1;
      this.isr[i] = (this.isr[i] & ~value) >>> 0;
      return;
    }
    const x = Math.floor((offset - 0x10) / 0x18);
    if (x < 0 || x > 7) return;
    const s = this.streams[x];
    const reg = `DMA1.${this.regName(offset)}`;
    if (s.stopping) {
      this.services.fault(
        reg,
        `written before S${x}CR.EN read back 0 after the disable (RM0368 §9.3.17: the stream may still be finishing a transfer; ` +
          `wait until EN reads 0, as HAL_DMA_Abort does)`,
      );
      s.stopping = false;
    }
    const on = (s.cr & SXCR_EN) !== 0;
    switch (offset - 0x18 * x) {
      case 0x10:
        this.writeCr(x, s, value, reg);
        return;
      case 0x14:
        if (on) return this.protectedWrite(reg, x);
        s.ndtr = value & 0xffff;
        s.reload = s.ndtr;
        return;
      case 0x18:
        if (on) return this.protectedWrite(reg, x);
        s.par = value;
        return;
      case 0x1c:
        if (on && !((s.cr & SXCR_DBM) && (s.cr & SXCR_CT))) {
          this.services.fault(reg, `written while stream ${x} is enabled and reading memory 0 (RM0368: in double-buffer mode only the memory not in use may be changed); ignored`);
          return;
        }
        s.m0ar = value;
        return;
      case 0x20:
        if (on && !((s.cr & SXCR_DBM) && !(s.cr & SXCR_CT))) {
          this.services.fault(reg, `written while stream ${x} is enabled and reading memory 1 (RM0368: in double-buffer mode only the memory not in use may be changed); ignored`);
          return;
        }
        s.m1ar = value;
        return;
      case 0x24:
        if (on) return this.protectedWrite(reg, x);
        s.fcr = value;
        return;
    }
  }

  private protectedWrite(reg: string, x: number): void {
    this.services.fault(reg, `written while stream ${x} is enabled (EN=1): RM0368 allows it only with EN=0; ignored`);
  }

  private writeCr(x: number, s: Stream, value: number, reg: string): void {
    const on = (s.cr & SXCR_EN) !== 0;
    if (on) {
      // Only EN and the interrupt enables may change while the stream runs.
      // CT belongs to the hardware in DBM: a write that disables the stream
      // with a stale CT (a driver writing its configuration back with EN=0)
      // is not a misconfiguration, the hardware just keeps its own CT.
      const writable = SXCR_EN | SXCR_INTERRUPT_ENABLES;
      const checked = value & SXCR_EN ? ~writable : ~(writable | SXCR_CT);
      if ((value & checked) !== (s.cr & checked)) {
        this.services.fault(
          reg,
          `configuration bits changed while stream ${x} is enabled (0x${(s.cr >>> 0).toString(16)} -> 0x${value.toString(16)}): RM0368 protects them while EN=1; ignored`,
        );
      }
      value = ((s.cr & ~writable) | (value & writable)) >>> 0;
      s.cr = value;
      if (!(value & SXCR_EN)) {
        // Disabled by software: the transfer ends and TCIF is set; EN reads
        // back 1 until the stop is confirmed (see the header).
        this.setFlags(x, FLAG_TC);
        s.stopping = true;
        s.stopReads = 0;
        s.snapshot = null;
      }
      return;
    }
    if (!(value & SXCR_EN)) {
      s.cr = value;
      return;
    }
    // Enabling: check the stream is fully configured first.
    const problem = this.enableProblem(x, s, value);
    if (problem) {
      this.services.fault(problem.register, `stream ${x} not enabled: ${problem.message}`);
      s.cr = (value & ~SXCR_EN) >>> 0;
      return;
    }
    if (value & SXCR_DBM) value = (value | SXCR_CIRC) >>> 0; // DBM forces circular mode
    s.cr = value;
    // NDTR as programmed (or the remainder left by a disable); addresses
    // restart from M0AR/M1AR (RM0368 §9.3: the software re-programs them to resume).
    s.index = 0;
    s.snapshot = null;
  }

  private enableProblem(x: number, s: Stream, cr: number): { register: string; message: string } | null {
    if (this.flags(x)) {
      return {
        register: `DMA1.${x < 4 ? "LISR" : "HISR"}`,
        message: `flags 0x${this.flags(x).toString(16)} from the previous transfer still set (RM0368: clear them in ${x < 4 ? "LIFCR" : "HIFCR"} before re-enabling)`,
      };
    }
    if (s.ndtr === 0) return { register: `DMA1.S${x}NDTR`, message: "NDTR is 0 (nothing to transfer)" };
    if (s.par === 0) return { register: `DMA1.S${x}PAR`, message: "PAR (peripheral address) is not set" };
    if (s.m0ar === 0) return { register: `DMA1.S${x}M0AR`, message: "M0AR (memory 0 address) is not set" };
    if (cr & SXCR_DBM && s.m1ar === 0) {
      return { register: `DMA1.S${x}M1AR`, message: "double-buffer mode (DBM=1) without M1AR (memory 1 address)" };
    }
    if (((cr >>> SXCR_DIR_SHIFT) & 3) === 3) return { register: `DMA1.S${x}CR`, message: "DIR=11 is reserved" };
    return null;
  }

  private setFlags(x: number, flags: number): void {
    this.isr[x >> 2] = (this.isr[x >> 2] | (flags << flagShift(x))) >>> 0;
  }

  /** The enabled stream that serves `request` (RM0368 Table 28), or -1. */
  streamFor(request: string): number {
    const rows = DMA1_REQUESTS[request] ?? [];
    for (const [x, channel] of rows) {
      const cr = this.streams[x].cr;
      if (cr & SXCR_EN && ((cr >>> SXCR_CHSEL_SHIFT) & 7) === channel) return x;
    }
    return -1;
  }

  /**
   * A peripheral asks for one memory-to-peripheral item. Returns the 16-bit
   * value, or null when no enabled stream serves the request (the peripheral
   * starves) or the stream faulted.
   */
  requestItem(request: string, peripheralAddress: number): number | null {
    const x = this.streamFor(request);
    if (x < 0) return null;
    const s = this.streams[x];
    const cr = s.cr;
    const reg = `DMA1.S${x}`;
    const dir = (cr >>> SXCR_DIR_SHIFT) & 3;
    if (dir !== 1) {
      this.streamError(x, `${reg}CR`, `serves ${request} but DIR=${dir.toString(2).padStart(2, "0")} is not memory-to-peripheral (01)`);
      return null;
    }
    if (s.par !== peripheralAddress) {
      this.streamError(
        x,
        `${reg}PAR`,
        `serves ${request} but PAR=0x${(s.par >>> 0).toString(16)} is not the peripheral's data register 0x${peripheralAddress.toString(16)}`,
      );
      return null;
    }
    const msize = (cr >>> SXCR_MSIZE_SHIFT) & 3;
    const psize = (cr >>> SXCR_PSIZE_SHIFT) & 3;
    if (msize !== 1 || psize !== 1) {
      this.streamError(x, `${reg}CR`, `serves ${request} with MSIZE=${msize} PSIZE=${psize}; the 16-bit I2S data register needs half-words (01)`);
      return null;
    }
    const base = cr & SXCR_CT ? s.m1ar : s.m0ar;
    if (s.index === 0 && cr & SXCR_MINC) this.takeSnapshot(s, base);
    const address = (base + (cr & SXCR_MINC ? 2 * s.index : 0)) >>> 0;
    let value: number;
    try {
      value = this.services.readMemory16(address);
    } catch (e) {
      this.setFlags(x, FLAG_TE);
      s.cr = (s.cr & ~SXCR_EN) >>> 0;
      this.services.fault(`${reg}${cr & SXCR_CT ? "M1AR" : "M0AR"}`, `transfer error reading 0x${address.toString(16)}: ${(e as Error).message}`);
      return null;
    }
    this.lastIndex = s.index;
    s.index++;
    s.transferred++;
    s.ndtr--;
    if (s.index === (s.reload >> 1)) this.setFlags(x, FLAG_HT);
    if (s.ndtr === 0) {
      s.blockEnds++;
      if (this.changedSinceSnapshot(s)) s.rewritten++;
      s.snapshot = null;
      this.setFlags(x, FLAG_TC);
      if (cr & (SXCR_CIRC | SXCR_DBM)) {
        s.ndtr = s.reload;
        s.index = 0;
        if (cr & SXCR_DBM) s.cr = (s.cr ^ SXCR_CT) >>> 0;
      } else {
        s.cr = (s.cr & ~SXCR_EN) >>> 0;
      }
    }
    return value << 16 >> 16;
  }

  /** Keep the block's memory as it is when its first item is read. */
  private takeSnapshot(s: Stream, base: number): void {
    const n = s.ndtr;
    if (!s.snapshot || s.snapshot.length !== n) s.snapshot = new Int16Array(n);
    s.snapshotBase = base;
    try {
      for (let i = 0; i < n; i++) s.snapshot[i] = this.services.readMemory16(base + 2 * i);
    } catch {
      s.snapshot = null;
    }
  }

  /** Whether the block's memory differs from its snapshot (the firmware wrote into the block being played). */
  private changedSinceSnapshot(s: Stream): boolean {
    const snap = s.snapshot;
    if (!snap) return false;
    try {
      for (let i = 0; i < snap.length; i++) if ((this.services.readMemory16(s.snapshotBase + 2 * i) << 16 >> 16) !== snap[i]) return true;
    } catch {
      return false;
    }
    return false;
  }

  private streamError(x: number, register: string, message: string): void {
    this.setFlags(x, FLAG_TE);
    this.streams[x].cr = (this.streams[x].cr & ~SXCR_EN) >>> 0;
    this.services.fault(register, `transfer error, stream ${x} disabled: ${message}`);
  }

  private regName(offset: number): string {
    if (offset === DMA_LISR) return "LISR";
    if (offset === DMA_HISR) return "HISR";
    if (offset === DMA_LIFCR) return "LIFCR";
    if (offset === DMA_HIFCR) return "HIFCR";
    const x = Math.floor((offset - 0x10) / 0x18);
    const names: Record<number, string> = { 0x10: "CR", 0x14: "NDTR", 0x18: "PAR", 0x1c: "M0AR", 0x20: "M1AR", 0x24: "FCR" };
    return `S${x}${names[offset - 0x18 * x] ?? "?"}`;
  }
}
