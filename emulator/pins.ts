// GPIO pins as the firmware drives them with digitalWrite/pinMode: the level
// and mode last set on each pin, and listeners (a model watching an enable
// line, e.g. the MAX98357A's SD_MODE). Pins are named as Espruino names them
// ("B5"); an alias is a pin global that is another pin's name (LED1 is B2 on
// the Pico).

/** Default pin globals: those firmware/types/espruino.d.ts declares. */
export const DEFAULT_PINS: readonly string[] = [
  "B3", "B5", "B6", "B7", "B9", "B10", "B12", "B13", "B15",
  "A4", "A5", "A6", "A7", "A8", "C7", "LED1",
];

/** The pins of one machine. */
export class Pins {
  private readonly levels = new Map<string, boolean>();
  private readonly modes = new Map<string, string>();
  private readonly listeners = new Map<string, Array<(level: boolean) => void>>();

  /** `names`: the pin globals to define; `aliases`: { LED1: "B2" } style. */
  constructor(
    readonly names: readonly string[],
    readonly aliases: Readonly<Record<string, string>>,
  ) {}

  /** The pin name a global or string stands for (alias resolved). */
  resolve(pin: string): string {
    return this.aliases[pin] ?? pin;
  }

  /** Level last written, undefined if never. */
  level(pin: string): boolean | undefined {
    return this.levels.get(this.resolve(pin));
  }

  /** digitalWrite: set the level and tell the pin's listeners. */
  write(pin: string, level: boolean): void {
    const name = this.resolve(pin);
    this.levels.set(name, level);
    const list = this.listeners.get(name);
    if (list) for (const l of list) l(level);
  }

  /** Mode last set with pinMode, undefined if never. */
  mode(pin: string): string | undefined {
    return this.modes.get(this.resolve(pin));
  }

  setMode(pin: string, mode: string): void {
    this.modes.set(this.resolve(pin), mode);
  }

  /** Call `listener` whenever the firmware writes `pin`. */
  onWrite(pin: string, listener: (level: boolean) => void): void {
    const name = this.resolve(pin);
    let list = this.listeners.get(name);
    if (!list) this.listeners.set(name, (list = []));
    list.push(listener);
  }
}
