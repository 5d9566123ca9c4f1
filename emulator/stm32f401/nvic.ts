// The Cortex-M4 NVIC's enable and pending registers (ARMv7-M ARM B3.4; ST
// PM0214 §4.3): ISER0-7 at 0xE000E100, ICER0-7 at 0xE000E180, ISPR0-7 at
// 0xE000E200, ICPR0-7 at 0xE000E280. Writing 1 sets (ISER/ISPR) or clears
// (ICER/ICPR) a line; writing 0 has no effect; both registers of a pair read
// back the current state. The STM32F401 has IRQs 0..84 (RM0368 Table 38);
// IRQ 15 is DMA1 Stream 4, 16 DMA1 Stream 5, 50 TIM5 (Espruino's utility
// timer, which runs the EXEC timer tasks), 67 OTG_FS.

import type { Peripheral } from "../hardware";

export const NVIC_BASE = 0xe000e100;
export const IRQ_DMA1_STREAM4 = 15;
export const IRQ_DMA1_STREAM5 = 16;
export const IRQ_TIM5 = 50;
export const IRQ_OTG_FS = 67;

export class Nvic implements Peripheral {
  readonly name = "NVIC";
  readonly base = NVIC_BASE;
  readonly size = 0x200;
  private enabled = new Uint32Array(8);
  private pending = new Uint32Array(8);
  private listeners: Array<() => void> = [];

  constructor() {
    // Espruino enables these at boot: its utility timer and USB.
    this.setBit(this.enabled, IRQ_TIM5, true);
    this.setBit(this.enabled, IRQ_OTG_FS, true);
  }

  private setBit(words: Uint32Array, irq: number, on: boolean): void {
    const bit = 1 << (irq & 31);
    words[irq >> 5] = on ? words[irq >> 5] | bit : words[irq >> 5] & ~bit;
  }

  /** Be told after every write to an enable register. */
  onEnableChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  isEnabled(irq: number): boolean {
    return (this.enabled[irq >> 5] & (1 << (irq & 31))) !== 0;
  }

  isPending(irq: number): boolean {
    return (this.pending[irq >> 5] & (1 << (irq & 31))) !== 0;
  }

  read32(offset: number): number {
    const i = (offset & 0x7f) >> 2;
    if (i > 7) return 0;
    return offset < 0x100 ? this.enabled[i] : this.pending[i];
  }

  write32(offset: number, value: number): void {
    const i = (offset & 0x7f) >> 2;
    if (i > 7) return;
    const words = offset < 0x100 ? this.enabled : this.pending;
    const clear = (offset & 0x80) !== 0;
    words[i] = clear ? words[i] & ~value : words[i] | value;
    if (words === this.enabled) for (const l of this.listeners) l();
  }
}
