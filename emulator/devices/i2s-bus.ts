// What travels on an I2S bus, between a controller model (the STM32's
// SPI/I2S) and whatever sits on its CK/WS/SD lines. MCU-agnostic.

/** The framing a controller puts on the wire, derived from its registers. */
export interface I2SFormat {
  /** I2SSTD: Philips I2S, MSB-justified (left), LSB-justified (right), or PCM. */
  standard: "philips" | "msb" | "lsb" | "pcm";
  /** Bits of audio data per channel (DATLEN). */
  dataBits: number;
  /** Bit clocks per channel slot (CHLEN): 16 or 32, so BCLK = 2 * channelBits * fs. */
  channelBits: number;
  /** Frame (LRCLK/WS) rate in Hz. */
  sampleRate: number;
}

/** A device listening on the bus. */
export interface I2SSink {
  /** The controller started clocking with this format. */
  start(format: I2SFormat): void;
  /** One stereo frame, signed 16-bit left and right. */
  frame(left: number, right: number): void;
  /** The controller stopped clocking (I2SE cleared or its clock lost). */
  stop(): void;
}
