// Running machine code on an emulated Cortex-M4: QEMU's mps2-an386 board
// with the harness in native/mix/qemu/ (vector table, start-up, driver),
// built here with the same toolchain around the exact code bytes under test.
// The driver reads vectors.bin and writes result.bin by semihosting (formats
// in native/mix/qemu/driver.c).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run, type ArmToolchain } from "../../scripts/lib/native-build.ts";
import { ROUTINE_OFFSET, type MixCase } from "./native-mix.ts";

const HARNESS = resolve("native/mix/qemu");
export const GUARD = 8;
export const GUARD_VALUE = 0x5a5a;
const MAGIC = 0x5658494d; // "MIXV"

/** qemu-system-arm with the mps2-an386 machine, or why not (a sentence for a skip message). */
export function findQemu(): string | null {
  const r = spawnSync("qemu-system-arm", ["-machine", "help"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return "qemu-system-arm not found (Debian: apt-get install qemu-system-arm)";
  if (!/mps2-an386/.test(r.stdout)) return "this qemu-system-arm has no mps2-an386 machine";
  return null;
}

/** One instruction per translation block, so -d exec logs each one: -singlestep until QEMU 8.1 renamed it. */
function oneInstructionPerBlock(): string[] {
  const v = /version (\d+)\.(\d+)/.exec(spawnSync("qemu-system-arm", ["--version"], { encoding: "utf8" }).stdout ?? "");
  const major = v ? Number(v[1]) : 0;
  const minor = v ? Number(v[2]) : 0;
  return major > 8 || (major === 8 && minor >= 1) ? ["-accel", "tcg,one-insn-per-tb=on"] : ["-singlestep"];
}

export interface Harness {
  dir: string;
  elf: string;
  /** Address of each RAM copy of the code (the driver's code_ram slots). */
  places: number[];
  dispose(): void;
}

/** Build the harness ELF around `code` in a fresh temporary directory. */
export function buildHarness(tc: ArmToolchain, code: Uint8Array, machine = "cortex-m4"): Harness {
  const dir = mkdtempSync(join(tmpdir(), "qemu-m4-"));
  writeFileSync(join(dir, "routine.bin"), code);
  const include = run(tc.gcc, ["-print-file-name=include"]).trim();
  const elf = join(dir, "harness.elf");
  run(tc.gcc, [
    `-mcpu=${machine}`, "-mthumb", "-O2", "-ffreestanding", "-nostdlib", "-nostdinc", "-isystem", include,
    "-fno-tree-loop-distribute-patterns", "-Wall", "-Wextra", "-Werror",
    `-Wa,-I,${dir}`, "-T", join(HARNESS, "link.ld"),
    join(HARNESS, "startup.S"), join(HARNESS, "driver.c"), "-o", elf,
  ]);
  const nm = run(tc.gcc.replace(/gcc$/, "nm"), [elf]);
  const m = /^([0-9a-f]+) [bB] code_ram$/m.exec(nm);
  if (!m) throw new Error("harness: no code_ram symbol");
  const base = parseInt(m[1]!, 16);
  return { dir, elf, places: [base, base + 256], dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function encodeCases(cases: MixCase[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(cases.length, 4);
  parts.push(head);
  for (const c of cases) {
    const n = c.dst.length;
    if (c.src.length !== n) throw new Error(`${c.name}: dst and src lengths differ`);
    const b = Buffer.alloc(20 + 4 * n + ((4 - ((4 * n) % 4)) % 4));
    b.writeUInt32LE(n, 0);
    b.writeUInt32LE(c.dstShift, 4);
    b.writeUInt32LE(c.srcShift, 8);
    b.writeUInt32LE(c.place, 12);
    b.writeUInt32LE(ROUTINE_OFFSET[c.routine], 16);
    for (let i = 0; i < n; i++) b.writeInt16LE(c.dst[i]!, 20 + 2 * i);
    for (let i = 0; i < n; i++) b.writeInt16LE(c.src[i]!, 20 + 2 * n + 2 * i);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export interface CaseResult {
  /** call_checked's bits: 0 when r4-r11 and sp came back intact. */
  abi: number;
  /** The whole dst and src regions, guards included (GUARD, shift, data, GUARD). */
  dstRegion: Int16Array;
  srcRegion: Int16Array;
}

export interface RunResult {
  results: CaseResult[];
  console: string;
  /** Executed instructions per call of the routine, when counted. */
  instructions: number[] | null;
}

/**
 * Run the cases on QEMU. With countInstructions, QEMU logs every executed
 * instruction inside the code copies (-singlestep -d exec,nochain with an
 * address filter) and each call's count is the run of instructions from
 * one entry (of any routine, in either copy) to the next.
 */
export function runHarness(h: Harness, cases: MixCase[], options: { countInstructions?: boolean; machine?: string } = {}): RunResult {
  writeFileSync(join(h.dir, "vectors.bin"), encodeCases(cases));
  rmSync(join(h.dir, "result.bin"), { force: true });
  const args = [
    "-machine", options.machine ?? "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
    "-semihosting-config", "enable=on,target=native", "-kernel", h.elf,
  ];
  const log = join(h.dir, "exec.log");
  if (options.countInstructions) {
    rmSync(log, { force: true });
    args.push(...oneInstructionPerBlock(), "-d", "exec,nochain", "-dfilter", `0x${h.places[0]!.toString(16)}+0x200`, "-D", log);
  }
  const r = spawnSync("qemu-system-arm", args, { cwd: h.dir, encoding: "utf8", timeout: 120_000 });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  if (r.error) throw new Error(`qemu-system-arm: ${r.error.message}\n${out}`);
  if (r.status !== 0) throw new Error(`qemu-system-arm exited ${r.status}:\n${out}`);

  const bin = readFileSync(join(h.dir, "result.bin"));
  const results: CaseResult[] = [];
  let off = 0;
  for (const c of cases) {
    const region = GUARD + 1 + c.dst.length + GUARD;
    const abi = bin.readUInt32LE(off);
    off += 4;
    const read = (): Int16Array => {
      const a = new Int16Array(region);
      for (let i = 0; i < region; i++) a[i] = bin.readInt16LE(off + 2 * i);
      off += 2 * region;
      return a;
    };
    const dstRegion = read();
    const srcRegion = read();
    results.push({ abi, dstRegion, srcRegion });
  }
  if (off !== bin.length) throw new Error(`result.bin has ${bin.length} bytes, expected ${off}`);

  let instructions: number[] | null = null;
  if (options.countInstructions) {
    instructions = [];
    const entries = new Set(h.places.flatMap((place) => Object.values(ROUTINE_OFFSET).map((offset) => place + offset)));
    // "Trace 0: 0x... [cs_base/pc/flags/cflags]": one line per instruction.
    for (const m of readFileSync(log, "utf8").matchAll(/\[[0-9a-f]+\/([0-9a-f]+)\//g)) {
      const pc = parseInt(m[1]!, 16);
      if (entries.has(pc)) instructions.push(0);
      if (instructions.length === 0) throw new Error("exec log: an instruction before the first entry");
      instructions[instructions.length - 1]!++;
    }
  }
  return { results, console: out, instructions };
}

/** The dst region a correct routine leaves: guards around the expected result. */
export function expectedRegion(data: Int16Array, shift: number): Int16Array {
  const region = new Int16Array(GUARD + 1 + data.length + GUARD).fill(GUARD_VALUE);
  region.set(data, GUARD + shift);
  return region;
}
