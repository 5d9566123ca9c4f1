// The script and site registry: every piece of code a machine runs (a
// bundle, a console line, an evaluate()) goes through the preemption
// transform (preempt.ts), and each statement it contains gets a site id, the
// number `__p(siteId)` passes. Site ids are global to the machine and handed
// out in load order, so a script owns one contiguous range. From a site id
// or an exception's stack this file finds the script, the position in it
// and, through the bundle's source map, the TypeScript line.

import vm from "node:vm";
import type { TraceMap } from "@jridgewell/trace-mapping";
import {
  EspruinoSyntaxError,
  formatPosition,
  mapBundlePosition,
  preemptTransform,
  type PreemptResult,
  type Site,
  type SourcePosition,
} from "./preempt.ts";

/** Where an exception was thrown. */
export interface ErrorLocation {
  /** Script file name as loaded (e.g. "dist/generic.js" or "console-3.js"). */
  file: string;
  /** Position in that (untransformed) script: 1-based line, 0-based column. */
  line: number;
  column: number;
  /** The TypeScript position, when the script came with a source map. */
  source: SourcePosition | null;
  /** "firmware/x.ts:12:5", or "dist/generic.js:1:2345" without a map. */
  text: string;
}

/** One script the machine has loaded (a bundle or a console line). */
export interface ScriptRecord {
  fileName: string;
  firstSite: number;
  siteCount: number;
  transform: PreemptResult;
  /** The bundle's own source map (to TypeScript), if any. */
  bundleMap: TraceMap | null;
  chars: number;
}

/** What a site is, for reports: its script, its position, and the TypeScript position. */
export interface SiteInfo {
  siteId: number;
  file: string;
  site: Site;
  source: SourcePosition | null;
  text: string;
}

export interface CompiledScript {
  record: ScriptRecord;
  script: vm.Script;
}

/** What compileScript needs of a machine. */
export interface ScriptHost {
  /** Every site registered so far (the next script's sites start at sites.length). */
  readonly sites: readonly Site[];
  /** Reject syntax Espruino 2v29 does not parse. */
  readonly espruinoSyntax: boolean;
  uniqueFileName(fileName: string): string;
  registerScript(rec: ScriptRecord): void;
  /** A location in one of its scripts (the function makeLocation below, for a Machine). */
  makeLocation(rec: Pick<ScriptRecord, "fileName" | "bundleMap">, line: number, column: number): ErrorLocation;
}

/** The scripts a machine has loaded and their preemption sites. */
export class ScriptRegistry {
  /** Every preemption site of every script loaded: sites[siteId]. */
  readonly sites: Site[] = [];
  /** The scripts, in site order. */
  readonly records: ScriptRecord[] = [];
  /** Characters of code loaded (process.memory() with code in RAM). */
  codeChars = 0;
  /** Functions in the code loaded. */
  codeFunctions = 0;

  /** Add a script and its sites (rec.firstSite is sites.length: compileScript numbers them so). */
  register(rec: ScriptRecord): void {
    for (const s of rec.transform.sites) this.sites.push(s);
    this.records.push(rec);
    this.codeChars += rec.chars;
    this.codeFunctions += rec.transform.functions;
  }

  /** `fileName`, or `fileName#2`, `#3`... if a script of that name is loaded already. */
  uniqueFileName(fileName: string): string {
    if (!this.records.some((r) => r.fileName === fileName)) return fileName;
    let n = 2;
    while (this.records.some((r) => r.fileName === `${fileName}#${n}`)) n++;
    return `${fileName}#${n}`;
  }

  /** What and where a site is; null for an unknown id. */
  describeSite(siteId: number): SiteInfo | null {
    const site = this.sites[siteId];
    if (!site) return null;
    const rec = this.scriptOfSite(siteId);
    const file = rec?.fileName ?? "?";
    const location = makeLocation({ fileName: file, bundleMap: rec?.bundleMap ?? null }, site.line, site.column);
    return { siteId, file, site, source: location.source, text: location.text };
  }

  /** Where an exception was thrown: from its stack, else from `lastSite` (the last statement started). */
  locateError(error: unknown, lastSite: number): ErrorLocation | null {
    const stack = typeof error === "object" && error !== null ? (error as { stack?: unknown }).stack : undefined;
    if (typeof stack === "string") {
      for (const line of stack.split("\n")) {
        const m = /(?:\(|at )([^\s()]+):(\d+):(\d+)\)?\s*$/.exec(line);
        if (!m) continue;
        const rec = this.records.find((r) => r.fileName === m[1]);
        if (!rec) continue;
        // Transformed position -> original script position.
        const orig = mapBundlePosition(rec.transform.map(), Number(m[2]), Number(m[3]) - 1);
        if (!orig) continue;
        return makeLocation(rec, orig.line, orig.column);
      }
    }
    if (lastSite >= 0) {
      const rec = this.scriptOfSite(lastSite);
      const site = this.sites[lastSite];
      if (rec && site) return makeLocation(rec, site.line, site.column);
    }
    return null;
  }

  private scriptOfSite(siteId: number): ScriptRecord | undefined {
    // Scripts are registered in site order: binary search.
    const s = this.records;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = s[mid]!;
      if (siteId < r.firstSite) hi = mid - 1;
      else if (siteId >= r.firstSite + r.siteCount) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}

/** A location in a loaded script (original coordinates: 1-based line, 0-based column), mapped to TypeScript if possible. */
export function makeLocation(rec: Pick<ScriptRecord, "fileName" | "bundleMap">, line: number, column: number): ErrorLocation {
  const source = rec.bundleMap ? mapBundlePosition(rec.bundleMap, line, column) : null;
  return {
    file: rec.fileName,
    line,
    column,
    source,
    text: source ? formatPosition(source) : formatPosition({ source: rec.fileName, line, column }),
  };
}

// Transform + compile results are reused across machines (a race explorer
// runs the same bundle thousands of times); the site ids baked into the code
// depend on where the script starts in the machine's site table, so that is
// part of the key. vm.Script objects are context-independent.
const CACHE_LIMIT = 8;
const cache = new Map<string, { transform: PreemptResult; script: vm.Script }>();

/**
 * Transform `code`, register it and its sites with the machine, compile it.
 * Throws a SyntaxError (nothing is registered then). `useCache`: reuse the
 * compiled script of an identical earlier load (same code, name and first
 * site id).
 */
export function compileScript(
  machine: ScriptHost,
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
  machine.registerScript(record);
  return { record, script: entry.script };
}

/**
 * Location of a parse error (acorn's `loc`, or an EspruinoSyntaxError),
 * mapped to TypeScript; null if the error carries no position.
 */
export function syntaxErrorLocation(
  machine: Pick<ScriptHost, "makeLocation">,
  e: unknown,
  fileName: string,
  bundleMap: TraceMap | null,
): ErrorLocation | null {
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
