// One back end = one STM32F4 I2S port (SPI2 or SPI3 in I2S mode, master
// transmit) fed by one DMA1 stream in circular double-buffer mode, plus the
// codec or amplifier on that port: the ASoC CPU DAI with its DMA. Zephyr's
// drivers/i2s/i2s_ll_stm32.c and the Teensy Audio Library's output_i2s.cpp
// do the same job. Register values are justified where they are built;
// addresses and sources in regs.ts and boards/pico-wm8731/README.md.
//
// Implements BeDriver (firmware/board.ts); the part on the port is a
// CodecDriver (firmware/codec.ts). Each method says its context: main loop,
// interrupt (the EXEC timer task), or both (inside a critical section in the
// main loop, or in the interrupt).
//
// Known, left for issue 10 (the driver against ST's reference sequences):
// stop and pause clear I2SE without waiting for TXE = 1 and BSY = 0; prepare
// and start reprogram the stream without waiting for EN to read 0; poll can
// count a period twice when a block ends between the HISR read and the CT read.

import { BeDriver } from "../../firmware/board";
import { CodecDriver } from "../../firmware/codec";
import { Cmd, StreamParams } from "../../firmware/pcm";
import { AfPin, afPin } from "./gpio";
import { setBits } from "./io";
import { i2sClockHz, startPllI2s } from "./rcc";
import {
  AHB1_GPIOA_GPIOB_DMA1, DMA_ALL_FLAGS, DMA_HISR_SHIFT, DMA_STREAM_STRIDE, DMA_SXCR_CHSEL_SHIFT, DMA_SXCR_CT, DMA_SXCR_EN,
  DMA_SXM0AR, DMA_SXM1AR, DMA_SXNDTR, DMA_SXPAR, DMA_TCIF, DMA1_HIFCR, DMA1_S0CR, RCC_AHB1ENR, RCC_APB1ENR, SPI_CR2,
  SPI_CR2_TXDMAEN, SPI_DR, SPI_I2SCFGR, SPI_I2SCFGR_I2SE, SPI_I2SPR,
} from "./regs";

/** Wiring of one I2S port (a board's wiring.ts holds it as data). */
export interface I2sWiring {
  /** The port's datasheet name, "I2S2": for help() and the emulator's model of the board. */
  name: string;
  /** Base address of its SPI block (SPI2, SPI3). */
  spi: number;
  /** Its RCC_APB1ENR enable bit. */
  apb1Bit: number;
  /** DMA1 stream serving its TX request (RM0368 Table 28): 4..7, whose flags are in DMA1_HISR. */
  dmaStream: number;
  /** The channel (SxCR.CHSEL) that request has on that stream. */
  dmaChannel: number;
  /** Bit clock, word select and data pins. */
  ck: AfPin;
  ws: AfPin;
  sd: AfPin;
}

// SPIx_I2SCFGR (RM0368 §20.5.8): I2SMOD bit 11 = 1 (I2S mode), I2SCFG bits
// 9:8 = 10 (master transmit: the STM32 drives CK and WS), I2SSTD bits 5:4 = 00
// (Philips), CKPOL bit 3 = 0, DATLEN bits 2:1 = 00 (16-bit data), CHLEN bit 0
// = 0 (16-bit channel: 32 BCLKs a frame, which both the WM8731 and the
// MAX98357A accept). I2SE (bit 10) is added to start.
const I2SCFG = (1 << 11) | (2 << 8);

// DMA_SxCR (RM0368 §9.5.5): CHSEL 27:25 from the wiring (channel 0: SPI2_TX on
// stream 4, SPI3_TX on stream 5, RM0368 Table 28), DBM bit 18 = 1 (double
// buffer: M0AR then M1AR, CT toggles at each end of block), PL 17:16 = 10
// (high priority: audio must not starve), MSIZE 14:13 = 01 and PSIZE 12:11 =
// 01 (half-words: one 16-bit sample per SPI_DR write), MINC bit 10 = 1, PINC
// = 0, CIRC bit 8 = 1 (implied by DBM, set anyway), DIR 7:6 = 01 (memory to
// peripheral), no interrupt enables (the firmware polls the flags), EN bit 0.
const DMA_CFG = (1 << 18) | (2 << 16) | (1 << 13) | (1 << 11) | (1 << 10) | (1 << 8) | (1 << 6);

/** The JavaScript period fill cannot keep up above this (README: "Rates"). */
const MAX_RATE = 48000;

export class I2sDmaDriver implements BeDriver {
  name: string;
  port: I2sWiring;
  codec: CodecDriver;
  bufs: Int16Array[];
  /** 16-bit items a period: frames * 2 channels. */
  items: number;
  rate: number;
  running: boolean;
  lastCt: number;
  /** DMA_HISR flag bits of this stream. */
  flags: number;
  tcMask: number;
  /** Address of the stream's SxCR. */
  cr: number;
  /** SxCR value with EN = 0: DMA_CFG plus the wiring's channel. */
  crCfg: number;
  /** Told the period (ms) after each prepare, so the board can poll fast enough. */
  needPoll: (ms: number) => void;

  /** Main loop (boot). */
  constructor(name: string, port: I2sWiring, codec: CodecDriver, periodFrames: number, needPoll: (ms: number) => void) {
    this.name = name;
    this.port = port;
    this.codec = codec;
    this.items = periodFrames * 2;
    // Allocated at boot, while memory is unfragmented: DMA needs flat storage.
    this.bufs = [new Int16Array(this.items), new Int16Array(this.items)];
    this.rate = 0;
    this.running = false;
    this.lastCt = 0;
    const shift = DMA_HISR_SHIFT[port.dmaStream & 3];
    this.flags = DMA_ALL_FLAGS << shift;
    this.tcMask = DMA_TCIF << shift;
    this.cr = DMA1_S0CR + DMA_STREAM_STRIDE * port.dmaStream;
    this.crCfg = DMA_CFG | (port.dmaChannel << DMA_SXCR_CHSEL_SHIFT);
    this.needPoll = needPoll;
  }

  /** Main loop. */
  startup(): string {
    return this.codec.startup();
  }

  /** 2*I2SDIV + ODD for `rate`, or an error (RM0368 §20.4.4: fs = I2SxCLK / (32 * (2*I2SDIV + ODD)), CHLEN=0, MCKOE=0). Main loop. */
  divider(rate: number): number | string {
    const clk = i2sClockHz();
    const k = Math.round(clk / (32 * rate));
    const made = clk / (32 * k);
    // I2SDIV 2..255 (0 and 1 are forbidden), so k is 4..511.
    if (k < 4 || k > 511 || Math.abs(made - rate) > rate * 0.001) {
      return this.name + ": " + rate + " Hz: PLLI2S (" + clk / 1e6 + " MHz) cannot make it within 0.1% (nearest " + Math.round(made) + " Hz)";
    }
    return k;
  }

  /** Main loop. */
  hwParams(params: StreamParams): string {
    if (params.channels !== 2) return this.name + ": " + params.channels + " channels: the link is stereo";
    if (params.rate > MAX_RATE) return this.name + ": " + params.rate + " Hz: above " + MAX_RATE + " Hz the JavaScript period fill cannot keep up";
    const k = this.divider(params.rate);
    if (typeof k === "string") return k;
    return this.codec.hwParams(params);
  }

  /** Main loop. */
  prepare(params: StreamParams): string {
    const k = this.divider(params.rate);
    if (typeof k === "string") return k;
    const p = this.port;
    const spi = p.spi;
    const cr = this.cr;
    if (this.running) this.stop();
    // Clocks: GPIOA, GPIOB and DMA1 on AHB1, the SPI on APB1 (read-modify-write:
    // Espruino's own peripherals share these registers).
    setBits(RCC_AHB1ENR, AHB1_GPIOA_GPIOB_DMA1, AHB1_GPIOA_GPIOB_DMA1);
    setBits(RCC_APB1ENR, p.apb1Bit, p.apb1Bit);
    const err = startPllI2s();
    if (err) return this.name + ": " + err;
    afPin(p.ck);
    afPin(p.ws);
    afPin(p.sd);
    // I2S: configure with I2SE clear (RM0368: I2SCFGR/I2SPR only while disabled).
    poke32(spi + SPI_I2SCFGR, 0);
    poke32(spi + SPI_I2SCFGR, I2SCFG);
    // SPIx_I2SPR: I2SDIV bits 7:0 = k >> 1, ODD bit 8 = k & 1, MCKOE bit 9 = 0
    // (the MCK pins PC6/PC7 are not bonded out on this package).
    poke32(spi + SPI_I2SPR, (k >> 1) | ((k & 1) << 8));
    poke32(spi + SPI_CR2, SPI_CR2_TXDMAEN);
    // Period buffers: reuse the boot-time pair unless the period size changed.
    const items = params.periodFrames * 2;
    if (items !== this.items) {
      this.items = items;
      this.bufs = [new Int16Array(items), new Int16Array(items)];
    }
    this.bufs[0].fill(0);
    this.bufs[1].fill(0);
    const a0 = E.getAddressOf(this.bufs[0], true);
    const a1 = E.getAddressOf(this.bufs[1], true);
    if (!a0 || !a1) return this.name + ": period buffer is not flat (E.getAddressOf gave 0): no contiguous memory for DMA";
    // DMA stream: disabled, flags cleared, then addresses and size.
    poke32(cr, 0);
    poke32(DMA1_HIFCR, this.flags);
    poke32(cr + DMA_SXPAR, spi + SPI_DR); // the SPI data register
    poke32(cr + DMA_SXM0AR, a0); // played first
    poke32(cr + DMA_SXM1AR, a1);
    poke32(cr + DMA_SXNDTR, items); // items per block (one period)
    poke32(cr, this.crCfg);
    this.rate = params.rate;
    const perr = this.codec.prepare(params);
    if (perr) return perr;
    this.needPoll((params.periodFrames / params.rate) * 500);
    return "";
  }

  /**
   * Register writes only. Both: inside critical sections in the main loop,
   * and in the interrupt. SUSPEND is a pause here: the registers keep their values.
   */
  trigger(cmd: Cmd): void {
    if (cmd === Cmd.Start) this.start();
    else if (cmd === Cmd.Stop) this.stop();
    else this.pause(cmd === Cmd.PausePush || cmd === Cmd.Suspend);
  }

  /** Both (from trigger). */
  private start(): void {
    const cr = this.cr;
    poke32(cr, this.crCfg); // EN=0, CT=0: begin with M0
    poke32(cr + DMA_SXNDTR, this.items);
    poke32(DMA1_HIFCR, this.flags);
    poke32(cr, this.crCfg | DMA_SXCR_EN);
    // DMA first, then the I2S: the first TXE request finds the stream ready.
    poke32(this.port.spi + SPI_I2SCFGR, I2SCFG | SPI_I2SCFGR_I2SE);
    this.lastCt = 0;
    this.running = true;
  }

  /** Both (from trigger, and from prepare and hwFree in the main loop). */
  private stop(): void {
    poke32(this.port.spi + SPI_I2SCFGR, I2SCFG);
    // EN=0 by read-modify-write: CT and the other fields are protected while EN=1.
    poke32(this.cr, peek32(this.cr) & ~DMA_SXCR_EN);
    // Disabling a stream sets its TCIF (RM0368 §9.3): not a period.
    poke32(DMA1_HIFCR, this.flags);
    this.running = false;
  }

  /** Both (from trigger). */
  private pause(push: boolean): void {
    // I2SE off stops the bit clock; the DMA stream waits on its request.
    poke32(this.port.spi + SPI_I2SCFGR, push ? I2SCFG : I2SCFG | SPI_I2SCFGR_I2SE);
  }

  /** Main loop. */
  hwFree(): void {
    if (this.running) this.stop();
    poke32(this.cr, 0);
    poke32(this.port.spi + SPI_CR2, 0);
    poke32(this.port.spi + SPI_I2SCFGR, 0);
  }

  /** Main loop. */
  shutdown(): void {
    this.codec.shutdown();
  }

  /** Interrupt. */
  nextBuffer(): Int16Array {
    // CT (SxCR bit 19) names the buffer DMA reads now; the other one is next.
    return this.bufs[peek32(this.cr) & DMA_SXCR_CT ? 0 : 1];
  }

  /** Main loop. */
  periodBuffers(): Int16Array[] {
    return this.bufs;
  }

  /**
   * Report this stream's completed periods. `hisr` was read (and its TC
   * flags cleared) just before. CT toggles once a period, so an odd count
   * shows as a changed CT; TCIF with CT unchanged means two periods.
   * Interrupt (from the board's pollCompletions).
   */
  poll(hisr: number, index: number, elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
    if (!this.running) return;
    const ct = peek32(this.cr) & DMA_SXCR_CT ? 1 : 0;
    const n = ct !== this.lastCt ? 1 : hisr & this.tcMask ? 2 : 0;
    this.lastCt = ct;
    if (!n) return;
    // Frames played since the last completion: from NDTR.
    const latency = (this.items - peek32(this.cr + DMA_SXNDTR)) / 2 / this.rate;
    if (n === 2) elapsed(index, latency + this.items / 2 / this.rate);
    elapsed(index, latency);
  }
}
