// STM32F4 GPIO as pin control: put a pin in an alternate function (RM0368
// ch. 8, GPIOx_MODER/OSPEEDR/AFRL/AFRH). Zephyr's pinctrl_stm32.c in one
// function. Main loop only (read-modify-write of registers Espruino shares).

import { setBits } from "./io";
import { GPIO_AFRL, GPIO_MODER, GPIO_OSPEEDR, GPIO_STRIDE, GPIOA } from "./regs";

/** A pin in an alternate function: its Espruino name ("B13") and AF number (datasheet AF table). */
export interface AfPin {
  pin: string;
  af: number;
}

/**
 * Put a pin in alternate-function mode (GPIOx_AFRL/AFRH 4 bits a pin),
 * OSPEEDR "fast" (10): the fastest signal here is the 12 MHz MCLK, BCLK is at
 * most 1.536 MHz. AFR first, then MODER, so the pin never shows a wrong AF.
 * Main loop only.
 * Context: main.
 */
export function afPin(p: AfPin): void {
  // "B13": port letter A.. at GPIOA + 0x400 per port, then the pin number.
  const port = GPIOA + GPIO_STRIDE * (p.pin.charCodeAt(0) - 65);
  const pin = +p.pin.substr(1);
  const shift = (pin & 7) * 4;
  setBits(port + GPIO_AFRL + (pin >> 3) * 4, 15 << shift, p.af << shift);
  setBits(port + GPIO_OSPEEDR, 3 << (2 * pin), 2 << (2 * pin));
  setBits(port + GPIO_MODER, 3 << (2 * pin), 2 << (2 * pin));
}
