// A clock made by an STM32F4 advanced-control timer (TIM1) as a PWM square
// wave on channel 1: the Pico makes the WM8731's 12 MHz MCLK this way,
// because its package bonds out neither I2S MCK pin (boards/pico-wm8731/
// README.md "Clocking"). Linux models the same as a clock provider on top of
// a PWM (drivers/clk/clk-pwm.c, "pwm-clock"), which the codec then takes as
// its "mclk"; so the timer lives here, not in the codec driver.
//
// Implements Clock (firmware/clock.ts). Registers: RM0368 ch. 12 (regs.ts).

import { Clock } from "../../firmware/clock";
import { AfPin, afPin } from "./gpio";
import { setBits } from "./io";
import { apb2TimerClockHz } from "./rcc";
import { RCC_APB2ENR, TIM_ARR, TIM_BDTR, TIM_CCER, TIM_CCMR1, TIM_CCR1, TIM_CR1, TIM_EGR, TIM_PSC } from "./regs";
import { decimal } from "../../firmware/format";

/** Wiring of a timer clock: which timer, its enable bit, the CH1 pin, the rate. */
export interface PwmClockWiring {
  /** Base address of an advanced-control timer on APB2 (TIM1): BDTR.MOE must be set for its outputs. */
  timer: number;
  /** Its RCC_APB2ENR enable bit. */
  apb2Bit: number;
  /** The channel 1 output pin and its AF number. */
  pin: AfPin;
  /** Output frequency, Hz: the timer clock must divide to it exactly. */
  hz: number;
}

export class TimPwmClock implements Clock {
  hz: number;
  wiring: PwmClockWiring;

  constructor(wiring: PwmClockWiring) {
    this.wiring = wiring;
    this.hz = wiring.hz;
  }

  /**
   * The timer clock (84 MHz on the Pico) divided by ARR + 1 (7 for 12 MHz),
   * PWM mode 1 with CCR1 = ceil((ARR + 1) / 2) (4 of 7: 57 % duty, inside the
   * 40..60 % the WM8731 accepts). Derived from the same 8 MHz crystal as
   * PLLI2S, so MCLK and the I2S frame clock cannot drift. Main loop only.
   * Context: main.
   */
  enable(): string {
    const w = this.wiring;
    const t = w.timer;
    setBits(RCC_APB2ENR, w.apb2Bit, w.apb2Bit);
    const ticks = apb2TimerClockHz() / this.hz;
    if (ticks !== Math.floor(ticks) || ticks < 2) {
      return "timer clock " + decimal(apb2TimerClockHz() / 1e6, 6) + " MHz cannot make " + decimal(this.hz / 1e6, 6) + " MHz";
    }
    poke32(t + TIM_PSC, 0); // divide by 1
    poke32(t + TIM_ARR, ticks - 1);
    poke32(t + TIM_CCR1, Math.ceil(ticks / 2)); // high while CNT < CCR1
    poke32(t + TIM_CCMR1, (6 << 4) | (1 << 3)); // OC1M = 110 PWM mode 1, OC1PE preload
    poke32(t + TIM_CCER, 1); // CC1E, active high
    poke32(t + TIM_BDTR, 1 << 15); // MOE, main output enable (TIM1 is an advanced timer)
    poke32(t + TIM_EGR, 1); // UG, load PSC/ARR/CCR1
    poke32(t + TIM_CR1, 1); // CEN
    afPin(w.pin);
    return "";
  }

  /** CR1.CEN = 0: the output stops. Context: main. */
  disable(): void {
    poke32(this.wiring.timer + TIM_CR1, 0);
  }
}
