// Wolfson/Cirrus WM8731 codec (headphone/line out), playback only: control
// port on I2C, master clock from a Clock. Linux: sound/soc/codecs/wm8731.c;
// Teensy Audio Library: control_wm8731.cpp.
//
// Implements CodecDriver (firmware/codec.ts); every method runs in the main
// loop only (I2C transfers block, and the interrupt never calls a codec).
// Register numbers, bits and defaults: WM8731 datasheet register map (also
// wm8731.c); write format: 7-bit register address then 9-bit data, two bytes
// (datasheet "2-wire serial control").

import { Clock } from "../firmware/clock";
import { CodecDriver } from "../firmware/codec";
import { StreamParams } from "../firmware/pcm";

/** Where the codec's control port is: Espruino's bus name and pin names, 7-bit address (0x1a with CSB low). */
export interface I2cWiring {
  bus: string;
  scl: string;
  sda: string;
  address: number;
}

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
// crystal oscillator off (MCLK comes from outside into XTI/MCLK), CLKOUT off.
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

/** MCLK: 12 MHz for USB mode, the only mode srate() knows. */
const MCLK_HZ = 12e6;

/**
 * R8 sampling control for a 12 MHz MCLK in USB mode (bit 0 = 1), BOSR bit 1
 * = 0 (250 fs), SR bits 5:2 from the datasheet's USB-mode table (DAC rate):
 * 0011 = 8 kHz (12 MHz / 1500), 0110 = 32 kHz (/375), 0000 = 48 kHz (/250).
 * 16 kHz has no entry in any WM8731 table. -1 for any other rate or MCLK.
 * Context: main.
 */
function srate(rate: number, mclkHz: number): number {
  if (mclkHz !== MCLK_HZ) return -1;
  if (rate === 8000) return (3 << 2) | 1;
  if (rate === 32000) return (6 << 2) | 1;
  if (rate === 48000) return 1;
  return -1;
}

export class Wm8731 implements CodecDriver {
  name: string;
  i2c: EspruinoI2C;
  wiring: I2cWiring;
  mclk: Clock;
  setupDone: boolean;

  /** `i2c` is the Espruino bus object wiring.bus names (I2C1). Main loop (boot). */
  constructor(name: string, i2c: EspruinoI2C, wiring: I2cWiring, mclk: Clock) {
    this.name = name;
    this.i2c = i2c;
    this.wiring = wiring;
    this.mclk = mclk;
    this.setupDone = false;
  }

  /** Write registers [reg, data, reg, data...]; "" or the NAK as an error. Context: main. */
  write(pairs: number[]): string {
    const w = this.wiring;
    try {
      for (let i = 0; i < pairs.length; i += 2) {
        this.i2c.writeTo(w.address, [(pairs[i] << 1) | (pairs[i + 1] >> 8), pairs[i + 1] & 255]);
      }
    } catch (e) {
      return this.name + ": WM8731 at 0x" + w.address.toString(16) + " did not answer on " + w.bus + " (SCL " + w.scl + ", SDA " + w.sda + "): " + e;
    }
    return "";
  }

  /** MCLK on, I2C up, reset, then the playback setup with the outputs still off. Context: main. */
  startup(): string {
    const err = this.mclk.enable();
    if (err) return this.name + ": MCLK: " + err;
    if (!this.setupDone) {
      this.i2c.setup({ scl: this.wiring.scl, sda: this.wiring.sda, bitrate: 100000 });
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

  /** A check only. Context: main. */
  hwParams(params: StreamParams): string {
    if (srate(params.rate, this.mclk.hz) < 0) {
      return this.name + ": " + params.rate + " Hz: the WM8731 has no such rate with a " + this.mclk.hz / 1e6 + " MHz MCLK (8000, 32000, 48000 Hz at 12 MHz)";
    }
    return "";
  }

  /** Context: main. */
  prepare(params: StreamParams): string {
    // ACTIVE off around the sampling-control change (datasheet advice),
    // then on, then the outputs.
    return this.write([R_ACTIVE, 0, R_SRATE, srate(params.rate, this.mclk.hz), R_ACTIVE, 1, R_PWR, PWR_DAC_ONLY]);
  }

  /** Power off, then MCLK off. Context: main. */
  shutdown(): void {
    this.write([R_ACTIVE, 0, R_PWR, PWR_ALL_OFF]);
    this.mclk.disable();
  }
}
