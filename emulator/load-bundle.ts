// Loading firmware into a machine: a board bundle (dist/<board>.js with its
// source map) or a line typed at the console. Both go through the same path:
// the preemption transform (preempt.ts), registration of the preemption sites
// with the machine (so a site id maps to dist/<board>.js and on to the
// TypeScript source), and a vm.Script run in the machine's context.
//
// An exception at load is printed on the serial console as the board does
// ("Uncaught Error: ...") followed by " at <file.ts:line:col>", and returned
// in the LoadResult with its mapped TypeScript location.

import vm from "node:vm";
import { readBundleFile } from "./machine.ts";
import type { SourceMapInput, TraceMap } from "@jridgewell/trace-mapping";
import type { ErrorLocation, Machine, ScriptRecord } from "./machine.ts";
import { EspruinoSyntaxError, preemptTransform, toTraceMap, type PreemptResult } from "./preempt.ts";

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

export interface CompiledScript {
  record: ScriptRecord;
  script: vm.Script;
}

// Transform + compile results are reused across machines (a race explorer
// runs the same bundle thousands of times); the site ids baked into the code
// depend on where the script starts in the machine's site table, so that is
// part of the key. vm.Script objects are context-independent.
const CACHE_LIMIT = 8;
const cache = new Map<string, { transform: PreemptResult; script: vm.Script }>();

/**
 * Transform `code`, register its sites with the machine, compile it. Throws
 * a SyntaxError (nothing is registered then).
 */
export function compileScript(
  machine: Machine,
  code: string,
  fileName: string,
  bundleMap: TraceMap | null,
  useCache = false,
): CompiledScript {
  const firstSiteId = machine.sites.length;
  const vmName = machine.uniqueFileName(fileName);
  const key = `${firstSiteId}\u0000${vmName}\u0000${machine.espruinoSyntax}\u0000${code}`;
  let entry = useCache ? cache.get(key) : undefined;
  if (!entry) {
    const transform = preemptTransform(code, { firstSiteId, fileName: vmName, espruinoSyntax: machine.espruinoSyntax });
    const script = new vm.Script(transform.code, { filename: vmName });
    entry = { transform, script };
    if (useCache) {
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(key, entry);
    }
  }
  const record: ScriptRecord = {
    fileName: vmName,
    firstSite: firstSiteId,
    siteCount: entry.transform.sites.length,
    transform: entry.transform,
    bundleMap,
    chars: code.length,
  };
  for (const s of entry.transform.sites) machine.sites.push(s);
  machine.registerScript(record);
  return { record, script: entry.script };
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

/** Location of a parse error (acorn's `loc`, or an EspruinoSyntaxError), mapped to TypeScript. */
export function syntaxErrorLocation(machine: Machine, e: unknown, fileName: string, bundleMap: TraceMap | null): ErrorLocation | null {
  let line: number | undefined;
  let column: number | undefined;
  if (e instanceof EspruinoSyntaxError) {
    line = e.line;
    column = e.column;
  } else if (typeof e === "object" && e !== null && "loc" in e) {
    const loc = (e as { loc?: { line?: number; column?: number } }).loc;
    line = loc?.line;
    column = loc?.column;
  }
  if (line === undefined || column === undefined) return null;
  return machine.makeLocation({ fileName, bundleMap }, line, column);
}
