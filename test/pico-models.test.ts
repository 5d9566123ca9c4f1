// Register-level models of the Pico board (emulator/stm32f401, emulator/devices):
// each misconfiguration fault, the derived I2S rates, DMA double-buffer
// streaming, and the WM8731 / MAX98357A behaviour. Driven directly through
// their registers on a small fake of MachineServices, no firmware involved.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { HardwareFault } from "../emulator/hardware.ts";
import { FakeServices } from "./support/fake-services.ts";
import { createPicoModels, type PicoModels } from "../emulator/boards/pico-wm8731.ts";
import type { I2SFormat, I2SSink } from "../emulator/devices/i2s-bus.ts";
import { PLLI2S_LOCK_SECONDS } from "../emulator/stm32f401/rcc.ts";

/** The board's models on a bus: peek/poke by address, as the machine does. */
function rig(options: { codecAbsent?: boolean } = {}) {
  const s = new FakeServices();
  const m = createPicoModels(s, options);
  const find = (a: number) => {
    const p = m.peripherals.find((x) => a >= x.base && a < x.base + x.size);
    if (!p) throw new Error(`unmapped 0x${a.toString(16)}`);
    return p;
  };
  const sync = () => {
    for (const p of m.peripherals) p.advanceTo?.(s.t);
  };
  const peek = (a: number) => {
    sync();
    const p = find(a);
    return p.read32(a - p.base) >>> 0;
  };
  const poke = (a: number, v: number) => {
    sync();
    const p = find(a);
    p.write32(a - p.base, v >>> 0);
  };
  const set = (a: number, mask: number, v: number) => poke(a, (peek(a) & ~mask) | v);
  const advance = (seconds: number) => {
    s.t += seconds;
    sync();
  };
  return { s, m, peek, poke, set, advance };
}
type Rig = ReturnType<typeof rig>;

// Addresses (RM0368 Table 1) and the values the tests program.
const RCC = 0x40023800;
const RCC_CR = RCC + 0x00;
const RCC_AHB1ENR = RCC + 0x30;
const RCC_APB1ENR = RCC + 0x40;
const RCC_PLLI2SCFGR = RCC + 0x84;
const GPIOA = 0x40020000;
const GPIOB = 0x40020400;
const GPIOC = 0x40020800;
const SPI2 = 0x40003800;
const SPI3 = 0x40003c00;
const DMA1 = 0x40026000;
const HISR = DMA1 + 0x04;
const HIFCR = DMA1 + 0x0c;
const S4 = DMA1 + 0x10 + 0x18 * 4;
const S5 = DMA1 + 0x10 + 0x18 * 5;
const I2S_MASTER_TX_16 = (1 << 11) | (2 << 8);
const I2SE = 1 << 10;
const DMA_DBM_CFG = (1 << 18) | (2 << 16) | (1 << 13) | (1 << 11) | (1 << 10) | (1 << 8) | (1 << 6);
const TCIF4 = 1 << 5;

function clocksOn(r: Rig): void {
  r.set(RCC_AHB1ENR, 0, (1 << 0) | (1 << 1) | (1 << 21));
  r.set(RCC_APB1ENR, 0, (1 << 14) | (1 << 15));
}

/** PLLI2S N=384 R=5 -> 76.8 MHz, locked. */
function pllOn(r: Rig, n = 384, rDiv = 5): void {
  r.poke(RCC_PLLI2SCFGR, (rDiv << 28) | (n << 6));
  r.set(RCC_CR, 0, 1 << 26);
  r.advance(PLLI2S_LOCK_SECONDS * 2);
}

function afPin(r: Rig, port: number, pin: number, af: number): void {
  const reg = port + (pin < 8 ? 0x20 : 0x24);
  r.set(reg, 15 << ((pin & 7) * 4), af << ((pin & 7) * 4));
  r.set(port, 3 << (2 * pin), 2 << (2 * pin));
}

function i2s2Pins(r: Rig): void {
  afPin(r, GPIOB, 13, 5);
  afPin(r, GPIOB, 9, 5);
  afPin(r, GPIOB, 15, 5);
}

function i2s3Pins(r: Rig): void {
  afPin(r, GPIOB, 3, 6);
  afPin(r, GPIOA, 4, 6);
  afPin(r, GPIOB, 5, 6);
}

/** Program DMA1 stream 4 for SPI2_TX with two buffers; returns them. */
function dma4(r: Rig, items: number): [Int16Array, Int16Array] {
  const b0 = new Int16Array(items);
  const b1 = new Int16Array(items);
  r.poke(S4 + 8, SPI2 + 0x0c);
  r.poke(S4 + 12, r.s.addressOf(b0));
  r.poke(S4 + 16, r.s.addressOf(b1));
  r.poke(S4 + 4, items);
  r.poke(S4, DMA_DBM_CFG);
  return [b0, b1];
}

class Capture implements I2SSink {
  frames: number[] = [];
  format: I2SFormat | null = null;
  stops = 0;
  start(f: I2SFormat): void {
    this.format = f;
  }
  frame(l: number, rr: number): void {
    this.frames.push(l, rr);
  }
  stop(): void {
    this.stops++;
  }
}

function faultsAt(r: Rig, register: string): HardwareFault[] {
  return r.s.faults.filter((f) => f.register === register);
}

/** A full, valid SPI2 + DMA stream 4 setup with a capturing sink; I2SE not yet set. */
function readyI2s2(r: Rig, div = 150, odd = 0, items = 16) {
  clocksOn(r);
  pllOn(r);
  i2s2Pins(r);
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16);
  r.poke(SPI2 + 0x20, div | (odd << 8));
  r.poke(SPI2 + 0x04, 1 << 1);
  const bufs = dma4(r, items);
  const sink = new Capture();
  r.m.spi2.connect(sink);
  return { bufs, sink };
}

function startI2s2(r: Rig): void {
  r.set(S4, 0, 1);
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE);
}

// ---- RCC ------------------------------------------------------------------------

test("RCC: PLLI2SRDY comes some microseconds after PLLI2SON, not at once", () => {
  const r = rig();
  r.poke(RCC_PLLI2SCFGR, (5 << 28) | (384 << 6));
  r.set(RCC_CR, 0, 1 << 26);
  assert.equal(r.peek(RCC_CR) & (1 << 27), 0, "not locked at once");
  r.advance(PLLI2S_LOCK_SECONDS / 2);
  assert.equal(r.peek(RCC_CR) & (1 << 27), 0, "not locked half-way");
  r.advance(PLLI2S_LOCK_SECONDS);
  assert.notEqual(r.peek(RCC_CR) & (1 << 27), 0, "locked");
  assert.equal(r.m.rcc.i2sClockHz(), 76.8e6);
  assert.deepEqual(r.s.faults, []);
});

test("RCC: PLLI2SCFGR written while PLLI2S is on is a fault and is ignored", () => {
  const r = rig();
  pllOn(r);
  r.poke(RCC_PLLI2SCFGR, (2 << 28) | (200 << 6));
  assert.equal(faultsAt(r, "RCC.PLLI2SCFGR").length, 1);
  assert.equal(r.m.rcc.plli2sN(), 384);
});

test("RCC: an out-of-range PLLI2SN is a fault and never locks", () => {
  const r = rig();
  r.poke(RCC_PLLI2SCFGR, (5 << 28) | (100 << 6));
  r.set(RCC_CR, 0, 1 << 26);
  r.advance(0.01);
  assert.match(faultsAt(r, "RCC.PLLI2SCFGR")[0]?.message ?? "", /PLLI2SN=100/);
  assert.equal(r.peek(RCC_CR) & (1 << 27), 0);
});

// ---- SPI/I2S enable checks ------------------------------------------------------

test("I2S: a write with the SPI clock off is ignored and names RCC.APB1ENR", () => {
  const r = rig();
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE);
  const f = faultsAt(r, "SPI2.I2SCFGR");
  assert.equal(f.length, 1);
  assert.match(f[0].message, /RCC\.APB1ENR\.SPI2EN=0/);
  assert.equal(r.peek(SPI2 + 0x1c), 0, "the write did not land");
});

test("I2S: I2SE with PLLI2S not locked is a fault on RCC.CR and nothing is clocked", () => {
  const r = rig();
  const { sink } = readyI2s2(r);
  r.set(RCC_CR, 1 << 26, 0); // PLLI2S off again
  startI2s2(r);
  r.advance(0.01);
  assert.match(faultsAt(r, "RCC.CR")[0]?.message ?? "", /PLLI2S is not locked/);
  assert.equal(sink.frames.length, 0);
  assert.equal(r.m.spi2.isRunning(), false);
});

test("I2S: a wrong alternate function on a pin is a fault naming GPIOx_AFRy", () => {
  const r = rig();
  const { sink } = readyI2s2(r);
  afPin(r, GPIOB, 13, 7); // PB13 is I2S2_CK on AF5, not AF7
  startI2s2(r);
  r.advance(0.01);
  const f = faultsAt(r, "GPIOB.AFRH");
  assert.equal(f.length, 1);
  assert.match(f[0].message, /PB13 \(I2S2_CK\) selects AF7.*AF5/);
  assert.equal(sink.frames.length, 0);
});

test("I2S: a pin left in input mode is a fault naming GPIOx_MODER", () => {
  const r = rig();
  readyI2s2(r);
  r.set(GPIOB, 3 << 18, 0); // PB9 (I2S2_WS) back to input
  startI2s2(r);
  assert.match(faultsAt(r, "GPIOB.MODER")[0]?.message ?? "", /PB9 \(I2S2_WS\) is in input mode/);
});

test("I2S: I2SDIV 0 or 1 is a fault on I2SPR", () => {
  for (const div of [0, 1]) {
    const r = rig();
    const { sink } = readyI2s2(r, div, 1);
    startI2s2(r);
    r.advance(0.01);
    assert.match(faultsAt(r, "SPI2.I2SPR")[0]?.message ?? "", new RegExp(`I2SDIV=${div} is forbidden`));
    assert.equal(sink.frames.length, 0);
  }
});

test("I2S: anything but master transmit is a fault on I2SCFGR", () => {
  const r = rig();
  readyI2s2(r);
  r.poke(SPI2 + 0x1c, (1 << 11) | (0 << 8) | I2SE); // slave transmit
  assert.match(faultsAt(r, "SPI2.I2SCFGR")[0]?.message ?? "", /slave transmit.*master transmit/);
  assert.equal(r.m.spi2.isRunning(), false);
});

test("I2S: TXDMAEN with no DMA stream serving SPI2_TX is a fault on CR2", () => {
  const r = rig();
  readyI2s2(r);
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE); // stream 4 never enabled
  assert.match(faultsAt(r, "SPI2.CR2")[0]?.message ?? "", /no enabled DMA1 stream serves SPI2_TX.*stream 4 channel 0/);
});

test("I2S: a stream on the wrong channel does not serve the request", () => {
  const r = rig();
  readyI2s2(r);
  r.poke(S4, DMA_DBM_CFG | (1 << 25) | 1); // CHSEL=1 is I2C1_RX... not SPI2_TX
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE);
  assert.equal(faultsAt(r, "SPI2.CR2").length, 1);
});

test("I2S: MCKOE=1 is a fault: no MCK pin on this package", () => {
  const r = rig();
  readyI2s2(r);
  r.poke(SPI2 + 0x20, 150 | (1 << 9));
  startI2s2(r);
  assert.match(faultsAt(r, "SPI2.I2SPR")[0]?.message ?? "", /PC6.*not bonded/);
});

test("GPIO: putting an unbonded pin (PC7, I2S3_MCK) in AF mode is a fault", () => {
  const r = rig();
  r.set(GPIOC, 3 << 14, 2 << 14);
  assert.match(faultsAt(r, "GPIOC.MODER")[0]?.message ?? "", /PC7.*not bonded/);
});

// ---- derived rates ---------------------------------------------------------------

test("I2S: the frame rate is I2SxCLK / (32 * (2*I2SDIV + ODD)), exact for each supported rate", () => {
  // 76.8 MHz / 32 = 2.4 MHz of 16-bit-frame bit pairs; k = 2*I2SDIV + ODD.
  const cases: Array<[number, number, number]> = [
    [8000, 150, 0],
    [16000, 75, 0],
    [32000, 37, 1],
    [48000, 25, 0],
  ];
  for (const [rate, div, odd] of cases) {
    const r = rig();
    const { sink } = readyI2s2(r, div, odd);
    startI2s2(r);
    assert.equal(r.m.spi2.sampleRate(), rate, `I2SDIV=${div} ODD=${odd}`);
    assert.equal(sink.format?.sampleRate, rate);
    r.advance(0.1);
    assert.equal(sink.frames.length / 2, Math.floor(0.1 * rate), `frames in 100 ms at ${rate}`);
  }
});

test("I2S: CHLEN=1 (32-bit slots) halves the rate; 44.1 kHz is not reachable from 76.8 MHz", () => {
  const r = rig();
  readyI2s2(r, 25, 0);
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | 1);
  assert.equal(r.m.spi2.derivedRate(), 24000);
  const k = Math.round(76.8e6 / 32 / 44100);
  const made = 76.8e6 / 32 / k;
  assert.ok(Math.abs(made - 44100) / 44100 > 0.001, `nearest ${made}`);
});

// ---- DMA ---------------------------------------------------------------------------

test("DMA: enabling a stream before PAR, M0AR, M1AR or NDTR is a fault naming the register", () => {
  const missing: Array<[string, (r: Rig) => void]> = [
    ["DMA1.S4NDTR", (r) => r.poke(S4 + 4, 0)],
    ["DMA1.S4PAR", (r) => r.poke(S4 + 8, 0)],
    ["DMA1.S4M0AR", (r) => r.poke(S4 + 12, 0)],
    ["DMA1.S4M1AR", (r) => r.poke(S4 + 16, 0)],
  ];
  for (const [register, unset] of missing) {
    const r = rig();
    clocksOn(r);
    dma4(r, 16);
    unset(r);
    r.set(S4, 0, 1);
    assert.equal(faultsAt(r, register).length, 1, register);
    assert.equal(r.peek(S4) & 1, 0, `${register}: stream stays disabled`);
  }
});

test("DMA: config registers written while the stream is enabled are faults and are ignored", () => {
  const r = rig();
  clocksOn(r);
  dma4(r, 16);
  r.set(S4, 0, 1);
  r.poke(S4 + 4, 99);
  r.poke(S4 + 8, 0x1234);
  r.poke(S4, (DMA_DBM_CFG & ~(1 << 10)) | 1); // clear MINC
  assert.equal(faultsAt(r, "DMA1.S4NDTR").length, 1);
  assert.equal(faultsAt(r, "DMA1.S4PAR").length, 1);
  assert.equal(faultsAt(r, "DMA1.S4CR").length, 1);
  assert.equal(r.peek(S4 + 4), 16);
  assert.equal(r.peek(S4 + 8), SPI2 + 0x0c);
  assert.notEqual(r.peek(S4) & (1 << 10), 0, "MINC kept");
  // M1AR may change while the stream reads M0 (double-buffer rule); M0AR may not.
  r.poke(S4 + 16, 0x20001000);
  assert.equal(faultsAt(r, "DMA1.S4M1AR").length, 0);
  r.poke(S4 + 12, 0x20002000);
  assert.equal(faultsAt(r, "DMA1.S4M0AR").length, 1);
});

test("DMA: disabling a stream sets TCIF, and re-enabling with the flag still set is refused", () => {
  const r = rig();
  clocksOn(r);
  dma4(r, 16);
  r.set(S4, 0, 1);
  r.set(S4, 1, 0);
  assert.notEqual(r.peek(HISR) & TCIF4, 0);
  r.set(S4, 0, 1);
  assert.equal(faultsAt(r, "DMA1.HISR").length, 1);
  assert.equal(r.peek(S4) & 1, 0);
  r.poke(HIFCR, 0x3d);
  r.set(S4, 0, 1);
  assert.equal(r.peek(S4) & 1, 1);
});

test("DMA: double-buffer streaming delivers M0 then M1 in order, toggles CT and sets TCIF", () => {
  const r = rig();
  const items = 16; // 8 frames a period
  const { bufs, sink } = readyI2s2(r, 150, 0, items);
  for (let i = 0; i < items; i++) {
    bufs[0][i] = 100 + i;
    bufs[1][i] = -200 - i;
  }
  startI2s2(r);
  const frame = 1 / 8000;
  // SPI_DR holds the next slot's half-word: the DMA is one item ahead of the wire.
  r.advance(7.25 * frame); // 14 slots clocked (the first one slot after I2SE): 14 items sent, the 15th in DR
  assert.equal(r.peek(S4 + 4), 1, "NDTR counts down, one item ahead of the wire");
  assert.equal(r.peek(S4) & (1 << 19), 0, "CT=0 while M0 plays");
  assert.equal(r.peek(HISR) & TCIF4, 0);
  r.advance(0.5 * frame); // slot 14 starts: the DMA moves M0's last item into DR and the block ends
  assert.notEqual(r.peek(S4) & (1 << 19), 0, "CT=1: M1 now");
  assert.notEqual(r.peek(HISR) & TCIF4, 0, "TCIF4 set");
  assert.equal(r.peek(S4 + 4), items, "NDTR reloaded");
  assert.equal(r.m.dma.blockEnds(4), 1);
  r.poke(HIFCR, TCIF4);
  r.advance(8 * frame); // M1 done: back to M0
  assert.equal(r.peek(S4) & (1 << 19), 0, "CT back to 0");
  assert.notEqual(r.peek(HISR) & TCIF4, 0);
  assert.equal(r.m.dma.blockEnds(4), 2);
  r.advance(0.5 * frame); // M1's last half-word on the wire
  const expected = [...bufs[0], ...bufs[1]];
  assert.deepEqual(sink.frames.slice(0, 2 * items), expected);
  assert.deepEqual(r.s.faults, []);
});

test("DMA: the memory the firmware rewrites in the idle buffer is what plays next", () => {
  const r = rig();
  const { bufs, sink } = readyI2s2(r, 150, 0, 8);
  startI2s2(r);
  r.advance(2 / 8000); // in M0
  bufs[1].fill(7); // the buffer DMA does not read now
  r.advance(6 / 8000); // 8 frames in all: M0's 4, then M1's 4
  assert.deepEqual(sink.frames.slice(8, 16), [7, 7, 7, 7, 7, 7, 7, 7]);
});

test("DMA: after EN is cleared it reads back 1 once; a stream register written before it reads 0 is a fault", () => {
  const r = rig();
  clocksOn(r);
  dma4(r, 16);
  r.set(S4, 0, 1);
  r.set(S4, 1, 0); // disable by read-modify-write: the read sees EN=1 (running), the write clears it
  assert.notEqual(r.peek(HISR) & TCIF4, 0, "TCIF set by the disable at once");
  r.poke(S4 + 4, 8); // NDTR at once: the stream may still be finishing its transfer
  assert.equal(faultsAt(r, "DMA1.S4NDTR").length, 1);
  assert.match(faultsAt(r, "DMA1.S4NDTR")[0].message, /before S4CR\.EN read back 0/);
  assert.equal(r.peek(S4 + 4), 8, "the write applies (no cascade)");
  // The HAL_DMA_Abort way: poll EN until it reads 0, then reprogram.
  r.poke(HIFCR, 0x3d);
  r.set(S4, 0, 1);
  r.set(S4, 1, 0);
  assert.equal(r.peek(S4) & 1, 1, "first read after the disable: EN still 1");
  assert.equal(r.peek(S4) & 1, 0, "then 0");
  r.poke(S4 + 4, 16);
  assert.equal(faultsAt(r, "DMA1.S4NDTR").length, 1, "no new fault");
});

test("DMA: a block whose memory changes while the stream reads it is counted; a rewrite of the idle buffer is not", () => {
  const r = rig();
  const { bufs } = readyI2s2(r, 150, 0, 16);
  bufs[0].fill(1);
  bufs[1].fill(2);
  startI2s2(r);
  const frame = 1 / 8000;
  r.advance(2 * frame); // in M0
  bufs[1].fill(3); // the idle buffer: a refill in time
  r.advance(8 * frame); // M0 ends, M1 plays
  assert.equal(r.m.dma.blockEnds(4), 1);
  assert.equal(r.m.dma.rewrittenBlocks(4), 0);
  bufs[1].fill(4); // M1 is being read: a late refill
  r.advance(8 * frame);
  assert.equal(r.m.dma.blockEnds(4), 2);
  assert.equal(r.m.dma.rewrittenBlocks(4), 1);
});

test("RCC: after PLLI2SON is cleared PLLI2SRDY reads 1 once; PLLI2SCFGR written before it reads 0 is a fault", () => {
  const r = rig();
  pllOn(r);
  r.set(RCC_CR, 1 << 26, 0); // read-modify-write: off
  r.poke(RCC_PLLI2SCFGR, (4 << 28) | (384 << 6));
  assert.equal(faultsAt(r, "RCC.PLLI2SCFGR").length, 1);
  assert.match(faultsAt(r, "RCC.PLLI2SCFGR")[0].message, /before RCC_CR\.PLLI2SRDY read back 0/);
  // HAL_RCCEx_PeriphCLKConfig: off, wait for PLLI2SRDY = 0, configure, on, wait for PLLI2SRDY = 1.
  pllOn(r);
  r.set(RCC_CR, 1 << 26, 0);
  assert.notEqual(r.peek(RCC_CR) & (1 << 27), 0, "first read: still ready");
  assert.equal(r.peek(RCC_CR) & (1 << 27), 0, "then stopped");
  r.poke(RCC_PLLI2SCFGR, (5 << 28) | (384 << 6));
  assert.equal(faultsAt(r, "RCC.PLLI2SCFGR").length, 1, "no new fault");
});

const SR = 0x08;
const TXE = 1 << 1;
const BSY = 1 << 7;

test("I2S: while the DMA feeds DR, TXE=0 and BSY=1; after the stream stops, TXE=1 within a slot and BSY=0 within two", () => {
  const r = rig();
  readyI2s2(r, 150, 0, 256);
  startI2s2(r);
  const slot = 1 / 16000;
  r.advance(10.5 * slot);
  assert.equal(r.peek(SPI2 + SR) & (TXE | BSY), BSY, "streaming: DR full, busy");
  r.set(S4, 1, 0);
  assert.equal(r.peek(S4) & 1, 1);
  assert.equal(r.peek(S4) & 1, 0);
  assert.equal(r.peek(SPI2 + SR) & TXE, 0, "DR still holds the next half-word");
  r.advance(slot);
  assert.equal(r.peek(SPI2 + SR) & (TXE | BSY), TXE | BSY, "that half-word on the wire");
  r.advance(slot);
  assert.equal(r.peek(SPI2 + SR) & (TXE | BSY), TXE, "idle: now I2SE may be cleared");
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16);
  assert.deepEqual(r.s.faults, []);
});

test("I2S: clearing I2SE while DR holds data is a fault, and the half-word left in DR swaps left and right after a restart", () => {
  const r = rig();
  const { bufs, sink } = readyI2s2(r, 150, 0, 16);
  for (let i = 0; i < 16; i++) bufs[0][i] = bufs[1][i] = i & 1 ? -1000 : 1000; // left +, right -
  startI2s2(r);
  r.advance(3.25 / 16000); // mid slot 3 (a right slot): DR holds the next left sample
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16); // I2SE off at once, as today's driver did
  assert.match(faultsAt(r, "SPI2.I2SCFGR")[0]?.message ?? "", /I2SE cleared with TXE=0/);
  // Restart the stream from M0 as a driver would; DR still holds the old left sample.
  r.set(S4, 1, 0);
  r.peek(S4);
  r.peek(S4);
  r.poke(HIFCR, 0x3d);
  r.poke(S4 + 4, 16);
  r.set(S4, 0, 1);
  r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE);
  sink.frames.length = 0;
  r.advance(4 / 8000);
  assert.match(faultsAt(r, "SPI2.DR")[0]?.message ?? "", /left and right swapped/);
  assert.ok(sink.frames.slice(2).every((v, i) => (i & 1 ? v > 0 : v < 0)), `swapped: ${sink.frames.join(",")}`);
});

test("I2S: TXDMAEN off freezes the stream's position; a resume on a right sample needs a left one written to DR first", () => {
  // Slot k starts, the shift register takes DR (item k) and the DMA refills DR with item k + 1:
  // TXDMAEN cleared during slot k leaves k + 2 items consumed. Slot 4 (left): a left sample is
  // next. Slot 3 (right): a right sample is next, so the I2S, which restarts on the left, needs a
  // left half-word in DR first.
  for (const [slot, needsPad] of [[4, false], [3, true]] as const) {
    for (const pad of [false, true]) {
      const r = rig();
      const { bufs } = readyI2s2(r, 150, 0, 16);
      for (let i = 0; i < 16; i++) bufs[0][i] = bufs[1][i] = i & 1 ? -1000 : 1000;
      startI2s2(r);
      r.advance((slot + 1.5) / 16000); // slot k is clocked from (k + 1) / (2 fs)
      r.poke(SPI2 + 0x04, 0); // TXDMAEN off (HAL_I2S_DMAPause)
      r.advance(2 / 16000);
      assert.equal(r.peek(SPI2 + SR) & (TXE | BSY), TXE, "drained");
      r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16); // I2SE off at a clean point
      const ndtr = r.peek(S4 + 4);
      assert.equal(16 - ndtr, slot + 2, "items consumed");
      r.advance(0.01);
      assert.equal(r.peek(S4 + 4), ndtr, "position frozen while paused");
      if (pad) r.poke(SPI2 + 0x0c, 0);
      r.poke(SPI2 + 0x04, 1 << 1);
      r.poke(SPI2 + 0x1c, I2S_MASTER_TX_16 | I2SE);
      r.advance(4 / 8000);
      const swapped = faultsAt(r, "SPI2.DR").length > 0;
      assert.equal(swapped, pad !== needsPad, `slot ${slot}, pad ${pad}`);
    }
  }
});

// ---- WM8731 ---------------------------------------------------------------------------

function wm(r: Rig, reg: number, data: number): boolean {
  return r.m.codec.write(new Uint8Array([(reg << 1) | (data >> 8), data & 0xff]));
}

/** TIM1 CH1 on PA8: 84 MHz / 7 = 12 MHz, CCR1 = 4. */
function mclkOn(r: Rig): void {
  const TIM1 = 0x40010000;
  r.set(RCC + 0x44, 0, 1);
  r.poke(TIM1 + 0x2c, 6);
  r.poke(TIM1 + 0x34, 4);
  r.poke(TIM1 + 0x18, 6 << 4);
  r.poke(TIM1 + 0x20, 1);
  r.poke(TIM1 + 0x44, 1 << 15);
  r.poke(TIM1 + 0x00, 1);
  afPin(r, GPIOA, 8, 1);
}

/** The codec's playback setup (the same values as the driver, from the datasheet). */
function codecUp(r: Rig, srate = 0x0d): void {
  wm(r, 15, 0);
  wm(r, 6, 0x77);
  wm(r, 4, 0x12);
  wm(r, 5, 0x00);
  wm(r, 7, 0x02);
  wm(r, 8, srate);
  wm(r, 9, 1);
  wm(r, 6, 0x67);
}

function codecStreaming(r: Rig): { b0: Int16Array } {
  const { bufs } = readyI2s2(r, 150, 0, 16);
  r.m.spi2.connect(r.m.codec);
  bufs[0].fill(1000);
  bufs[1].fill(1000);
  mclkOn(r);
  return { b0: bufs[0] };
}

test("WM8731: plays what the link carries once reset, powered, DAC selected, unmuted and active", () => {
  const r = rig();
  codecStreaming(r);
  codecUp(r);
  startI2s2(r);
  r.advance(0.01);
  const out = r.m.codec.recorder;
  assert.equal(r.m.codec.silentReason(), "");
  assert.equal(out.sampleRate(), 8000);
  assert.equal(out.framesPlayed(), 80);
  assert.ok(out.samples().every((v) => v === 1000));
  assert.deepEqual(r.s.faults, []);
});

test("WM8731: no sound unless ACTIVE, and none while muted or with the DAC not selected", () => {
  const cases: Array<[string, (r: Rig) => void]> = [
    ["ACTIVE=0", (r) => wm(r, 9, 0)],
    ["DACMU=1 (soft mute)", (r) => wm(r, 5, 0x08)],
    ["DACSEL=0", (r) => wm(r, 4, 0x0a)],
    ["DACPD=1", (r) => wm(r, 6, 0x6f)],
    ["POWEROFF=1", (r) => wm(r, 6, 0xe7)],
  ];
  for (const [reason, spoil] of cases) {
    const r = rig();
    codecStreaming(r);
    codecUp(r);
    spoil(r);
    startI2s2(r);
    r.advance(0.01);
    assert.equal(r.m.codec.recorder.framesPlayed(), 0, reason);
    assert.equal(r.m.codec.silentReason(), reason);
  }
});

test("WM8731: the reset register restores the defaults (and silences it)", () => {
  const r = rig();
  codecStreaming(r);
  codecUp(r);
  assert.equal(r.m.codec.register(9), 1);
  wm(r, 15, 0);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => r.m.codec.register(i)), [0x097, 0x097, 0x079, 0x079, 0x00a, 0x008, 0x09f, 0x00a, 0x000, 0x000]);
  startI2s2(r);
  r.advance(0.01);
  assert.equal(r.m.codec.recorder.framesPlayed(), 0);
});

test("WM8731: wrong sampling control for the link rate, wrong format, or no MCLK is a fault", () => {
  let r = rig();
  codecStreaming(r);
  codecUp(r, 0x01); // USB 48 kHz while the link runs at 8 kHz
  startI2s2(r);
  r.advance(0.01);
  assert.match(faultsAt(r, "WM8731.R8")[0]?.message ?? "", /48000\.0 Hz.*8000\.0 Hz/);
  assert.equal(r.m.codec.recorder.framesPlayed(), 0);

  r = rig();
  codecStreaming(r);
  codecUp(r);
  wm(r, 9, 0);
  wm(r, 7, 0x0a); // back to the 24-bit default: 16 BCLKs a slot are too few
  wm(r, 9, 1);
  startI2s2(r);
  r.advance(0.01);
  assert.match(faultsAt(r, "WM8731.R7")[0]?.message ?? "", /IWL=24/);

  r = rig();
  codecStreaming(r);
  r.poke(0x40010000, 0); // TIM1 stopped: no MCLK
  codecUp(r);
  startI2s2(r);
  r.advance(0.01);
  assert.match(faultsAt(r, "WM8731.MCLK")[0]?.message ?? "", /CEN=0/);
});

test("WM8731: changing R8 while ACTIVE=1 is a fault (datasheet: clear ACTIVE first)", () => {
  const r = rig();
  codecUp(r);
  wm(r, 8, 0x19);
  assert.equal(faultsAt(r, "WM8731.R8").length, 1);
});

test("WM8731: absent codec NAKs; the control port cannot be read", () => {
  const r = rig({ codecAbsent: true });
  assert.equal(wm(r, 15, 0), false);
  const present = rig();
  assert.equal(wm(present, 15, 0), true);
  assert.equal(present.m.codec.read(1), null);
});

// ---- MAX98357A ---------------------------------------------------------------------------

test("MAX98357A: silent while SD_MODE is low, (L+R)/2 while it is high, at the I2S rate", () => {
  const r = rig();
  clocksOn(r);
  pllOn(r);
  i2s3Pins(r);
  r.poke(SPI3 + 0x1c, I2S_MASTER_TX_16);
  r.poke(SPI3 + 0x20, 75); // 16 kHz
  r.poke(SPI3 + 0x04, 1 << 1);
  const b = new Int16Array(8);
  for (let i = 0; i < 8; i += 2) {
    b[i] = 100;
    b[i + 1] = 300;
  }
  r.poke(S5 + 8, SPI3 + 0x0c);
  r.poke(S5 + 12, r.s.addressOf(b));
  r.poke(S5 + 16, r.s.addressOf(b));
  r.poke(S5 + 4, 8);
  r.poke(S5, DMA_DBM_CFG | 1);
  r.poke(SPI3 + 0x1c, I2S_MASTER_TX_16 | I2SE);
  r.advance(0.001);
  assert.equal(r.m.amp.recorder.framesPlayed(), 0, "SD_MODE never driven: shutdown");
  r.s.drive("A5", true);
  r.advance(0.001);
  const out = r.m.amp.recorder;
  assert.equal(out.sampleRate(), 16000);
  assert.equal(out.framesPlayed(), 16);
  assert.ok(out.samples().every((v) => v === 200));
  r.s.drive("A5", false);
  r.advance(0.001);
  assert.equal(out.framesPlayed(), 16);
  assert.deepEqual(r.s.faults, []);
});

// ---- NVIC, on the real machine ------------------------------------------------------

test("NVIC: ISER/ICER set and clear lines; clearing TIM5 (IRQ 50) masks the machine's timer tasks", async () => {
  const { createPicoMachine } = await import("../emulator/boards/pico-wm8731.ts");
  const { machine, models } = createPicoMachine();
  const ISER1 = 0xe000e104;
  const ICER1 = 0xe000e184;
  const tim5 = 1 << (50 - 32);
  assert.notEqual(machine.peek32(ISER1) & tim5, 0, "Espruino leaves TIM5 enabled");
  machine.poke32(ICER1, tim5);
  assert.equal(models.nvic.isEnabled(50), false);
  assert.equal(machine.peek32(ICER1) & tim5, 0, "ICER reads the enable state");
  assert.equal(machine.timerInterruptMasked, true);
  machine.poke32(ISER1, 1 << (16 - 0)); // another line: TIM5 stays masked
  assert.equal(machine.timerInterruptMasked, true);
  machine.poke32(ISER1, tim5);
  assert.equal(machine.timerInterruptMasked, false);
  assert.deepEqual(machine.faults, []);
});
