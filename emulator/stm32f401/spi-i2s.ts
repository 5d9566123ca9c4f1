// SPI2/SPI3 in I2S mode (RM0368 ch. 20 "Serial peripheral interface (SPI)",
// I2S part). Register map (RM0368 §20.5, CMSIS SPI_TypeDef): CR1 0x00,
// CR2 0x04, SR 0x08, DR 0x0C, CRCPR 0x10, RXCRCR 0x14, TXCRCR 0x18,
// I2SCFGR 0x1C, I2SPR 0x20.
// I2SCFGR: CHLEN 0, DATLEN 2:1, CKPOL 3, I2SSTD 5:4, PCMSYNC 7, I2SCFG 9:8,
// I2SE 10, I2SMOD 11. I2SPR: I2SDIV 7:0 (0 and 1 forbidden), ODD 8, MCKOE 9.
// CR2: TXDMAEN 1. SR: TXE 1, CHSIDE 2, BSY 7.
//
// Frame rate (RM0368 §20.4.4 "Clock generator"), MCKOE = 0:
//   fs = I2SxCLK / [(16*2) * ((2*I2SDIV) + ODD)]  for a 16-bit channel frame (CHLEN=0)
//   fs = I2SxCLK / [(32*2) * ((2*I2SDIV) + ODD)]  for a 32-bit channel frame (CHLEN=1)
// and with MCKOE = 1 both become I2SxCLK / [256 * ((2*I2SDIV) + ODD)].
// (The same formulas are printed in RM0090 and RM0390 for the sibling F4 parts.)
//
// The model is the bit clock master: while I2SE=1 and everything is valid it
// clocks half-word slots in virtual time (left, right, left, ...: slot k
// starts at k / (2 fs) after I2SE was set) and hands each frame to the device
// on SD. At the start of each slot the shift register takes the TX buffer
// (SPI_DR) and TXE rises; with TXDMAEN set, TXE is a DMA request, which the
// stream serving the request answers at once by writing the next item into
// SPI_DR (so DR always holds the next slot's half-word, RM0368 §20.4.5
// "Transmission sequence"). Without data in DR at a slot start the slot
// underruns (UDR) and repeats the last half-word.
//
// SR: TXE = DR empty; BSY = the slot on the wire carries data or DR holds
// some; CHSIDE = the side of the next slot (0 left). Clearing I2SE while
// TXE=0 or BSY=1 is a fault: "To switch off the I2S, by clearing I2SE, it is
// mandatory to wait for TXE = 1 and BSY = 0" (RM0368 §20.4.5; ST's
// HAL_I2S_DMAStop stops the DMA, waits for TXE then BSY, then clears I2SE).
// What DR still holds is kept across I2SE (a later start sends it first).
// Each DMA item carries its parity in its block (even = left sample): an
// item sent in a slot of the other side means left and right are swapped,
// which is a fault once per enable (what a cut frame or a stale DR does after
// a restart).

import type { MachineServices, Peripheral } from "../hardware";
import type { I2SFormat, I2SSink } from "../devices/i2s-bus";
import type { Dma } from "./dma";
import { pinProblem, type PinFunction } from "./gpio";
import { Rcc, RCC_APB1ENR } from "./rcc";

export const SPI2_BASE = 0x40003800;
export const SPI3_BASE = 0x40003c00;

export const SPI_CR1 = 0x00;
export const SPI_CR2 = 0x04;
export const SPI_SR = 0x08;
export const SPI_DR = 0x0c;
export const SPI_CRCPR = 0x10;
export const SPI_I2SCFGR = 0x1c;
export const SPI_I2SPR = 0x20;

export const CR2_TXDMAEN = 1 << 1;
export const I2SCFGR_CHLEN = 1 << 0;
export const I2SCFGR_DATLEN_SHIFT = 1;
export const I2SCFGR_CKPOL = 1 << 3;
export const I2SCFGR_I2SSTD_SHIFT = 4;
export const I2SCFGR_I2SCFG_SHIFT = 8;
export const I2SCFGR_I2SE = 1 << 10;
export const I2SCFGR_I2SMOD = 1 << 11;
export const I2SPR_ODD = 1 << 8;
export const I2SPR_MCKOE = 1 << 9;

const STANDARDS: I2SFormat["standard"][] = ["philips", "msb", "lsb", "pcm"];
const CFG_NAMES = ["slave transmit", "slave receive", "master transmit", "master receive"];

export interface SpiI2sOptions {
  name: "SPI2" | "SPI3";
  base: number;
  /** RCC_APB1ENR bit that clocks this SPI. */
  enableBit: number;
  /** DMA request name of its TX line, e.g. "SPI2_TX" (RM0368 Table 28). */
  txRequest: string;
  /** The pins this board wires: CK, WS and SD with their datasheet AF numbers. */
  pins: PinFunction[];
  /** The MCK pin of this I2S and why it cannot be used, for MCKOE=1. */
  mckNote: string;
}

export const SR_TXE = 1 << 1;
export const SR_CHSIDE = 1 << 2;
export const SR_UDR = 1 << 3;
export const SR_BSY = 1 << 7;

export class SpiI2s implements Peripheral {
  readonly name: string;
  readonly base: number;
  readonly size = 0x400;
  private opts: SpiI2sOptions;
  private services: MachineServices;
  private rcc: Rcc;
  private dma: Dma;
  private sink: I2SSink | null = null;
  private regs: Record<number, number> = { [SPI_CR1]: 0, [SPI_CR2]: 0, [SPI_CRCPR]: 7, [SPI_I2SCFGR]: 0, [SPI_I2SPR]: 2 };
  /** Clocking slots right now. */
  private running = false;
  private startedAt = 0;
  /** Half-word slots clocked since I2SE was set (slot k is left when k is even). */
  private slots = 0;
  private framesOut = 0;
  private fs = 0;
  /** SPI_DR as the transmitter sees it: the next slot's half-word, or null (TXE=1). */
  private tx: number | null = null;
  /** Parity in its DMA block of the item in `tx` (0 left, 1 right), -1 when software wrote DR. */
  private txParity = -1;
  /** The slot on the wire carries data (not an underrun): BSY. */
  private shifting = false;
  private lastItem = 0;
  private left = 0;
  private udr = false;
  private swapReported = false;
  /** Slots that found no data in DR (each repeated the last half-word). */
  starvedItems = 0;

  constructor(services: MachineServices, rcc: Rcc, dma: Dma, opts: SpiI2sOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.base = opts.base;
    this.services = services;
    this.rcc = rcc;
    this.dma = dma;
    dma.addRequester(this);
    rcc.onI2sClockLost(() => {
      if (!this.running) return;
      this.stopClock();
      this.services.fault("RCC.CR", `PLLI2S switched off while ${this.name} was streaming: its bit clock stopped`);
    });
  }

  /** Wire a device to this I2S's CK/WS/SD lines. */
  connect(sink: I2SSink): void {
    this.sink = sink;
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Frames per second derived from RCC and I2SPR; 0 while not clocking. */
  sampleRate(): number {
    return this.running ? this.fs : 0;
  }

  framesSent(): number {
    return this.framesOut;
  }

  /** The rate the registers describe, running or not (0 if the I2S clock is off or I2SDIV invalid). */
  derivedRate(): number {
    const clk = this.rcc.i2sClockHz();
    const pr = this.regs[SPI_I2SPR];
    const div = pr & 0xff;
    if (clk === 0 || div < 2) return 0;
    const k = 2 * div + (pr & I2SPR_ODD ? 1 : 0);
    if (pr & I2SPR_MCKOE) return clk / (256 * k);
    const chlen = this.regs[SPI_I2SCFGR] & I2SCFGR_CHLEN ? 32 : 16;
    return clk / (chlen * 2 * k);
  }

  advanceTo(now: number): void {
    if (this.running) {
      const due = Math.floor((now - this.startedAt) * this.fs * 2 + 1e-9);
      while (this.slots < due) this.slot();
    }
    this.request();
  }

  /**
   * Move this I2S's clock on to the end of the DMA block it is playing, now:
   * the slots up to the block end are clocked at once and the later ones keep
   * the rate (the phase jumps; no sample is lost). The race explorer's
   * "DMA block end" event. Returns false when no stream is feeding it.
   */
  finishBlock(): boolean {
    if (!this.running || !(this.regs[SPI_CR2] & CR2_TXDMAEN)) return false;
    const x = this.dma.streamFor(this.opts.txRequest);
    if (x < 0) return false;
    this.advanceTo(this.services.now());
    const before = this.dma.blockEnds(x);
    const slotSeconds = 1 / (2 * this.fs);
    for (let guard = 0; guard < 0x20000 && this.dma.blockEnds(x) === before; guard++) {
      if (this.dma.streamFor(this.opts.txRequest) !== x) return false;
      this.slot();
      this.startedAt -= slotSeconds;
    }
    return this.dma.blockEnds(x) !== before;
  }

  /** One slot: the shift register takes DR (or underruns), TXE rises and the DMA answers. */
  private slot(): void {
    const k = this.slots++;
    let v: number;
    if (this.tx !== null) {
      v = this.tx;
      if (this.txParity >= 0 && this.txParity !== (k & 1) && !this.swapReported) {
        this.swapReported = true;
        this.services.fault(
          `${this.name}.DR`,
          `left and right swapped: a ${this.txParity ? "right" : "left"} sample went out in a ${k & 1 ? "right" : "left"} slot ` +
            `(a half-word left in DR or a frame cut by I2SE; RM0368 §20.4.5: wait for TXE=1 and BSY=0 before clearing I2SE)`,
        );
      }
      this.tx = null;
      this.shifting = true;
    } else {
      v = this.lastItem;
      this.shifting = false;
      this.udr = true;
      this.starvedItems++;
    }
    this.lastItem = v;
    this.request();
    if (k & 1) {
      this.framesOut++;
      if (this.sink) this.sink.frame(this.left, v);
    } else {
      this.left = v;
    }
  }

  /** TXE with TXDMAEN is a DMA request: the stream serving it writes DR at once (RM0368 §20.4, "DMA features"). */
  private request(): void {
    if (this.tx !== null || !(this.regs[SPI_CR2] & CR2_TXDMAEN)) return;
    const v = this.dma.requestItem(this.opts.txRequest, this.base + SPI_DR);
    if (v === null) return;
    this.tx = v;
    this.txParity = this.dma.lastIndex & 1;
  }

  read32(offset: number): number {
    this.advanceTo(this.services.now());
    if (offset === SPI_SR) {
      let sr = this.tx === null ? SR_TXE : 0;
      if (this.running && (this.shifting || this.tx !== null)) sr |= SR_BSY;
      if (this.running && this.slots & 1) sr |= SR_CHSIDE;
      if (this.udr) sr |= SR_UDR;
      this.udr = false; // UDR is cleared by a read of SPI_SR
      return sr;
    }
    if (offset === SPI_DR) return 0; // nothing received: transmit only
    return (this.regs[offset] ?? 0) >>> 0;
  }

  write32(offset: number, value: number): void {
    const now = this.services.now();
    this.dma.advanceTo(now); // every I2S on this DMA, this one included
    this.advanceTo(now);
    value = value >>> 0;
    const reg = `${this.name}.${REG_NAMES[offset] ?? "0x" + offset.toString(16)}`;
    if (!this.rcc.enabled(RCC_APB1ENR, this.opts.enableBit)) {
      this.services.fault(reg, `write ignored: RCC.APB1ENR.${this.name}EN=0 (${this.name} not clocked)`);
      return;
    }
    switch (offset) {
      case SPI_I2SCFGR:
        this.writeI2scfgr(value, reg);
        return;
      case SPI_I2SPR:
        if (this.regs[SPI_I2SCFGR] & I2SCFGR_I2SE && value !== this.regs[SPI_I2SPR]) {
          this.services.fault(reg, "written while I2SE=1 (RM0368: configure the prescaler with the I2S disabled); ignored");
          return;
        }
        this.regs[SPI_I2SPR] = value & 0x3ff;
        return;
      case SPI_DR:
        // Software loads the TX buffer (overwriting what it held).
        this.tx = value << 16 >> 16;
        this.txParity = -1;
        return;
      case SPI_SR:
        return;
      default:
        this.regs[offset] = value;
        this.request();
    }
  }

  private writeI2scfgr(value: number, reg: string): void {
    const old = this.regs[SPI_I2SCFGR];
    const wasOn = (old & I2SCFGR_I2SE) !== 0;
    const isOn = (value & I2SCFGR_I2SE) !== 0;
    if (wasOn && (value & ~I2SCFGR_I2SE) !== (old & ~I2SCFGR_I2SE)) {
      this.services.fault(reg, "configuration changed while I2SE=1 (RM0368: configure I2SCFGR with the I2S disabled); only I2SE applied");
      value = ((old & ~I2SCFGR_I2SE) | (value & I2SCFGR_I2SE)) >>> 0;
    }
    if (wasOn && !isOn && this.running && (this.tx !== null || this.shifting)) {
      this.services.fault(
        reg,
        `I2SE cleared with ${this.tx !== null ? "TXE=0 (a half-word still in DR)" : "BSY=1 (a half-word on the wire)"}: ` +
          "RM0368 §20.4.5: to switch off the I2S, wait for TXE=1 and BSY=0 first (HAL_I2S_DMAStop)",
      );
    }
    this.regs[SPI_I2SCFGR] = value & 0xfbf;
    if (!wasOn && isOn) this.enable();
    else if (wasOn && !isOn) this.stopClock();
  }

  /** I2SE rising edge: check everything the link needs; clock only if all of it holds. */
  private enable(): void {
    const problems = this.enableProblems();
    for (const p of problems) this.services.fault(p.register, `I2SE set but ${p.message}`);
    if (problems.length) return; // I2SE reads 1, but no clock comes out
    this.fs = this.derivedRate();
    this.startedAt = this.services.now();
    this.slots = 0;
    this.framesOut = 0;
    this.shifting = false;
    this.swapReported = false;
    this.running = true;
    const cfg = this.regs[SPI_I2SCFGR];
    const format: I2SFormat = {
      standard: STANDARDS[(cfg >>> I2SCFGR_I2SSTD_SHIFT) & 3],
      dataBits: 16,
      channelBits: cfg & I2SCFGR_CHLEN ? 32 : 16,
      sampleRate: this.fs,
    };
    if (this.sink) this.sink.start(format);
  }

  private stopClock(): void {
    if (!this.running) return;
    this.running = false;
    this.shifting = false;
    if (this.sink) this.sink.stop();
  }

  enableProblems(): Array<{ register: string; message: string }> {
    const out: Array<{ register: string; message: string }> = [];
    const n = this.name;
    const cfg = this.regs[SPI_I2SCFGR];
    const pr = this.regs[SPI_I2SPR];
    if (!(cfg & I2SCFGR_I2SMOD)) out.push({ register: `${n}.I2SCFGR`, message: "I2SMOD=0: the peripheral is in SPI mode, not I2S" });
    const mode = (cfg >>> I2SCFGR_I2SCFG_SHIFT) & 3;
    if (mode !== 2) out.push({ register: `${n}.I2SCFGR`, message: `I2SCFG=${mode.toString(2).padStart(2, "0")} (${CFG_NAMES[mode]}); this board needs master transmit (10)` });
    const datlen = (cfg >>> I2SCFGR_DATLEN_SHIFT) & 3;
    if (datlen !== 0) out.push({ register: `${n}.I2SCFGR`, message: `DATLEN=${datlen}: only 16-bit data (DATLEN=00) is streamed by this board and model` });
    const div = pr & 0xff;
    if (div < 2) out.push({ register: `${n}.I2SPR`, message: `I2SDIV=${div} is forbidden (RM0368: 0 and 1 are not allowed)` });
    if (pr & I2SPR_MCKOE) out.push({ register: `${n}.I2SPR`, message: `MCKOE=1 but ${this.opts.mckNote}` });
    if (this.rcc.i2sFromExternalPin()) {
      out.push({ register: "RCC.CFGR", message: "I2SSRC=1 selects I2S_CKIN (PC9), which is not bonded out on UFQFPN48" });
    } else if (!this.rcc.plli2sLocked()) {
      out.push({ register: "RCC.CR", message: "PLLI2S is not locked (PLLI2SRDY=0): no I2S clock" });
    }
    for (const p of this.opts.pins) {
      const problem = pinProblem(p);
      if (problem) out.push(problem);
    }
    if (this.regs[SPI_CR2] & CR2_TXDMAEN && this.dma.streamFor(this.opts.txRequest) < 0) {
      out.push({
        register: `${n}.CR2`,
        message: `TXDMAEN=1 and no enabled DMA1 stream serves ${this.opts.txRequest} (RM0368 Table 28: ${this.requestRows()})`,
      });
    }
    return out;
  }

  private requestRows(): string {
    const rows: Record<string, string> = { SPI2_TX: "stream 4 channel 0", SPI3_TX: "stream 5 or 7, channel 0" };
    return rows[this.opts.txRequest] ?? "see the table";
  }
}

const REG_NAMES: Record<number, string> = {
  [SPI_CR1]: "CR1",
  [SPI_CR2]: "CR2",
  [SPI_SR]: "SR",
  [SPI_DR]: "DR",
  [SPI_CRCPR]: "CRCPR",
  [SPI_I2SCFGR]: "I2SCFGR",
  [SPI_I2SPR]: "I2SPR",
};
