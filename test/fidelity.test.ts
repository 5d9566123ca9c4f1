// Emulator fidelity, measured: every probe in test/fidelity/probes/ prints on
// the emulator what the real Espruino 2v29 interpreter printed
// (test/fidelity/real-2v29.json), or is listed with its reason in
// emulator/FIDELITY.md. Where the interpreter is present (ESPRUINO_BIN or
// ../shared/espruino-2v29/espruino), it runs every probe too and must print
// what was recorded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { findEspruino } from "../scripts/lib/real-espruino.ts";
import {
  codeHash,
  comparable,
  FIDELITY_MD,
  listedDifferences,
  loadProbes,
  readRecording,
  runOnEmulator,
  runOnReal,
  withoutSecondReport,
} from "./fidelity/harness.ts";

const probes = loadProbes();
const recording = readRecording();
const RERECORD = "re-record with `npx tsx test/fidelity/record.ts`";

test("the recording has one output per probe, recorded from the probe's code as it is", () => {
  const ids = probes.map((p) => p.id);
  const missing = ids.filter((id) => !(id in recording.probes));
  const removed = Object.keys(recording.probes).filter((id) => !ids.includes(id));
  const changed = probes.filter((p) => p.id in recording.probes && recording.probes[p.id]!.code !== codeHash(p)).map((p) => p.id);
  assert.deepEqual({ missing, removed, changed }, { missing: [], removed: [], changed: [] }, RERECORD);
});

test("the real interpreter prints what was recorded", async (t) => {
  const loc = findEspruino("stock");
  if (!loc.path) {
    if (loc.misconfigured) assert.fail(loc.reason!);
    t.skip(`${loc.reason}; the emulator is still compared with the recording`);
    return;
  }
  const started = Date.now();
  const real = await runOnReal(probes, loc.path);
  const changed = probes.filter((p) => real[p.id] !== recording.probes[p.id]!.output);
  t.diagnostic(`${probes.length} probes on ${loc.path} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(
    changed.map((p) => `${p.id}:\n--- recorded\n${recording.probes[p.id]!.output}--- now\n${real[p.id]}`),
    [],
    `the interpreter's output changed: ${RERECORD}`,
  );
});

test("the emulator prints what the interpreter prints, except the differences listed in emulator/FIDELITY.md", (t) => {
  const listed = listedDifferences(readFileSync(FIDELITY_MD, "utf8"));
  const unknown = [...listed.keys()].filter((id) => !probes.some((p) => p.id === id));
  const unlisted: string[] = [];
  const nowMatching: string[] = [];
  let matching = 0;
  for (const p of probes) {
    const emulated = comparable(runOnEmulator(p));
    const real = comparable(recording.probes[p.id]!.output);
    const same = emulated === real;
    if (same) matching++;
    if (!same && !listed.has(p.id)) unlisted.push(`${p.id}:\n--- real interpreter\n${real}\n--- emulator\n${emulated}`);
    if (same && listed.has(p.id)) nowMatching.push(`${p.id} (FIDELITY.md:${listed.get(p.id)})`);
  }
  t.diagnostic(`fidelity: ${matching} of ${probes.length} probes print the same on the emulator as on the real interpreter`);
  assert.deepEqual(unknown, [], "FIDELITY.md lists probes that do not exist");
  assert.deepEqual(unlisted, [], "new differences: make the emulator match, or list them in emulator/FIDELITY.md with the reason");
  assert.deepEqual(nowMatching, [], "listed in emulator/FIDELITY.md but matching now: remove them from its table");
});

test("comparable() drops both kinds of stack trace and keeps the Uncaught line", () => {
  const real = 'Uncaught Error: x\n    at f (:1:20)\nthrow new Error("x")\n                   ^\n    at :2:1\nf();\n^\nnext\n';
  const emulated = "Uncaught Error: x\n at firmware/x.ts:3:5\nnext\n";
  assert.equal(comparable(real), "Uncaught Error: x\nnext\n");
  assert.equal(comparable(emulated), comparable(real));
  assert.equal(withoutSecondReport("Uncaught Error: x\nUncaught undefined\n"), "Uncaught Error: x\n");
});
