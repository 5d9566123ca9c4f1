// RCC of the STM32F401 (RM0368 ch. 6 "Reset and clock control"): the clock
// enables the other models check, the main PLL as Espruino leaves it on the
// Pico, and PLLI2S with its lock delay.
//
// Register offsets and fields: RM0368 §6.3 (RCC registers), cross-checked with
// ST's CMSIS header stm32f401xe.h (RCC_TypeDef: CR 0x00, PLLCFGR 0x04,
// CFGR 0x08, AHB1ENR 0x30, APB1ENR 0x40, APB2ENR 0x44, PLLI2SCFGR 0x84) and
// https://stm32-rs.github.io/stm32-rs/stm32f/stm32f4/RCC_0x40023800_PLLI2SCFGR_0x0084.html
// (STM32F401: PLLI2SN bits 14:6, PLLI2SR bits 30:28, no PLLI2SM: the PLLI2S
// input is the main PLL input divided by PLLM).
//
// PLLI2S takes time both ways. On, PLLI2SRDY rises PLLI2S_LOCK_SECONDS after
// PLLI2SON. Off, the PLL stops within a few cycles of its input clock, and
// RCC_CR.PLLI2SRDY reads 1 until it has: ST's HAL_RCCEx_PeriphCLKConfig
// clears PLLI2SON and waits for PLLI2SRDY to read 0 before it writes
// RCC_PLLI2SCFGR. As with the DMA's EN (dma.ts), the model stretches that
// delay over the bus: PLLI2SRDY reads 1 on the first read of RCC_CR after
// the disable and 0 from the second; RCC_PLLI2SCFGR written before that is a
// fault (the write then applies). The I2S clock itself is gone at once.

import type { MachineServices, Peripheral } from "../hardware";

export const RCC_BASE = 0x40023800;

export const RCC_CR = 0x00;
export const RCC_PLLCFGR = 0x04;
export const RCC_CFGR = 0x08;
export const RCC_AHB1ENR = 0x30;
export const RCC_APB1ENR = 0x40;
export const RCC_APB2ENR = 0x44;
export const RCC_PLLI2SCFGR = 0x84;

// RCC_CR
export const CR_HSION = 1 << 0;
export const CR_HSIRDY = 1 << 1;
export const CR_HSEON = 1 << 16;
export const CR_HSERDY = 1 << 17;
export const CR_PLLON = 1 << 24;
export const CR_PLLRDY = 1 << 25;
export const CR_PLLI2SON = 1 << 26;
export const CR_PLLI2SRDY = 1 << 27;
// RCC_CFGR
export const CFGR_I2SSRC = 1 << 23;
// RCC_AHB1ENR
export const AHB1ENR_GPIOAEN = 1 << 0;
export const AHB1ENR_GPIOBEN = 1 << 1;
export const AHB1ENR_GPIOCEN = 1 << 2;
export const AHB1ENR_GPIOHEN = 1 << 7;
export const AHB1ENR_DMA1EN = 1 << 21;
// RCC_APB1ENR
export const APB1ENR_TIM5EN = 1 << 3;
export const APB1ENR_SPI2EN = 1 << 14;
export const APB1ENR_SPI3EN = 1 << 15;
export const APB1ENR_PWREN = 1 << 28;
// RCC_APB2ENR
export const APB2ENR_TIM1EN = 1 << 0;
export const APB2ENR_SYSCFGEN = 1 << 14;

/** PLLI2S lock time in virtual seconds (the datasheet's PLL lock time is of this order). */
export const PLLI2S_LOCK_SECONDS = 100e-6;

export interface RccOptions {
  /** HSE crystal frequency: the Espruino Pico has an 8 MHz crystal (PLL_M = 8 gives the 1 MHz VCO input). */
  hseHz?: number;
}

const HSI_HZ = 16e6;

/**
 * Register state after Espruino 2v29 has booted on the Pico: SYSCLK 84 MHz from
 * the main PLL (HSE 8 MHz / M 8 * N 336 / P 4, Q 7 for USB 48 MHz), APB1 /2,
 * APB2 /1 (ST's system_stm32f4xx.c table for STM32F401xx, which Espruino uses).
 */
function bootState(): Record<number, number> {
  const r: Record<number, number> = {};
  r[RCC_CR] = (CR_HSION | CR_HSIRDY | CR_HSEON | CR_HSERDY | CR_PLLON | CR_PLLRDY | 0x80) >>> 0;
  r[RCC_PLLCFGR] = (8 | (336 << 6) | (1 << 16) | (1 << 22) | (7 << 24)) >>> 0;
  // SW=PLL (10), SWS=PLL (10), HPRE /1, PPRE1 /2 (100), PPRE2 /1.
  r[RCC_CFGR] = (0x2 | (0x2 << 2) | (0x4 << 10)) >>> 0;
  // Espruino enables the GPIO ports it exposes at start-up.
  r[RCC_AHB1ENR] = (AHB1ENR_GPIOAEN | AHB1ENR_GPIOBEN | AHB1ENR_GPIOCEN | AHB1ENR_GPIOHEN) >>> 0;
  // TIM5 is Espruino's utility timer (EXEC tasks, Waveform); PWR for the regulator.
  r[RCC_APB1ENR] = (APB1ENR_TIM5EN | APB1ENR_PWREN) >>> 0;
  r[RCC_APB2ENR] = APB2ENR_SYSCFGEN >>> 0;
  // Reset value of RCC_PLLI2SCFGR (RM0368): PLLI2SR = 2, PLLI2SN = 192.
  r[RCC_PLLI2SCFGR] = 0x20003000;
  return r;
}

export class Rcc implements Peripheral {
  readonly name = "RCC";
  readonly base = RCC_BASE;
  readonly size = 0x400;
  private regs: Record<number, number>;
  private services: MachineServices;
  private hseHz: number;
  /** Virtual time at which PLLI2S locks; Infinity when off or misconfigured. */
  private plli2sLockAt = Infinity;
  /** PLLI2SON cleared and PLLI2SRDY not yet read back as 0 (see the header). */
  private plli2sStopping = false;
  private plli2sStopReads = 0;
  /** Listeners told when PLLI2S loses lock (the I2S models stop their clock). */
  private i2sClockListeners: Array<() => void> = [];

  constructor(services: MachineServices, options: RccOptions = {}) {
    this.services = services;
    this.hseHz = options.hseHz ?? 8e6;
    this.regs = bootState();
  }

  advanceTo(now: number): void {
    if (now >= this.plli2sLockAt) {
      this.regs[RCC_CR] = (this.regs[RCC_CR] | CR_PLLI2SRDY) >>> 0;
      this.plli2sLockAt = Infinity;
    }
  }

  read32(offset: number): number {
    this.advanceTo(this.services.now());
    if (offset === RCC_CR && this.plli2sStopping) {
      if (this.plli2sStopReads++ === 0) return (this.regs[RCC_CR] | CR_PLLI2SRDY) >>> 0;
      this.plli2sStopping = false;
    }
    return (this.regs[offset] ?? 0) >>> 0;
  }

  write32(offset: number, value: number): void {
    this.advanceTo(this.services.now());
    value = value >>> 0;
    const old = this.regs[offset] ?? 0;
    switch (offset) {
      case RCC_CR:
        this.writeCr(old, value);
        return;
      case RCC_PLLCFGR:
        if (old !== value && this.regs[RCC_CR] & CR_PLLON) {
          this.services.fault("RCC.PLLCFGR", "main PLL reconfigured while PLLON=1 (RM0368: configure it only when the PLL is off); ignored");
          return;
        }
        break;
      case RCC_PLLI2SCFGR:
        if (this.plli2sStopping) {
          this.services.fault(
            "RCC.PLLI2SCFGR",
            "written before RCC_CR.PLLI2SRDY read back 0 after PLLI2SON was cleared (HAL_RCCEx_PeriphCLKConfig waits for it: the PLL may still run)",
          );
          this.plli2sStopping = false;
        }
        if (old !== value && this.regs[RCC_CR] & CR_PLLI2SON) {
          this.services.fault(
            "RCC.PLLI2SCFGR",
            "written while PLLI2SON=1 (RM0368: PLLI2SN/PLLI2SR may be changed only when PLLI2S is disabled); ignored",
          );
          return;
        }
        break;
    }
    this.regs[offset] = value;
  }

  private writeCr(old: number, value: number): void {
    // Ready bits are read-only; the main PLL and the oscillators stay as
    // Espruino set them (turning them off would stop the CPU model-wise).
    const readOnly = CR_HSIRDY | CR_HSERDY | CR_PLLRDY | CR_PLLI2SRDY;
    const keep = CR_HSION | CR_HSEON | CR_PLLON;
    if ((old & keep) !== (value & keep)) {
      this.services.fault("RCC.CR", "firmware changed HSION/HSEON/PLLON: the system clock must stay as Espruino configured it; ignored");
    }
    let next = ((old & (readOnly | keep)) | (value & ~(readOnly | keep))) >>> 0;
    const wasOn = (old & CR_PLLI2SON) !== 0;
    const isOn = (value & CR_PLLI2SON) !== 0;
    if (!wasOn && isOn) {
      this.plli2sStopping = false;
      const problem = this.plli2sConfigProblem();
      if (problem) {
        this.services.fault("RCC.PLLI2SCFGR", `PLLI2SON set with an invalid configuration: ${problem}; PLLI2S will not lock`);
        this.plli2sLockAt = Infinity;
      } else {
        this.plli2sLockAt = this.services.now() + PLLI2S_LOCK_SECONDS;
      }
    } else if (wasOn && !isOn) {
      next = (next & ~CR_PLLI2SRDY) >>> 0;
      this.plli2sLockAt = Infinity;
      this.plli2sStopping = true;
      this.plli2sStopReads = 0;
      this.regs[RCC_CR] = next;
      for (const l of this.i2sClockListeners) l();
      return;
    }
    this.regs[RCC_CR] = next;
  }

  /** VCO input of both PLLs: (HSE or HSI) / PLLM. */
  vcoInputHz(): number {
    const cfg = this.regs[RCC_PLLCFGR];
    const m = cfg & 0x3f;
    if (m < 2) return 0;
    return ((cfg & (1 << 22)) ? this.hseHz : HSI_HZ) / m;
  }

  plli2sN(): number {
    return (this.regs[RCC_PLLI2SCFGR] >>> 6) & 0x1ff;
  }

  plli2sR(): number {
    return (this.regs[RCC_PLLI2SCFGR] >>> 28) & 0x7;
  }

  /** Why the current PLLI2S configuration is invalid, or "" (RM0368 RCC_PLLCFGR/RCC_PLLI2SCFGR constraints). */
  plli2sConfigProblem(): string {
    const vin = this.vcoInputHz();
    const n = this.plli2sN();
    const r = this.plli2sR();
    if (vin < 1e6 || vin > 2e6) return `VCO input ${vin / 1e6} MHz outside 1..2 MHz (PLLM)`;
    if (n < 192 || n > 432) return `PLLI2SN=${n} outside 192..432`;
    const vco = vin * n;
    if (vco < 192e6 || vco > 432e6) return `VCO ${vco / 1e6} MHz outside 192..432 MHz`;
    if (r < 2) return `PLLI2SR=${r} (must be 2..7)`;
    if (vco / r > 192e6) return `I2S clock ${vco / r / 1e6} MHz above 192 MHz`;
    return "";
  }

  plli2sLocked(): boolean {
    this.advanceTo(this.services.now());
    return (this.regs[RCC_CR] & CR_PLLI2SRDY) !== 0;
  }

  /** I2SxCLK in Hz (PLLI2S R output) when locked and selected by I2SSRC=0; 0 otherwise. */
  i2sClockHz(): number {
    if (!this.plli2sLocked()) return 0;
    if (this.regs[RCC_CFGR] & CFGR_I2SSRC) return 0;
    return (this.vcoInputHz() * this.plli2sN()) / this.plli2sR();
  }

  /** Set when the I2S clock is taken from I2S_CKIN instead of PLLI2S. */
  i2sFromExternalPin(): boolean {
    return (this.regs[RCC_CFGR] & CFGR_I2SSRC) !== 0;
  }

  onI2sClockLost(listener: () => void): void {
    this.i2sClockListeners.push(listener);
  }

  enabled(offset: typeof RCC_AHB1ENR | typeof RCC_APB1ENR | typeof RCC_APB2ENR, bit: number): boolean {
    return (this.regs[offset] & bit) !== 0;
  }

  /** SYSCLK from the main PLL (SW=PLL): VCO input * PLLN / PLLP. */
  sysclkHz(): number {
    const cfg = this.regs[RCC_PLLCFGR];
    const sw = this.regs[RCC_CFGR] & 0x3;
    if (sw === 0) return HSI_HZ;
    if (sw === 1) return this.hseHz;
    const n = (cfg >>> 6) & 0x1ff;
    const p = 2 * (((cfg >>> 16) & 0x3) + 1);
    return (this.vcoInputHz() * n) / p;
  }

  /** Clock of the timers on APB2 (TIM1): PCLK2, doubled when the APB2 prescaler is not 1 (RM0368 clock tree). */
  apb2TimerClockHz(): number {
    const cfgr = this.regs[RCC_CFGR];
    const hpre = (cfgr >>> 4) & 0xf;
    const ahbDiv = hpre < 8 ? 1 : [2, 4, 8, 16, 64, 128, 256, 512][hpre - 8];
    const ppre2 = (cfgr >>> 13) & 0x7;
    const apbDiv = ppre2 < 4 ? 1 : [2, 4, 8, 16][ppre2 - 4];
    const pclk2 = this.sysclkHz() / ahbDiv / apbDiv;
    return apbDiv === 1 ? pclk2 : pclk2 * 2;
  }
}
