// Maxim MAX98357A class-D amplifier with an I2S input: no control port, only
// SD_MODE on a GPIO. Linux: sound/soc/codecs/max98357a.c (sdmode-gpios).
// Open-drain drive: low = shutdown (below 0.16 V); released, the breakout's
// 1 MOhm pull-up to VIN and the chip's ~100 kOhm pull-down put SD_MODE in the
// 0.16..0.77 V window: (L+R)/2 mono mix (MAX98357A datasheet, SD_MODE table).
//
// Implements CodecDriver (firmware/codec.ts); every method runs in the main
// loop only.

import { CodecDriver } from "../firmware/codec";
import { StreamParams } from "../firmware/pcm";

export class Max98357a implements CodecDriver {
  name: string;
  /** SD_MODE, by Espruino pin name ("A5"). */
  pin: string;

  /** Main loop (boot). */
  constructor(name: string, sdMode: string) {
    this.name = name;
    this.pin = sdMode;
  }

  /** Release SD_MODE (open drain): the amplifier leaves shutdown. Context: main. */
  startup(): string {
    pinMode(this.pin, "opendrain");
    digitalWrite(this.pin, 1);
    return "";
  }

  /** A check only. Context: main. */
  hwParams(params: StreamParams): string {
    // Datasheet: 8 kHz to 96 kHz, no MCLK needed.
    if (params.rate < 8000 || params.rate > 96000) return this.name + ": " + params.rate + " Hz: the MAX98357A takes 8000..96000 Hz";
    return "";
  }

  /** Nothing to program. Context: main. */
  prepare(): string {
    return "";
  }

  /** SD_MODE low: shutdown. Context: main. */
  shutdown(): void {
    digitalWrite(this.pin, 0);
  }
}
