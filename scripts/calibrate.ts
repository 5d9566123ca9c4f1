// npm run calibrate: derive the emulator's cost per statement on a Pico from
// the real interpreter (scripts/lib/calibration.ts says how) and write it to
// emulator/cost-model.json, the figure the emulator charges by default.
// Needs valgrind (Debian package) and the stock Espruino 2v29 Linux build
// (ESPRUINO_BIN, else ../shared/espruino-2v29/espruino). About a minute.

import { writeFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Command } from "commander";
import {
  CALIBRATION_BUNDLE,
  PICO_HZ,
  FORUM_LOOP_PICO_US,
  PICO_BUNDLE,
  REPO_ROOT,
  TARGET_LOAD,
  TARGET_WORKLOADS,
  WORKLOADS,
  buildRegisterShim,
  measureTarget,
  measureTargetMemory,
  countForumLoop,
  cyclesPerInstruction,
  findTools,
  measureWorkload,
  readCalibrationBundle,
  round,
  sha256File,
  type WorkloadFigures,
} from "./lib/calibration.ts";
import type { CostModel, TargetFigures } from "../emulator/cost-model.ts";

type TargetMemory = NonNullable<CostModel["targetMemory"]>;

const FIRMWARE_2017 =
  "Espruino RELEASE_1V95 (November 2017), Linux build, make OPTIMIZEFLAGS='-Os -fcommon' with gcc 12 (-fcommon: gcc 10+ rejects its tentative definitions)";

const program = new Command()
  .name("npm run calibrate --")
  .description(
    "Count the real interpreter's instructions (valgrind callgrind) and the emulator's statements for the firmware's own code paths; " +
      "derive Pico microseconds per statement and write emulator/cost-model.json.",
  )
  .option("--no-write", "print the table only; leave emulator/cost-model.json as it is")
  .option("--targets-only", "measure only the Pico's bundle at the 48 kHz target (the figures bench prints); keep the rest of the committed model")
  .option(
    "--reference-2017 <path>",
    "a Linux build of 2017's firmware (1v95) to recount the forum loop on (default: ESPRUINO_2017_BIN, else the count in the committed model)",
  )
  .parse();

const opts = program.opts<{ write: boolean; reference2017?: string; targetsOnly?: boolean }>();
const MODEL_PATH = join(REPO_ROOT, "emulator", "cost-model.json");
const p = (s: string) => process.stdout.write(s + "\n");

function fail(message: string): never {
  process.stderr.write(`calibrate: ${message}\n`);
  process.exit(1);
}

/** The Pico's own bundle at the 48 kHz target on the real interpreter (calibration.ts, TARGET_WORKLOADS). */
async function measureTargets(
  tools: Exclude<ReturnType<typeof findTools>, string>,
  cpi: { optimistic: number; pessimistic: number },
): Promise<{ targets: TargetFigures[]; memory: TargetMemory }> {
  if (!existsSync(join(REPO_ROOT, PICO_BUNDLE))) fail(`${PICO_BUNDLE} is missing: run npm run build`);
  const code = readFileSync(join(REPO_ROOT, PICO_BUNDLE), "utf8");
  const dir = mkdtempSync(join(tmpdir(), "dpcm-shim-"));
  try {
    let shim: string;
    try {
      shim = buildRegisterShim(dir);
    } catch (e) {
      fail(`${(e as Error).message}: the targets were not measured`);
    }
    const out: TargetFigures[] = [];
    for (const w of TARGET_WORKLOADS) {
      process.stderr.write(`measuring ${w.name} (${w.runs.join(" and ")} iterations)...\n`);
      out.push(await measureTarget(tools, shim, code, w, cpi));
    }
    p("");
    p(`${PICO_BUNDLE} at 48 kHz stereo, 960-frame (20 ms) periods; target: at most ${TARGET_LOAD * 100}% at the pessimistic end`);
    p("target              instructions/period native cycles (pess)   Pico us/iter (opt..pess)   load (opt..pess)");
    for (const f of out) {
      p(
        `${f.name.padEnd(19)} ${String(f.instructionsPerIteration).padStart(17)}   ${String(f.nativeCycles.pessimistic).padStart(20)}   ` +
          `${`${f.picoUs.optimistic.toFixed(0)} .. ${f.picoUs.pessimistic.toFixed(0)}`.padStart(24)}   ` +
          `${(f.load.optimistic * 100).toFixed(1)}% .. ${(f.load.pessimistic * 100).toFixed(1)}%`,
      );
    }
    for (const f of out) p(`  ${f.name}: ${f.description}`);
    const memory = measureTargetMemory(tools, shim, code);
    p("");
    p(`memory, media and alert playing at 48 kHz on spk: ${memory.usageBoot} JsVars in use after boot, ${memory.usagePlaying} playing (the Linux build's, 27 bytes each)`);
    for (const b of memory.buffers) p(`  ${b.name.padEnd(18)} ${String(b.bytes).padStart(6)} bytes  ${String(b.linuxJsVars).padStart(4)} JsVars here  ${String(b.picoJsVars).padStart(4)} on a Pico`);
    p(`  buffers on a Pico: ${memory.picoBufferJsVars} of its ${memory.picoTotal} JsVars`);
    return { targets: out, memory };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const tools = findTools();
  if (typeof tools === "string") fail(`${tools}: nothing was measured`);
  if (opts.targetsOnly) {
    if (!existsSync(MODEL_PATH)) fail("--targets-only needs the committed model (its cycles per instruction): run npm run calibrate");
    const { loadCostModel } = await import("../emulator/cost-model.ts");
    const model = loadCostModel(MODEL_PATH);
    const measured = await measureTargets(tools, model.calibration.cyclesPerInstruction);
    model.targetBundle = { file: PICO_BUNDLE, sha256: sha256File(join(REPO_ROOT, PICO_BUNDLE)) };
    model.targets = measured.targets;
    model.targetMemory = measured.memory;
    if (opts.write) {
      writeFileSync(MODEL_PATH, JSON.stringify(model, null, 2) + "\n");
      p(`wrote ${relative(REPO_ROOT, MODEL_PATH)} (targets only)`);
    } else p("(--no-write: emulator/cost-model.json unchanged)");
    return;
  }
  if (!existsSync(join(REPO_ROOT, CALIBRATION_BUNDLE))) fail(`${CALIBRATION_BUNDLE} is missing: run npm run build`);
  const bundle = readCalibrationBundle();

  p(`interpreter ${tools.interpreter}`);
  p(`bundle      ${CALIBRATION_BUNDLE}`);
  const forumNow = await countForumLoop(tools, [1000, 8000]);
  p(`forum loop  ${forumNow} instructions an iteration on this interpreter`);
  const ref = opts.reference2017 ?? process.env.ESPRUINO_2017_BIN;
  let forum2017: number;
  if (ref) {
    forum2017 = await countForumLoop({ ...tools, interpreter: ref }, [1000, 8000]);
    p(`forum loop  ${forum2017} instructions an iteration on 2017's firmware (${ref})`);
  } else {
    if (!existsSync(MODEL_PATH)) fail("no committed model to take 2017's count from: give --reference-2017 <1v95 build>");
    const { loadCostModel } = await import("../emulator/cost-model.ts");
    forum2017 = loadCostModel(MODEL_PATH).calibration.forumLoopInstructions.firmware2017;
    p(`forum loop  ${forum2017} instructions an iteration on 2017's firmware (committed; --reference-2017 recounts it)`);
  }
  const cpi = cyclesPerInstruction(forumNow, forum2017);
  p(
    `calibration ${FORUM_LOOP_PICO_US} us x ${PICO_HZ / 1e6} MHz = ${FORUM_LOOP_PICO_US * PICO_HZ / 1e6} Pico cycles an iteration: ` +
      `${cpi.optimistic.toFixed(3)} (optimistic) to ${cpi.pessimistic.toFixed(3)} (pessimistic) cycles per counted instruction`,
  );
  p("");

  const figures: WorkloadFigures[] = [];
  for (const w of WORKLOADS) {
    process.stderr.write(`measuring ${w.name} (${w.runs.join(" and ")} iterations)...\n`);
    figures.push(await measureWorkload(tools, bundle, w, cpi));
  }

  p("workload       instructions/iter   Pico us/iter (opt..pess)   emulator stmts/iter   us/stmt (opt..pess)");
  for (const f of figures) {
    p(
      `${f.name.padEnd(14)} ${String(f.instructionsPerIteration).padStart(17)}   ` +
        `${`${f.picoUs.optimistic.toFixed(0)} .. ${f.picoUs.pessimistic.toFixed(0)}`.padStart(24)}   ` +
        `${f.statementsPerIteration.toFixed(1).padStart(19)}   ` +
        `${`${f.usPerStatement.optimistic.toFixed(1)} .. ${f.usPerStatement.pessimistic.toFixed(1)}`.padStart(19)}`,
    );
  }
  for (const f of figures) p(`  ${f.name}: ${f.description}`);
  const range = {
    optimistic: Math.min(...figures.map((f) => f.usPerStatement.optimistic)),
    pessimistic: Math.max(...figures.map((f) => f.usPerStatement.pessimistic)),
  };
  p("");
  p(
    `statement cost on a Pico: ${range.optimistic} us (optimistic: the cheapest workload at the optimistic end) to ` +
      `${range.pessimistic} us (pessimistic: the dearest at the pessimistic end; the one verdicts use)`,
  );

  const measured = await measureTargets(tools, cpi);
  const model: CostModel = {
    comment:
      "Written by npm run calibrate (scripts/calibrate.ts; the method in scripts/lib/calibration.ts). Do not edit by hand: re-run it. " +
      "instructionsPerIteration: x86-64 instructions (callgrind) of the stock Espruino 2v29 Linux build (-Os); statementsPerIteration: " +
      "the emulator's count for the same iteration; Pico time = instructions x cyclesPerInstruction / coreHz.",
    command: "npm run calibrate",
    date: new Date().toISOString().slice(0, 10),
    interpreter: { file: relative(REPO_ROOT, tools.interpreter), sha256: sha256File(tools.interpreter) },
    bundle: { file: CALIBRATION_BUNDLE, sha256: sha256File(join(REPO_ROOT, CALIBRATION_BUNDLE)) },
    coreHz: PICO_HZ,
    calibration: {
      forumLoopPicoUs: FORUM_LOOP_PICO_US,
      forumLoopInstructions: { now: forumNow, firmware2017: forum2017 },
      firmware2017: FIRMWARE_2017,
      cyclesPerInstruction: { optimistic: round(cpi.optimistic, 4), pessimistic: round(cpi.pessimistic, 4) },
    },
    workloads: figures,
    targetBundle: { file: PICO_BUNDLE, sha256: sha256File(join(REPO_ROOT, PICO_BUNDLE)) },
    targets: measured.targets,
    targetMemory: measured.memory,
    statementCostUs: range,
  };
  if (opts.write) {
    writeFileSync(MODEL_PATH, JSON.stringify(model, null, 2) + "\n");
    p(`wrote ${relative(REPO_ROOT, MODEL_PATH)}`);
  } else {
    p("(--no-write: emulator/cost-model.json unchanged)");
  }
}

await main();
