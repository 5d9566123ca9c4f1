// Fails the build when a bundle holds something Espruino 2v29 rejects.
// Usage: tsx scripts/scan-bundles.ts [bundle.js ...]   (default: dist/*.js)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { scanBundle } from "./espruino-scan.ts";

const files = process.argv.slice(2);
if (files.length === 0 && existsSync("dist"))
  for (const name of readdirSync("dist").sort()) if (name.endsWith(".js")) files.push(join("dist", name));
if (files.length === 0) {
  console.error("scan: no bundles (dist/*.js) to scan");
  process.exit(1);
}

let failed = false;
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`scan: ${file}: no such file`);
    failed = true;
    continue;
  }
  const code = readFileSync(file, "utf8");
  const findings = scanBundle(code, file);
  if (findings.length === 0) {
    console.log(`scan: ${file} OK (${Buffer.byteLength(code)} bytes minified)`);
    continue;
  }
  failed = true;
  // A minified bundle is one long line: name the TypeScript source too.
  const map = existsSync(`${file}.map`) ? new TraceMap(readFileSync(`${file}.map`, "utf8")) : null;
  for (const f of findings) {
    const src = map && originalPositionFor(map, { line: f.line, column: f.column - 1 });
    const from = src && src.source ? ` (from ${relative(".", resolve(dirname(file), src.source))}:${src.line}:${src.column + 1})` : "";
    console.error(`${file}:${f.line}:${f.column} ${f.rule}: ${f.message}${from}`);
  }
}
process.exit(failed ? 1 : 0);
