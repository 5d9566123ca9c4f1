// Wolfson/Cirrus WM8731 stereo codec, DAC side, as an I2C device plus an I2S
// sink. Control: 2-wire mode, 7-bit address 0x1A with CSB low (0x1B with CSB
// high); each write is two bytes, B[15:9] register address and B[8:0] data
// (WM8731 datasheet "Software control interface"); the part cannot be read.
//
// Registers and reset values (datasheet register map; the same defaults are
// in Linux sound/soc/codecs/wm8731.c wm8731_reg_defaults):
//   R0/R1 line in 0x097   R2/R3 headphone out 0x079 (LRHPBOTH/RLHPBOTH bit 8)
//   R4 analogue path 0x00A (BYPASS 3, DACSEL 4)
//   R5 digital path 0x008  (DACMU 3)
//   R6 power down 0x09F    (LINEINPD 0, MICPD 1, ADCPD 2, DACPD 3, OUTPD 4,
//                           OSCPD 5, CLKOUTPD 6, POWEROFF 7; 1 = powered down)
//   R7 interface 0x00A     (FORMAT 1:0: 00 right, 01 left, 10 I2S, 11 DSP;
//                           IWL 3:2: 16/20/24/32 bits; LRP 4; LRSWAP 5; MS 6; BCLKINV 7)
//   R8 sampling 0x000      (USB/NORMAL 0, BOSR 1, SR 5:2, CLKIDIV2 6, CLKODIV2 7)
//   R9 active 0x000        (ACTIVE 0)
//   R15 reset              (writing 0 resets every register)
// Sample rates: datasheet "Audio data sampling rates", normal-mode and
// USB-mode tables (USB mode: MCLK 12 MHz, BOSR 0 = 250 fs, 1 = 272 fs).
// The datasheet recommends clearing ACTIVE before changing R7 or R8.
//
// The DAC plays (and the recorder records) only while: ACTIVE=1, POWEROFF=0,
// DACPD=0, OUTPD=0, DACSEL=1, DACMU=0, the link runs, and the link matches
// the codec: same format, codec in slave mode, enough BCLKs per slot for IWL,
// an MCLK the sampling-control setting accepts, and DACLRC at the rate R8
// implies from that MCLK. A mismatch is a fault; the rest are normal states.

import type { HardwareFault, I2CDevice, MachineServices } from "../hardware";
import type { I2SFormat, I2SSink } from "./i2s-bus";
import { SampleRecorder } from "./recorder";

export const WM8731_ADDRESS = 0x1a;

export const R_LINVOL = 0;
export const R_RINVOL = 1;
export const R_LOUT1V = 2;
export const R_ROUT1V = 3;
export const R_APANA = 4;
export const R_APDIGI = 5;
export const R_PWR = 6;
export const R_IFACE = 7;
export const R_SRATE = 8;
export const R_ACTIVE = 9;
export const R_RESET = 15;

export const DEFAULTS = [0x097, 0x097, 0x079, 0x079, 0x00a, 0x008, 0x09f, 0x00a, 0x000, 0x000];

export const APANA_DACSEL = 1 << 4;
export const APDIGI_DACMU = 1 << 3;
export const PWR_DACPD = 1 << 3;
export const PWR_OUTPD = 1 << 4;
export const PWR_POWEROFF = 1 << 7;
export const IFACE_LRP = 1 << 4;
export const IFACE_LRSWAP = 1 << 5;
export const IFACE_MS = 1 << 6;
export const SRATE_USB = 1 << 0;
export const SRATE_BOSR = 1 << 1;
export const SRATE_CLKIDIV2 = 1 << 6;

const FORMATS: I2SFormat["standard"][] = ["lsb", "msb", "philips", "pcm"];
const FORMAT_NAMES = ["right-justified", "left-justified", "I2S", "DSP"];
const IWL_BITS = [16, 20, 24, 32];

/**
 * DAC rate factor for each SR[3:0] the datasheet tables list (DAC column):
 * fs = (core clock / base oversampling) * factor.
 */
const DAC_FACTOR: Record<number, number> = {
  0b0000: 1,
  0b0001: 1 / 6,
  0b0010: 1,
  0b0011: 1 / 6,
  0b0110: 2 / 3,
  0b0111: 2,
  0b1000: 1,
  0b1001: 2 / 11,
  0b1010: 1,
  0b1011: 2 / 11,
  0b1111: 2,
};

/** The master clock the board feeds into XTI/MCLK. */
export interface MasterClock {
  /** Frequency in Hz; 0 when nothing drives the pin. */
  hz(): number;
  /** High fraction of the period. */
  duty(): number;
  /** Why there is no clock, for messages ("" when there is one). */
  problem(): string;
}

export interface Wm8731Options {
  /** Recorder / BE name. */
  name?: string;
  /** Simulate a missing or unpowered codec: every transfer NAKs. */
  absent?: boolean;
  mclk: MasterClock;
}

function close(a: number, b: number, tolerance: number): boolean {
  return Math.abs(a - b) <= tolerance * b;
}

export class Wm8731 implements I2CDevice, I2SSink {
  readonly recorder: SampleRecorder;
  absent: boolean;
  private services: MachineServices;
  private mclk: MasterClock;
  private regs = DEFAULTS.slice();
  private link: I2SFormat | null = null;
  /** Faults already reported for the current configuration (no repeats). */
  private reported = new Set<string>();
  private dirty = true;
  private playing = false;
  /** Register writes received, in order: [register, data]. */
  readonly writes: Array<[number, number]> = [];

  constructor(services: MachineServices, options: Wm8731Options) {
    this.services = services;
    this.mclk = options.mclk;
    this.absent = options.absent ?? false;
    this.recorder = new SampleRecorder(options.name ?? "codec");
  }

  register(r: number): number {
    return this.regs[r];
  }

  // --- I2C ----------------------------------------------------------------

  write(bytes: Uint8Array): boolean {
    if (this.absent) return false;
    if (bytes.length !== 2) {
      this.fault("WM8731.control", `a write must be 2 bytes (7-bit register, 9-bit data); got ${bytes.length}: ignored`);
      return true;
    }
    const reg = bytes[0] >> 1;
    const data = ((bytes[0] & 1) << 8) | bytes[1];
    this.writes.push([reg, data]);
    this.writeRegister(reg, data);
    return true;
  }

  read(_count: number): Uint8Array | null {
    // The WM8731 control interface is write-only: nothing acknowledges a read.
    return null;
  }

  private writeRegister(reg: number, data: number): void {
    this.dirty = true;
    if (reg === R_RESET) {
      if (data !== 0) {
        this.fault("WM8731.R15", `reset needs data 0, got 0x${data.toString(16)}: ignored`);
        return;
      }
      this.regs = DEFAULTS.slice();
      this.reported.clear();
      return;
    }
    if (reg > R_ACTIVE) {
      this.fault(`WM8731.R${reg}`, "no such register: ignored");
      return;
    }
    if ((reg === R_IFACE || reg === R_SRATE) && this.regs[R_ACTIVE] & 1 && data !== this.regs[reg]) {
      this.fault(`WM8731.R${reg}`, "changed while ACTIVE=1 (datasheet: clear ACTIVE before changing the interface or sampling control)");
    }
    this.regs[reg] = data;
    // Simultaneous load of both channels (LRINBOTH / LRHPBOTH and their mirrors).
    if ((reg === R_LINVOL || reg === R_LOUT1V) && data & 0x100) this.regs[reg + 1] = (this.regs[reg + 1] & 0x100) | (data & 0xff);
    if ((reg === R_RINVOL || reg === R_ROUT1V) && data & 0x100) this.regs[reg - 1] = (this.regs[reg - 1] & 0x100) | (data & 0xff);
  }

  // --- I2S ----------------------------------------------------------------

  start(format: I2SFormat): void {
    this.link = format;
    this.dirty = true;
    this.recorder.clockStarted(this.services.now(), format.sampleRate);
  }

  stop(): void {
    this.link = null;
    this.playing = false;
  }

  frame(left: number, right: number): void {
    if (this.dirty || this.mclkChanged()) this.evaluate();
    if (!this.playing) {
      this.recorder.skip();
      return;
    }
    const iface = this.regs[R_IFACE];
    const swap = ((iface & IFACE_LRSWAP) !== 0) !== ((iface & IFACE_LRP) !== 0);
    if (swap) this.recorder.push(right, left);
    else this.recorder.push(left, right);
  }

  private lastMclk = -1;
  private mclkChanged(): boolean {
    const hz = this.mclk.hz();
    if (hz === this.lastMclk) return false;
    this.lastMclk = hz;
    return true;
  }

  /** Why the DAC is silent right now ("" when it plays): for tests and the console. */
  silentReason(): string {
    const r = this.regs;
    if (!(r[R_ACTIVE] & 1)) return "ACTIVE=0";
    if (r[R_PWR] & PWR_POWEROFF) return "POWEROFF=1";
    if (r[R_PWR] & PWR_DACPD) return "DACPD=1";
    if (r[R_PWR] & PWR_OUTPD) return "OUTPD=1";
    if (!(r[R_APANA] & APANA_DACSEL)) return "DACSEL=0";
    if (r[R_APDIGI] & APDIGI_DACMU) return "DACMU=1 (soft mute)";
    if (!this.link) return "no I2S clock on BCLK/DACLRC";
    const p = this.linkProblem();
    if (p) return p.message;
    return "";
  }

  isPlaying(): boolean {
    return this.playing;
  }

  private evaluate(): void {
    this.dirty = false;
    const reason = this.silentReason();
    // A misconfiguration of the link is reported once the codec is really
    // trying to play (active, powered, DAC routed), not while it is being set up.
    if (reason && this.link && this.regs[R_ACTIVE] & 1) {
      const p = this.linkProblem();
      if (p) this.fault(p.register, p.message);
    }
    const wasPlaying = this.playing;
    this.playing = reason === "";
    if (this.playing && !wasPlaying && this.link) this.recorder.setSampleRate(this.link.sampleRate);
  }

  /** The expected DAC rate for R8 and this MCLK, or an explanation. */
  expectedRate(mclkHz: number): { rate: number } | { register: string; message: string } {
    const s = this.regs[R_SRATE];
    const sr = (s >> 2) & 0xf;
    const bosr = (s & SRATE_BOSR) !== 0;
    const usb = (s & SRATE_USB) !== 0;
    const core = s & SRATE_CLKIDIV2 ? mclkHz / 2 : mclkHz;
    const factor = DAC_FACTOR[sr];
    const srText = `SR=${sr.toString(2).padStart(4, "0")} BOSR=${bosr ? 1 : 0} ${usb ? "USB" : "normal"} mode`;
    if (factor === undefined) return { register: "WM8731.R8", message: `${srText} is not in the datasheet's sample-rate tables` };
    const family44 = (sr & 0b1000) !== 0;
    if (usb) {
      if (bosr !== family44) return { register: "WM8731.R8", message: `${srText} is not in the datasheet's USB-mode table` };
      if (!close(core, 12e6, 0.001)) {
        return { register: "WM8731.R8", message: `USB mode needs a 12 MHz master clock; XTI/MCLK runs at ${(core / 1e6).toFixed(4)} MHz` };
      }
      return { rate: (core / (bosr ? 272 : 250)) * factor };
    }
    const want = family44 ? (bosr ? 16.9344e6 : 11.2896e6) : bosr ? 18.432e6 : 12.288e6;
    if (!close(core, want, 0.001)) {
      return { register: "WM8731.R8", message: `${srText} needs a ${(want / 1e6).toFixed(4)} MHz master clock; XTI/MCLK runs at ${(core / 1e6).toFixed(4)} MHz` };
    }
    return { rate: (core / (bosr ? 384 : 256)) * factor };
  }

  private linkProblem(): { register: string; message: string } | null {
    const link = this.link;
    if (!link) return null;
    const iface = this.regs[R_IFACE];
    if (iface & IFACE_MS) {
      return { register: "WM8731.R7", message: "MS=1 (codec is clock master) while the STM32 drives BCLK and DACLRC: both drive the clock lines" };
    }
    const fmt = iface & 3;
    if (FORMATS[fmt] !== link.standard) {
      return { register: "WM8731.R7", message: `FORMAT=${fmt.toString(2).padStart(2, "0")} (${FORMAT_NAMES[fmt]}) but the controller sends ${link.standard} framing` };
    }
    const iwl = IWL_BITS[(iface >> 2) & 3];
    if (iwl > link.channelBits) {
      return { register: "WM8731.R7", message: `IWL=${iwl} bits but each slot has only ${link.channelBits} BCLKs` };
    }
    const problem = this.mclk.problem();
    const hz = this.mclk.hz();
    if (problem || hz === 0) return { register: "WM8731.MCLK", message: `no master clock on XTI/MCLK: ${problem || "not driven"}` };
    const duty = this.mclk.duty();
    if (duty < 0.4 || duty > 0.6) {
      return { register: "WM8731.MCLK", message: `master clock duty cycle ${(duty * 100).toFixed(0)}% outside 40:60..60:40` };
    }
    const expected = this.expectedRate(hz);
    if (!("rate" in expected)) return expected;
    if (!close(link.sampleRate, expected.rate, 0.001)) {
      return {
        register: "WM8731.R8",
        message: `DAC runs at ${expected.rate.toFixed(1)} Hz for this setting and a ${(hz / 1e6).toFixed(4)} MHz MCLK, but DACLRC comes at ${link.sampleRate.toFixed(1)} Hz`,
      };
    }
    return null;
  }

  private fault(register: string, message: string): void {
    const key = register + message;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.services.fault(register, message);
  }
}

export type { HardwareFault };
