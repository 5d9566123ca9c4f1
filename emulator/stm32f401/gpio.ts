// GPIO ports of the STM32F401 in the UFQFPN48 package of the Espruino Pico
// (RM0368 ch. 8 "General-purpose I/Os"; register map §8.4: MODER 0x00,
// OTYPER 0x04, OSPEEDR 0x08, PUPDR 0x0C, IDR 0x10, ODR 0x14, BSRR 0x18,
// LCKR 0x1C, AFRL 0x20, AFRH 0x24).
//
// Which pins exist: STM32F401xD/E datasheet pinout table, UQFN48 column, as
// transcribed in Espruino's boards/pins/stm32f401.csv
// (https://github.com/espruino/Espruino/blob/master/boards/pins/stm32f401.csv):
// PA0-PA15, PB0-PB10, PB12-PB15 (no PB11: that pin is VCAP_1), PC13-PC15,
// PH0-PH1. PC6/PC7 (I2S2_MCK/I2S3_MCK) and PC9 (MCO_2, I2S_CKIN) are NOT
// bonded out.
//
// Alternate functions: STM32F401xD/E datasheet "Alternate function mapping"
// table, as transcribed in Espruino's boards/pins/stm32f401_af.csv.

import type { MachineServices, Peripheral } from "../hardware";
import { AHB1ENR_GPIOAEN, AHB1ENR_GPIOBEN, AHB1ENR_GPIOCEN, AHB1ENR_GPIOHEN, Rcc, RCC_AHB1ENR } from "./rcc";

export const GPIO_MODER = 0x00;
export const GPIO_OTYPER = 0x04;
export const GPIO_OSPEEDR = 0x08;
export const GPIO_PUPDR = 0x0c;
export const GPIO_IDR = 0x10;
export const GPIO_ODR = 0x14;
export const GPIO_BSRR = 0x18;
export const GPIO_LCKR = 0x1c;
export const GPIO_AFRL = 0x20;
export const GPIO_AFRH = 0x24;

export type PortName = "A" | "B" | "C" | "H";

export const GPIO_BASES: Record<PortName, number> = {
  A: 0x40020000,
  B: 0x40020400,
  C: 0x40020800,
  H: 0x40021c00,
};

const ENABLE_BITS: Record<PortName, number> = {
  A: AHB1ENR_GPIOAEN,
  B: AHB1ENR_GPIOBEN,
  C: AHB1ENR_GPIOCEN,
  H: AHB1ENR_GPIOHEN,
};

/** Pins bonded out on UFQFPN48, as a bit mask per port. */
export const BONDED: Record<PortName, number> = {
  A: 0xffff,
  B: 0xffff & ~(1 << 11),
  C: (1 << 13) | (1 << 14) | (1 << 15),
  H: (1 << 0) | (1 << 1),
};

/**
 * The alternate functions this board's models care about, from the datasheet
 * AF table: signal -> list of [pin, AF number] on this package.
 */
export const AF_TABLE: Record<string, Array<[string, number]>> = {
  I2S2_CK: [["PB10", 5], ["PB13", 5]],
  I2S2_WS: [["PB9", 5], ["PB12", 5]],
  I2S2_SD: [["PB15", 5]], // PC3 also has it, not bonded on UFQFPN48
  I2S3_CK: [["PB3", 6]], // PC10 not bonded
  I2S3_WS: [["PA4", 6], ["PA15", 6]],
  I2S3_SD: [["PB5", 6]], // PC12, PD6 not bonded
  TIM1_CH1: [["PA8", 1]],
  MCO_1: [["PA8", 0]],
  I2C1_SCL: [["PB6", 4], ["PB8", 4]],
  I2C1_SDA: [["PB7", 4], ["PB9", 4]],
};

/** The AF number `signal` has on `pin` ("PB13"), or -1 when that pin cannot carry it. */
export function afFor(signal: string, pin: string): number {
  const rows = AF_TABLE[signal];
  if (!rows) return -1;
  for (const [p, af] of rows) if (p === pin) return af;
  return -1;
}

/** Reset values (RM0368 §8.4): PA13-PA15 and PB3/PB4 start as JTAG/SWD (AF0). */
function resetValues(port: PortName): Record<number, number> {
  const r: Record<number, number> = {};
  r[GPIO_MODER] = port === "A" ? 0xa8000000 : port === "B" ? 0x00000280 : 0;
  r[GPIO_OSPEEDR] = port === "A" ? 0x0c000000 : port === "B" ? 0x000000c0 : 0;
  r[GPIO_PUPDR] = port === "A" ? 0x64000000 : port === "B" ? 0x00000100 : 0;
  r[GPIO_OTYPER] = 0;
  r[GPIO_ODR] = 0;
  r[GPIO_AFRL] = 0;
  r[GPIO_AFRH] = 0;
  r[GPIO_LCKR] = 0;
  return r;
}

export type PinMode = "input" | "output" | "alternate" | "analog";
const MODES: PinMode[] = ["input", "output", "alternate", "analog"];

export class GpioPort implements Peripheral {
  readonly name: string;
  readonly base: number;
  readonly size = 0x400;
  readonly port: PortName;
  private regs: Record<number, number>;
  private services: MachineServices;
  private rcc: Rcc;

  constructor(port: PortName, services: MachineServices, rcc: Rcc) {
    this.port = port;
    this.name = "GPIO" + port;
    this.base = GPIO_BASES[port];
    this.services = services;
    this.rcc = rcc;
    this.regs = resetValues(port);
  }

  private clocked(): boolean {
    return this.rcc.enabled(RCC_AHB1ENR, ENABLE_BITS[this.port]);
  }

  read32(offset: number): number {
    if (offset === GPIO_IDR) return this.regs[GPIO_ODR] >>> 0;
    if (offset === GPIO_BSRR) return 0;
    return (this.regs[offset] ?? 0) >>> 0;
  }

  write32(offset: number, value: number): void {
    value = value >>> 0;
    const reg = `${this.name}.${REG_NAMES[offset] ?? "0x" + offset.toString(16)}`;
    if (!this.clocked()) {
      this.services.fault(reg, `write ignored: RCC.AHB1ENR.GPIO${this.port}EN=0 (port not clocked)`);
      return;
    }
    if (offset === GPIO_IDR) return;
    if (offset === GPIO_BSRR) {
      const set = value & 0xffff;
      const reset = value >>> 16;
      this.regs[GPIO_ODR] = ((this.regs[GPIO_ODR] & ~reset) | set) & 0xffff;
      return;
    }
    if (offset === GPIO_MODER) {
      const old = this.regs[GPIO_MODER];
      for (let pin = 0; pin < 16; pin++) {
        const mode = (value >>> (2 * pin)) & 3;
        const was = (old >>> (2 * pin)) & 3;
        if (mode !== was && mode !== 0 && !(BONDED[this.port] & (1 << pin))) {
          this.services.fault(
            reg,
            `P${this.port}${pin} set to ${MODES[mode]} mode but it is not bonded out on the UFQFPN48 package (STM32F401 datasheet pinout)`,
          );
        }
      }
    }
    this.regs[offset] = value;
  }

  mode(pin: number): PinMode {
    return MODES[(this.regs[GPIO_MODER] >>> (2 * pin)) & 3];
  }

  alternateFunction(pin: number): number {
    const reg = pin < 8 ? GPIO_AFRL : GPIO_AFRH;
    return (this.regs[reg] >>> (4 * (pin & 7))) & 0xf;
  }

  /** OSPEEDR field: 0 low, 1 medium, 2 fast, 3 high. */
  speed(pin: number): number {
    return (this.regs[GPIO_OSPEEDR] >>> (2 * pin)) & 3;
  }
}

const REG_NAMES: Record<number, string> = {
  [GPIO_MODER]: "MODER",
  [GPIO_OTYPER]: "OTYPER",
  [GPIO_OSPEEDR]: "OSPEEDR",
  [GPIO_PUPDR]: "PUPDR",
  [GPIO_IDR]: "IDR",
  [GPIO_ODR]: "ODR",
  [GPIO_BSRR]: "BSRR",
  [GPIO_LCKR]: "LCKR",
  [GPIO_AFRL]: "AFRL",
  [GPIO_AFRH]: "AFRH",
};

/** One pin of a port wired to a peripheral signal, e.g. PB13 as I2S2_CK. */
export interface PinFunction {
  port: GpioPort;
  pin: number;
  /** Datasheet signal name, e.g. "I2S2_CK". */
  signal: string;
  /** AF number the datasheet gives this signal on this pin. */
  af: number;
}

export function pinLabel(p: PinFunction): string {
  return `P${p.port.port}${p.pin}`;
}

/** Look the wiring up in the AF table; throws (a board wiring bug, not a firmware fault) if the pin cannot carry the signal. */
export function pinFunction(port: GpioPort, pin: number, signal: string): PinFunction {
  const label = `P${port.port}${pin}`;
  const af = afFor(signal, label);
  if (af < 0) throw new Error(`${label} cannot carry ${signal} on STM32F401 UFQFPN48 (datasheet AF table)`);
  if (!(BONDED[port.port] & (1 << pin))) throw new Error(`${label} is not bonded out on UFQFPN48`);
  return { port, pin, signal, af };
}

/**
 * Why `p` is not ready to carry its signal ("" when it is): wrong MODER or
 * wrong AF number. The result names the register to fix.
 */
export function pinProblem(p: PinFunction): { register: string; message: string } | null {
  const label = pinLabel(p);
  const mode = p.port.mode(p.pin);
  if (mode !== "alternate") {
    return { register: `${p.port.name}.MODER`, message: `${label} (${p.signal}) is in ${mode} mode, not alternate function` };
  }
  const af = p.port.alternateFunction(p.pin);
  if (af !== p.af) {
    return {
      register: `${p.port.name}.${p.pin < 8 ? "AFRL" : "AFRH"}`,
      message: `${label} (${p.signal}) selects AF${af}; ${p.signal} is AF${p.af} on this pin (STM32F401 datasheet AF table)`,
    };
  }
  return null;
}
