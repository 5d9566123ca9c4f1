// README figures that would drift are generated (npm run readme,
// scripts/readme-figures.ts); this checks them against the code and the build.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, existsSync } from "node:fs";
import { bundleSizes, costModelText, generatedBlock, optionsTable, pico48Text } from "../scripts/readme-figures.ts";

const README = readFileSync("README.md", "utf8");

test("README's npm start options table is the one the code defines (npm run readme rewrites it)", () => {
  const block = generatedBlock(README, "start-options");
  assert.ok(block !== null, "README has the generated options table");
  assert.equal(block, optionsTable(), "the options table is out of date: run npm run readme");
  for (const flag of ["--quiet", "--interactive", "--demo", "--serve [port]"]) assert.ok(block.includes(`\`${flag}`), `${flag} is in the table`);
});

test("README's calibrated statement cost is the committed cost model's", () => {
  const block = generatedBlock(README, "cost-model");
  assert.ok(block !== null, "README has the generated cost-model sentence");
  assert.equal(block, costModelText(), "the cost figure is out of date: run npm run readme");
  assert.match(block, /\d+(\.\d)? to \d+(\.\d)? microseconds/);
});

test("README's 48 kHz figures are the committed cost model's targets", () => {
  const block = generatedBlock(README, "pico-48k");
  assert.ok(block !== null, "README has the generated 48 kHz paragraph");
  assert.equal(block, pico48Text(), "the 48 kHz figures are out of date: run npm run readme");
  assert.match(block, /takes [\d,]+ instructions with one FE on one BE .* and [\d,]+ with two FEs mixed into one BE/);
});

test("README's bundle sizes are within 3% of the bundles just built", () => {
  const block = generatedBlock(README, "bundle-sizes");
  assert.ok(block !== null, "README has the generated bundle sizes");
  const stated = Object.fromEntries([...block.matchAll(/([\w-]+) (\d+\.\d) kB/g)].map((m) => [m[1]!, Number(m[2])]));
  const built = bundleSizes(Object.keys(stated));
  assert.ok(Object.keys(stated).length >= 2, block);
  for (const [board, kb] of Object.entries(stated)) {
    assert.ok(existsSync(`dist/${board}.js`), `dist/${board}.js is built`);
    const actual = statSync(`dist/${board}.js`).size / 1000;
    assert.ok(Math.abs(actual - kb) <= 0.03 * actual, `${board}: README says ${kb} kB, the bundle is ${actual.toFixed(1)} kB: run npm run readme`);
  }
  assert.deepEqual(Object.keys(built).sort(), Object.keys(stated).sort());
});

test("README states the explorer's time as a measurement with its date", () => {
  const block = generatedBlock(README, "explorer-time");
  assert.ok(block, "README has the generated explorer time (npm run readme -- --explorer)");
  assert.match(block, /ran [\d,]+ schedules in \d+ s \(measured \d{4}-\d\d-\d\d by `npm run readme -- --explorer`/);
});
