// Build only what changed (scripts/lib/bundles.ts): a bundle is stale when
// any of its inputs changed by content, when one is new or gone, or when
// the bundle itself changed; a change elsewhere leaves it alone. On a
// scratch tree, without running rollup.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { bundleInputs, staleReason, writeStamp } from "../scripts/lib/bundles.ts";

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "bundles-"));
  const files: Record<string, string> = {
    "firmware/dpcm.ts": "export const a = 1;",
    "firmware/types/espruino.d.ts": "declare const E: unknown;",
    "boards/alpha/main.ts": "import '../../firmware/dpcm';",
    "boards/beta/main.ts": "import '../alpha/util';",
    "boards/alpha/util.ts": "export const u = 2;",
    "rollup.config.js": "export default [];",
    "tsconfig.json": "{}",
    "package-lock.json": "{}",
    "dist/alpha.js": "(function(){})();",
    "dist/beta.js": "(function(){})();",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  // beta's source map names alpha's util.ts: that file is one of beta's inputs too.
  writeFileSync(join(root, "dist/alpha.js.map"), JSON.stringify({ sources: ["../boards/alpha/main.ts", "../firmware/dpcm.ts"] }));
  writeFileSync(join(root, "dist/beta.js.map"), JSON.stringify({ sources: ["../boards/beta/main.ts", "../boards/alpha/util.ts"] }));
  writeStamp("alpha", root);
  writeStamp("beta", root);
  return root;
}

test("a bundle's inputs: all of firmware/, its board, the sources its map names, the build configuration", () => {
  const root = tree();
  assert.deepEqual(bundleInputs("beta", root), [
    "boards/alpha/util.ts",
    "boards/beta/main.ts",
    "firmware/dpcm.ts",
    "firmware/types/espruino.d.ts",
    "package-lock.json",
    "rollup.config.js",
    "tsconfig.json",
  ]);
  rmSync(root, { recursive: true });
});

test("stale when an input changes, is added or goes, or the bundle changed; not for a touch or another board's file", () => {
  const root = tree();
  assert.equal(staleReason("alpha", root), null);
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(root, "firmware/dpcm.ts"), later, later);
  assert.equal(staleReason("alpha", root), null, "a touch without a change does not rebuild");
  writeFileSync(join(root, "boards/beta/main.ts"), "// beta only");
  assert.equal(staleReason("alpha", root), null, "another board's file");
  assert.match(staleReason("beta", root) ?? "", /boards\/beta\/main\.ts changed/);
  writeFileSync(join(root, "firmware/dpcm.ts"), "export const a = 2;");
  assert.match(staleReason("alpha", root) ?? "", /firmware\/dpcm\.ts changed/, "a changed firmware file always rebuilds");
  writeStamp("alpha", root);
  writeFileSync(join(root, "firmware/new.ts"), "export {};");
  assert.match(staleReason("alpha", root) ?? "", /firmware\/new\.ts is new/, "even a firmware file no board imports yet");
  writeStamp("alpha", root);
  rmSync(join(root, "firmware/new.ts"));
  assert.match(staleReason("alpha", root) ?? "", /firmware\/new\.ts is gone/);
  writeStamp("alpha", root);
  writeFileSync(join(root, "dist/alpha.js"), "tampered");
  assert.match(staleReason("alpha", root) ?? "", /dist\/alpha\.js changed since it was built/);
  rmSync(join(root, "dist/alpha.js"));
  assert.equal(staleReason("alpha", root), "no bundle yet");
  writeStamp("beta", root);
  writeFileSync(join(root, "rollup.config.js"), "export default [1];");
  assert.match(staleReason("beta", root) ?? "", /rollup\.config\.js changed/);
  rmSync(root, { recursive: true });
});

test("npm start --help and explore --help print without building", () => {
  for (const script of ["scripts/run-emulator.ts", "scripts/explore.ts"]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", script, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage:/);
    assert.doesNotMatch(r.stdout + r.stderr, /^build: |rollup|created dist/m, `${script} --help built something`);
  }
});
