// A small fake of the machine's services for driving the Pico models directly
// through their registers, with no firmware and no Machine involved.

import type { HardwareFault, MachineServices } from "../../emulator/hardware.ts";

export class FakeServices implements MachineServices {
  t = 0;
  faults: HardwareFault[] = [];
  regions: Array<{ base: number; bytes: Uint8Array; buffer: ArrayBufferLike }> = [];
  next = 0x20000000;
  levels = new Map<string, boolean>();
  modes = new Map<string, string>();
  listeners = new Map<string, Array<(l: boolean) => void>>();
  now(): number {
    return this.t;
  }
  fault(register: string, message: string): void {
    this.faults.push({ time: this.t, register, message });
  }
  readMemory16(address: number): number {
    for (const r of this.regions) {
      const off = address - r.base;
      if (off >= 0 && off + 1 < r.bytes.length) return r.bytes[off] | (r.bytes[off + 1] << 8);
    }
    throw new Error(`no memory at 0x${address.toString(16)}`);
  }
  peekRegister(): number {
    return 0;
  }
  pinLevel(pin: string): boolean | undefined {
    return this.levels.get(pin);
  }
  onPin(pin: string, listener: (level: boolean) => void): void {
    this.listeners.set(pin, [...(this.listeners.get(pin) ?? []), listener]);
  }
  drive(pin: string, level: boolean): void {
    this.levels.set(pin, level);
    for (const l of this.listeners.get(pin) ?? []) l(level);
  }
  /**
   * What Espruino's defragmenter (E.defrag(), jsvDefragment in src/jsvar.c)
   * does to an unlocked flat string: the data moves to a new address and the
   * old block is zeroed (it is free memory from then on). Returns the new address.
   */
  move(v: Int16Array): number {
    const r = this.regions.find((x) => x.buffer === v.buffer);
    if (!r) throw new Error("move: not a flat buffer");
    this.regions.push({ base: r.base, bytes: new Uint8Array(r.bytes.length), buffer: new ArrayBuffer(0) });
    r.base = this.next;
    this.next += (r.bytes.length + 3) & ~3;
    return r.base;
  }
  /** A flat buffer's address, like E.getAddressOf(buf, true): stable per buffer. */
  addressOf(v: Int16Array): number {
    const existing = this.regions.find((r) => r.buffer === v.buffer);
    if (existing) return existing.base;
    const base = this.next;
    this.regions.push({ base, bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), buffer: v.buffer });
    this.next += (v.byteLength + 3) & ~3;
    return base;
  }
}
