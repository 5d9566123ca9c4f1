// The Espruino Pico (STM32F401CDU6, UFQFPN48) wired as boards/pico-wm8731
// describes: register-level models of RCC, GPIOA/B/C/H, DMA1, SPI2/SPI3 in
// I2S mode, TIM1 (the codec's MCLK) and the NVIC, each at its RM0368 address
// (RM0368 §2.3 Table 1), a WM8731 at 0x1A on I2C1 fed by I2S2, and a
// MAX98357A on I2S3 with SD_MODE on A5.
//
// Only the wiring is shared with the firmware (boards/pico-wm8731/wiring.ts:
// which port, which pin, which bus): the models keep their own register
// knowledge, so they check the drivers instead of agreeing with them. The
// wiring's register numbers (SPI base, enable bits, AF numbers) are the
// firmware's to use; a wrong one shows here as a fault.

import { Machine, type MachineOptions } from "../machine.ts";
import { FUNCTIONAL_STATEMENT_COST_US } from "../cost-model.ts";
import type { I2CDevice, MachineServices, OutputRecorder, Peripheral } from "../hardware.ts";
import { Rcc, APB1ENR_SPI2EN, APB1ENR_SPI3EN } from "../stm32f401/rcc.ts";
import { GpioPort, pinFunction, type PinFunction } from "../stm32f401/gpio.ts";
import { Dma } from "../stm32f401/dma.ts";
import { SpiI2s, SPI2_BASE, SPI3_BASE } from "../stm32f401/spi-i2s.ts";
import { Tim1, TIM1_BASE } from "../stm32f401/tim1.ts";
import { IRQ_TIM5, Nvic } from "../stm32f401/nvic.ts";
import { Wm8731, WM8731_ADDRESS } from "../devices/wm8731.ts";
import { Max98357a } from "../devices/max98357a.ts";
import { CODEC, SPK } from "../../boards/pico-wm8731/wiring.ts";

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

/** One I2S port of the wiring, by name: the model's own base address, enable bit and DMA request for it. */
const I2S_PORTS = {
  I2S2: { name: "SPI2", base: SPI2_BASE, enableBit: APB1ENR_SPI2EN, txRequest: "SPI2_TX", mckNote: "I2S2_MCK (PC6) is not bonded out on UFQFPN48" },
  I2S3: { name: "SPI3", base: SPI3_BASE, enableBit: APB1ENR_SPI3EN, txRequest: "SPI3_TX", mckNote: "I2S3_MCK (PC7) is not bonded out on UFQFPN48" },
} as const;

/** A wired pin ("B13") as the signal it carries, checked against the datasheet AF table (pinFunction throws otherwise). */
type Wired = { pin: string };

/** The models, on any MachineServices (the Machine, or a test's fake). */
export function createPicoModels(services: MachineServices, options: PicoModelOptions = {}): PicoModels {
  const rcc = new Rcc(services, { hseHz: options.hseHz });
  const gpio = {
    A: new GpioPort("A", services, rcc),
    B: new GpioPort("B", services, rcc),
    C: new GpioPort("C", services, rcc),
    H: new GpioPort("H", services, rcc),
  };
  const pin = (p: Wired, signal: string): PinFunction => {
    const port = p.pin[0];
    if (!(port in gpio)) throw new Error(`wiring: ${p.pin} is not a pin of this package`);
    return pinFunction(gpio[port as keyof typeof gpio], Number(p.pin.slice(1)), signal);
  };
  const dma = new Dma(services, rcc);
  const spi = (i2s: { name: string; ck: Wired; ws: Wired; sd: Wired }): SpiI2s => {
    if (!(i2s.name in I2S_PORTS)) throw new Error(`wiring: no model of ${i2s.name} (this board models I2S2 and I2S3)`);
    const port = I2S_PORTS[i2s.name as keyof typeof I2S_PORTS];
    return new SpiI2s(services, rcc, dma, {
      ...port,
      pins: [pin(i2s.ck, `${i2s.name}_CK`), pin(i2s.ws, `${i2s.name}_WS`), pin(i2s.sd, `${i2s.name}_SD`)],
    });
  };
  const codecPort = spi(CODEC.i2s);
  const spkPort = spi(SPK.i2s);
  const byName = (name: string): SpiI2s => {
    const found = [codecPort, spkPort].find((p) => p.name === name);
    if (!found) throw new Error(`wiring: nothing on ${name}; the Pico model expects SPI2 and SPI3 both wired`);
    return found;
  };
  const spi2 = byName("SPI2");
  const spi3 = byName("SPI3");
  if (CODEC.mclk.timer !== TIM1_BASE) throw new Error("wiring: the codec's MCLK timer is not TIM1, the only timer modelled");
  const tim1 = new Tim1(services, rcc, pin(CODEC.mclk.pin, "TIM1_CH1"));
  const nvic = new Nvic();
  const codec = new Wm8731(services, {
    name: CODEC.name,
    absent: options.codecAbsent,
    mclk: { hz: () => tim1.ch1Hz(), duty: () => tim1.ch1Duty(), problem: () => tim1.ch1Problem() },
  });
  const amp = new Max98357a(services, { sdModePin: SPK.sdMode, channel: options.ampChannel, name: SPK.name });
  codecPort.connect(codec);
  spkPort.connect(amp);
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
  /** The codec NAKs the next I2C write (an injected bus error: a loose wire, a brown-out); the race explorer's "nak" event. */
  nakNext(): void;
}

/** An I2C device that fails its next write when told to, and otherwise is the device it wraps. */
class NakInjector implements I2CDevice {
  pending = 0;
  constructor(private readonly device: I2CDevice) {}
  write(bytes: Uint8Array): boolean {
    if (this.pending > 0) {
      this.pending--;
      return false;
    }
    return this.device.write(bytes);
  }
  read(count: number): Uint8Array | null {
    return this.device.read(count);
  }
}

/**
 * A Machine for dist/pico-wm8731.js: BOARD PICO_R1_3, 5100 JsVars of 16 bytes, buffers flat above 17
 * bytes (JSV_FLAT_STRING_BREAK_EVEN with 13-bit references, src/jsutils.h), LED1 = B2, the models mapped and wired.
 */
export function createPicoMachine(options: PicoOptions = {}): PicoBoard {
  const { codecAbsent, ampChannel, hseHz, ...machineOptions } = options;
  const machine = new Machine({
    board: "PICO_R1_3",
    jsVarTotal: 5100,
    flatThresholdBytes: 17,
    // The functional cost, not the calibrated one: at the calibrated cost the
    // interrupt alone outlasts its period, so the emulated board would show
    // nothing but xruns. Summaries and npm run bench project the statements
    // counted onto the calibrated cost (emulator/cost-model.ts).
    statementCostUs: FUNCTIONAL_STATEMENT_COST_US,
    ...machineOptions,
    pinAliases: { LED1: "B2", ...(machineOptions.pinAliases ?? {}) },
  });
  const models = createPicoModels(machine, { codecAbsent, ampChannel, hseHz });
  for (const p of models.peripherals) machine.map(p);
  // TIM5 is Espruino's utility timer: masking its NVIC line (ICER1 bit 18)
  // holds the EXEC timer tasks, as on the board.
  models.nvic.onEnableChange(() => machine.setTimerInterruptMasked(!models.nvic.isEnabled(IRQ_TIM5)));
  // The model answers where a WM8731 with CSB low does (0x1a), not where the
  // wiring says: a driver writing elsewhere gets a NAK.
  const i2c = CODEC.i2c;
  const codecPort = new NakInjector(models.codec);
  machine.attachI2C(i2c.bus, WM8731_ADDRESS, codecPort);
  machine.i2c[i2c.bus]!.validateSetup = (o) =>
    o.scl === i2c.scl && o.sda === i2c.sda
      ? ""
      : `the WM8731 is wired to SCL ${i2c.scl} / SDA ${i2c.sda}; setup used SCL ${o.scl} / SDA ${o.sda}`;
  return {
    machine,
    outputs: models.outputs,
    models,
    nakNext: () => {
      codecPort.pending = 1;
    },
  };
}
