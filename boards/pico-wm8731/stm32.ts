// STM32F401 registers this board drives with peek32/poke32, and the clock
// arithmetic around them. Sources (see README.md "Sources"):
//  RM0368 = ST reference manual for STM32F401xB/C/D/E.
//  Memory map: RM0368 §2.3 Table 1 (register boundary addresses).
//  Offsets/bits: RM0368 RCC (ch. 6), GPIO (ch. 8), DMA (ch. 9), TIM1 (ch. 12),
//  SPI/I2S (ch. 20) register descriptions; checked against ST's CMSIS header
//  stm32f401xe.h (STMicroelectronics/cmsis_device_f4).

// --- RCC (base 0x4002 3800) ------------------------------------------------
export const RCC_CR = 0x40023800;
export const RCC_PLLCFGR = 0x40023804;
export const RCC_CFGR = 0x40023808;
export const RCC_AHB1ENR = 0x40023830;
export const RCC_APB1ENR = 0x40023840;
export const RCC_APB2ENR = 0x40023844;
export const RCC_PLLI2SCFGR = 0x40023884;
/** RCC_CR bit 26 PLLI2SON, bit 27 PLLI2SRDY (read-only, set once locked). */
export const PLLI2SON = 1 << 26;
export const PLLI2SRDY = 1 << 27;
/** RCC_CFGR bit 23 I2SSRC: 0 = I2S clocked by PLLI2S (1 = I2S_CKIN pin, not bonded on UFQFPN48). */
export const I2SSRC = 1 << 23;
/** RCC_AHB1ENR: GPIOAEN bit 0, GPIOBEN bit 1, DMA1EN bit 21. */
export const AHB1_GPIOA_GPIOB_DMA1 = (1 << 0) | (1 << 1) | (1 << 21);
/** RCC_APB1ENR: SPI2EN bit 14, SPI3EN bit 15. */
export const SPI2EN = 1 << 14;
export const SPI3EN = 1 << 15;
/** RCC_APB2ENR: TIM1EN bit 0. */
export const TIM1EN = 1 << 0;

// --- GPIO (RM0368 §8.4) -------------------------------------------------------
export const GPIOA = 0x40020000;
export const GPIOB = 0x40020400;
const MODER = 0x00;
const OSPEEDR = 0x08;
const AFRL = 0x20;

// --- DMA1 (base 0x4002 6000, RM0368 §9.5) -------------------------------------
export const DMA1_HISR = 0x40026004;
export const DMA1_HIFCR = 0x4002600c;
/** Stream x registers: SxCR at 0x10 + 0x18*x, then NDTR, PAR, M0AR, M1AR at +4 each. */
export function dmaStream(x: number): number {
  return 0x40026010 + 0x18 * x;
}

// --- TIM1 (base 0x4001 0000, RM0368 §12.4) ------------------------------------
export const TIM1 = 0x40010000;

// --- SPI/I2S (RM0368 §20.5) ---------------------------------------------------
export const SPI2 = 0x40003800;
export const SPI3 = 0x40003c00;

export function setBits(address: number, mask: number, value: number): void {
  poke32(address, (peek32(address) & ~mask) | value);
}

/**
 * Put a pin in alternate-function mode `af` (GPIOx_AFRL/AFRH 4 bits a pin),
 * OSPEEDR "fast" (10): the fastest signal here is the 12 MHz MCLK, BCLK is at
 * most 1.536 MHz. AFR first, then MODER, so the pin never shows a wrong AF.
 */
export function afPin(port: number, pin: number, af: number): void {
  const shift = (pin & 7) * 4;
  setBits(port + AFRL + (pin >> 3) * 4, 15 << shift, af << shift);
  setBits(port + OSPEEDR, 3 << (2 * pin), 2 << (2 * pin));
  setBits(port + MODER, 3 << (2 * pin), 2 << (2 * pin));
}

/**
 * VCO input of the main PLL and PLLI2S (the F401 has one PLLM for both):
 * (PLLSRC ? HSE : HSI) / PLLM from RCC_PLLCFGR (PLLM bits 5:0, PLLSRC bit 22).
 * The Pico's HSE crystal is 8 MHz and Espruino sets PLLM = 8: 1 MHz.
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
export function plli2sN(): number {
  return Math.round(384e6 / vcoInputHz());
}
export function i2sClockHz(): number {
  return (vcoInputHz() * plli2sN()) / PLLI2S_R;
}

/** Start PLLI2S (shared by SPI2 and SPI3) unless it already runs our setting. Main loop only. */
export function startPllI2s(): string {
  const n = plli2sN();
  if (n < 192 || n > 432) return "PLLI2S: VCO input " + vcoInputHz() / 1e6 + " MHz gives no valid PLLI2SN";
  // RCC_PLLI2SCFGR: PLLI2SN bits 14:6, PLLI2SR bits 30:28.
  const want = (PLLI2S_R << 28) | (n << 6);
  const mask = (7 << 28) | (511 << 6);
  const on = peek32(RCC_CR) & PLLI2SON;
  if (on && (peek32(RCC_PLLI2SCFGR) & mask) === want) {
    // Already configured; it may still be locking.
  } else {
    if (on) setBits(RCC_CR, PLLI2SON, 0); // N/R may only change with the PLL off
    setBits(RCC_CFGR, I2SSRC, 0);
    setBits(RCC_PLLI2SCFGR, mask, want);
    setBits(RCC_CR, PLLI2SON, PLLI2SON);
  }
  // Lock takes well under a millisecond; one poll is tens of microseconds of JavaScript.
  for (let i = 0; i < 500; i++) {
    if (peek32(RCC_CR) & PLLI2SRDY) return "";
  }
  return "PLLI2S did not lock (RCC_CR.PLLI2SRDY still 0 after 500 polls)";
}

/**
 * The clock of TIM1 (on APB2): SYSCLK from the main PLL / AHB prescaler /
 * APB2 prescaler, doubled when the APB2 prescaler is not 1 (RM0368 clock
 * tree). On the Pico: 84 MHz.
 */
export function tim1ClockHz(): number {
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
