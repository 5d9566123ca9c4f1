// MAX98357A amplifier: no control port; SD_MODE on a GPIO. Open-drain drive:
// low = shutdown (below 0.16 V); released, the breakout's 1 MOhm pull-up to
// VIN and the chip's ~100 kOhm pull-down put SD_MODE in the 0.16..0.77 V
// window: (L+R)/2 mono mix (MAX98357A datasheet, SD_MODE table).

import { LinkPart } from "./i2s-dma";

export class Max98357a implements LinkPart {
  name: string;
  pin: Pin;

  constructor(name: string, sdMode: Pin) {
    this.name = name;
    this.pin = sdMode;
  }

  open(): string {
    pinMode(this.pin, "opendrain");
    digitalWrite(this.pin, 1);
    return "";
  }

  checkRate(rate: number): string {
    // Datasheet: 8 kHz to 96 kHz, no MCLK needed.
    if (rate < 8000 || rate > 96000) return this.name + ": " + rate + " Hz: the MAX98357A takes 8000..96000 Hz";
    return "";
  }

  prepare(): string {
    return "";
  }

  close(): void {
    digitalWrite(this.pin, 0);
  }
}
