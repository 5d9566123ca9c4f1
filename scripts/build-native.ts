// npm run build:native: assemble native/mix/mix.S with Debian's
// gcc-arm-none-eabi and write firmware/native/mix-thumb2.ts (the code as
// base64, its E.nativeCall entry and signature, and SHA-256 sums). The module
// is committed, so a clone needs no toolchain; --check compares instead of
// writing, as test/native-mix-build.test.ts does.
//
// Exit status: 0 written (or, with --check, identical); 1 the toolchain is
// missing, the build failed or (--check) the module differs.

import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { Command } from "commander";
import { MIX_MODULE, MIX_SOURCE, buildMixRoutine, findArmToolchain, renderMixModule } from "./lib/native-build.ts";

const program = new Command()
  .name("npm run build:native --")
  .description(`Assemble ${MIX_SOURCE} for Cortex-M4 and write ${MIX_MODULE}.`)
  .option("--check", `compare with the committed ${MIX_MODULE} instead of writing it`)
  .parse();
const options = program.opts<{ check?: boolean }>();

const tc = findArmToolchain();
if (typeof tc === "string") {
  console.error(`build:native: ${tc}`);
  process.exit(1);
}
let text: string;
let build;
try {
  build = buildMixRoutine(tc);
  text = renderMixModule(build);
} catch (e) {
  console.error(`build:native: ${(e as Error).message}`);
  process.exit(1);
}
const summary = `${build.code.length} bytes, entries ${build.entry} (mix) ${build.copyEntry} (copy) ${build.zeroEntry} (zero), code sha256 ${build.codeSha256} (${tc.version})`;
if (options.check) {
  const old = existsSync(MIX_MODULE) ? readFileSync(MIX_MODULE, "utf8") : "";
  if (old !== text) {
    console.error(`build:native: ${MIX_MODULE} differs from a rebuild of ${MIX_SOURCE}: run npm run build:native`);
    process.exit(1);
  }
  console.log(`${MIX_MODULE} matches a rebuild: ${summary}`);
} else {
  writeFileSync(MIX_MODULE, text);
  console.log(`wrote ${MIX_MODULE}: ${summary}`);
}
