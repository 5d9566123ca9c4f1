// The I2C buses as the firmware sees them (Espruino's I2C1, I2C2 objects):
// device models attach by 7-bit address; the firmware's setup, writeTo and
// readFrom become transactions that cost the CPU their bus time (Espruino's
// I2C is blocking), and a device that does not answer is a NAK, thrown as
// the firmware's "I2C: no ACK" Error.

import type { I2CDevice } from "./hardware.ts";

/** What the firmware passed to I2Cx.setup(). */
export interface I2CSetup {
  scl: string | undefined;
  sda: string | undefined;
  /** Hz. */
  bitrate: number;
}

/** An I2C bus as the firmware sees it (I2C1, I2C2): devices attach by 7-bit address. */
export class I2CBus {
  private readonly devices = new Map<number, I2CDevice>();
  /** Set by the firmware's setup(); null until then. */
  setupOptions: I2CSetup | null = null;
  /** Optional check of setup() (e.g. pins that carry this bus on the board); return a fault message or "". */
  validateSetup: ((options: I2CSetup) => string) | null = null;

  constructor(readonly name: string) {}

  /** Throws if the address is taken. */
  attach(address7: number, device: I2CDevice): void {
    if (this.devices.has(address7)) throw new Error(`${this.name}: address 0x${hex2(address7)} already in use`);
    this.devices.set(address7, device);
  }
  detach(address7: number): void {
    this.devices.delete(address7);
  }
  device(address7: number): I2CDevice | undefined {
    return this.devices.get(address7);
  }
}

/** What the buses need from the machine. */
export interface I2CHost {
  fault(register: string, message: string): void;
  /** An Error of the firmware's realm. */
  makeError(message: string): Error;
  /** The CPU is blocked on the bus for `ns` of virtual time. */
  busWait(ns: number): void;
}

const NS_PER_S = 1e9;

/** A machine's I2C buses and the firmware's transactions on them. */
export class I2CBuses {
  /** The buses by global name ("I2C1", ...). */
  readonly byName: Readonly<Record<string, I2CBus>>;

  constructor(
    names: readonly string[],
    private readonly host: I2CHost,
  ) {
    const buses: Record<string, I2CBus> = {};
    for (const name of names) buses[name] = new I2CBus(name);
    this.byName = buses;
  }

  /** Attach a device model to a bus; throws for an unknown bus or a taken address. */
  attach(bus: string, address7: number, device: I2CDevice): void {
    const b = this.byName[bus];
    if (!b) throw new Error(`no I2C bus ${bus}`);
    b.attach(address7, device);
  }

  /** I2Cx.setup(): recorded, and checked by the board's validateSetup. */
  setup(bus: string, options: I2CSetup): void {
    const b = this.byName[bus]!;
    b.setupOptions = options;
    const problem = b.validateSetup?.(options);
    if (problem) this.host.fault(`${bus}.setup`, problem);
  }

  /** I2Cx.writeTo: a write transaction; throws the firmware's NAK error. */
  write(bus: string, address: number, bytes: Uint8Array): void {
    const b = this.ready(bus, "writeTo");
    this.transfer(b, bytes.length);
    const dev = b.device(address & 0x7f);
    if (!dev || !dev.write(bytes)) throw this.nak(address);
  }

  /** I2Cx.readFrom: a read transaction of `count` bytes; throws the firmware's NAK error. */
  read(bus: string, address: number, count: number): Uint8Array {
    const b = this.ready(bus, "readFrom");
    this.transfer(b, count);
    const dev = b.device(address & 0x7f);
    const data = dev ? dev.read(count) : null;
    if (!data) throw this.nak(address);
    return data;
  }

  /** A transaction before setup() is a fault; the bus then runs at Espruino's default 100 kHz. */
  private ready(bus: string, op: string): I2CBus {
    const b = this.byName[bus]!;
    if (!b.setupOptions) {
      this.host.fault(`${bus}.setup`, `${op} before ${bus}.setup()`);
      b.setupOptions = { scl: undefined, sda: undefined, bitrate: 100000 };
    }
    return b;
  }

  /** The CPU waits on the bus: start, address, `bytes` bytes, stop (9 clocks a byte). */
  private transfer(b: I2CBus, bytes: number): void {
    const bitrate = b.setupOptions?.bitrate || 100000;
    this.host.busWait(Math.round(((9 * (bytes + 1) + 2) * NS_PER_S) / bitrate));
  }

  private nak(address: number): Error {
    return this.host.makeError(`I2C: no ACK from device 0x${hex2(address & 0x7f)}`);
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, "0");
}
