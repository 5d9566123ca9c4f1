// Loading firmware into a machine: a board bundle (dist/<board>.js with its
// source map). It takes the path every piece of code takes (a console line
// too): compileScript (scripts.ts) applies the preemption transform
// (preempt.ts) and registers the preemption sites with the machine (so a
// site id maps to dist/<board>.js and on to the TypeScript source), then a
// vm.Script runs in the machine's context.
//
// An exception at load is printed on the serial console as the board does
// ("Uncaught Error: ...") followed by " at <file.ts:line:col>", and returned
// in the LoadResult with its mapped TypeScript location.

import { readFileSync } from "node:fs";
import type { SourceMapInput, TraceMap } from "@jridgewell/trace-mapping";
import type { Machine } from "./machine.ts";
import { toTraceMap } from "./preempt.ts";
import { compileScript, syntaxErrorLocation, type CompiledScript, type ErrorLocation } from "./scripts.ts";

// Compiling lives in scripts.ts (the machine compiles console lines too);
// re-exported here for callers that load code.
export { compileScript, syntaxErrorLocation, type CompiledScript } from "./scripts.ts";

export interface BundleSource {
  /** The bundle's JavaScript. */
  code: string;
  /** Its name in locations and stack traces, e.g. "dist/generic.js". */
  fileName: string;
  /** Its source map (object, JSON text or a parsed TraceMap), if any. */
  map?: SourceMapInput | TraceMap | string | null;
  /** Where the map lives (resolves its relative source names). Default fileName + ".map". */
  mapUrl?: string;
}

export interface LoadOptions {
  /**
   * After the code ran, emit E's "init" event, as the board does when it
   * boots saved code (upload with SAVE_ON_SEND=1). Default true; firmware
   * that does not listen to "init" is unaffected.
   */
  emitInit?: boolean;
}

export interface LoadResult {
  ok: boolean;
  /** The exception (or syntax error) that stopped the load. */
  error: unknown;
  /** "Error: message" as printed after "Uncaught ". */
  message: string | null;
  location: ErrorLocation | null;
  /** Script name as registered (unique per machine). */
  fileName: string;
  firstSiteId: number;
  siteCount: number;
}

/** Load and run a bundle in the machine at its current virtual time. */
export function loadBundle(machine: Machine, source: BundleSource, options: LoadOptions = {}): LoadResult {
  let bundleMap: TraceMap | null = null;
  if (source.map) {
    const raw = typeof source.map === "string" ? (JSON.parse(source.map) as SourceMapInput) : source.map;
    bundleMap = toTraceMap(raw, source.mapUrl ?? source.fileName + ".map");
  }
  const firstSiteId = machine.sites.length;
  const fail = (error: unknown, location: ErrorLocation | null, fileName: string): LoadResult => {
    const rec = machine.reportUncaught(error, "load", location);
    return {
      ok: false,
      error,
      message: rec.message,
      location: rec.location,
      fileName,
      firstSiteId,
      siteCount: machine.sites.length - firstSiteId,
    };
  };

  let compiled: CompiledScript;
  try {
    compiled = compileScript(machine, source.code, source.fileName, bundleMap, true);
  } catch (e) {
    return fail(e, syntaxErrorLocation(machine, e, source.fileName, bundleMap), source.fileName);
  }
  try {
    machine.runGuarded(() => compiled.script.runInContext(machine.context));
  } catch (e) {
    return fail(e, machine.locateError(e), compiled.record.fileName);
  }
  if (options.emitInit ?? true) machine.emitEspruinoEvent("init");
  return {
    ok: true,
    error: null,
    message: null,
    location: null,
    fileName: compiled.record.fileName,
    firstSiteId,
    siteCount: compiled.record.siteCount,
  };
}

/** Load dist/<board>.js (and dist/<board>.js.map when present). */
export function loadBundleFile(machine: Machine, path: string, options: LoadOptions = {}): LoadResult {
  return loadBundle(machine, readBundleFile(path), options);
}

/** Read a bundle and its source map (<file>.map, null if absent) from disk; throws if the bundle is missing. */
export function readBundleFile(path: string): { code: string; map: string | null; fileName: string } {
  const code = readFileSync(path, "utf8");
  let map: string | null = null;
  try {
    map = readFileSync(path + ".map", "utf8");
  } catch {
    map = null;
  }
  return { code, map, fileName: path };
}
