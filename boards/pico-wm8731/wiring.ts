// What is connected where on this board, written once as data. board.ts
// builds the drivers from it; the emulator's model of the board
// (emulator/boards/pico-wm8731.ts) builds its register and device models
// from it. Why these pins and not others: README.md "Wiring".
//
// Plain data only: it runs in Node too, so no Espruino globals. Pins are
// Espruino pin names ("B13"), which every Espruino pin function accepts.
// The shapes are the drivers' own: I2sWiring (drivers/stm32f4/i2s-dma.ts),
// I2cWiring (drivers/wm8731.ts), PwmClockWiring (drivers/stm32f4/pwm-clock.ts);
// board.ts passing these objects to the drivers checks them.

import { SPI2, SPI2EN, SPI3, SPI3EN, TIM1, TIM1EN } from "../../drivers/stm32f4/regs";

/**
 * BE "codec": a WM8731 on I2S2 (SPI2), DMA1 stream 4 channel 0 (SPI2_TX,
 * RM0368 Table 28), pins all AF5; control on I2C1 (PB6/PB7, AF4), CSB low
 * so address 0x1a; MCLK 12 MHz from TIM1 channel 1 on PA8 (AF1).
 */
export const CODEC = {
  name: "codec",
  i2s: {
    name: "I2S2",
    spi: SPI2,
    apb1Bit: SPI2EN,
    dmaStream: 4,
    dmaChannel: 0,
    ck: { pin: "B13", af: 5 },
    ws: { pin: "B9", af: 5 },
    sd: { pin: "B15", af: 5 },
  },
  i2c: { bus: "I2C1", scl: "B6", sda: "B7", address: 0x1a },
  mclk: { timer: TIM1, apb2Bit: TIM1EN, pin: { pin: "A8", af: 1 }, hz: 12e6 },
};

/**
 * BE "spk": a MAX98357A on I2S3 (SPI3), DMA1 stream 5 channel 0 (SPI3_TX),
 * pins all AF6; SD_MODE on A5 (open drain).
 */
export const SPK = {
  name: "spk",
  i2s: {
    name: "I2S3",
    spi: SPI3,
    apb1Bit: SPI3EN,
    dmaStream: 5,
    dmaChannel: 0,
    ck: { pin: "B3", af: 6 },
    ws: { pin: "A4", af: 6 },
    sd: { pin: "B5", af: 6 },
  },
  sdMode: "A5",
};
