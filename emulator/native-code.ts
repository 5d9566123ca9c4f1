// E.nativeCall and atob for the emulator. A board runs the machine code it is
// given; the emulator cannot, so it recognises the code by its bytes
// (SHA-256) among the routines it knows, runs their reference semantics on
// the machine's flat memory (the buffers the firmware got E.getAddressOf
// addresses for, machine.resolveAddress) and charges their cost in virtual
// time. Anything it cannot do faithfully is an error naming what the board
// would do instead (crash or corrupt memory).
//
// Known routines: mix_saturating_s16, copy_s16 and zero_s16 (native/mix/mix.S,
// shipped as firmware/native/mix-thumb2.ts: one block of code, each routine
// entered at its own offset).
//
// The mix's cost, from the listing (`arm-none-eabi-objdump -d` of the object; the
// instruction count is checked against QEMU's count of executed
// instructions in test/native-mix-qemu.test.ts). For n samples, g = n >> 3
// groups of 8, p = (n >> 1) & 3 pairs left, o = n & 1:
//   instructions = 9 + 18 g + 6 p + 4 o        (4.5 a sample pair for long n)
// Cycles from the Cortex-M4 TRM (ARM DDI 0439, table 3-1 and "Load/store
// timings"): LDR 2, a neighbouring LDR/STR pipelined to 1, STR #imm 1,
// QADD16 1, PUSH/POP 1 + N, a taken branch or BX 1 + P with P the pipeline
// refill, 1 to 3 cycles. Block by block (optimistic / pessimistic):
//   entry    push, lsrs, beq                      7 / 14
//   group    8 ldr, 4 qadd16, 4 str, subs, bne   21 / 45 each
//   pairs    ubfx, cbz                            2 / 5
//   pair     2 ldr, qadd16, str, subs, bne        8 / 15 each
//   odd      lsls, beq                            2 / 5
//   last     2 ldrh, qadd16, strh                 5 / 10 when n is odd
//   exit     pop, bx                              7 / 13
// Optimistic: loads pipelined, P = 1, no wait state. Pessimistic: nothing
// pipelined (LDR and STR 2), P = 3 for every branch as if taken, plus one
// cycle per data access, because the code runs from SRAM (E.nativeCall
// copies it into a flat string there) and its fetches share the bus with
// the data. The emulator charges the pessimistic figure at the Pico's
// 84 MHz: 1477 cycles, 17.6 microseconds, for a 128-frame stereo period.
//
// copy_s16 is the same loop without the QADD16s (4 LDR then 4 STR a group),
// zero_s16 stores a zero register (no push or pop). The same rules give
//   copy   instructions 9 + 10 g + 4 p + 2 o;  cycles 18 + 12 g + 6 p + 3 o  /  37 + 29 g + 11 p + 6 o
//            (entry 7/14, group 12/29, pairs 2/5, pair 6/11, odd 2/5, last 3/6, exit 7/13)
//   zero   instructions 8 + 6 g + 3 p + o;     cycles  9 +  7 g + 4 p +   o  /  20 + 17 g +  8 p + 3 o
//            (entry 3/6, group 7/17, pairs 2/5, pair 4/8, odd 2/5, last 1/3, exit 2/4)

import { createHash } from "node:crypto";
import type { Machine } from "./machine.ts";
import { isCortexM4Board } from "../firmware/native/cpu.ts";
import {
  COPY_THUMB2_ENTRY,
  MIX_THUMB2_CODE_SHA256,
  MIX_THUMB2_ENTRY,
  MIX_THUMB2_SIGNATURE,
  ZERO_THUMB2_ENTRY,
} from "../firmware/native/mix-thumb2.ts";

/** Core clock the cost is charged at: the STM32F401 as Espruino runs the Pico, Hz. */
export const CORE_HZ = 84_000_000;

/** Executed instructions of mix_saturating_s16 for `samples` samples. */
export function mixInstructions(samples: number): number {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return 9 + 18 * g + 6 * p + 4 * o;
}

/** Cycles of mix_saturating_s16 for `samples` samples, both ends of the range. */
export function mixCycles(samples: number): { optimistic: number; pessimistic: number } {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return { optimistic: 18 + 21 * g + 8 * p + 5 * o, pessimistic: 37 + 45 * g + 15 * p + 10 * o };
}

/** Executed instructions of copy_s16 for `samples` samples. */
export function copyInstructions(samples: number): number {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return 9 + 10 * g + 4 * p + 2 * o;
}

/** Cycles of copy_s16 for `samples` samples, both ends of the range. */
export function copyCycles(samples: number): { optimistic: number; pessimistic: number } {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return { optimistic: 18 + 12 * g + 6 * p + 3 * o, pessimistic: 37 + 29 * g + 11 * p + 6 * o };
}

/** Executed instructions of zero_s16 for `samples` samples. */
export function zeroInstructions(samples: number): number {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return 8 + 6 * g + 3 * p + o;
}

/** Cycles of zero_s16 for `samples` samples, both ends of the range. */
export function zeroCycles(samples: number): { optimistic: number; pessimistic: number } {
  const g = samples >>> 3;
  const p = (samples >>> 1) & 3;
  const o = samples & 1;
  return { optimistic: 9 + 7 * g + 4 * p + o, pessimistic: 20 + 17 * g + 8 * p + 3 * o };
}

type MakeError = (message: string, kind: "Error" | "TypeError" | "InternalError") => Error;

interface NativeRoutine {
  name: string;
  codeSha256: string;
  /** E.nativeCall's addr: entry offset in the code, Thumb bit set. */
  entry: number;
  /** Signature as Espruino's lexer sees it: types only, no spaces. */
  signature: string;
  /** Runs the routine on the machine's memory; returns the cycles to charge. */
  run(machine: Machine, fail: (message: string) => Error, args: number[]): number;
}

const MIX_ROUTINE: NativeRoutine = {
  name: "mix_saturating_s16",
  codeSha256: MIX_THUMB2_CODE_SHA256,
  entry: MIX_THUMB2_ENTRY,
  signature: MIX_THUMB2_SIGNATURE.replace(/\s+/g, ""),
  run(machine, fail, args) {
    const [dstAddress, srcAddress, samples] = args as [number, number, number];
    const bytes = samples * 2;
    const dst = view(machine, dstAddress, bytes, "dst", fail);
    const src = view(machine, srcAddress, bytes, "src", fail);
    // Lanes are read before they are written, as QADD16 does; dst === src is fine.
    for (let i = 0; i < bytes; i += 2) {
      const sum = dst.getInt16(i, true) + src.getInt16(i, true);
      dst.setInt16(i, sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum, true);
    }
    return mixCycles(samples).pessimistic;
  },
};

const COPY_ROUTINE: NativeRoutine = {
  name: "copy_s16",
  codeSha256: MIX_THUMB2_CODE_SHA256,
  entry: COPY_THUMB2_ENTRY,
  signature: MIX_ROUTINE.signature,
  run(machine, fail, args) {
    const [dstAddress, srcAddress, samples] = args as [number, number, number];
    const bytes = samples * 2;
    const dst = view(machine, dstAddress, bytes, "dst", fail);
    const src = view(machine, srcAddress, bytes, "src", fail);
    // Forward, a word at a time as the routine goes: the same buffer is fine, a partial overlap is not defined.
    for (let i = 0; i < bytes; i += 2) dst.setInt16(i, src.getInt16(i, true), true);
    return copyCycles(samples).pessimistic;
  },
};

const ZERO_ROUTINE: NativeRoutine = {
  name: "zero_s16",
  codeSha256: MIX_THUMB2_CODE_SHA256,
  entry: ZERO_THUMB2_ENTRY,
  signature: MIX_ROUTINE.signature,
  run(machine, fail, args) {
    const [dstAddress, , samples] = args as [number, number, number];
    const bytes = samples * 2;
    const dst = view(machine, dstAddress, bytes, "dst", fail);
    for (let i = 0; i < bytes; i += 2) dst.setInt16(i, 0, true);
    return zeroCycles(samples).pessimistic;
  },
};

const ROUTINES: readonly NativeRoutine[] = [MIX_ROUTINE, COPY_ROUTINE, ZERO_ROUTINE];

/** The flat-memory bytes [address, address + bytes) as one buffer's DataView, or an error. */
function view(machine: Machine, address: number, bytes: number, what: string, fail: (m: string) => Error): DataView {
  // Nothing is read or written: any address will do (an empty buffer's has no bytes behind it).
  if (bytes === 0) return new DataView(new ArrayBuffer(0));
  const at = machine.resolveAddress(address);
  if (!at) throw fail(`${what} address 0x${(address >>> 0).toString(16)} is not a buffer E.getAddressOf gave: the board would write to whatever is there`);
  if (at.offset + bytes > at.buffer.byteLength) {
    throw fail(`${what}: ${bytes} bytes from 0x${(address >>> 0).toString(16)} run past its ${at.buffer.byteLength}-byte buffer: the board would corrupt the memory after it`);
  }
  return new DataView(at.buffer, at.offset, bytes);
}

const C_TYPES = new Set(["void", "int", "double", "bool", "Pin", "JsVar", "float"]);

/**
 * Check a signature as jswrap_espruino_nativeCall parses it (return type,
 * then argument types in brackets) and return it without spaces.
 */
function parseSignature(signature: unknown, fail: (m: string) => Error): string {
  if (typeof signature !== "string") throw fail("Invalid Signature");
  const m = /^\s*(\w+)\s*\(\s*((?:\w+\s*(?:,\s*\w+\s*)*)?)\)\s*$/.exec(signature);
  const types = m ? [m[1]!, ...(m[2] ? m[2].split(",").map((t) => t.trim()) : [])] : [];
  const bad = types.findIndex((t) => !C_TYPES.has(t));
  if (!m || bad >= 0) throw fail(`Error Parsing signature at argument number ${bad >= 0 ? bad : 0}`);
  return `${types[0]}(${types.slice(1).join(",")})`;
}

/** jsvGetInteger then (uint32_t), as jsnCallFunction passes an `int`. */
function toUint32(v: unknown): number {
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) >>> 0 : 0;
}

/**
 * E.nativeCall and atob for a machine. `makeError` makes errors of the
 * firmware's realm (espruino-globals.ts passes its own).
 */
export function nativeCodeGlobals(
  machine: Machine,
  makeError: MakeError,
): { nativeCall: (addr: unknown, signature: unknown, data?: unknown) => unknown; atob: (base64: unknown) => string } {
  const nativeCall = (addr: unknown, signature: unknown, data?: unknown): unknown => {
    const fail = (message: string): Error => makeError(`E.nativeCall: ${message}`, "Error");
    const sig = parseSignature(signature, (m) => makeError(m, "Error"));
    if (data === undefined) {
      throw fail(`code at absolute address ${toUint32(addr)}: the emulator runs only code it knows, passed as data`);
    }
    const text = String(data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 255) throw fail(`data is not a byte string (character ${i} is U+${c.toString(16)})`);
      bytes[i] = c;
    }
    const hash = createHash("sha256").update(bytes).digest("hex");
    const known = ROUTINES.filter((r) => r.codeSha256 === hash);
    if (known.length === 0) {
      throw fail(`unknown machine code (${bytes.length} bytes, sha256 ${hash.slice(0, 16)}...): the emulator cannot run it, and the board may crash`);
    }
    const names = known.map((r) => r.name).join(", ");
    if (!isCortexM4Board(machine.board)) {
      throw fail(`${names} is Cortex-M4 code; on a ${machine.board} board it would crash`);
    }
    const offset = Number(addr);
    const routine = known.find((r) => r.entry === offset);
    if (!routine) {
      throw fail(
        `this code's routines are entered at offsets ${known.map((r) => `${r.entry} (${r.name})`).join(", ")} (Thumb bit set), not ${String(addr)}: the board would crash`,
      );
    }
    if (sig !== routine.signature) {
      throw fail(`${routine.name} takes ${routine.signature}, not ${sig}: the board would run it on wrong arguments`);
    }
    const argc = sig.slice(sig.indexOf("(") + 1, -1).split(",").length;
    return (...args: unknown[]): undefined => {
      // Missing arguments are undefined, which jsvGetInteger makes 0.
      const words: number[] = [];
      for (let i = 0; i < argc; i++) words.push(toUint32(args[i]));
      const cycles = routine.run(machine, fail, words);
      machine.nowNs += Math.round((cycles * 1e9) / CORE_HZ);
      return undefined;
    };
  };

  const atob = (base64: unknown): string => {
    if (typeof base64 !== "string") throw makeError(`Expecting String, got ${base64 === null ? "null" : typeof base64}`, "Error");
    // Espruino's atob skips what is not base64, as Buffer's decoder does.
    return Buffer.from(base64, "base64").toString("latin1");
  };

  return { nativeCall, atob };
}
