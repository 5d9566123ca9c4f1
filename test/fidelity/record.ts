// Re-record what the real interpreter prints for every probe:
//   npx tsx test/fidelity/record.ts
// Runs each probe on the stock Linux build (ESPRUINO_BIN, else
// ../shared/espruino-2v29/espruino) and writes test/fidelity/real-2v29.json,
// which test/fidelity.test.ts compares the emulator with (and, where the
// interpreter is present, the interpreter itself). Exits 1 when there is no
// interpreter to record from.

import { writeFileSync } from "node:fs";
import { findEspruino } from "../../scripts/lib/real-espruino.ts";
import { codeHash, loadProbes, RECORDING, runOnReal, type Recording } from "./harness.ts";

const loc = findEspruino("stock");
if (!loc.path) {
  process.stderr.write(`record: ${loc.reason}\n`);
  process.exit(1);
}
const probes = loadProbes();
const started = Date.now();
const outputs = await runOnReal(probes, loc.path);
const recording: Recording = {
  interpreter: "Espruino 2v29 (RELEASE_2V29), stock Linux build, `espruino script.js` with stdin closed",
  probes: Object.fromEntries(probes.map((p) => [p.id, { code: codeHash(p), output: outputs[p.id]! }])),
};
writeFileSync(RECORDING, JSON.stringify(recording, null, 2) + "\n");
process.stdout.write(`record: ${probes.length} probes from ${loc.path} in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${RECORDING}\n`);
