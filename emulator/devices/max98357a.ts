// Maxim (Analog Devices) MAX98357A: I2S-input class-D mono amplifier with no
// control port. Datasheet facts used: the A variant takes Philips I2S (the B
// variant left-justified); sample rates 8 kHz to 96 kHz; 16/24/32-bit data
// with 32, 48 or 64 BCLKs per LRCLK period; no MCLK. SD_MODE selects the
// mode by voltage, through an internal ~100 kOhm pull-down: below 0.16 V
// shutdown, 0.16..0.77 V (L+R)/2, 0.77..1.4 V right channel, above 1.4 V
// left channel.
//
// Simplification (documented in boards/pico-wm8731/README.md): the pin level
// the firmware drives decides on/off, and the channel is a wiring option:
// "mix" for the common breakout whose 1 MOhm pull-up to VIN lands SD_MODE in
// the (L+R)/2 window when the MCU releases it (open-drain high), "left" for
// SD_MODE driven straight from a 3.3 V push-pull pin, "right" for a divider
// into the 0.77..1.4 V window. The recorder stores the mono output in both
// slots of each stereo frame.

import type { MachineServices } from "../hardware";
import type { I2SFormat, I2SSink } from "./i2s-bus";
import { SampleRecorder } from "./recorder";

export interface Max98357aOptions {
  /** Pin the firmware drives into SD_MODE, "A5" style. */
  sdModePin: string;
  channel?: "mix" | "left" | "right";
  name?: string;
}

export class Max98357a implements I2SSink {
  readonly recorder: SampleRecorder;
  private services: MachineServices;
  private opts: Max98357aOptions;
  private enabled: boolean;
  private link: I2SFormat | null = null;
  private linkOk = false;

  constructor(services: MachineServices, options: Max98357aOptions) {
    this.services = services;
    this.opts = options;
    this.recorder = new SampleRecorder(options.name ?? "spk");
    this.enabled = services.pinLevel(options.sdModePin) === true;
    services.onPin(options.sdModePin, (level) => {
      this.enabled = level;
    });
  }

  /** SD_MODE is high: the amplifier is out of shutdown. */
  isEnabled(): boolean {
    return this.enabled;
  }

  isPlaying(): boolean {
    return this.enabled && this.linkOk;
  }

  start(format: I2SFormat): void {
    this.recorder.clockStarted(this.services.now(), format.sampleRate);
    this.link = format;
    this.linkOk = false;
    if (format.standard !== "philips") {
      this.services.fault("MAX98357A.LRCLK", `the A variant takes Philips I2S; the controller sends ${format.standard} framing`);
      return;
    }
    if (format.sampleRate < 8000 * 0.999 || format.sampleRate > 96000 * 1.001) {
      this.services.fault("MAX98357A.LRCLK", `${format.sampleRate.toFixed(1)} Hz is outside the supported 8 kHz..96 kHz`);
      return;
    }
    if (format.channelBits !== 16 && format.channelBits !== 32) {
      this.services.fault("MAX98357A.BCLK", `${2 * format.channelBits} BCLKs per frame is not one of 32, 48 or 64`);
      return;
    }
    this.linkOk = true;
    this.recorder.setSampleRate(format.sampleRate);
  }

  stop(): void {
    this.link = null;
    this.linkOk = false;
  }

  frame(left: number, right: number): void {
    if (!this.enabled || !this.linkOk) {
      this.recorder.skip();
      return;
    }
    const ch = this.opts.channel ?? "mix";
    const out = ch === "left" ? left : ch === "right" ? right : (left + right) >> 1;
    this.recorder.push(out, out);
  }
}
