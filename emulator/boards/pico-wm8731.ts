// The Espruino Pico (STM32F401CDU6, UFQFPN48) wired as boards/pico-wm8731
// describes: register-level models of RCC, GPIOA/B/C/H, DMA1, SPI2/SPI3 in
// I2S mode, TIM1 (the codec's MCLK) and the NVIC, each at its RM0368 address
// (RM0368 §2.3 Table 1), a WM8731 at 0x1A on I2C1 fed by I2S2, and a
// MAX98357A on I2S3 with SD_MODE on A5.

import { Machine, type MachineOptions } from "../machine.ts";
import type { MachineServices, OutputRecorder, Peripheral } from "../hardware.ts";
import { Rcc, APB1ENR_SPI2EN, APB1ENR_SPI3EN } from "../stm32f401/rcc.ts";
import { GpioPort, pinFunction, type PinFunction } from "../stm32f401/gpio.ts";
import { Dma } from "../stm32f401/dma.ts";
import { SpiI2s, SPI2_BASE, SPI3_BASE } from "../stm32f401/spi-i2s.ts";
import { Tim1 } from "../stm32f401/tim1.ts";
import { IRQ_TIM5, Nvic } from "../stm32f401/nvic.ts";
import { Wm8731, WM8731_ADDRESS } from "../devices/wm8731.ts";
import { Max98357a } from "../devices/max98357a.ts";

export interface PicoModelOptions {
  /** The codec does not answer on I2C (unpowered, miswired): every write NAKs. */
  codecAbsent?: boolean;
  /** How SD_MODE is wired, i.e. what the amplifier plays: see emulator/devices/max98357a.ts. Default "mix". */
  ampChannel?: "mix" | "left" | "right";
  /** HSE crystal, Hz. The Pico's is 8 MHz. */
  hseHz?: number;
}

export interface PicoOptions extends MachineOptions, PicoModelOptions {}

export interface PicoModels {
  rcc: Rcc;
  gpio: { A: GpioPort; B: GpioPort; C: GpioPort; H: GpioPort };
  dma: Dma;
  spi2: SpiI2s;
  spi3: SpiI2s;
  tim1: Tim1;
  nvic: Nvic;
  codec: Wm8731;
  amp: Max98357a;
  /** Everything to map on the bus. */
  peripherals: Peripheral[];
  /** "codec" then "spk". */
  outputs: OutputRecorder[];
}

/** The board's wiring (README.md "Wiring"), checked against the datasheet AF table as it is built. */
export const PICO_WIRING = {
  i2s2: [["B", 13, "I2S2_CK"], ["B", 9, "I2S2_WS"], ["B", 15, "I2S2_SD"]],
  i2s3: [["B", 3, "I2S3_CK"], ["A", 4, "I2S3_WS"], ["B", 5, "I2S3_SD"]],
  mclk: ["A", 8, "TIM1_CH1"],
  ampSdMode: "A5",
  i2c1: { scl: "B6", sda: "B7" },
} as const;

/** The models, on any MachineServices (the Machine, or a test's fake). */
export function createPicoModels(services: MachineServices, options: PicoModelOptions = {}): PicoModels {
  const rcc = new Rcc(services, { hseHz: options.hseHz });
  const gpio = {
    A: new GpioPort("A", services, rcc),
    B: new GpioPort("B", services, rcc),
    C: new GpioPort("C", services, rcc),
    H: new GpioPort("H", services, rcc),
  };
  const pin = (p: readonly [string, number, string]): PinFunction => pinFunction(gpio[p[0] as "A" | "B"], p[1], p[2]);
  const dma = new Dma(services, rcc);
  const spi2 = new SpiI2s(services, rcc, dma, {
    name: "SPI2",
    base: SPI2_BASE,
    enableBit: APB1ENR_SPI2EN,
    txRequest: "SPI2_TX",
    pins: PICO_WIRING.i2s2.map(pin),
    mckNote: "I2S2_MCK (PC6) is not bonded out on UFQFPN48",
  });
  const spi3 = new SpiI2s(services, rcc, dma, {
    name: "SPI3",
    base: SPI3_BASE,
    enableBit: APB1ENR_SPI3EN,
    txRequest: "SPI3_TX",
    pins: PICO_WIRING.i2s3.map(pin),
    mckNote: "I2S3_MCK (PC7) is not bonded out on UFQFPN48",
  });
  const tim1 = new Tim1(services, rcc, pin(PICO_WIRING.mclk));
  const nvic = new Nvic();
  const codec = new Wm8731(services, {
    name: "codec",
    absent: options.codecAbsent,
    mclk: { hz: () => tim1.ch1Hz(), duty: () => tim1.ch1Duty(), problem: () => tim1.ch1Problem() },
  });
  const amp = new Max98357a(services, { sdModePin: PICO_WIRING.ampSdMode, channel: options.ampChannel, name: "spk" });
  spi2.connect(codec);
  spi3.connect(amp);
  return {
    rcc,
    gpio,
    dma,
    spi2,
    spi3,
    tim1,
    nvic,
    codec,
    amp,
    peripherals: [rcc, gpio.A, gpio.B, gpio.C, gpio.H, dma, spi2, spi3, tim1, nvic],
    outputs: [codec.recorder, amp.recorder],
  };
}

export interface PicoBoard {
  machine: Machine;
  /** "codec" (WM8731 line/headphone out) and "spk" (MAX98357A). */
  outputs: OutputRecorder[];
  models: PicoModels;
}

/** A Machine for dist/pico-wm8731.js: BOARD PICO_R1_3, 5100 JsVars, LED1 = B2, the models mapped and wired. */
export function createPicoMachine(options: PicoOptions = {}): PicoBoard {
  const { codecAbsent, ampChannel, hseHz, ...machineOptions } = options;
  const machine = new Machine({
    board: "PICO_R1_3",
    jsVarTotal: 5100,
    ...machineOptions,
    pinAliases: { LED1: "B2", ...(machineOptions.pinAliases ?? {}) },
  });
  const models = createPicoModels(machine, { codecAbsent, ampChannel, hseHz });
  for (const p of models.peripherals) machine.map(p);
  // TIM5 is Espruino's utility timer: masking its NVIC line (ICER1 bit 18)
  // holds the EXEC timer tasks, as on the board.
  models.nvic.onEnableChange(() => machine.setTimerInterruptMasked(!models.nvic.isEnabled(IRQ_TIM5)));
  machine.attachI2C("I2C1", WM8731_ADDRESS, models.codec);
  // I2C1 is on PB6/PB7 (AF4) or PB8/PB9; the codec is wired to PB6 (SCL) / PB7 (SDA).
  machine.i2c.I2C1!.validateSetup = (o) =>
    o.scl === PICO_WIRING.i2c1.scl && o.sda === PICO_WIRING.i2c1.sda
      ? ""
      : `the WM8731 is wired to SCL ${PICO_WIRING.i2c1.scl} / SDA ${PICO_WIRING.i2c1.sda}; setup used SCL ${o.scl} / SDA ${o.sda}`;
  return { machine, outputs: models.outputs, models };
}
