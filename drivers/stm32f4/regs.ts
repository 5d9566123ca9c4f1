// STM32F401 register addresses and bits the drivers in this folder use with
// peek32/poke32. Constants only: no code, no Espruino globals, so a board's
// wiring (boards/*/wiring.ts) can name its ports with them and the host
// emulator can import that wiring. The emulator's register models
// (emulator/stm32f401/) keep their own copy of this knowledge on purpose:
// they check the drivers, so they must not share the drivers' constants.
//
// Sources (see boards/pico-wm8731/README.md "Sources"):
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
/** GPIOA; port x (A=0 .. E=4, H=7) is at GPIOA + 0x400 * x (RM0368 §2.3 Table 1). */
export const GPIOA = 0x40020000;
export const GPIO_STRIDE = 0x400;
export const GPIO_MODER = 0x00;
export const GPIO_OSPEEDR = 0x08;
/** AFRL; AFRH follows at +4. */
export const GPIO_AFRL = 0x20;

// --- DMA1 (base 0x4002 6000, RM0368 §9.5) -------------------------------------
/** DMA_HISR: flags of streams 4..7; DMA_HIFCR: write 1 to clear (RM0368 §9.5.2-9.5.4). */
export const DMA1_HISR = 0x40026004;
export const DMA1_HIFCR = 0x4002600c;
/** Stream x's SxCR is at DMA1_S0CR + DMA_STREAM_STRIDE * x. */
export const DMA1_S0CR = 0x40026010;
export const DMA_STREAM_STRIDE = 0x18;
/** Offsets from SxCR: SxNDTR, SxPAR, SxM0AR, SxM1AR. */
export const DMA_SXNDTR = 4;
export const DMA_SXPAR = 8;
export const DMA_SXM0AR = 12;
export const DMA_SXM1AR = 16;
/** SxCR bit 0 EN, bit 19 CT (current target: 0 = M0AR, 1 = M1AR), CHSEL bits 27:25. */
export const DMA_SXCR_EN = 1 << 0;
export const DMA_SXCR_CT = 1 << 19;
export const DMA_SXCR_CHSEL_SHIFT = 25;
/** Flag groups of streams 4..7 in DMA_HISR/HIFCR start at bits 0, 6, 16, 22. */
export const DMA_HISR_SHIFT = [0, 6, 16, 22];
/** FEIF, DMEIF, TEIF, HTIF, TCIF of one stream (bits 0, 2, 3, 4, 5 of its group). */
export const DMA_ALL_FLAGS = 0x3d;
export const DMA_TCIF = 1 << 5;

// --- TIM1 (base 0x4001 0000, RM0368 §12.4, CMSIS TIM_TypeDef) -----------------
export const TIM1 = 0x40010000;
export const TIM_CR1 = 0x00;
export const TIM_EGR = 0x14;
export const TIM_CCMR1 = 0x18;
export const TIM_CCER = 0x20;
export const TIM_PSC = 0x28;
export const TIM_ARR = 0x2c;
export const TIM_CCR1 = 0x34;
export const TIM_BDTR = 0x44;

// --- SPI/I2S (RM0368 §20.5) ---------------------------------------------------
export const SPI2 = 0x40003800;
export const SPI3 = 0x40003c00;
export const SPI_CR2 = 0x04;
export const SPI_DR = 0x0c;
export const SPI_I2SCFGR = 0x1c;
export const SPI_I2SPR = 0x20;
export const SPI_SR = 0x08;
/** SPIx_CR2 bit 1 TXDMAEN: TXE raises a DMA request. */
export const SPI_CR2_TXDMAEN = 1 << 1;
/** SPIx_SR bit 1 TXE (transmit buffer empty), bit 7 BSY (a half-word on the wire). */
export const SPI_SR_TXE = 1 << 1;
export const SPI_SR_BSY = 1 << 7;
/** SPIx_I2SCFGR bit 10 I2SE: I2S peripheral enable. */
export const SPI_I2SCFGR_I2SE = 1 << 10;
