// Ambient declarations for the Espruino 2v29 globals the firmware uses.
// Only what the interpreter really offers (see ../shared/espruino-2v29-facts.md).

declare function peek32(address: number): number;
declare function poke32(address: number, value: number): void;
/** Seconds since boot, as a float. */
declare function getTime(): number;
declare function print(...text: unknown[]): void;
/** Base64 to a byte string (one character per byte). */
declare function atob(base64: string): string;
declare function setInterval(fn: () => void, ms: number): number;
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearInterval(id: number): void;
declare function clearTimeout(id: number): void;
declare function digitalWrite(pin: PinLike, value: boolean | number): void;
declare function pinMode(pin: PinLike, mode: string): void;

interface Pin {
  readonly __pin: never;
}
/**
 * A pin object (A5) or its name ("A5"): Espruino resolves either
 * (jshGetPinFromVar in src/jspin.c, used by digitalWrite, pinMode and
 * jsvReadConfigObject for I2C.setup), so wiring data can name pins as strings.
 */
type PinLike = Pin | string;
declare const B3: Pin;
declare const B5: Pin;
declare const B6: Pin;
declare const B7: Pin;
declare const B9: Pin;
declare const B10: Pin;
declare const B12: Pin;
declare const B13: Pin;
declare const B15: Pin;
declare const A4: Pin;
declare const A5: Pin;
declare const A6: Pin;
declare const A7: Pin;
declare const A8: Pin;
declare const C7: Pin;
declare const LED1: Pin;

interface EspruinoI2C {
  setup(options: { scl: PinLike; sda: PinLike; bitrate?: number }): void;
  /** Throws on a NAK. */
  writeTo(address: number, data: number[] | Uint8Array): void;
  readFrom(address: number, quantity: number): Uint8Array;
}
declare const I2C1: EspruinoI2C;
declare const I2C2: EspruinoI2C;

interface EspruinoE {
  /** Address of a variable's data; with flatOnly, non-zero only for flat storage. */
  getAddressOf(v: unknown, flatOnly: boolean): number;
  getSizeOf(v: unknown): number;
  on(event: string, fn: () => void): void;
  /**
   * A JavaScript function running machine code: at `addr`, or at offset
   * `addr` of `data` (copied into a flat string). Absent on SAVE_ON_FLASH builds.
   */
  nativeCall?(addr: number, signature: string, data?: string): (...args: number[]) => unknown;
}
declare const E: EspruinoE;

interface EspruinoMemory {
  free: number;
  usage: number;
  total: number;
  history: number;
  blocksize: number;
}
interface EspruinoProcess {
  memory(): EspruinoMemory;
  env: { VERSION: string; BOARD: string; [key: string]: unknown };
}
declare const process: EspruinoProcess;

interface EspruinoConsole {
  log(...text: unknown[]): void;
}
declare const console: EspruinoConsole;

interface TimerTaskOptions {
  type: "EXEC";
  fn: () => void;
  /** Milliseconds until the first run. */
  time: number;
  /** Milliseconds between runs. */
  interval: number;
}
interface TimerModule {
  add(options: TimerTaskOptions): number;
  remove(id: number): void;
}
declare function require(name: "timer"): TimerModule;

/** Espruino's global object: assigning a property defines a console command. */
declare const global: { [name: string]: unknown };
