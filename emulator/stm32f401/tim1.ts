// TIM1, the advanced-control timer (RM0368 ch. 12), reduced to what this
// board uses it for: a PWM square wave on TIM1_CH1 (PA8, AF1) that serves as
// the WM8731's master clock, because the UFQFPN48 package bonds out neither
// I2S MCK pin (PC6, PC7).
// Registers (RM0368 §12.4, CMSIS TIM_TypeDef): CR1 0x00 (CEN bit 0),
// EGR 0x14 (UG bit 0), CCMR1 0x18 (OC1PE bit 3, OC1M bits 6:4), CCER 0x20
// (CC1E bit 0, CC1P bit 1), PSC 0x28, ARR 0x2C, CCR1 0x34, BDTR 0x44 (MOE bit 15).
// Upcounting PWM mode 1 (OC1M=110): OC1 is active while CNT < CCR1, period
// (PSC+1)*(ARR+1) timer clocks.

import type { MachineServices, Peripheral } from "../hardware";
import { pinProblem, type PinFunction } from "./gpio";
import { APB2ENR_TIM1EN, Rcc, RCC_APB2ENR } from "./rcc";

export const TIM1_BASE = 0x40010000;
export const TIM_CR1 = 0x00;
export const TIM_EGR = 0x14;
export const TIM_CCMR1 = 0x18;
export const TIM_CCER = 0x20;
export const TIM_CNT = 0x24;
export const TIM_PSC = 0x28;
export const TIM_ARR = 0x2c;
export const TIM_CCR1 = 0x34;
export const TIM_BDTR = 0x44;

export const CR1_CEN = 1 << 0;
export const CCER_CC1E = 1 << 0;
export const CCER_CC1P = 1 << 1;
export const BDTR_MOE = 1 << 15;

const NAMES: Record<number, string> = {
  [TIM_CR1]: "CR1",
  [TIM_EGR]: "EGR",
  [TIM_CCMR1]: "CCMR1",
  [TIM_CCER]: "CCER",
  [TIM_CNT]: "CNT",
  [TIM_PSC]: "PSC",
  [TIM_ARR]: "ARR",
  [TIM_CCR1]: "CCR1",
  [TIM_BDTR]: "BDTR",
};

export class Tim1 implements Peripheral {
  readonly name = "TIM1";
  readonly base = TIM1_BASE;
  readonly size = 0x400;
  private services: MachineServices;
  private rcc: Rcc;
  private ch1Pin: PinFunction;
  // ARR resets to 0xFFFF (RM0368 TIMx_ARR reset value).
  private regs: Record<number, number> = { [TIM_ARR]: 0xffff };

  constructor(services: MachineServices, rcc: Rcc, ch1Pin: PinFunction) {
    this.services = services;
    this.rcc = rcc;
    this.ch1Pin = ch1Pin;
  }

  read32(offset: number): number {
    return (this.regs[offset] ?? 0) >>> 0;
  }

  write32(offset: number, value: number): void {
    if (!this.rcc.enabled(RCC_APB2ENR, APB2ENR_TIM1EN)) {
      this.services.fault(`TIM1.${NAMES[offset] ?? "0x" + offset.toString(16)}`, "write ignored: RCC.APB2ENR.TIM1EN=0 (TIM1 not clocked)");
      return;
    }
    if (offset === TIM_EGR) return; // UG: reload the prescaler, nothing to keep
    this.regs[offset] = value >>> 0;
  }

  /** Why CH1 puts out no clock on PA8, or "" when it does. */
  ch1Problem(): string {
    if (!this.rcc.enabled(RCC_APB2ENR, APB2ENR_TIM1EN)) return "TIM1 not clocked (RCC.APB2ENR.TIM1EN=0)";
    if (!(this.regs[TIM_CR1] & CR1_CEN)) return "TIM1 counter stopped (CR1.CEN=0)";
    const ocm = (this.regs[TIM_CCMR1] >>> 4) & 7;
    if (ocm !== 6 && ocm !== 7) return `TIM1 CH1 not in PWM mode (CCMR1.OC1M=${ocm.toString(2).padStart(3, "0")})`;
    if (!(this.regs[TIM_CCER] & CCER_CC1E)) return "TIM1 CH1 output disabled (CCER.CC1E=0)";
    if (!(this.regs[TIM_BDTR] & BDTR_MOE)) return "TIM1 main output disabled (BDTR.MOE=0; advanced timers need it)";
    const pin = pinProblem(this.ch1Pin);
    if (pin) return `${pin.register}: ${pin.message}`;
    return "";
  }

  /** Frequency of the square wave on TIM1_CH1, 0 when none comes out. */
  ch1Hz(): number {
    if (this.ch1Problem()) return 0;
    const period = ((this.regs[TIM_PSC] & 0xffff) + 1) * ((this.regs[TIM_ARR] & 0xffff) + 1);
    return this.rcc.apb2TimerClockHz() / period;
  }

  /** High fraction of the CH1 wave (PWM mode 1: CCR1 / (ARR + 1), inverted by mode 2 or CC1P). */
  ch1Duty(): number {
    const arr1 = (this.regs[TIM_ARR] & 0xffff) + 1;
    let duty = Math.min(this.regs[TIM_CCR1] & 0xffff, arr1) / arr1;
    if (((this.regs[TIM_CCMR1] >>> 4) & 7) === 7) duty = 1 - duty;
    if (this.regs[TIM_CCER] & CCER_CC1P) duty = 1 - duty;
    return duty;
  }
}
