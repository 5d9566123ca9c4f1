// The part on the far end of a BE's I2S port: a codec or an amplifier (an
// ASoC codec component: sound/soc/codecs/wm8731.c, max98357a.c). The I2S
// port driver calls these in the order ASoC calls a codec DAI's ops.

import { StreamParams } from "./pcm";

/** A codec or amplifier. Methods return "" on success or an error message; they never throw. */
export interface CodecDriver {
  /** Power up the control path (I2C setup, reset, enable pin). Main loop only. */
  startup(): string;
  /** Can the part run at params.rate? A check only, no side effects. */
  hwParams(params: StreamParams): string;
  /** Program the part for params; called after the I2S port is configured, before the first trigger. Main loop only. */
  prepare(params: StreamParams): string;
  /** Power down. Main loop only. */
  shutdown(): void;
}
