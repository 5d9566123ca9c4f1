// npm run build: one minified bundle per board (rollup), the Espruino-dialect
// scan of each, and a stamp of its inputs (scripts/lib/bundles.ts).
// Usage: tsx scripts/build.ts [--if-stale] [board ...]   (default: every board)
// --if-stale builds only the bundles whose inputs changed since their last
// build: what npm start, explore and bench use before they run.

import { boardNames, buildBundles } from "./lib/bundles.ts";

const args = process.argv.slice(2);
const onlyStale = args.includes("--if-stale");
const named = args.filter((a) => !a.startsWith("--"));
const started = performance.now();
const outcome = buildBundles(named.length ? named : boardNames(), { onlyStale, log: (s) => process.stdout.write(s) });
if (!outcome.ok) {
  process.stderr.write(`build: ${outcome.message}\n`);
  process.exit(1);
}
if (onlyStale) {
  const took = ((performance.now() - started) / 1000).toFixed(1);
  const parts = [];
  if (outcome.built.length) parts.push(`built ${outcome.built.join(", ")} in ${took} s`);
  if (outcome.fresh.length) parts.push(`${outcome.fresh.join(", ")} up to date`);
  process.stdout.write(`build: ${parts.join("; ")}\n`);
}
