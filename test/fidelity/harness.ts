// The fidelity probes: small scripts run on the real Espruino 2v29 interpreter
// and on the emulator, whose console output is compared (emulator/FIDELITY.md).
//
// A probe file (probes/*.js) holds several probes, each starting at a line
// "// probe: <name>" and running to the next; "// probe: <name> (console)"
// marks a probe whose lines are typed at the REPL one by one instead of run
// as a file. Lines before the first marker are the file's description.
//
// Each file probe runs alone, as `espruino script.js` with stdin closed (the
// Linux build exits once its timers are done, and at once after an uncaught
// exception at load: targets/linux/main.c), and on a fresh emulated machine
// configured as that build (board LINUX, 4096 JsVars of 27 bytes, flat
// strings above 41 bytes), loaded the same way and run for one virtual
// second. Console probes run in a REPL session on both.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Machine, loadBundle } from "../../emulator/index.ts";
import { EspruinoSession, runEspruinoScript, type EspruinoRun } from "../../scripts/lib/real-espruino.ts";

export const PROBE_DIR = fileURLToPath(new URL("probes/", import.meta.url));
export const RECORDING = fileURLToPath(new URL("real-2v29.json", import.meta.url));
export const FIDELITY_MD = fileURLToPath(new URL("../../emulator/FIDELITY.md", import.meta.url));

/** What the real interpreter printed for each probe (written by record.ts). */
export interface Recording {
  interpreter: string;
  /** By probe id: a hash of the probe's code as recorded, and what it printed. */
  probes: Record<string, { code: string; output: string }>;
}

/** A short hash of a probe's code, so a probe changed since its recording is noticed without the interpreter. */
export function codeHash(probe: Probe): string {
  return createHash("sha256").update(probe.kind + "\n" + probe.code).digest("hex").slice(0, 16);
}

export function readRecording(path = RECORDING): Recording {
  return JSON.parse(readFileSync(path, "utf8")) as Recording;
}

/**
 * The probes FIDELITY.md lists as differing: the backquoted ids in the first
 * cell of each row of its "Differences that remain" table, with the row's
 * line number.
 */
export function listedDifferences(markdown: string): Map<string, number> {
  const listed = new Map<string, number>();
  let inTable = false;
  markdown.split("\n").forEach((line, i) => {
    if (/^## /.test(line)) inTable = /^## Differences that remain/.test(line);
    if (!inTable || !line.startsWith("|")) return;
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/`([\w-]+\/[\w-]+)`/g)) {
      if (listed.has(m[1]!)) throw new Error(`FIDELITY.md:${i + 1}: ${m[1]} is listed twice`);
      listed.set(m[1]!, i + 1);
    }
  });
  return listed;
}

export interface Probe {
  /** "<file>/<name>", e.g. "numbers/print-floats". */
  id: string;
  kind: "script" | "console";
  /** The probe's source (a script, or console lines). */
  code: string;
}

/** Every probe of every probes/*.js file, in file then source order. */
export function loadProbes(dir = PROBE_DIR): Probe[] {
  const probes: Probe[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js")).sort()) {
    const group = basename(file, ".js");
    let current: { name: string; kind: Probe["kind"]; lines: string[] } | null = null;
    const flush = (): void => {
      if (!current) return;
      const id = `${group}/${current.name}`;
      if (probes.some((p) => p.id === id)) throw new Error(`${file}: probe "${current.name}" defined twice`);
      probes.push({ id, kind: current.kind, code: current.lines.join("\n").trim() + "\n" });
    };
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      const m = /^\/\/ probe: ([\w-]+)( \(console\))?\s*$/.exec(line);
      if (m) {
        flush();
        current = { name: m[1]!, kind: m[2] ? "console" : "script", lines: [] };
      } else if (current) {
        current.lines.push(line);
      }
    }
    flush();
  }
  return probes;
}

/** Console lines of a console probe (blank lines and comment lines skipped). */
export function consoleLines(probe: Probe): string[] {
  return probe.code.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("//"));
}

/**
 * What is compared. Stack traces are not: the real interpreter prints
 * "    at <fn> (:line:col)" with the source line and a caret under it, the
 * emulator " at <file.ts:line:col>" (its TypeScript position); both are
 * dropped (FIDELITY.md, "Not compared"). Trailing spaces are kept.
 */
export function comparable(text: string): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^ {4}at /.test(l)) {
      // Real: the frame, then the source line and a caret line.
      if (i + 2 < lines.length && /^ *\^$/.test(lines[i + 2]!)) i += 2;
      continue;
    }
    if (/^ at \S+:\d+:\d+$/.test(l)) continue; // the emulator's location line
    out.push(l);
  }
  return out.join("\n");
}

/** The emulator configured as the Linux build (../shared/espruino-2v29/README.md). */
export function linuxMachine(): Machine {
  return new Machine({ board: "LINUX", jsVarTotal: 4096, jsVarBlockSize: 27, flatThresholdBytes: 41 });
}

/** Run one probe on the emulator; returns its console output. */
export function runOnEmulator(probe: Probe): string {
  const machine = linuxMachine();
  if (probe.kind === "script") {
    const r = loadBundle(machine, { code: probe.code, fileName: "script.js" }, { emitInit: false });
    // As `espruino FILE`: an exception at load ends the run.
    if (r.ok) machine.runFor(1);
  } else {
    for (const line of consoleLines(probe)) {
      machine.console.type(line);
      machine.runFor(0.05);
    }
  }
  return machine.consoleText();
}

/**
 * After an exception at load, `espruino FILE` reports it twice: once with
 * its stack, then "Uncaught undefined" (handleErrors() in
 * targets/linux/main.c reads the exception already taken). The second is an
 * artefact of the Linux file runner, not of the interpreter: dropped.
 */
export function withoutSecondReport(output: string): string {
  return output.endsWith("Uncaught undefined\n") ? output.slice(0, -"Uncaught undefined\n".length) : output;
}

/** Run probes on the real interpreter, `concurrency` at a time (each waits more than it computes); outputs by probe id. */
export async function runOnReal(probes: readonly Probe[], bin: string, concurrency = 6): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const failures: string[] = [];
  const runOne = async (p: Probe): Promise<void> => {
    if (p.kind === "script") {
      const r: EspruinoRun = await runEspruinoScript(p.code, { path: bin, timeoutMs: 10000 });
      if (r.timedOut) failures.push(`${p.id}: still running after 10 s`);
      out[p.id] = r.exitCode === 1 ? withoutSecondReport(r.output) : r.output;
      return;
    }
    const session = new EspruinoSession({ path: bin, timeoutMs: 20000 });
    try {
      await session.idle();
      const mark = session.mark();
      for (const line of consoleLines(p)) await session.command(line);
      out[p.id] = session.since(mark);
    } catch (e) {
      failures.push(`${p.id}: ${(e as Error).message}`);
    } finally {
      await session.close();
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < probes.length) await runOne(probes[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failures.length) throw new Error(failures.join("\n"));
  return out;
}
