// The cost model (emulator/cost-model.json, npm run calibrate): the emulated
// Pico charges the nominal cost unless given the model's ends, the committed figures agree with one
// another, and, where valgrind and the real interpreter are present, a short
// re-run of the calibration on the period path derives the committed figure.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createPicoMachine } from "../emulator/boards/pico-wm8731.ts";
import { createEmulatedBoard } from "../emulator/boards/registry.ts";
import { Machine } from "../emulator/machine.ts";
import {
  COST_MODEL,
  FUNCTIONAL_STATEMENT_COST_US,
  PICO_STATEMENT_COST_US,
  parseStatementCost,
} from "../emulator/cost-model.ts";
import {
  CALIBRATION_BUNDLE,
  REPO_ROOT,
  WORKLOADS,
  countForumLoop,
  cyclesPerInstruction,
  findTools,
  measureWorkload,
  readCalibrationBundle,
  sha256File,
} from "../scripts/lib/calibration.ts";

test("the emulated Pico charges the nominal cost by default and the calibrated cost when asked", async () => {
  const nominalNs = FUNCTIONAL_STATEMENT_COST_US * 1000;
  const pessimisticNs = Math.round(COST_MODEL.statementCostUs.pessimistic * 1000);
  const cases: [Machine, number][] = [
    [createPicoMachine().machine, nominalNs],
    [(await createEmulatedBoard("pico-wm8731")).machine, nominalNs],
    [new Machine(), nominalNs],
    [createPicoMachine({ statementCostUs: PICO_STATEMENT_COST_US.pessimistic }).machine, pessimisticNs],
    [createPicoMachine({ statementCostUs: 7 }).machine, 7000],
  ];
  for (const [machine, ns] of cases) {
    assert.equal(machine.statementCostNs, ns);
    const s0 = machine.statements;
    const t0 = machine.nowNs;
    machine.evaluate("var a = 1; a = 2; a = 3;");
    assert.equal(machine.statements - s0, 3);
    assert.equal(machine.nowNs - t0, 3 * ns, "virtual time moves by the cost charged");
  }
});

test("--statement-cost takes the model's ends or microseconds, and refuses anything else", () => {
  assert.equal(parseStatementCost("pessimistic"), PICO_STATEMENT_COST_US.pessimistic);
  assert.equal(parseStatementCost(" Optimistic "), PICO_STATEMENT_COST_US.optimistic);
  assert.equal(parseStatementCost("60"), 60);
  for (const bad of ["", "0", "-5", "fast", "NaN", "Infinity"]) {
    const r = parseStatementCost(bad);
    assert.ok(r instanceof Error, `"${bad}" accepted`);
    assert.match(r.message, /optimistic.*pessimistic.*microseconds/);
  }
});

test("the committed model agrees with itself: Pico time from instructions, the range from the workloads", () => {
  const m = COST_MODEL;
  const cpi = cyclesPerInstruction(m.calibration.forumLoopInstructions.now, m.calibration.forumLoopInstructions.firmware2017);
  assert.ok(Math.abs(cpi.optimistic - m.calibration.cyclesPerInstruction.optimistic) < 1e-4);
  assert.ok(Math.abs(cpi.pessimistic - m.calibration.cyclesPerInstruction.pessimistic) < 1e-4);
  assert.deepEqual(
    m.workloads.map((w) => w.name),
    WORKLOADS.map((w) => w.name),
    "one entry per workload the script measures",
  );
  for (const w of m.workloads) {
    for (const end of ["optimistic", "pessimistic"] as const) {
      const us = (w.instructionsPerIteration * cpi[end] * 1e6) / m.coreHz;
      assert.ok(Math.abs(us - w.picoUs[end]) <= 0.1, `${w.name} ${end}: ${us} us, committed ${w.picoUs[end]}`);
      assert.ok(Math.abs(us / w.statementsPerIteration - w.usPerStatement[end]) <= 0.1, `${w.name} ${end} us/statement`);
    }
  }
  assert.equal(m.statementCostUs.optimistic, Math.min(...m.workloads.map((w) => w.usPerStatement.optimistic)));
  assert.equal(m.statementCostUs.pessimistic, Math.max(...m.workloads.map((w) => w.usPerStatement.pessimistic)));
});

// The re-run: the forum loop and the period path, shorter than the script's.
const tools = findTools();
const bundlePath = join(REPO_ROOT, CALIBRATION_BUNDLE);
let skip: string | false = false;
if (typeof tools === "string") skip = `SKIPPED: ${tools}`;
else if (!existsSync(bundlePath)) skip = `SKIPPED: ${CALIBRATION_BUNDLE} is missing (npm run build)`;
else if (sha256File(tools.interpreter) !== COST_MODEL.interpreter.sha256) {
  skip = `SKIPPED: ${tools.interpreter} is not the interpreter the model was made with (sha256 ${COST_MODEL.interpreter.sha256.slice(0, 12)}...)`;
}
if (skip) console.log(`# cost-model: ${skip}; the committed model was not re-derived`);

test("a short re-run on the real interpreter derives the committed figures (else: npm run calibrate)", { skip, timeout: 300_000 }, async () => {
  if (typeof tools === "string") return;
  const stale = "emulator/cost-model.json is stale: run npm run calibrate and commit it";
  const forum = await countForumLoop(tools, [1000, 3000]);
  const committedForum = COST_MODEL.calibration.forumLoopInstructions.now;
  assert.ok(Math.abs(forum / committedForum - 1) < 0.01, `forum loop: ${forum} instructions an iteration, committed ${committedForum}; ${stale}`);
  const cpi = cyclesPerInstruction(forum, COST_MODEL.calibration.forumLoopInstructions.firmware2017);
  const period = { ...WORKLOADS[0]!, runs: [5, 20] as [number, number] };
  const f = await measureWorkload(tools, readCalibrationBundle(), period, cpi);
  const committed = COST_MODEL.workloads.find((w) => w.name === period.name)!;
  console.log(
    `# cost-model: ${period.name}: ${f.instructionsPerIteration} instructions, ${f.statementsPerIteration} statements an iteration, ` +
      `${f.usPerStatement.pessimistic} us a statement (committed ${committed.instructionsPerIteration}, ${committed.statementsPerIteration}, ` +
      `${committed.usPerStatement.pessimistic})`,
  );
  // Callgrind's counts vary by about 0.3% between identical runs (the interpreter reads the clock).
  const drift = f.usPerStatement.pessimistic / committed.usPerStatement.pessimistic - 1;
  assert.ok(Math.abs(drift) < 0.05, `${period.name}: ${f.usPerStatement.pessimistic} us a statement, committed ${committed.usPerStatement.pessimistic}; ${stale}`);
});
