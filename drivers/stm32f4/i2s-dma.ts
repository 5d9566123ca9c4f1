// One back end = one STM32F4 I2S port (SPI2 or SPI3 in I2S mode, master
// transmit) fed by one DMA1 stream in circular double-buffer mode, plus the
// codec or amplifier on that port: the ASoC CPU DAI with its DMA. Zephyr's
// drivers/i2s/i2s_ll_stm32.c and the Teensy Audio Library's output_i2s.cpp
// do the same job. Register values are justified where they are built;
// addresses and sources in regs.ts and boards/pico-wm8731/README.md.
//
// The sequences follow ST's HAL for the STM32F4 (STMicroelectronics/
// stm32f4xx_hal_driver): the stream is started as HAL_DMAEx_MultiBufferStart
// does and stopped as HAL_DMA_Abort does (clear EN, then poll until EN reads
// 0: RM0368 §9.3.17); the port is started as HAL_I2S_Transmit_DMA does (DMA,
// then TXDMAEN, then I2SE) and stopped as HAL_I2S_DMAStop does (DMA off,
// wait for TXE = 1 and BSY = 0, I2SE off, then TXDMAEN off: RM0368 §20.4.5,
// "To switch off the I2S, by clearing I2SE, it is mandatory to wait for
// TXE = 1 and BSY = 0"). Pause starts as HAL_I2S_DMAPause (TXDMAEN off: the
// stream gets no request, so its CT and NDTR, the hardware position, hold)
// and then also switches the I2S off at a half-word boundary, see pause().
// Completions are counted as HAL_DMA_IRQHandler counts them, one a TCIF,
// see poll().
//
// Implements BeDriver (firmware/board.ts); the part on the port is a
// CodecDriver (firmware/codec.ts). Each method says its context: main loop,
// interrupt (the EXEC timer task), or both (inside a critical section in the
// main loop, or in the interrupt).
//
// The period buffers are flat typed arrays the DMA reads by address
// (E.getAddressOf). Espruino's defragmenter (E.defrag(), and what falls back
// to it: E.toFlatString() when no flat block is free, opening a file on an
// SD card when memory is short; src/jsvar.c jsvDefragment) moves unlocked
// flat strings and zeroes their old blocks, and JavaScript cannot keep one
// locked. So the driver re-reads both addresses after every refill, re-points
// the memory address register of a moved buffer as soon as the DMA is not
// reading it (in double-buffer mode the one not in use may change on the fly:
// RM0368 §9.3.10, HAL_DMAEx_ChangeMemory), and logs each move as a
// buffer-moved event. A moved buffer the DMA was reading plays zeroes until
// its block ends. README.md ("Memory") says not to call these while audio runs.

import { BeDriver } from "../../firmware/board";
import { CodecDriver } from "../../firmware/codec";
import { Cmd, StreamParams } from "../../firmware/pcm";
import { Kind, Site, record } from "../../firmware/log";
import { AfPin, afPin } from "./gpio";
import { setBits, waitBits } from "./io";
import { i2sClockHz, startPllI2s } from "./rcc";
import {
  AHB1_GPIOA_GPIOB_DMA1, DMA_ALL_FLAGS, DMA_HISR_SHIFT, DMA_STREAM_STRIDE, DMA_SXCR_CHSEL_SHIFT, DMA_SXCR_CT, DMA_SXCR_EN,
  DMA_SXM0AR, DMA_SXM1AR, DMA_SXNDTR, DMA_SXPAR, DMA_TCIF, DMA1_HIFCR, DMA1_HISR, DMA1_S0CR, RCC_AHB1ENR, RCC_APB1ENR, SPI_CR2,
  SPI_CR2_TXDMAEN, SPI_DR, SPI_I2SCFGR, SPI_I2SCFGR_I2SE, SPI_I2SPR, SPI_SR, SPI_SR_BSY, SPI_SR_TXE,
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

/**
 * Bound of each register wait (EN, TXE, BSY). Each ends within a few bus
 * cycles (EN) or two I2S half-words (TXE, BSY: 125 us at 8 kHz), a few
 * polls of tens of microseconds each; the bound only keeps a dead
 * peripheral from hanging the handler. ST's HAL bounds them by time
 * (HAL_TIMEOUT_DMA_ABORT, I2S_TIMEOUT_FLAG).
 */
const WAIT_POLLS = 100;


export class I2sDmaDriver implements BeDriver {
  name: string;
  port: I2sWiring;
  codec: CodecDriver;
  bufs: Int16Array[];
  /** 16-bit items a period: frames * 2 channels. */
  items: number;
  rate: number;
  /** Started (from START to STOP), paused or not. */
  running: boolean;
  /** PAUSE_PUSH or SUSPEND: TXDMAEN and I2SE off, the stream's position held. */
  paused: boolean;
  /** Periods reported since START: CT toggles once each, so CT = played & 1 when none was missed. */
  played: number;
  /** SxCR.CT and the items played of the block when the card last asked nextBuffer(), or -1: the refill's re-check. */
  fillCt: number;
  fillPos: number;
  /** The addresses in SxM0AR and SxM1AR. */
  addr: number[];
  /** Per buffer: a move was seen while the DMA read it (logged; re-pointed once it is idle). */
  moving: Uint8Array;
  /** Refills that ended after their block began (also logged as late-refill). */
  lateRefills: number;
  /** Register waits (EN, TXE, BSY) that ran out of polls. */
  timeouts: number;
  /** DMA_HISR flag bits of this stream. */
  flags: number;
  tcMask: number;
  /** Address of the stream's SxCR. */
  cr: number;
  /** SxCR value with EN = 0: DMA_CFG plus the wiring's channel. */
  crCfg: number;
  /** Told the period (ms) after each prepare, so the board can poll fast enough. */
  needPoll: (ms: number) => void;
  /** Every port on this board's PLLI2S (this one included): one port's prepare must not reprogram it under another. */
  pllPorts: I2sDmaDriver[];

  /**
   * Main loop (boot). `pllPorts`: one array the board gives every port that
   * runs from PLLI2S; the constructor adds this port to it.
   */
  constructor(
    name: string, port: I2sWiring, codec: CodecDriver, periodFrames: number, needPoll: (ms: number) => void, pllPorts: I2sDmaDriver[],
  ) {
    this.name = name;
    this.port = port;
    this.codec = codec;
    this.items = periodFrames * 2;
    // Allocated at boot, while memory is unfragmented: DMA needs flat storage.
    this.bufs = [new Int16Array(this.items), new Int16Array(this.items)];
    this.rate = 0;
    this.running = false;
    this.paused = false;
    this.played = 0;
    this.fillCt = -1;
    this.fillPos = 0;
    this.addr = [0, 0];
    this.moving = new Uint8Array(2);
    this.lateRefills = 0;
    this.timeouts = 0;
    const shift = DMA_HISR_SHIFT[port.dmaStream & 3];
    this.flags = DMA_ALL_FLAGS << shift;
    this.tcMask = DMA_TCIF << shift;
    this.cr = DMA1_S0CR + DMA_STREAM_STRIDE * port.dmaStream;
    this.crCfg = DMA_CFG | (port.dmaChannel << DMA_SXCR_CHSEL_SHIFT);
    this.needPoll = needPoll;
    this.pllPorts = pllPorts;
    pllPorts.push(this);
  }

  /** Context: main. */
  startup(): string {
    return this.codec.startup();
  }

  /** 2*I2SDIV + ODD for `rate`, or an error (RM0368 §20.4.4: fs = I2SxCLK / (32 * (2*I2SDIV + ODD)), CHLEN=0, MCKOE=0). Context: main. */
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

  /** Context: main. */
  hwParams(params: StreamParams): string {
    if (params.channels !== 2) return this.name + ": " + params.channels + " channels: the link is stereo";
    if (params.rate > MAX_RATE) return this.name + ": " + params.rate + " Hz: above " + MAX_RATE + " Hz the JavaScript period fill cannot keep up";
    const k = this.divider(params.rate);
    if (typeof k === "string") return k;
    return this.codec.hwParams(params);
  }

  /** The name of another port streaming from PLLI2S now, or "". Context: main. */
  pllBusy(): string {
    const ports = this.pllPorts;
    for (let i = 0; i < ports.length; i++) {
      if (ports[i] !== this && ports[i].running) return ports[i].port.name;
    }
    return "";
  }

  /** Context: main. */
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
    const err = startPllI2s(this.pllBusy());
    if (err) return this.name + ": " + err;
    afPin(p.ck);
    afPin(p.ws);
    afPin(p.sd);
    // I2S: configure with I2SE clear (RM0368: I2SCFGR/I2SPR only while
    // disabled; stop() left it clear at a half-word boundary).
    poke32(spi + SPI_I2SCFGR, I2SCFG);
    // SPIx_I2SPR: I2SDIV bits 7:0 = k >> 1, ODD bit 8 = k & 1, MCKOE bit 9 = 0
    // (the MCK pins PC6/PC7 are not bonded out on this package).
    poke32(spi + SPI_I2SPR, (k >> 1) | ((k & 1) << 8));
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
    // DMA stream: stopped (EN read back 0) and its flags cleared before any
    // of its registers is written (RM0368 §9.3.17), then addresses and size.
    this.dmaOff();
    poke32(cr + DMA_SXPAR, spi + SPI_DR); // the SPI data register
    poke32(cr + DMA_SXM0AR, a0); // played first
    poke32(cr + DMA_SXM1AR, a1);
    poke32(cr + DMA_SXNDTR, items); // items per block (one period)
    poke32(cr, this.crCfg);
    this.addr[0] = a0;
    this.addr[1] = a1;
    this.rate = params.rate;
    const perr = this.codec.prepare(params);
    if (perr) return perr;
    this.needPoll((params.periodFrames / params.rate) * 500);
    return "";
  }

  /**
   * Register writes and short bounded waits (two I2S half-words at most).
   * Both: inside critical sections in the main loop, and in the interrupt.
   * SUSPEND is a pause here: the registers keep their values, and the
   * hardware position holds until RESUME.
   * Context: both.
   */
  trigger(cmd: Cmd): void {
    if (cmd === Cmd.Start) this.start();
    else if (cmd === Cmd.Stop) this.stop();
    else this.pause(cmd === Cmd.PausePush || cmd === Cmd.Suspend);
  }

  /**
   * Disable the stream and wait until EN reads 0, then clear its flags
   * (HAL_DMA_Abort; disabling sets TCIF, which is not a period). Context: both.
   */
  dmaOff(): void {
    const cr = this.cr;
    if (peek32(cr) & DMA_SXCR_EN) {
      // Read-modify-write: CT and the configuration are written back as read.
      poke32(cr, peek32(cr) & ~DMA_SXCR_EN);
      if (!waitBits(cr, DMA_SXCR_EN, 0, WAIT_POLLS)) this.timeouts++;
    }
    poke32(DMA1_HIFCR, this.flags);
  }

  /** Wait until the port's last half-word has left: TXE = 1, then BSY = 0 (RM0368 §20.4.5). Context: both. */
  waitIdle(): void {
    const sr = this.port.spi + SPI_SR;
    if (!waitBits(sr, SPI_SR_TXE, SPI_SR_TXE, WAIT_POLLS)) this.timeouts++;
    if (!waitBits(sr, SPI_SR_BSY, 0, WAIT_POLLS)) this.timeouts++;
  }

  /** HAL_DMAEx_MultiBufferStart, then HAL_I2S_Transmit_DMA's order: DMA, TXDMAEN, I2SE. Context: both (from trigger). */
  private start(): void {
    if (this.running) this.stop();
    const cr = this.cr;
    this.dmaOff();
    // The buffers may have moved since prepare (see the header).
    const a0 = E.getAddressOf(this.bufs[0], true);
    const a1 = E.getAddressOf(this.bufs[1], true);
    if (a0) this.addr[0] = a0;
    if (a1) this.addr[1] = a1;
    this.moving[0] = 0;
    this.moving[1] = 0;
    poke32(cr, this.crCfg); // EN=0, CT=0: begin with M0
    poke32(cr + DMA_SXM0AR, this.addr[0]);
    poke32(cr + DMA_SXM1AR, this.addr[1]);
    poke32(cr + DMA_SXNDTR, this.items);
    poke32(cr, this.crCfg | DMA_SXCR_EN);
    // TXDMAEN with TXE = 1 is a request: the stream fills SPI_DR before the
    // I2S starts, so the first slot (left) carries M0's first item.
    poke32(this.port.spi + SPI_CR2, SPI_CR2_TXDMAEN);
    poke32(this.port.spi + SPI_I2SCFGR, I2SCFG | SPI_I2SCFGR_I2SE);
    this.played = 0;
    this.fillCt = -1;
    this.paused = false;
    this.running = true;
  }

  /** HAL_I2S_DMAStop: DMA off, TXE = 1 and BSY = 0, I2SE off, TXDMAEN off. Context: both (from trigger, prepare and hwFree). */
  private stop(): void {
    this.dmaOff();
    this.waitIdle();
    poke32(this.port.spi + SPI_I2SCFGR, I2SCFG);
    poke32(this.port.spi + SPI_CR2, 0);
    this.running = false;
    this.paused = false;
    this.fillCt = -1;
  }

  /**
   * PAUSE_PUSH (and SUSPEND): HAL_I2S_DMAPause clears TXDMAEN, so the stream
   * gets no more requests and its CT and NDTR hold: the hardware position
   * does not move while paused, and the card's period clock with it. Then,
   * unlike the HAL, the I2S is switched off too, at a half-word boundary
   * (TXE = 1, BSY = 0): HAL_I2S_DMAResume sets TXDMAEN into a running I2S,
   * and JavaScript cannot choose the slot that lands in (one statement is
   * longer than a half-word at 48 kHz), so the next item would go out on
   * either side. Restarted with I2SE, the I2S begins on the left channel
   * (the I2S transmission sequence in RM0090, the F405's manual with the same
   * block, after an underrun: "switch off the I2S and ... restart a data
   * transfer starting from the left channel"); when the next item is a right sample (the stream
   * was held after a left one), a silent left half-word is written to SPI_DR
   * first, so the channels stay in place.
   * PAUSE_RELEASE (and RESUME) undoes it. Context: both (from trigger).
   */
  private pause(push: boolean): void {
    const spi = this.port.spi;
    if (push) {
      if (!this.running || this.paused) return;
      poke32(spi + SPI_CR2, 0);
      this.waitIdle();
      poke32(spi + SPI_I2SCFGR, I2SCFG);
      this.paused = true;
      return;
    }
    if (!this.paused) return;
    // Items of the block played so far: an odd count leaves a right sample next (blocks are whole frames).
    if ((this.items - peek32(this.cr + DMA_SXNDTR)) & 1) poke32(spi + SPI_DR, 0);
    poke32(spi + SPI_CR2, SPI_CR2_TXDMAEN);
    poke32(spi + SPI_I2SCFGR, I2SCFG | SPI_I2SCFGR_I2SE);
    this.paused = false;
  }

  /** Context: main. */
  hwFree(): void {
    if (this.running) this.stop();
    this.dmaOff();
    poke32(this.cr, 0);
    poke32(this.port.spi + SPI_CR2, 0);
    poke32(this.port.spi + SPI_I2SCFGR, 0);
  }

  /** Context: main. */
  shutdown(): void {
    this.codec.shutdown();
  }

  /**
   * The buffer the DMA reads after the one it reads now. Remembers CT and
   * the position for the re-check after the fill (see afterFill). Context: irq.
   */
  nextBuffer(): Int16Array {
    // CT (SxCR bit 19) names the buffer the DMA reads now; the other one is next.
    // CT first, then NDTR: a block end between the two makes the re-check see CT changed.
    const ct = peek32(this.cr) & DMA_SXCR_CT ? 1 : 0;
    this.fillCt = ct;
    this.fillPos = this.items - peek32(this.cr + DMA_SXNDTR);
    return this.bufs[ct ^ 1];
  }

  /** Context: main. */
  periodBuffers(): Int16Array[] {
    return this.bufs;
  }

  /**
   * Report this stream's completed periods. The board read DMA1_HISR once
   * (`hisr`) and cleared exactly the TCIF bits it read, in one write to
   * HIFCR: HIFCR is write-1-to-clear (RM0368 §9.5.4), so a flag set after
   * that read is left for the next poll. One TCIF is one completed block, as
   * ST's HAL_DMA_IRQHandler counts it (it clears the flag it read, then reads
   * CT only to tell which buffer completed). CT and TCIF are set by the same
   * block end but read at different times, so neither is combined with the
   * other to count: that combination counted a block end that fell between
   * the two reads three times (issue 10). CT serves only as a check: after
   * `played` periods CT must be played & 1. A mismatch means either a block
   * end after the flags were read (its TCIF is set now, and the next poll
   * counts it) or two block ends behind one TCIF (this poll came more than a
   * period late: the second one is counted here, and logged as a late
   * refill, since a buffer played that nobody refilled). Context: irq (from the
   * board's pollCompletions).
   */
  poll(hisr: number, index: number, elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
    if (!this.running) return;
    let n = hisr & this.tcMask ? 1 : 0;
    const ct = peek32(this.cr) & DMA_SXCR_CT ? 1 : 0;
    if (((this.played + n) & 1) !== ct && !(peek32(DMA1_HISR) & this.tcMask)) n++;
    if (!n) return;
    const period = this.items / 2 / this.rate;
    // Frames played since the newest completion: from NDTR.
    const latency = (this.items - peek32(this.cr + DMA_SXNDTR)) / 2 / this.rate;
    if (n > 1) {
      this.lateRefills++;
      record(Kind.LateRefill, -1, index, -1, 0, Site.BeDriver, this.items >> 1);
    }
    for (let k = n - 1; k >= 0; k--) {
      this.played++;
      elapsed(index, latency + k * period);
      if (!this.running) return; // the card stopped this BE (an xrun)
      this.afterFill(index);
    }
  }

  /**
   * After the card filled nextBuffer(): had the DMA read any of that buffer
   * before the fill ended? Then the start of its block played stale
   * samples: a glitch, logged as late-refill (n = frames already read from
   * it). CT changed with NDTR still at the block size means the block
   * ended but its first item was not yet read: in time. A block end during
   * this check itself came after the fill: in time too. Then the buffer
   * addresses are checked (see the header). Context: irq.
   */
  afterFill(index: number): void {
    if (this.fillCt < 0) return; // the card did not refill (the BE is not started in the card)
    const cr = this.cr;
    const c1 = peek32(cr) & DMA_SXCR_CT ? 1 : 0;
    const nd = peek32(cr + DMA_SXNDTR);
    // CT first: NDTR read after it can only have moved on, so nd < items proves an item was read before the check.
    let late = c1 !== this.fillCt && nd !== this.items;
    // Same CT but fewer items played than before the fill: a whole cycle went by.
    if (c1 === this.fillCt && (peek32(cr) & DMA_SXCR_CT ? 1 : 0) === c1) late = this.items - nd < this.fillPos;
    this.fillCt = -1;
    if (late) {
      this.lateRefills++;
      record(Kind.LateRefill, -1, index, -1, 0, Site.BeDriver, (this.items - nd) >> 1);
    }
    this.checkMoved(index, c1);
  }

  /** Re-point a period buffer the defragmenter moved, once the DMA is not reading it (see the header). Context: irq. */
  checkMoved(index: number, ct: number): void {
    for (let b = 0; b < 2; b++) {
      const a = E.getAddressOf(this.bufs[b], true);
      if (a === this.addr[b]) continue;
      if (b === ct || !a) {
        // The DMA reads it now: it plays the freed block until this block ends.
        if (!this.moving[b]) record(Kind.BufferMoved, -1, index, -1, 0, Site.BeDriver, 1);
        this.moving[b] = 1;
        continue;
      }
      poke32(this.cr + (b ? DMA_SXM1AR : DMA_SXM0AR), a);
      this.addr[b] = a;
      if (!this.moving[b]) record(Kind.BufferMoved, -1, index, -1, 0, Site.BeDriver, 0);
      this.moving[b] = 0;
    }
  }
}
