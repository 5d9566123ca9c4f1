// npm run readme: rewrite README.md's generated blocks from the code and the
// build, so its figures cannot drift:
//   <!-- generated:start-options -->  npm start's options table (scripts/lib/start-options.ts)
//   <!-- generated:bundle-sizes -->   the minified size of each board's bundle (dist/, after npm run build)
//   <!-- generated:cost-model -->     the calibrated statement cost (emulator/cost-model.json)
//   <!-- generated:pico-48k -->       the Pico at 48 kHz, counted on the real interpreter (the model's targets)
//   <!-- generated:explorer-time -->  how long the default explorer search took (--explorer: runs it, minutes)
//   <!-- generated:memory -->         JsVars in use, measured on the real interpreter (--memory: runs it,
//                                     seconds; needs the stock build, scripts/lib/real-espruino.ts)
// each block ending at <!-- /generated -->. `--check` changes nothing and
// exits 1 when a block differs (test/readme.test.ts checks the options and,
// within a tolerance, the sizes; a time is a measurement, so only regenerated).

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { startProgram } from "./lib/start-options.ts";
import { COST_MODEL } from "../emulator/cost-model.ts";
import { memoryFigures, type BundleMemory } from "./lib/bench-real.ts";
import { findEspruino } from "./lib/real-espruino.ts";

const README = "README.md";

/** The options table, one row per npm start option, from the commander definition. */
export function optionsTable(): string {
  const rows = ["| option | meaning |", "| --- | --- |"];
  for (const o of startProgram().options) {
    const def = o.defaultValue === undefined || o.defaultValue === false ? "" : ` (default ${o.defaultValue})`;
    rows.push(`| \`${o.flags}\` | ${o.description.replace(/\|/g, "\\|")}${def} |`);
  }
  return rows.join("\n");
}

/** Bundle sizes in kB (1000 bytes), one decimal, as README states them. */
export function bundleSizes(boards = ["generic", "pico-wm8731", "bench"]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of boards) {
    const path = `dist/${b}.js`;
    if (existsSync(path)) out[b] = Math.round(statSync(path).size / 100) / 10;
  }
  return out;
}

export function bundleSizesText(sizes: Record<string, number>): string {
  const parts = Object.entries(sizes).map(([b, kb]) => `${b} ${kb.toFixed(1)} kB`);
  return `Bundle sizes (minified, \`npm run build\` prints them in bytes): ${parts.join(", ")}.`;
}

/** The calibrated cost a statement, as README states it (emulator/cost-model.json, npm run calibrate). */
export function costModelText(): string {
  const c = COST_MODEL.statementCostUs;
  return (
    `Calibrated ${COST_MODEL.date} on the real Espruino 2v29 interpreter: ${c.optimistic} to ${c.pessimistic} microseconds ` +
    `a statement on a Pico (${COST_MODEL.workloads.length} code paths of the firmware, both ends of the cycles-per-instruction calibration).`
  );
}

/** The Pico at 48 kHz, as README states it (emulator/cost-model.json's targets, npm run calibrate), or why not. */
export function pico48Text(): string {
  const t = COST_MODEL.targets;
  const m = COST_MODEL.targetMemory;
  if (!t || !m) return "Not measured: `npm run calibrate` counts it.";
  const f = (name: string) => t.find((x) => x.name === name);
  const two = f("pico48-period-2x1");
  const one = f("pico48-period-1x1");
  if (!two || !one) return "Not measured: `npm run calibrate` counts it.";
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const ms = (us: number) => (us / 1000).toFixed(1);
  return (
    `Measured ${COST_MODEL.date} (\`npm run calibrate\`, real Espruino 2v29 interpreter, the Pico's own bundle): one 20 ms period at 48 kHz stereo ` +
    `takes ${one.instructionsPerIteration.toLocaleString("en")} instructions with one FE on one BE (${ms(one.picoUs.optimistic)} to ${ms(one.picoUs.pessimistic)} ms on a Pico, ` +
    `${pct(one.load.optimistic)} to ${pct(one.load.pessimistic)} of the period) and ${two.instructionsPerIteration.toLocaleString("en")} with two FEs mixed into one BE ` +
    `(${ms(two.picoUs.optimistic)} to ${ms(two.picoUs.pessimistic)} ms, ${pct(two.load.optimistic)} to ${pct(two.load.pessimistic)}). ` +
    `The buffers of that configuration take ${m.picoBufferJsVars.toLocaleString("en")} of the Pico's ${m.picoTotal.toLocaleString("en")} JsVars. ` +
    `For 30% a period of two FEs would have to last ${Math.round(two.picoUs.pessimistic / 0.3 / 1000)} ms: at 48 kHz stereo a ring of four such periods ` +
    `is ${Math.round((two.picoUs.pessimistic / 0.3 / 1e6) * 48000 * 4 * 4 / 1000)} kB per FE.`
  );
}

/** The text between `<!-- generated:NAME -->` and the next `<!-- /generated -->`, or null. */
export function generatedBlock(text: string, name: string): string | null {
  const m = new RegExp(`<!-- generated:${name} -->\\n([\\s\\S]*?)<!-- /generated -->`).exec(text);
  return m ? m[1]!.replace(/\n$/, "") : null;
}

function replaceBlock(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated -->)`);
  if (!re.test(text)) throw new Error(`README.md has no <!-- generated:${name} --> block`);
  return text.replace(re, (_m, a: string, b: string) => a + body + "\n" + b);
}

function explorerTime(): string {
  const started = new Date();
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/explore.ts", "--json", "--no-progress"], { encoding: "utf8", maxBuffer: 1 << 28 });
  const run = JSON.parse(out) as { board: string; wallSeconds: number; reports: Array<{ total: { schedules: number }; scenario: { key: string } }> };
  const schedules = run.reports.reduce((n, r) => n + r.total.schedules, 0);
  const scenarios = new Set(run.reports.map((r) => r.scenario.key)).size;
  return (
    `The default search (\`npm run explore\`: ${scenarios} scenarios, the modes each names, on ${run.board}) ran ${schedules.toLocaleString("en")} schedules ` +
    `in ${Math.round(run.wallSeconds)} s (measured ${started.toISOString().slice(0, 10)} by \`npm run readme -- --explorer\`, one process on a 2-core machine).`
  );
}

/** The README's memory paragraph from measured figures (real interpreter) and the emulator's estimates. */
export function memoryText(m: BundleMemory[], date: string): string {
  const n = (x: number): string => x.toLocaleString("en");
  const kb = (vars: number, size: number): string => `${((vars * size) / 1000).toFixed(1)} kB`;
  const g = m.find((x) => x.bundle === "generic")!;
  const others = m.filter((x) => x !== g);
  const off = (x: BundleMemory): string => {
    const r = Math.round((x.emulatorLinux.playing / x.real.playing - 1) * 100);
    return `${Math.abs(r)}% ${r >= 0 ? "more" : "less"} for ${x.bundle}`;
  };
  // The Pico estimate scaled by what the same estimate missed on the Linux build: a projection, said so.
  const scaled = Math.round((g.emulatorPico.playing * g.real.playing) / g.emulatorLinux.playing);
  return (
    `Memory, measured on the real Espruino 2v29 interpreter (its Linux build, ${g.real.blockSize}-byte JsVars) with each bundle ` +
    `booted from Storage as \`npm run flash\` leaves it (the code stays in Storage, as on a board): generic uses ` +
    `${n(g.real.afterLoad)} JsVars (${kb(g.real.afterLoad, g.real.blockSize)}) after load and ${n(g.real.playing)} ` +
    `(${kb(g.real.playing, g.real.blockSize)}) with both front ends playing` +
    others.map((x) => `; ${x.bundle} ${n(x.real.afterLoad)} and ${n(x.real.playing)}`).join("") +
    `. For that build the emulator estimates ${m.map(off).join(", ")} (\`npm run bench\` sets them side by side; ` +
    `its estimate leaves out what only closures hold). On a Pico (5,100 JsVars of 16 bytes) it estimates generic at ` +
    `${n(g.emulatorPico.playing)} JsVars with both front ends playing; scaled by what it missed here, about ${n(scaled)}. ` +
    `Uploaded to RAM instead of Storage (12 characters of code a JsVar) it estimates ${n(g.emulatorPicoRam.playing)} before ` +
    `that correction, which leaves too little: flash it to Storage. (Measured ${date} by \`npm run readme -- --memory\`.)`
  );
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  let text = readFileSync(README, "utf8");
  const before = text;
  text = replaceBlock(text, "start-options", optionsTable());
  text = replaceBlock(text, "bundle-sizes", bundleSizesText(bundleSizes()));
  text = replaceBlock(text, "cost-model", costModelText());
  text = replaceBlock(text, "pico-48k", pico48Text());
  if (process.argv.includes("--explorer")) text = replaceBlock(text, "explorer-time", explorerTime());
  if (process.argv.includes("--memory")) {
    const stock = findEspruino("stock");
    if (!stock.path) {
      process.stderr.write(`README.md: --memory needs the real interpreter: ${stock.reason}\n`);
      process.exit(1);
    }
    text = replaceBlock(text, "memory", memoryText(await memoryFigures(stock.path), new Date().toISOString().slice(0, 10)));
  }
  if (check) {
    if (text !== before) {
      process.stderr.write("README.md: generated blocks are out of date: run npm run readme\n");
      process.exit(1);
    }
    process.stdout.write("README.md: generated blocks are up to date\n");
    return;
  }
  if (text !== before) writeFileSync(README, text);
  process.stdout.write(text !== before ? "README.md: generated blocks rewritten\n" : "README.md: already up to date\n");
}

if (process.argv[1]?.endsWith("readme-figures.ts")) await main();
