// The one source transform the emulator applies to every piece of firmware
// code it runs (the board bundle and every line typed at the console):
//
//  1. Statement-level preemption points. A call `__p(<siteId>);` goes in
//     before every statement (Program, BlockStatement, StaticBlock and
//     SwitchCase bodies). A statement in a non-block position (`if (a) b();`,
//     a loop body, `else x;`) is wrapped in braces: `if (a) {__p(7);b();}`.
//     An empty loop body `while (x) {}` gets one inside it, so a busy-wait
//     stays preemptible. Espruino checks for a pending EXEC timer task between
//     statements, so these are exactly the places where the emulator may run
//     the interrupt handler.
//
//  2. Espruino's lack of hoisting. `function f(){...}` becomes a non-hoisted
//     binding at the place it stands: `let f = function(){...};` in a block or
//     function body (an assignment when the name is also a parameter, a `var`,
//     or a second declaration of the same name in that scope), and
//     `f = function(){...}, void 0;` at the top level of a sloppy script (a
//     global property, as on the board; `var` in a strict script). Calling a
//     function before its definition then throws a ReferenceError, as on the
//     board. The function expression is anonymous; name inference keeps
//     `f.name === "f"`.
//
//  3. Espruino's one-binding `for (let ...)`: `for (let i = 0; ...; i++) body`
//     becomes `{let i = 0; for (; ...; i++) body}`, so closures made in the
//     loop all see the final value, as on the board (facts file).
//
//  4. Optionally (on by default) the syntax Espruino 2v29 rejects is rejected
//     here too, as a SyntaxError naming the construct and its position.
//
//  5. Espruino's numbers and mode (both on by default):
//     - a decimal literal with a fraction or an exponent is the double
//       Espruino's lexer makes of it (stringToFloatWithRadix, src/jsutils.c:
//       digit by digit, `0.3` is 0.1 * 3), written out so that V8 reads back
//       exactly that double: `0.3` becomes `(0.30000000000000004)`;
//     - a "use strict" directive is made an ordinary expression statement
//       (`void "use strict";`): Espruino ignores it, so code runs sloppy, as
//       on the board (an undeclared assignment makes a global, `this` in a
//       plain call is the global object).
//
// magic-string keeps every edit mappable: `sites` gives each preemption
// point's position in the ORIGINAL code, and `map()` (lazy, it is only needed
// to locate an exception) maps the transformed code back to the original.

import { Parser } from "acorn";
import MagicString from "magic-string";
import { LEAST_UPPER_BOUND, TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { SourceMapInput } from "@jridgewell/trace-mapping";

/** A preemption point: where its statement starts in the original code. */
export interface Site {
  /** Character offset (UTF-16 units) in the original code. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 0-based column (source-map convention). */
  column: number;
}

export interface PreemptOptions {
  /** Id of the first site; ids are consecutive in source order. Default 0. */
  firstSiteId?: number;
  /** Name of the preemption call. Default "__p". */
  callee?: string;
  /** Source name used in the generated source map. */
  fileName?: string;
  /** Rewrite function declarations into non-hoisted bindings. Default true. */
  noHoisting?: boolean;
  /** Give `for (let ...)` a single binding for the whole loop. Default true. */
  singleForLetBinding?: boolean;
  /** Reject syntax Espruino 2v29 does not parse. Default true. */
  espruinoSyntax?: boolean;
  /** Fractional and exponent literals as Espruino's lexer reads them. Default true. */
  espruinoFloats?: boolean;
  /** Ignore "use strict", as Espruino does. Default true. */
  ignoreUseStrict?: boolean;
}

export interface PreemptResult {
  code: string;
  /** sites[k] is the site with id firstSiteId + k (so sites[siteId] when firstSiteId is 0). */
  sites: Site[];
  firstSiteId: number;
  /** Function definitions in the code (declarations, expressions, arrows, methods). */
  functions: number;
  /** Source map from the transformed code back to the original (generated on first call). */
  map(): TraceMap;
}

/** Thrown for code the interpreter would not accept; carries the original position. */
export class EspruinoSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = "SyntaxError";
  }
}

// Minimal ESTree shapes: acorn returns plain objects; only what we touch is typed.
interface Node {
  type: string;
  start: number;
  end: number;
  loc?: { start: { line: number; column: number } };
  [key: string]: unknown;
}

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);
const LOOP_TYPES = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);
const SKIP_KEYS = new Set(["type", "start", "end", "loc", "range"]);

/** One lexical scope that function declarations are bound in. */
interface DeclScope {
  kind: "program" | "function" | "block";
  /** Names already bound by a rewritten declaration in this scope. */
  declared: Set<string>;
  /** For a function body: parameter and `var` names of that function (computed lazily). */
  fn?: Node;
  varNames?: Set<string>;
  strict: boolean;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as Node).type === "string";
}

/** Names bound by a pattern (identifiers, destructuring, defaults, rest). */
function patternNames(pattern: unknown, out: Set<string>): void {
  if (!isNode(pattern)) return;
  switch (pattern.type) {
    case "Identifier":
      out.add(pattern.name as string);
      return;
    case "ObjectPattern":
      for (const p of pattern.properties as Node[]) patternNames(p.type === "RestElement" ? p : p.value, out);
      return;
    case "ArrayPattern":
      for (const e of pattern.elements as Node[]) patternNames(e, out);
      return;
    case "AssignmentPattern":
      patternNames(pattern.left, out);
      return;
    case "RestElement":
      patternNames(pattern.argument, out);
      return;
  }
}

/** Parameter names plus every `var` declared in `fn` (not crossing nested functions). */
function functionVarNames(fn: Node): Set<string> {
  const names = new Set<string>();
  for (const p of fn.params as Node[]) patternNames(p, names);
  names.add("arguments");
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (!isNode(node)) return;
    if (FUNCTION_TYPES.has(node.type) || node.type === "ClassBody") return;
    if (node.type === "VariableDeclaration" && node.kind === "var") {
      for (const d of node.declarations as Node[]) patternNames(d.id, names);
    }
    for (const key in node) if (!SKIP_KEYS.has(key)) visit(node[key]);
  };
  visit(fn.body);
  return names;
}

/** A character's digit value in any radix up to 36, or -1 (chtod, src/jsutils.c). */
function chtod(ch: string | undefined): number {
  if (ch === undefined) return -1;
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 97 + 10;
  if (c >= 65 && c <= 90) return c - 65 + 10;
  return -1;
}

/**
 * The double Espruino 2v29 makes of a number literal with a fraction or an
 * exponent: stringToFloatWithRadix (src/jsutils.c, RELEASE_2V29) as the
 * lexer calls it, ported operation for operation (the same IEEE doubles:
 * x86-64 SSE2 and the Cortex-M4's software doubles round alike). So `0.3` is
 * 0.1 * 3 = 0.30000000000000004 and `1e-3` is 1 / 10 / 10 / 10.
 */
export function espruinoFloatLiteral(raw: string): number {
  const s = raw.replace(/_/g, "");
  let i = 0;
  // getRadix(): a leading 0 means octal unless a '.', 8 or 9 follows among the digits.
  let radix = 10;
  if (s[0] === "0") {
    radix = 8;
    i = 1;
    const c = s[1];
    if (c === "o" || c === "O") i = 2;
    else if (c === "x" || c === "X") (radix = 16), (i = 2);
    else if (c === "b" || c === "B") (radix = 2), (i = 2);
    else {
      for (let p = i; p < s.length; p++) {
        const d = s[p]!;
        if (d === "." || d === "8" || d === "9") radix = 10;
        else if (d < "0" || d > "9") break;
      }
    }
  }
  let v = 0;
  let mul = 0.1;
  for (; i < s.length; i++) {
    const digit = chtod(s[i]);
    if (digit < 0 || digit >= radix) break;
    v = v * radix + digit;
  }
  if (radix === 10) {
    if (s[i] === ".") {
      i++;
      for (; i < s.length && s[i]! >= "0" && s[i]! <= "9"; i++) {
        v += mul * (s.charCodeAt(i) - 48);
        mul /= 10;
      }
    }
    if (s[i] === "e" || s[i] === "E") {
      i++;
      let negative = false;
      if (s[i] === "-" || s[i] === "+") negative = s[i++] === "-";
      let e = 0;
      for (; i < s.length && s[i]! >= "0" && s[i]! <= "9"; i++) e = e * 10 + (s.charCodeAt(i) - 48);
      if (negative) e = -e;
      while (e > 0) {
        v *= 10;
        e--;
      }
      while (e < 0) {
        v /= 10;
        e++;
      }
    }
  }
  return v;
}

function hasUseStrict(body: Node[]): boolean {
  for (const s of body) {
    if (s.type !== "ExpressionStatement" || typeof s.directive !== "string") break;
    if (s.directive === "use strict") return true;
  }
  return false;
}

/** What Espruino 2v29 does not parse (see the facts file), or null. */
function unsupported(node: Node): string | null {
  switch (node.type) {
    case "ObjectPattern":
    case "ArrayPattern":
      return "destructuring";
    case "AssignmentPattern":
      return "default parameters";
    case "RestElement":
      return "rest parameters";
    case "SpreadElement":
      return "spread (...)";
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return node.computed ? "computed keys" : null;
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      if (node.async) return "async functions";
      if (node.generator) return "generators";
      return null;
    case "AwaitExpression":
      return "await";
    case "YieldExpression":
      return "yield";
    case "LabeledStatement":
      return "labelled statements";
    case "BinaryExpression":
    case "AssignmentExpression":
      return node.operator === "**" || node.operator === "**=" ? "the ** operator" : null;
    case "ChainExpression":
      return "optional chaining (?.)";
    default:
      return null;
  }
}

/**
 * Insert the preemption calls and the no-hoisting rewrite into `code` (a
 * script, not a module). Throws a SyntaxError (acorn's, or an
 * EspruinoSyntaxError) for code that does not parse.
 */
export function preemptTransform(code: string, options: PreemptOptions = {}): PreemptResult {
  const firstSiteId = options.firstSiteId ?? 0;
  const callee = options.callee ?? "__p";
  const noHoisting = options.noHoisting ?? true;
  const forLet = options.singleForLetBinding ?? true;
  const checkSyntax = options.espruinoSyntax ?? true;
  const floats = options.espruinoFloats ?? true;
  const sloppy = options.ignoreUseStrict ?? true;
  /** Whether a body's directives make it strict (never, when "use strict" is ignored). */
  const strictBody = (body: Node[]): boolean => !sloppy && hasUseStrict(body);

  const ast = Parser.parse(code, {
    ecmaVersion: "latest",
    sourceType: "script",
    locations: true,
    allowHashBang: true,
  }) as unknown as Node;

  const s = new MagicString(code);
  const sites: Site[] = [];
  let functions = 0;

  const newSite = (node: Node): number => {
    const loc = node.loc!.start;
    sites.push({ offset: node.start, line: loc.line, column: loc.column });
    return firstSiteId + sites.length - 1;
  };
  const call = (id: number): string => `${callee}(${id});`;

  const reject = (node: Node, what: string): never => {
    const loc = node.loc!.start;
    throw new EspruinoSyntaxError(
      `Espruino 2v29 does not support ${what} (line ${loc.line} col ${loc.column + 1})`,
      node.start,
      loc.line,
      loc.column,
    );
  };

  /** Rewrite `function f(){}` standing in `scope`; returns the text to append after it. */
  const rewriteFunctionDeclaration = (fn: Node, scope: DeclScope): string => {
    const id = fn.id as Node | null;
    if (!id) return "";
    const name = id.name as string;
    const keyword = (fn.async ? "async " : "") + "function" + (fn.generator ? "*" : "");
    let prefix: string;
    let suffix = ";";
    if (scope.kind === "program") {
      if (scope.strict) {
        prefix = `var ${name} = `;
      } else {
        // A global property, created where the declaration stands; the
        // statement's completion value stays undefined (console echo).
        prefix = `${name} = `;
        suffix = ", void 0;";
      }
    } else {
      let conflict = scope.declared.has(name);
      if (!conflict && scope.kind === "function" && scope.fn) {
        scope.varNames ??= functionVarNames(scope.fn);
        conflict = scope.varNames.has(name);
      }
      prefix = conflict ? `${name} = ` : `let ${name} = `;
      scope.declared.add(name);
    }
    s.overwrite(fn.start, id.end, prefix + keyword);
    return suffix;
  };

  /** `for (let a = x, b = y; t; u) body` -> `{let a = x, b = y; for (; t; u) body}`. */
  const rewriteForLet = (stmt: Node): boolean => {
    const init = stmt.init as Node | null;
    if (!init || init.type !== "VariableDeclaration" || init.kind !== "let") return false;
    s.appendLeft(stmt.start, "{");
    s.move(init.start, init.end, stmt.start);
    s.appendLeft(init.end, ";");
    return true;
  };

  // ---- the walk -----------------------------------------------------------

  const visitChildren = (node: Node, scope: DeclScope): void => {
    for (const key in node) {
      if (SKIP_KEYS.has(key)) continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const c of child) if (isNode(c)) visit(c, scope);
      } else if (isNode(child)) {
        visit(child, scope);
      }
    }
  };

  /** A statement list: a call before each statement except directives. */
  const visitList = (body: Node[], scope: DeclScope): void => {
    let prologue = true;
    for (const stmt of body) {
      if (prologue && stmt.type === "ExpressionStatement" && typeof stmt.directive === "string") {
        // Espruino ignores "use strict": an expression statement, not a directive, is what it is there.
        if (sloppy && stmt.directive === "use strict") s.appendLeft(stmt.start, "void ");
        continue; // otherwise a directive must stay first to remain one
      }
      prologue = false;
      s.appendLeft(stmt.start, call(newSite(stmt)));
      visitStatement(stmt, scope, "");
    }
  };

  /** A statement in a non-block position (if/else branch, loop body). */
  const visitSingle = (stmt: Node, scope: DeclScope, isLoopBody: boolean): void => {
    if (stmt.type === "BlockStatement") {
      if (isLoopBody && (stmt.body as Node[]).length === 0) {
        s.appendLeft(stmt.start + 1, call(newSite(stmt)));
        return;
      }
      visit(stmt, scope);
      return;
    }
    s.appendLeft(stmt.start, "{" + call(newSite(stmt)));
    const inner: DeclScope = { kind: "block", declared: new Set(), strict: scope.strict };
    visitStatement(stmt, inner, "}");
  };

  /** Process one statement; `close` is appended after it once its children are done. */
  const visitStatement = (stmt: Node, scope: DeclScope, close: string): void => {
    let after = "";
    if (stmt.type === "FunctionDeclaration" && noHoisting) {
      after = rewriteFunctionDeclaration(stmt, scope);
    }
    if (stmt.type === "ForStatement" && forLet && rewriteForLet(stmt)) {
      after = "}";
    }
    visit(stmt, scope);
    const text = after + close;
    if (text) s.appendLeft(stmt.end, text);
  };

  const visit = (node: Node, scope: DeclScope): void => {
    if (checkSyntax) {
      const what = unsupported(node);
      if (what) reject(node, what);
    }
    switch (node.type) {
      case "Program": {
        const body = node.body as Node[];
        visitList(body, { kind: "program", declared: new Set(), strict: strictBody(body) });
        return;
      }
      case "BlockStatement":
      case "StaticBlock":
        visitList(node.body as Node[], { kind: "block", declared: new Set(), strict: scope.strict });
        return;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        functions++;
        if (node.id) visit(node.id as Node, scope);
        for (const p of node.params as Node[]) visit(p, scope);
        const body = node.body as Node;
        if (body.type === "BlockStatement") {
          const list = body.body as Node[];
          visitList(list, {
            kind: "function",
            declared: new Set(),
            fn: node,
            strict: scope.strict || strictBody(list),
          });
        } else {
          visit(body, scope); // arrow with an expression body: no statement inside
        }
        return;
      }
      case "IfStatement":
        visit(node.test as Node, scope);
        visitSingle(node.consequent as Node, scope, false);
        if (node.alternate) visitSingle(node.alternate as Node, scope, false);
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
      case "WithStatement":
        for (const key of ["init", "left", "right", "test", "update", "object"]) {
          const child = node[key];
          if (isNode(child)) visit(child, scope);
        }
        visitSingle(node.body as Node, scope, LOOP_TYPES.has(node.type));
        return;
      case "LabeledStatement": {
        // The label and its statement are one statement: no call in between,
        // and no braces (they would break `continue label`).
        visit(node.body as Node, scope);
        return;
      }
      case "Literal": {
        // A decimal literal with a fraction or an exponent (not 0x/0o/0b, not an integer: those agree).
        const raw = node.raw as string;
        if (floats && typeof node.value === "number" && /^[0-9._]*[.eE]/.test(raw) && !/^0[xXoObB]/.test(raw)) {
          const board = espruinoFloatLiteral(raw);
          if (!Object.is(board, node.value)) s.overwrite(node.start, node.end, `(${String(board)})`);
        }
        return;
      }
      case "Property":
      case "MethodDefinition":
      case "PropertyDefinition":
        // A key that is not computed is a name, not a number to read (`{0.5: x}`).
        if (!node.computed) {
          if (isNode(node.value)) visit(node.value, scope);
          return;
        }
        visitChildren(node, scope);
        return;
      case "SwitchStatement": {
        visit(node.discriminant as Node, scope);
        const caseScope: DeclScope = { kind: "block", declared: new Set(), strict: scope.strict };
        for (const c of node.cases as Node[]) {
          if (c.test) visit(c.test as Node, scope);
          visitList(c.consequent as Node[], caseScope);
        }
        return;
      }
      default:
        visitChildren(node, scope);
    }
  };

  visit(ast, { kind: "program", declared: new Set(), strict: false });

  let traceMap: TraceMap | null = null;
  return {
    code: s.toString(),
    sites,
    firstSiteId,
    functions,
    map(): TraceMap {
      traceMap ??= new TraceMap(
        s.generateMap({ hires: true, source: options.fileName ?? "input.js", includeContent: false }) as unknown as SourceMapInput,
      );
      return traceMap;
    },
  };
}

/** A position in a TypeScript (or other original) source file. */
export interface SourcePosition {
  source: string;
  /** 1-based. */
  line: number;
  /** 0-based. */
  column: number;
  name: string | null;
}

/**
 * Parse a source map (object or JSON text) once, for repeated lookups.
 * `mapUrl` (e.g. "dist/generic.js.map") resolves the map's relative source
 * names, so "../firmware/x.ts" comes out as "firmware/x.ts".
 */
export function toTraceMap(map: SourceMapInput | TraceMap, mapUrl?: string): TraceMap {
  return map instanceof TraceMap ? map : new TraceMap(map, mapUrl);
}

/** Map a position of the bundle (1-based line, 0-based column) through its source map. */
export function mapBundlePosition(map: TraceMap, line: number, column: number): SourcePosition | null {
  // The default bias takes the nearest mapped segment at or before the
  // column; failing that (nothing mapped before it on the line), the next one.
  let pos = originalPositionFor(map, { line, column });
  if (pos.source == null) pos = originalPositionFor(map, { line, column, bias: LEAST_UPPER_BOUND });
  if (pos.source == null || pos.line == null) return null;
  return { source: relativeSource(pos.source), line: pos.line, column: pos.column ?? 0, name: pos.name ?? null };
}

/** An absolute source path under the working directory, made relative ("firmware/x.ts"). */
function relativeSource(source: string): string {
  const cwd = process.cwd().replace(/\/+$/, "") + "/";
  return source.startsWith(cwd) ? source.slice(cwd.length) : source;
}

/** Map a preemption site through the bundle's source map (dist/<board>.js.map) to the TypeScript file:line. */
export function mapSite(site: Site, map: TraceMap): SourcePosition | null {
  return mapBundlePosition(map, site.line, site.column);
}

/** "firmware/dpcm/trigger.ts:120:5" (1-based column for display). */
export function formatPosition(pos: { source: string; line: number; column: number }): string {
  return `${pos.source}:${pos.line}:${pos.column + 1}`;
}
