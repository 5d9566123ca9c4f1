// firmware/native/mix-thumb2.ts is what npm run build:native makes of
// native/mix/mix.S: rebuilt with Debian's gcc-arm-none-eabi (.ci/run installs
// it) and compared byte for byte. Without the toolchain that test skips and
// says so; the module's own sums are checked either way.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MIX_MODULE, MIX_SOURCE, buildMixRoutine, findArmToolchain, renderMixModule, sha256 } from "../scripts/lib/native-build.ts";
import {
  MIX_THUMB2_BASE64,
  MIX_THUMB2_CODE_SHA256,
  MIX_THUMB2_ENTRY,
  MIX_THUMB2_OBJECT_SHA256,
  MIX_THUMB2_SIZE,
} from "../firmware/native/mix-thumb2.ts";

const tc = findArmToolchain();
const skip = typeof tc === "string" ? `SKIPPED: ${tc}` : false;
if (skip) console.log(`# native-mix-build: ${skip}; ${MIX_MODULE} was not compared with a rebuild of ${MIX_SOURCE}`);

test("the committed module is consistent: size, SHA-256 of the code, Thumb entry inside it", () => {
  const code = Buffer.from(MIX_THUMB2_BASE64, "base64");
  assert.equal(code.toString("base64"), MIX_THUMB2_BASE64, "base64 does not round-trip");
  assert.equal(code.length, MIX_THUMB2_SIZE);
  assert.equal(sha256(code), MIX_THUMB2_CODE_SHA256);
  assert.equal(MIX_THUMB2_ENTRY & 1, 1, "entry without the Thumb bit");
  assert.ok(MIX_THUMB2_ENTRY < MIX_THUMB2_SIZE);
});

test(`a rebuild of ${MIX_SOURCE} equals ${MIX_MODULE} byte for byte`, { skip }, () => {
  if (typeof tc === "string") return;
  const build = buildMixRoutine(tc);
  const committed = readFileSync(MIX_MODULE, "utf8");
  const rebuilt = renderMixModule(build);
  if (rebuilt !== committed) {
    const why =
      build.codeSha256 !== MIX_THUMB2_CODE_SHA256
        ? `code sha256 ${build.codeSha256}, committed ${MIX_THUMB2_CODE_SHA256}`
        : build.objectSha256 !== MIX_THUMB2_OBJECT_SHA256
          ? `same code bytes, but object sha256 ${build.objectSha256}, committed ${MIX_THUMB2_OBJECT_SHA256}`
          : "same code and object, so the module's text was edited";
    assert.fail(`${MIX_MODULE} is not what ${MIX_SOURCE} builds to with ${build.toolchain}: ${why}. Run npm run build:native and commit the result.`);
  }
});
