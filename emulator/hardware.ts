// The contract between the emulator's machine (virtual time, bus, memory,
// pins, I2C, serial) and the models of the hardware it emulates. Peripheral
// and device models depend only on this file, never on the machine itself.

/** A memory-mapped peripheral: peek32/poke32 inside [base, base + size) land here. */
export interface Peripheral {
  /** Reference-manual name, e.g. "RCC", "SPI2", "DMA1". */
  readonly name: string;
  readonly base: number;
  readonly size: number;
  read32(offset: number): number;
  write32(offset: number, value: number): void;
  /** Bring the model's state up to virtual time `now` (seconds). */
  advanceTo?(now: number): void;
}

/** A device on an I2C bus, addressed by its 7-bit address. */
export interface I2CDevice {
  /** A write transaction; return false to NAK (the firmware's writeTo throws). */
  write(bytes: Uint8Array): boolean;
  /** A read transaction; null to NAK. */
  read(count: number): Uint8Array | null;
}

/** A misconfiguration the firmware made, named by the register it touched. */
export interface HardwareFault {
  /** Virtual time in seconds. */
  time: number;
  /** e.g. "SPI2.I2SCFGR" */
  register: string;
  message: string;
}

/** What a model may ask of the machine it is plugged into. */
export interface MachineServices {
  /** Virtual time in seconds. */
  now(): number;
  /** Record a misconfiguration; the machine reports it and the run's result lists it. */
  fault(register: string, message: string): void;
  /** Read a 16-bit little-endian value from emulated memory (flat buffers the firmware handed out with E.getAddressOf). */
  readMemory16(address: number): number;
  /** Read a 32-bit register of another peripheral without side effects (e.g. a DMA model checking RCC). */
  peekRegister(address: number): number;
  /** Current level of a GPIO pin as the firmware last drove it with digitalWrite ("B5" style names). */
  pinLevel(pin: string): boolean | undefined;
  /** Be told whenever the firmware drives `pin`. */
  onPin(pin: string, listener: (level: boolean) => void): void;
}

/** An audio output the emulator records: one per physical output of a board. */
export interface OutputRecorder {
  /** Console name of the BE that feeds it, e.g. "spk". */
  readonly name: string;
  /** Sample rate the hardware actually runs at, derived from registers (0 if never started). */
  sampleRate(): number;
  /** The frames the output played, back to back, interleaved stereo 16-bit (the time it was idle left out: see recording()). */
  samples(): Int16Array;
  /** Frames played while the output was powered and streaming. */
  framesPlayed(): number;
  /** What the output did from virtual time 0 (to `untilSeconds`, if later than its last frame), silence included. */
  recording(untilSeconds?: number): Recording;
}

/** An output on the machine's clock: frame n is at virtual time n / rate seconds. */
export interface Recording {
  /** Frames per second (0: the output never clocked a frame). */
  rate: number;
  /** Interleaved stereo 16-bit; zeros where the output was not playing. */
  samples: Int16Array;
  /** Frame ranges where the output was playing (powered and streaming), in time order. */
  spans: Array<{ start: number; frames: number }>;
  /**
   * The most timeline frames one device frame was held over (1 when the
   * output ran only at the timeline's rate; 6 for 8 kHz on a 48 kHz
   * timeline): a tone's lone zero sample then spans this many frames.
   */
  hold?: number;
}
