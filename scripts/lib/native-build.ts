// Building native/mix/mix.S with Debian's gcc-arm-none-eabi into the code
// bytes firmware/native/mix-thumb2.ts ships, and rendering that module.
// Used by scripts/build-native.ts (npm run build:native) and by the tests
// that rebuild it (test/native-mix-build.test.ts) or run it under QEMU
// (test/native-mix-qemu.test.ts).
//
// The object must be what E.nativeCall can run from any address: one
// section with content (.text), no relocation, no undefined symbol (no libc,
// no libgcc), and a Thumb entry symbol; anything else is an error here.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const MIX_SOURCE = "native/mix/mix.S";
export const MIX_MODULE = "firmware/native/mix-thumb2.ts";
export const MIX_SYMBOL = "mix_saturating_s16";
/** The other routines in the same code (mix.S): each entered at its own offset. */
export const COPY_SYMBOL = "copy_s16";
export const ZERO_SYMBOL = "zero_s16";
/** E.nativeCall's signature for all three: (dst address, src address, samples). */
export const MIX_SIGNATURE = "void(int,int,int)";
/** Code generation flags: the Pico's core (STM32F401: Cortex-M4F), Thumb-2. */
export const MIX_CFLAGS = ["-mcpu=cortex-m4", "-mthumb"];

export interface ArmToolchain {
  gcc: string;
  objcopy: string;
  readelf: string;
  /** First line of `arm-none-eabi-gcc --version`. */
  version: string;
}

/** The toolchain on PATH, or why it cannot be used (a sentence for a skip message). */
export function findArmToolchain(): ArmToolchain | string {
  const tools = { gcc: "arm-none-eabi-gcc", objcopy: "arm-none-eabi-objcopy", readelf: "arm-none-eabi-readelf" };
  let version = "";
  for (const [key, tool] of Object.entries(tools)) {
    const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (r.error || r.status !== 0) return `${tool} not found (Debian: apt-get install gcc-arm-none-eabi)`;
    if (key === "gcc") version = r.stdout.split("\n")[0]!.trim();
  }
  return { ...tools, version };
}

/** Run a tool; throw with its output when it fails. */
export function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface NativeBuild {
  /** The .text bytes: what E.nativeCall gets as `data`. */
  code: Buffer;
  /** E.nativeCall's `addr` for mix_saturating_s16: the entry symbol's value, which carries the Thumb bit. */
  entry: number;
  /** The same for copy_s16 and zero_s16. */
  copyEntry: number;
  zeroEntry: number;
  codeSha256: string;
  /** SHA-256 of the object file the code was taken from. */
  objectSha256: string;
  toolchain: string;
}

/**
 * Assemble native/mix/mix.S (under `root`) and take out its code. Throws
 * when the object is not position-independent code E.nativeCall can run.
 */
export function buildMixRoutine(tc: ArmToolchain, root = "."): NativeBuild {
  const dir = mkdtempSync(join(tmpdir(), "native-mix-"));
  try {
    const obj = join(dir, "mix.o");
    const bin = join(dir, "mix.bin");
    // Same command line from any checkout: the source goes in by its
    // repository path, from the repository root.
    run(tc.gcc, [...MIX_CFLAGS, "-c", MIX_SOURCE, "-o", obj], resolve(root));
    checkObject(tc, obj);
    const entry = entrySymbol(tc, obj, MIX_SYMBOL);
    const copyEntry = entrySymbol(tc, obj, COPY_SYMBOL);
    const zeroEntry = entrySymbol(tc, obj, ZERO_SYMBOL);
    run(tc.objcopy, ["-O", "binary", "-j", ".text", obj, bin]);
    const code = readFileSync(bin);
    if (code.length === 0 || code.length % 2 !== 0) throw new Error(`${MIX_SOURCE}: .text is ${code.length} bytes`);
    if (Math.max(entry, copyEntry, zeroEntry) >= code.length) throw new Error(`${MIX_SOURCE}: an entry lies outside .text`);
    return { code, entry, copyEntry, zeroEntry, codeSha256: sha256(code), objectSha256: sha256(readFileSync(obj)), toolchain: tc.version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkObject(tc: ArmToolchain, obj: string): void {
  const relocs = run(tc.readelf, ["-r", "-W", obj]);
  if (!/There are no relocations in this file/.test(relocs)) {
    throw new Error(`${MIX_SOURCE}: relocations, so the code is not position independent:\n${relocs}`);
  }
  // Every allocated section but .text must be empty: code copied into a
  // string has no data or bss of its own.
  const sections = run(tc.readelf, ["-S", "-W", obj]);
  for (const line of sections.split("\n")) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*A\S*)\s/.exec(line);
    if (m && m[1] !== ".text" && parseInt(m[2]!, 16) !== 0) {
      throw new Error(`${MIX_SOURCE}: section ${m[1]} has ${parseInt(m[2]!, 16)} bytes; only .text can be shipped`);
    }
  }
}

function entrySymbol(tc: ArmToolchain, obj: string, symbol: string): number {
  const symbols = run(tc.readelf, ["-s", "-W", obj]);
  let entry = -1;
  for (const line of symbols.split("\n")) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length < 8 || !/^\d+:$/.test(f[0]!)) continue;
    if (f[6] === "UND" && f[7]) throw new Error(`${MIX_SOURCE}: undefined symbol ${f[7]} (no libc or libgcc here)`);
    if (f[7] === symbol) {
      if (f[3] !== "FUNC") throw new Error(`${symbol} is ${f[3]}, not FUNC (.type ... %function missing)`);
      entry = parseInt(f[1]!, 16);
    }
  }
  if (entry < 0) throw new Error(`${MIX_SOURCE}: no symbol ${symbol}`);
  // An ARM ELF Thumb function's value has bit 0 set: exactly the Thumb bit
  // the BLX in jsnCallFunction needs (Cortex-M runs Thumb only).
  if ((entry & 1) !== 1) throw new Error(`${symbol} is not a Thumb function (value ${entry})`);
  return entry;
}

/** The TypeScript module the firmware imports, as `npm run build:native` writes it. */
export function renderMixModule(b: NativeBuild): string {
  const base64 = b.code.toString("base64");
  return `// Generated by scripts/build-native.ts (npm run build:native) from
// ${MIX_SOURCE} with Debian's gcc-arm-none-eabi: do not edit.
// test/native-mix-build.test.ts rebuilds it and wants it byte for byte.

/**
 * ${MIX_SYMBOL}(dst, src, samples) (QADD16), ${COPY_SYMBOL}(dst, src, samples) and
 * ${ZERO_SYMBOL}(dst, unused, samples) for Cortex-M4 (Thumb-2): ${b.code.length} bytes of
 * position-independent machine code, base64. Espruino's atob() turns it into
 * the byte string E.nativeCall copies into a flat string.
 */
export const MIX_THUMB2_BASE64 = ${JSON.stringify(base64)};
/** E.nativeCall's addr for ${MIX_SYMBOL} when the code is passed as data: the entry's offset in it, plus 1 (Thumb). */
export const MIX_THUMB2_ENTRY = ${b.entry};
/** The same for ${COPY_SYMBOL}. */
export const COPY_THUMB2_ENTRY = ${b.copyEntry};
/** The same for ${ZERO_SYMBOL}. */
export const ZERO_THUMB2_ENTRY = ${b.zeroEntry};
/** E.nativeCall's signature of all three: dst address, src address, samples (int16 count). */
export const MIX_THUMB2_SIGNATURE = ${JSON.stringify(MIX_SIGNATURE)};
/** Code size, bytes. */
export const MIX_THUMB2_SIZE = ${b.code.length};
/** SHA-256 of the code bytes (how the emulator recognises the routine). */
export const MIX_THUMB2_CODE_SHA256 = ${JSON.stringify(b.codeSha256)};
/** SHA-256 of the object file (${MIX_CFLAGS.join(" ")} -c ${MIX_SOURCE}) the code came from. */
export const MIX_THUMB2_OBJECT_SHA256 = ${JSON.stringify(b.objectSha256)};
`;
}
