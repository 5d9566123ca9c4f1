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
// emits frames in virtual time, pulling two 16-bit items per frame from the
// DMA stream that serves its TX request, and hands them to the device on SD.

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

export class SpiI2s implements Peripheral {
  readonly name: string;
  readonly base: number;
  readonly size = 0x400;
  private opts: SpiI2sOptions;
  private services: MachineServices;
  private rcc: Rcc;
  private dma: Dma;
  private sink: I2SSink | null = null;
  private regs: Record<number, number> = { [SPI_CR1]: 0, [SPI_CR2]: 0, [SPI_DR]: 0, [SPI_CRCPR]: 7, [SPI_I2SCFGR]: 0, [SPI_I2SPR]: 2 };
  /** Clocking frames right now. */
  private running = false;
  private startedAt = 0;
  private framesOut = 0;
  private fs = 0;
  private lastItem = 0;
  /** Items that found no DMA data (the link repeated the last value). */
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
    if (!this.running) return;
    const due = Math.floor((now - this.startedAt) * this.fs + 1e-9);
    while (this.framesOut < due) {
      const left = this.pull();
      const right = this.pull();
      this.framesOut++;
      if (this.sink) this.sink.frame(left, right);
    }
  }

  private pull(): number {
    if (this.regs[SPI_CR2] & CR2_TXDMAEN) {
      const v = this.dma.requestItem(this.opts.txRequest, this.base + SPI_DR);
      if (v === null) {
        this.starvedItems++;
        return this.lastItem;
      }
      this.lastItem = v;
      return v;
    }
    // No DMA: the shift register repeats whatever the CPU last wrote to DR.
    return this.regs[SPI_DR] << 16 >> 16;
  }

  read32(offset: number): number {
    this.advanceTo(this.services.now());
    if (offset === SPI_SR) {
      // TXE=1 (DMA keeps DR fed), CHSIDE from the frame phase, BSY while clocking.
      return (1 << 1) | (this.running ? 1 << 7 : 0);
    }
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
      case SPI_SR:
        return;
      default:
        this.regs[offset] = value;
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
    this.framesOut = 0;
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
