// Build a board's bundle only when its inputs changed. A bundle's inputs are
// every file under firmware/ and drivers/ (so a changed firmware or driver
// file always rebuilds), the board's own folder, every source its source map names (a board may
// import another's files), and the build's configuration (rollup.config.js,
// tsconfig.json, package-lock.json for the compiler and minifier versions).
// After a build, dist/.build/<board>.json records the SHA-256 of each input
// and of the bundle; a bundle is stale when a hash differs, an input is new
// or gone, or the bundle or its stamp is missing. Content hashes, not
// modification times: a checkout or a copy that touches files without
// changing them does not rebuild, and an edit within the same second does.
// Rollup's own cache was the alternative; it lives in one process, so it
// would not help separate `npm start` runs.

import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

const require = createRequire(import.meta.url);

export const BUILD_CONFIG_FILES = ["rollup.config.js", "tsconfig.json", "package-lock.json"];

/** Boards with an entry point: boards/<name>/main.ts. */
export function boardNames(root = "."): string[] {
  const dir = join(root, "boards");
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "main.ts")))
    .sort();
}

function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(join(root, d), { withFileTypes: true })) {
      const rel = join(d, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile()) out.push(rel);
    }
  };
  if (existsSync(join(root, dir))) walk(dir);
  return out;
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function stampPath(root: string, board: string): string {
  return join(root, "dist", ".build", `${board}.json`);
}

/** The files a board's bundle is built from (repository-relative, sorted). */
export function bundleInputs(board: string, root = "."): string[] {
  const files = new Set<string>([
    ...filesUnder(root, "firmware"),
    ...filesUnder(root, "drivers"),
    ...filesUnder(root, join("boards", board)),
    ...BUILD_CONFIG_FILES,
  ]);
  const map = join(root, "dist", `${board}.js.map`);
  if (existsSync(map)) {
    try {
      const sources = (JSON.parse(readFileSync(map, "utf8")) as { sources?: string[] }).sources ?? [];
      for (const s of sources) {
        const rel = relative(resolve(root), resolve(dirname(map), s));
        if (!rel.startsWith("..") && !rel.includes("node_modules")) files.add(rel);
      }
    } catch {
      // an unreadable map: the bundle is rebuilt anyway (its hash will not match)
    }
  }
  return [...files].sort();
}

interface Stamp {
  inputs: Record<string, string>;
  bundle: string;
}

/** Why the board's bundle must be built, or null when it is up to date. */
export function staleReason(board: string, root = "."): string | null {
  const bundle = join(root, "dist", `${board}.js`);
  if (!existsSync(bundle) || !existsSync(bundle + ".map")) return "no bundle yet";
  const path = stampPath(root, board);
  if (!existsSync(path)) return "not built by this tool before (no dist/.build stamp)";
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(path, "utf8")) as Stamp;
  } catch {
    return "unreadable build stamp";
  }
  if (sha256(bundle) !== stamp.bundle) return `${relative(root, bundle)} changed since it was built`;
  const inputs = bundleInputs(board, root);
  for (const file of inputs) {
    const p = join(root, file);
    if (!existsSync(p)) return `${file} is gone`;
    if (!(file in stamp.inputs)) return `${file} is new`;
    if (sha256(p) !== stamp.inputs[file]) return `${file} changed`;
  }
  for (const file of Object.keys(stamp.inputs)) if (!existsSync(join(root, file))) return `${file} is gone`;
  return null;
}

function hashInputs(board: string, root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of bundleInputs(board, root)) {
    const p = join(root, file);
    if (existsSync(p) && statSync(p).isFile()) out[file] = sha256(p);
  }
  return out;
}

/**
 * Record that dist/<board>.js was built from its inputs as they are now (or
 * as hashed in `hashedBefore`, taken when the build started).
 */
export function writeStamp(board: string, root = ".", hashedBefore?: Record<string, string>): void {
  const inputs = { ...(hashedBefore ?? {}) };
  // Sources the new map names that were not hashed before (a new import).
  for (const [file, hash] of Object.entries(hashInputs(board, root))) if (!(file in inputs)) inputs[file] = hash;
  const stamp: Stamp = { inputs, bundle: sha256(join(root, "dist", `${board}.js`)) };
  mkdirSync(join(root, "dist", ".build"), { recursive: true });
  writeFileSync(stampPath(root, board), JSON.stringify(stamp, null, 1) + "\n");
}

export interface BuildOutcome {
  ok: boolean;
  built: string[];
  /** Boards that were up to date. */
  fresh: string[];
  message: string;
}

/**
 * Build `boards` (all, if only stale ones are not asked for) with rollup,
 * scan each bundle for what Espruino rejects (scripts/scan-bundles.ts), and
 * stamp it. Output of rollup and the scan goes to `log` (stderr by default).
 */
export function buildBundles(boards: string[], options: { onlyStale?: boolean; root?: string; log?: (s: string) => void } = {}): BuildOutcome {
  const root = options.root ?? ".";
  const log = options.log ?? ((s: string) => process.stderr.write(s));
  const known = boardNames(root);
  for (const b of boards) if (!known.includes(b)) return { ok: false, built: [], fresh: [], message: `no board named ${b} (boards/<name>/main.ts)` };
  const todo: Array<{ board: string; reason: string }> = [];
  const fresh: string[] = [];
  for (const board of boards) {
    const reason = options.onlyStale ? staleReason(board, root) : "asked for";
    if (reason) todo.push({ board, reason });
    else fresh.push(board);
  }
  if (todo.length === 0) return { ok: true, built: [], fresh, message: "" };
  // Hash before building: an edit made during the build makes the next run build again.
  const before = new Map(todo.map((t) => [t.board, hashInputs(t.board, root)]));
  const rollup = require.resolve("rollup/dist/bin/rollup");
  for (const { board, reason } of todo) {
    if (options.onlyStale) log(`build: ${board}: ${reason}\n`);
    const r = spawnSync(process.execPath, [rollup, "-c", "rollup.config.js"], { cwd: root, env: { ...process.env, BOARD: board }, encoding: "utf8" });
    log((r.stdout ?? "") + (r.stderr ?? ""));
    if (r.status !== 0) return { ok: false, built: [], fresh, message: `rollup failed for ${board} (exit ${r.status})` };
  }
  const bundles = todo.map((t) => join("dist", `${t.board}.js`));
  const scan = spawnSync(process.execPath, ["--import", "tsx", join("scripts", "scan-bundles.ts"), ...bundles], { cwd: root, encoding: "utf8" });
  log((scan.stdout ?? "") + (scan.stderr ?? ""));
  if (scan.status !== 0) return { ok: false, built: [], fresh, message: "the Espruino-dialect scan rejected a bundle" };
  for (const { board } of todo) writeStamp(board, root, before.get(board));
  return { ok: true, built: todo.map((t) => t.board), fresh, message: "" };
}
