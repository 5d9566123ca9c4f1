// The memory bus: the address space the firmware's peek32/poke32 and the DMA
// models see. Two kinds of target:
//  - peripherals (hardware.ts Peripheral), mapped by a board at their
//    reference-manual base addresses; a register access is synced (every
//    model that keeps time is first brought up to now), routed by address
//    and handed to the model as an offset from its base;
//  - flat SRAM: every buffer the firmware asks E.getAddressOf about gets a
//    stable address from SRAM_BASE up, backed by the buffer itself, so a DMA
//    model reading that address reads what the firmware wrote.
// Unmapped or unaligned accesses are recorded as faults (the run's result
// lists them), never thrown: the firmware reads 0 and runs on, so one
// misconfiguration does not hide the next.

import { types as utilTypes } from "node:util";
import type { Peripheral } from "./hardware.ts";

/** Where the first flat buffer is placed (the STM32F401's SRAM, RM0368 §2.3). */
export const SRAM_BASE = 0x20000000;

/** "0x4000380C": an address as faults and messages print it. */
export function hex32(n: number): string {
  return "0x" + (n >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

/** The bus's view of virtual time. */
export interface BusClock {
  /** Virtual time, integer ns (the sync key: peripherals advance once per distinct value). */
  readonly nowNs: number;
  /** Virtual time, seconds (what Peripheral.advanceTo takes). */
  now(): number;
}

interface MemoryRegion {
  base: number;
  end: number;
  buffer: ArrayBuffer;
  bytes: Uint8Array;
}

/** The peripheral map and the flat SRAM regions of one machine. */
export class Bus {
  private readonly peripherals: Peripheral[] = [];
  private advancing: Peripheral[] = [];
  private lastPeripheral: Peripheral | null = null;
  private lastSyncNs = -1;

  private readonly regions: MemoryRegion[] = [];
  private readonly regionOf = new WeakMap<ArrayBuffer, MemoryRegion>();
  private lastRegion: MemoryRegion | null = null;
  private nextAddress = SRAM_BASE;

  /**
   * `fault(register, message)` records a bad access; `flatThresholdBytes`:
   * buffers up to this size are not flat (E.getAddressOf(buf, true) gives 0).
   */
  constructor(
    private readonly clock: BusClock,
    private readonly fault: (register: string, message: string) => void,
    private readonly flatThresholdBytes: number,
  ) {}

  // ===== peripherals ===============================================================

  /** Map a peripheral into the address space. Overlapping ranges are refused (throws). */
  map(peripheral: Peripheral): void {
    const lo = peripheral.base >>> 0;
    const hi = lo + peripheral.size;
    for (const p of this.peripherals) {
      if (lo < p.base + p.size && p.base < hi) {
        throw new Error(`bus: ${peripheral.name} [${hex32(lo)}, ${hex32(hi)}) overlaps ${p.name}`);
      }
    }
    this.peripherals.push(peripheral);
    this.peripherals.sort((a, b) => a.base - b.base);
    this.advancing = this.peripherals.filter((p) => typeof p.advanceTo === "function");
    this.lastSyncNs = -1;
  }

  /** The mapped peripherals, by base address. */
  get mapped(): readonly Peripheral[] {
    return this.peripherals;
  }

  /** Bring every peripheral that keeps time up to now (once per distinct time). */
  sync(): void {
    if (this.lastSyncNs === this.clock.nowNs) return;
    this.lastSyncNs = this.clock.nowNs;
    const now = this.clock.now();
    for (const p of this.advancing) p.advanceTo!(now);
  }

  /** The firmware's peek32: synced, routed, 0 and a fault if unmapped. */
  peek32(address: number): number {
    const a = address >>> 0;
    this.sync();
    const p = this.findPeripheral(a);
    if (!p) {
      this.fault(hex32(a), `peek32 from unmapped address ${hex32(a)}`);
      return 0;
    }
    if (a & 3) this.fault(`${p.name}+0x${(a - p.base).toString(16)}`, `unaligned peek32 at ${hex32(a)}`);
    return p.read32((a & ~3) - p.base) >>> 0;
  }

  /** The firmware's poke32: synced, routed to the model's write32, a fault if unmapped. */
  poke32(address: number, value: number): void {
    const a = address >>> 0;
    this.sync();
    const p = this.findPeripheral(a);
    if (!p) {
      this.fault(hex32(a), `poke32 of ${hex32(value)} to unmapped address ${hex32(a)}`);
      return;
    }
    if (a & 3) this.fault(`${p.name}+0x${(a - p.base).toString(16)}`, `unaligned poke32 at ${hex32(a)}`);
    p.write32((a & ~3) - p.base, value >>> 0);
  }

  /** A register read for a model: no sync, no fault, 0 if unmapped. */
  peekRegister(address: number): number {
    const p = this.findPeripheral(address >>> 0);
    return p ? p.read32((address >>> 0) - p.base) >>> 0 : 0;
  }

  private findPeripheral(a: number): Peripheral | null {
    const last = this.lastPeripheral;
    if (last && a >= last.base && a < last.base + last.size) return last;
    for (const p of this.peripherals) {
      if (a >= p.base && a < p.base + p.size) return (this.lastPeripheral = p);
    }
    return null;
  }

  // ===== flat SRAM ================================================================

  /** E.getAddressOf: the buffer's (or view's) flat address, allocated on first use; 0 if not a buffer or not flat. */
  addressOf(value: unknown, flatOnly: boolean): number {
    let buffer: ArrayBuffer;
    let offset = 0;
    if (ArrayBuffer.isView(value)) {
      buffer = value.buffer as ArrayBuffer;
      offset = value.byteOffset;
    } else if (utilTypes.isArrayBuffer(value)) {
      buffer = value;
    } else {
      return 0;
    }
    if (flatOnly && buffer.byteLength <= this.flatThresholdBytes) return 0;
    let r = this.regionOf.get(buffer);
    if (!r) {
      const size = (buffer.byteLength + 3) & ~3;
      r = { base: this.nextAddress, end: this.nextAddress + buffer.byteLength, buffer, bytes: new Uint8Array(buffer) };
      this.nextAddress += Math.max(size, 4);
      this.regions.push(r);
      this.regionOf.set(buffer, r);
    }
    return r.base + offset;
  }

  /** The buffers that have flat addresses, in address order. */
  flatBuffers(): ArrayBuffer[] {
    return this.regions.map((r) => r.buffer);
  }

  /** Read 16 bits little-endian (0 and a fault if unmapped). */
  readMemory16(address: number): number {
    const r = this.region(address, 2);
    if (!r) return 0;
    const off = (address >>> 0) - r.base;
    return (r.bytes[off] | (r.bytes[off + 1] << 8)) & 0xffff;
  }

  /** Read 32 bits little-endian (0 and a fault if unmapped). */
  readMemory32(address: number): number {
    const r = this.region(address, 4);
    if (!r) return 0;
    const off = (address >>> 0) - r.base;
    const b = r.bytes;
    return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  }

  /** Write 16 bits little-endian (a fault if unmapped). */
  writeMemory16(address: number, value: number): void {
    const r = this.region(address, 2);
    if (!r) return;
    const off = (address >>> 0) - r.base;
    r.bytes[off] = value & 0xff;
    r.bytes[off + 1] = (value >>> 8) & 0xff;
  }

  /** The buffer and offset behind a flat address, if any (for models that want bulk access). */
  resolveAddress(address: number): { buffer: ArrayBuffer; offset: number; base: number } | null {
    const r = this.findRegion(address >>> 0);
    return r ? { buffer: r.buffer, offset: (address >>> 0) - r.base, base: r.base } : null;
  }

  private region(address: number, width: number): MemoryRegion | null {
    const a = address >>> 0;
    const r = this.findRegion(a);
    if (!r || a + width > r.end) {
      this.fault(hex32(a), `DMA/memory read of unmapped SRAM address ${hex32(a)}`);
      return null;
    }
    return r;
  }

  private findRegion(a: number): MemoryRegion | null {
    const last = this.lastRegion;
    if (last && a >= last.base && a < last.end) return last;
    const rs = this.regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (a < r.base) hi = mid - 1;
      else if (a >= r.end) lo = mid + 1;
      else return (this.lastRegion = r);
    }
    return null;
  }
}
