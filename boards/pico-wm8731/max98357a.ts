// MAX98357A amplifier: no control port; SD_MODE on a GPIO. Open-drain drive:
// low = shutdown (below 0.16 V); released, the breakout's 1 MOhm pull-up to
// VIN and the chip's ~100 kOhm pull-down put SD_MODE in the 0.16..0.77 V
// window: (L+R)/2 mono mix (MAX98357A datasheet, SD_MODE table).

import { CodecDriver } from "../../firmware/codec";
import { StreamParams } from "../../firmware/pcm";

export class Max98357a implements CodecDriver {
  name: string;
  pin: Pin;

  constructor(name: string, sdMode: Pin) {
    this.name = name;
    this.pin = sdMode;
  }

  startup(): string {
    pinMode(this.pin, "opendrain");
    digitalWrite(this.pin, 1);
    return "";
  }

  hwParams(params: StreamParams): string {
    // Datasheet: 8 kHz to 96 kHz, no MCLK needed.
    if (params.rate < 8000 || params.rate > 96000) return this.name + ": " + params.rate + " Hz: the MAX98357A takes 8000..96000 Hz";
    return "";
  }

  prepare(): string {
    return "";
  }

  shutdown(): void {
    digitalWrite(this.pin, 0);
  }
}
