// STM32F401 reset and clock control (RM0368 ch. 6): the clock tree
// arithmetic the other drivers need (I2S clock, timer clock) and PLLI2S, the
// PLL both I2S ports share. Zephyr keeps the same in
// drivers/clock_control/clock_stm32_ll_common.c. All main loop only.
//
// PLLI2S is reprogrammed as ST's HAL_RCCEx_PeriphCLKConfig does it
// (stm32f4xx_hal_rcc_ex.c, STM32F401 branch): PLLI2SON off, wait until
// PLLI2SRDY reads 0, write RCC_PLLI2SCFGR, PLLI2SON on, wait until
// PLLI2SRDY reads 1. Both I2S ports run from it, so it is never reprogrammed
// while the other port streams: that would stop its clock.

import { setBits, waitBits } from "./io";
import { I2SSRC, PLLI2SON, PLLI2SRDY, RCC_CFGR, RCC_CR, RCC_PLLCFGR, RCC_PLLI2SCFGR } from "./regs";
import { decimal } from "../../firmware/format";

/**
 * VCO input of the main PLL and PLLI2S (the F401 has one PLLM for both):
 * (PLLSRC ? HSE : HSI) / PLLM from RCC_PLLCFGR (PLLM bits 5:0, PLLSRC bit 22).
 * The Pico's HSE crystal is 8 MHz and Espruino sets PLLM = 8: 1 MHz.
 * Context: main.
 */
export function vcoInputHz(): number {
  const cfg = peek32(RCC_PLLCFGR);
  return (cfg & (1 << 22) ? 8e6 : 16e6) / (cfg & 63);
}

/**
 * PLLI2S for every rate on this board: VCO = 1 MHz * N 384 = 384 MHz (inside
 * the F401's 192..432 MHz), I2SCLK = VCO / R 5 = 76.8 MHz. 76.8 MHz is
 * 32 bits * fs * (2*I2SDIV + ODD) exactly for fs = 8, 12, 16, 24, 32, 48 kHz
 * (300, 200, 150, 100, 75, 50), so both I2S ports run from one PLL setting.
 */
export const PLLI2S_R = 5;
/** Context: main. */
export function plli2sN(): number {
  return Math.round(384e6 / vcoInputHz());
}
/** I2SxCLK in Hz, from PLLI2S as startPllI2s() sets it. Context: main. */
export function i2sClockHz(): number {
  return (vcoInputHz() * plli2sN()) / PLLI2S_R;
}

/** Polls of PLLI2SRDY: lock takes well under a millisecond, one poll is tens of microseconds of JavaScript. */
const PLL_POLLS = 500;

/**
 * Start PLLI2S (shared by SPI2 and SPI3) unless it already runs our
 * setting: "" or an error. `busy`: the name of another I2S port streaming
 * from PLLI2S now ("I2S3"), or "": a PLLI2S found at another setting is then
 * refused rather than reprogrammed under that port.
 * Context: main.
 */
export function startPllI2s(busy: string): string {
  const n = plli2sN();
  if (n < 192 || n > 432) return "PLLI2S: VCO input " + decimal(vcoInputHz() / 1e6, 6) + " MHz gives no valid PLLI2SN";
  // RCC_PLLI2SCFGR: PLLI2SN bits 14:6, PLLI2SR bits 30:28.
  const want = (PLLI2S_R << 28) | (n << 6);
  const mask = (7 << 28) | (511 << 6);
  const on = peek32(RCC_CR) & PLLI2SON;
  const cfg = peek32(RCC_PLLI2SCFGR) & mask;
  if (!on || cfg !== want) {
    if (on) {
      if (busy) {
        return "PLLI2S runs " + busy + " at another setting (PLLI2SN " + ((cfg >> 6) & 511) + ", PLLI2SR " + ((cfg >> 28) & 7) +
          "); reprogramming it would stop " + busy + "'s clock: stop " + busy + " first";
      }
      // N and R may change only with the PLL stopped, which PLLI2SRDY = 0 confirms.
      setBits(RCC_CR, PLLI2SON, 0);
      if (!waitBits(RCC_CR, PLLI2SRDY, 0, PLL_POLLS)) return "PLLI2S did not stop (RCC_CR.PLLI2SRDY still 1 after " + PLL_POLLS + " polls)";
    }
    setBits(RCC_CFGR, I2SSRC, 0);
    setBits(RCC_PLLI2SCFGR, mask, want);
    setBits(RCC_CR, PLLI2SON, PLLI2SON);
  }
  // Already on at our setting, or just started: it may still be locking.
  if (waitBits(RCC_CR, PLLI2SRDY, PLLI2SRDY, PLL_POLLS)) return "";
  return "PLLI2S did not lock (RCC_CR.PLLI2SRDY still 0 after " + PLL_POLLS + " polls)";
}

/**
 * The clock of the timers on APB2 (TIM1, TIM9-11), Hz: SYSCLK from the main
 * PLL / AHB prescaler / APB2 prescaler, doubled when the APB2 prescaler is
 * not 1 (RM0368 clock tree). On the Pico: 84 MHz. 0 when SYSCLK is not the PLL.
 * Context: main.
 */
export function apb2TimerClockHz(): number {
  const pll = peek32(RCC_PLLCFGR);
  const cfgr = peek32(RCC_CFGR);
  // SYSCLK = VCO input * PLLN (bits 14:6) / PLLP (bits 17:16: 2, 4, 6, 8); SWS bits 3:2 = 10 is PLL.
  if (((cfgr >> 2) & 3) !== 2) return 0;
  const sysclk = (vcoInputHz() * ((pll >> 6) & 511)) / (((pll >> 16) & 3) * 2 + 2);
  const hpre = (cfgr >> 4) & 15; // 0xxx: /1, 1000..1011: /2../16, 1100..1111: /64../512
  const ahb = hpre < 8 ? 1 : 1 << (hpre - (hpre < 12 ? 7 : 6));
  const ppre2 = (cfgr >> 13) & 7; // 0xx: /1, 100..111: /2../16
  const apb = ppre2 < 4 ? 1 : 1 << (ppre2 - 3);
  return ((sysclk / ahb / apb) * (apb > 1 ? 2 : 1));
}
