// WM8731 codec (headphone/line out) on I2C1: control port and master clock.
// Register numbers, bits and defaults: WM8731 datasheet register map
// (also Linux sound/soc/codecs/wm8731.c); write format: 7-bit register
// address then 9-bit data, two bytes (datasheet "2-wire serial control").

import { CodecDriver } from "../../firmware/codec";
import { StreamParams } from "../../firmware/pcm";
import { afPin, GPIOA, RCC_APB2ENR, setBits, TIM1, TIM1EN, tim1ClockHz } from "./stm32";

/** 7-bit address with CSB tied low (datasheet: 0011010). */
const ADDRESS = 0x1a;
const R_LOUT1V = 2;
const R_APANA = 4;
const R_APDIGI = 5;
const R_PWR = 6;
const R_IFACE = 7;
const R_SRATE = 8;
const R_ACTIVE = 9;
const R_RESET = 15;

// R6 power down (1 = off): LINEINPD 0, MICPD 1, ADCPD 2, DACPD 3, OUTPD 4,
// OSCPD 5, CLKOUTPD 6, POWEROFF 7. Playback only: DAC on, line/mic/ADC off,
// crystal oscillator off (MCLK comes from TIM1 into XTI/MCLK), CLKOUT off.
// The outputs stay off until ACTIVE is set (datasheet power-up order,
// against pops): 0x77 first, then 0x67 (OUTPD = 0).
const PWR_DAC_ONLY_OUTPUTS_OFF = 0x77;
const PWR_DAC_ONLY = 0x67;
/** Everything down, POWEROFF = 1. */
const PWR_ALL_OFF = 0xff;
/** R4: DACSEL bit 4 = 1 (DAC to outputs), BYPASS bit 3 = 0, MUTEMIC bit 1 = 1. */
const APANA_DAC = 0x12;
/** R5: DACMU bit 3 = 0 (not muted), DEEMP 2:1 = 00 (no de-emphasis), ADCHPD 0 = 0. */
const APDIGI_UNMUTED = 0x00;
/** R7: FORMAT 1:0 = 10 (I2S), IWL 3:2 = 00 (16 bits), LRP 0, LRSWAP 0, MS bit 6 = 0 (slave), BCLKINV 0. */
const IFACE_I2S16_SLAVE = 0x02;
/** R2 with LRHPBOTH (bit 8): both headphone channels LHPVOL = 1111001 (0 dB, the reset value). */
const HP_0DB_BOTH = 0x179;

/**
 * R8 sampling control for a 12 MHz MCLK in USB mode (bit 0 = 1), BOSR bit 1
 * = 0 (250 fs), SR bits 5:2 from the datasheet's USB-mode table (DAC rate):
 * 0011 = 8 kHz (12 MHz / 1500), 0110 = 32 kHz (/375), 0000 = 48 kHz (/250).
 * 16 kHz has no entry in any WM8731 table.
 */
function srate(rate: number): number {
  if (rate === 8000) return (3 << 2) | 1;
  if (rate === 32000) return (6 << 2) | 1;
  if (rate === 48000) return 1;
  return -1;
}

/** MCLK: 12 MHz for USB mode. */
const MCLK_HZ = 12e6;

export class Wm8731 implements CodecDriver {
  name: string;
  setupDone: boolean;

  constructor(name: string) {
    this.name = name;
    this.setupDone = false;
  }

  /** Write registers [reg, data, reg, data...]; "" or the NAK as an error. */
  write(pairs: number[]): string {
    try {
      for (let i = 0; i < pairs.length; i += 2) {
        I2C1.writeTo(ADDRESS, [(pairs[i] << 1) | (pairs[i + 1] >> 8), pairs[i + 1] & 255]);
      }
    } catch (e) {
      return this.name + ": WM8731 at 0x1a did not answer on I2C1 (SCL B6, SDA B7): " + e;
    }
    return "";
  }

  /**
   * TIM1 channel 1 on PA8 (AF1) as the codec's 12 MHz MCLK: the TIM1 clock
   * (84 MHz on the Pico) divided by ARR + 1 = 7, PWM mode 1 with CCR1 = 4
   * (57 % duty, inside the 40..60 % the codec accepts). Derived from the same
   * 8 MHz crystal as PLLI2S, so MCLK and the I2S frame clock cannot drift.
   */
  startMclk(): string {
    setBits(RCC_APB2ENR, TIM1EN, TIM1EN);
    const ticks = tim1ClockHz() / MCLK_HZ;
    if (ticks !== Math.floor(ticks) || ticks < 2) {
      return this.name + ": TIM1 clock " + tim1ClockHz() / 1e6 + " MHz cannot make a 12 MHz MCLK";
    }
    poke32(TIM1 + 0x28, 0); // PSC: divide by 1
    poke32(TIM1 + 0x2c, ticks - 1); // ARR
    poke32(TIM1 + 0x34, Math.ceil(ticks / 2)); // CCR1: high while CNT < CCR1
    poke32(TIM1 + 0x18, (6 << 4) | (1 << 3)); // CCMR1: OC1M = 110 PWM mode 1, OC1PE preload
    poke32(TIM1 + 0x20, 1); // CCER: CC1E, active high
    poke32(TIM1 + 0x44, 1 << 15); // BDTR: MOE, main output enable (TIM1 is an advanced timer)
    poke32(TIM1 + 0x14, 1); // EGR: UG, load PSC/ARR/CCR1
    poke32(TIM1 + 0x00, 1); // CR1: CEN
    afPin(GPIOA, 8, 1);
    return "";
  }

  startup(): string {
    const err = this.startMclk();
    if (err) return err;
    if (!this.setupDone) {
      I2C1.setup({ scl: B6, sda: B7, bitrate: 100000 });
      this.setupDone = true;
    }
    return this.write([
      R_RESET, 0, // every register to its default
      R_PWR, PWR_DAC_ONLY_OUTPUTS_OFF,
      R_APANA, APANA_DAC,
      R_APDIGI, APDIGI_UNMUTED,
      R_IFACE, IFACE_I2S16_SLAVE,
      R_LOUT1V, HP_0DB_BOTH,
    ]);
  }

  hwParams(params: StreamParams): string {
    if (srate(params.rate) < 0) {
      return this.name + ": " + params.rate + " Hz: the WM8731 has no such rate with a 12 MHz MCLK (8000, 32000, 48000 Hz)";
    }
    return "";
  }

  prepare(params: StreamParams): string {
    // ACTIVE off around the sampling-control change (datasheet advice),
    // then on, then the outputs.
    return this.write([R_ACTIVE, 0, R_SRATE, srate(params.rate), R_ACTIVE, 1, R_PWR, PWR_DAC_ONLY]);
  }

  shutdown(): void {
    this.write([R_ACTIVE, 0, R_PWR, PWR_ALL_OFF]);
    poke32(TIM1 + 0x00, 0); // CR1: CEN = 0, MCLK stops
  }
}
