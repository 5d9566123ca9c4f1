// Scans a built bundle for what Espruino 2v29 rejects or runs differently
// although Node accepts it (../shared/espruino-2v29-facts.md). The lint checks
// the TypeScript; this checks what tsc, rollup and terser actually emitted.
import { parse } from "acorn";

export interface Finding {
  rule: string;
  message: string;
  line: number;
  /** 1-based, like editors and `file:line:col` links. */
  column: number;
  snippet: string;
}

// acorn's typed ESTree union is too narrow to walk generically: a loose node.
type N = { type: string; start: number; end: number; loc: { start: { line: number; column: number } }; [key: string]: any };
interface Scope {
  parent: Scope | null;
  fn: boolean;
  names: Map<string, N>;
}

const E = "Espruino 2v29";
// Measured by the fidelity probes builtins-v8/missing-* (test/fidelity/real-2v29.json);
// emulator/espruino-globals.ts (MISSING) removes the same names and
// test/bundle-scan.test.ts checks that the scan reports every one.
const MISSING_GLOBALS = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "WeakRef", "FinalizationRegistry",
  "RangeError", "EvalError", "URIError", "AggregateError", "Intl", "SharedArrayBuffer", "Atomics", "WebAssembly",
  "BigInt64Array", "BigUint64Array", "decodeURI", "encodeURI", "escape", "unescape",
]);
const MISSING_STATICS = new Set([
  "Array.from", "Array.of", "Object.freeze", "Object.is", "Object.hasOwn", "Object.seal", "Object.preventExtensions",
  "Object.isFrozen", "Object.isSealed", "Object.isExtensible", "Object.getOwnPropertySymbols",
  "Number.isInteger", "Number.isFinite", "Number.isNaN", "Number.isSafeInteger", "Number.parseFloat", "Number.parseInt",
  "Number.MAX_SAFE_INTEGER", "Number.MIN_SAFE_INTEGER", "Number.EPSILON",
  "Math.imul", "Math.trunc", "Math.hypot", "Math.log2", "Math.log10", "Math.cbrt", "Math.expm1", "Math.log1p", "Math.clz32",
  "Math.fround", "Math.sinh", "Math.cosh", "Math.tanh", "Math.asinh", "Math.acosh", "Math.atanh",
  "String.fromCodePoint", "String.raw", "Date.UTC", "ArrayBuffer.isView",
  "Promise.race", "Promise.allSettled", "Promise.any",
]);
/** Methods of numbers, strings, arrays and typed arrays the board lacks: reported where they are called. */
const MISSING_METHODS = new Set([
  "toPrecision", "toExponential", "toLocaleString", "trimStart", "trimEnd", "trimLeft", "trimRight", "codePointAt",
  "normalize", "localeCompare", "matchAll", "flat", "flatMap", "copyWithin", "findLast", "findLastIndex", "lastIndexOf",
  "reduceRight", "toReversed", "toSorted", "toSpliced", "isPrototypeOf", "propertyIsEnumerable", "finally",
]);
/** Built-in classes a class cannot extend on the board: all but Array and Object (probe builtins/extends-builtins). */
const BUILTIN_CLASSES =
  /^(Error|TypeError|SyntaxError|ReferenceError|InternalError|RangeError|Promise|ArrayBuffer|DataView|Date|RegExp|String|Number|Boolean|Function|(Int|Uint|Float)(8|16|32|64)(Clamped)?Array)$/;
const BUILTINS = /^(Array|String|Function|Object|Number|Boolean|RegExp|Date|Error|Promise|ArrayBuffer|DataView|(Int|Uint|Float)(8|16|32|64)(Clamped)?Array)$/;
const NO_HOIST = `${E} does not hoist function or class declarations, so it is undefined here: move the declaration above this use`;

const isFn = (n: N | null): boolean =>
  !!n && (n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression");

function kids(n: N): N[] {
  const out: N[] = [];
  for (const key of Object.keys(n)) {
    if (key === "loc") continue;
    const v = n[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") out.push(c);
    } else if (v && typeof v === "object" && typeof v.type === "string") out.push(v);
  }
  return out;
}

function propName(m: N): string | null {
  if (!m.computed && m.property.type === "Identifier") return m.property.name;
  if (m.computed && m.property.type === "Literal" && typeof m.property.value === "string") return m.property.value;
  return null;
}

export function scanBundle(code: string, fileName = "bundle.js"): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, n: N, message: string): void => {
    findings.push({
      rule,
      message,
      line: n.loc.start.line,
      column: n.loc.start.column + 1,
      snippet: code.slice(n.start, Math.min(n.end, n.start + 80)).replace(/\s+/g, " "),
    });
  };

  let program: N;
  try {
    // Latest syntax, so the forbidden constructs parse and can be reported.
    program = parse(code, { ecmaVersion: "latest", sourceType: "script", locations: true, allowHashBang: true }) as unknown as N;
  } catch (e) {
    const err = e as SyntaxError & { loc?: { line: number; column: number } };
    const loc = err.loc ?? { line: 1, column: 0 };
    return [{ rule: "parse", message: `${fileName}: ${err.message}`, line: loc.line, column: loc.column + 1, snippet: "" }];
  }

  // ---- Pass 1: scopes, declarations, references.
  const refs = new Map<N, Scope>(); // reference Identifier -> scope it is read in
  const lists: N[][] = []; // every statement list: program, function and block bodies
  const declPos = new Map<N, { list: N[]; index: number }>();
  const newScope = (parent: Scope, fn: boolean): Scope => ({ parent, fn, names: new Map() });
  const fnScope = (s: Scope): Scope => (s.fn || !s.parent ? s : fnScope(s.parent));

  // Declares a binding pattern's names in `into`, visits its default values and computed keys.
  const bind = (p: N | null, into: Scope, decl: N, scope: Scope): void => {
    if (!p) return;
    if (p.type === "Identifier") into.names.set(p.name, decl);
    else if (p.type === "RestElement") bind(p.argument, into, decl, scope);
    else if (p.type === "ArrayPattern") for (const e of p.elements) bind(e, into, decl, scope);
    else if (p.type === "AssignmentPattern") {
      bind(p.left, into, decl, scope);
      visit(p.right, scope);
    } else if (p.type === "ObjectPattern") {
      for (const q of p.properties) {
        if (q.type === "RestElement") bind(q.argument, into, decl, scope);
        else {
          if (q.computed) visit(q.key, scope);
          bind(q.value, into, decl, scope);
        }
      }
    } else visit(p, scope);
  };
  const list = (body: N[], scope: Scope): void => {
    lists.push(body);
    body.forEach((stmt, index) => {
      if (stmt.type === "FunctionDeclaration" || stmt.type === "ClassDeclaration") declPos.set(stmt, { list: body, index });
    });
    for (const stmt of body) visit(stmt, scope);
  };
  const visit = (n: N | null, scope: Scope): void => {
    if (!n) return;
    switch (n.type) {
      case "Identifier":
        refs.set(n, scope);
        return;
      case "MemberExpression":
        visit(n.object, scope);
        if (n.computed) visit(n.property, scope);
        return;
      case "Property":
      case "MethodDefinition":
      case "PropertyDefinition":
        if (n.computed) visit(n.key, scope);
        visit(n.value, scope);
        return;
      case "LabeledStatement":
        visit(n.body, scope);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
        return;
      case "VariableDeclaration": {
        const into = n.kind === "var" ? fnScope(scope) : scope;
        for (const d of n.declarations) {
          bind(d.id, into, d, scope);
          visit(d.init, scope);
        }
        return;
      }
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        if (n.type === "FunctionDeclaration") scope.names.set(n.id.name, n);
        const inner = newScope(scope, true);
        if (n.type === "FunctionExpression" && n.id) inner.names.set(n.id.name, n);
        for (const p of n.params) bind(p, inner, n, inner);
        if (n.body.type === "BlockStatement") list(n.body.body, inner);
        else visit(n.body, inner);
        return;
      }
      case "ClassDeclaration":
      case "ClassExpression": {
        let s = scope;
        if (n.type === "ClassExpression" && n.id) s = newScope(scope, false);
        if (n.id) s.names.set(n.id.name, n);
        visit(n.superClass, s);
        visit(n.body, s);
        return;
      }
      case "CatchClause": {
        const s = newScope(scope, false);
        bind(n.param, s, n, s);
        visit(n.body, s);
        return;
      }
      case "Program":
        list(n.body, scope);
        return;
      case "BlockStatement":
      case "StaticBlock":
        list(n.body, newScope(scope, n.type === "StaticBlock"));
        return;
      case "SwitchStatement": {
        visit(n.discriminant, scope);
        const s = newScope(scope, false);
        for (const c of n.cases) {
          visit(c.test, s);
          list(c.consequent, s);
        }
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
        scope = newScope(scope, false); // the loop head's let/const
        break;
    }
    for (const k of kids(n)) visit(k, scope);
  };
  visit(program, { parent: null, fn: true, names: new Map() });

  const resolve = (id: N): N | null => {
    for (let s: Scope | null | undefined = refs.get(id); s; s = s.parent) {
      const d = s.names.get(id.name);
      if (d) return d;
    }
    return null;
  };
  const isGlobal = (n: N): boolean => n.type === "Identifier" && refs.has(n) && !resolve(n);

  // ---- Pass 2: syntax and built-ins.
  const check = (n: N, anc: N[]): void => {
    const parent = anc[anc.length - 1];
    switch (n.type) {
      case "SpreadElement":
        if (parent.type === "CallExpression" && parent.callee.type === "Super" && n.argument.name === "arguments")
          add("super-spread-arguments", n, `${E}: super(...arguments) is a SyntaxError; tsc emits it for a derived class without a constructor of its own: write the constructor out`);
        else add("spread", n, `${E} has no spread (SyntaxError)`);
        break;
      case "RestElement":
        if (isFn(parent)) add("rest-param", n, `${E} has no rest parameters (SyntaxError)`);
        break;
      case "AssignmentPattern":
        if (isFn(parent)) add("default-param", n, `${E} has no default parameters (SyntaxError)`);
        break;
      case "ObjectPattern":
      case "ArrayPattern":
        if (!anc.some((a) => a.type === "ObjectPattern" || a.type === "ArrayPattern"))
          add("destructuring", n, `${E} has no destructuring (SyntaxError)`);
        break;
      case "Property":
        if (n.computed && parent.type === "ObjectExpression") add("computed-key", n, `${E} has no computed keys (SyntaxError)`);
        break;
      case "MethodDefinition":
      case "PropertyDefinition":
        if (n.computed) add("computed-key", n, `${E} has no computed keys (SyntaxError)`);
        // Beyond the facts file: ES2022 syntax that an ES2015 build must never emit.
        if (n.type === "PropertyDefinition") add("class-field", n, `${E} runs ES2015 classes: class fields must be lowered (useDefineForClassFields: false)`);
        break;
      case "StaticBlock":
        add("class-field", n, `${E} runs ES2015 classes: static blocks must be lowered`);
        break;
      case "PrivateIdentifier":
        if (parent.type !== "PropertyDefinition") add("class-field", n, `${E} runs ES2015 classes: #private must be lowered`);
        break;
      case "LabeledStatement":
        add("label", n, `${E} has no labelled statements (SyntaxError)`);
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (n.generator) add("generator", n, `${E} has no generators (SyntaxError)`);
        if (n.async) add("async", n, `${E} has no async functions (SyntaxError)`);
        break;
      case "YieldExpression":
        add("generator", n, `${E} has no yield (SyntaxError)`);
        break;
      case "AwaitExpression":
        add("async", n, `${E} has no await (SyntaxError)`);
        break;
      case "ForOfStatement":
        if (n.await) add("async", n, `${E} has no for await (SyntaxError)`);
        break;
      case "BinaryExpression":
      case "AssignmentExpression":
        if (n.operator === "**" || n.operator === "**=") add("exponent", n, `${E} has no ${n.operator} (SyntaxError): use a literal or a shift for a power of two, Math.pow otherwise`);
        if (n.type === "AssignmentExpression" && n.left.type === "MemberExpression" && propName(n.left) === "length")
          add("length-assign", n, `${E}: assigning an array's or a typed array's length throws (Assignment to a constant)`);
        break;
      case "ChainExpression":
        add("optional-chaining", n, `${E} has no ?. (SyntaxError): tsc lowers it at target ES2015, check the build target`);
        break;
      case "Identifier":
        // `typeof X` is the one safe way to touch a missing global.
        if (MISSING_GLOBALS.has(n.name) && isGlobal(n) && !(parent.type === "UnaryExpression" && parent.operator === "typeof"))
          add("missing-global", n, `${n.name} is missing in ${E} (ReferenceError)`);
        break;
      case "ClassDeclaration":
      case "ClassExpression":
        if (n.superClass && n.superClass.type === "Identifier" && BUILTIN_CLASSES.test(n.superClass.name) && isGlobal(n.superClass))
          add("extends-builtin", n.superClass, `${E}: a class derived from ${n.superClass.name} fails at super() (Calling 'super' outside of class); only Array and Object can be extended`);
        break;
      case "UpdateExpression":
        if (n.argument.type === "MemberExpression" && propName(n.argument) === "length")
          add("length-assign", n, `${E}: assigning an array's or a typed array's length throws (Assignment to a constant)`);
        break;
      case "CallExpression": {
        const c = n.callee;
        if (c.type === "MemberExpression" && propName(c) && MISSING_METHODS.has(propName(c)!) && !(c.object.type === "Identifier" && isGlobal(c.object) && /^(Math|Number|Object|Array|String|Promise|JSON|Date)$/.test(c.object.name)))
          add("missing-method", c, `${propName(c)}() is missing in ${E} (calling it throws)`);
        if (c.type === "MemberExpression" && propName(c) === "pow" && c.object.type === "Identifier" && c.object.name === "Math" && isGlobal(c.object)) {
          const [base, exponent] = n.arguments;
          const exact = exponent && exponent.type === "Literal" && Number.isInteger(exponent.value) && exponent.value >= 0 && exponent.value <= 9;
          if (base && base.type === "Literal" && base.value === 2 && !exact)
            add("inexact-pow", n, `${E}: Math.pow(2, n) is exp(log(2) * n) for n outside 0..9, not exact (Math.pow(2, 15) === 32768 is false): use a literal or 1 << n`);
        }
        break;
      }
      case "MemberExpression": {
        const name = propName(n);
        const obj = n.object;
        if (name && isGlobal(obj) && MISSING_STATICS.has(`${obj.name}.${name}`))
          add("missing-static", n, `${obj.name}.${name} is missing in ${E} (undefined, calling it throws)`);
        if (obj.type === "MemberExpression" && propName(obj) === "prototype" && BUILTINS.test(obj.object.name) && isGlobal(obj.object)
          && !(obj.object.name === "Object" && name === "hasOwnProperty"))
          add("builtin-prototype", n, `${E}: built-in methods are undefined through ${obj.object.name}.prototype; call them on an instance, e.g. [].slice`);
        break;
      }
    }
  };
  const walk = (n: N, anc: N[]): void => {
    check(n, anc);
    anc.push(n);
    for (const k of kids(n)) walk(k, anc);
    anc.pop();
  };
  walk(program, []);

  // ---- Pass 3: use before declaration. What a statement runs: everything in
  // it except function bodies, unless the function is invoked on the spot.
  type Use = [id: N, parent: N | null];
  const isIife = (fn: N, parent: N | null): boolean =>
    !!parent && (((parent.type === "CallExpression" || parent.type === "NewExpression") && parent.callee === fn) ||
      (parent.type === "MemberExpression" && parent.object === fn && /^(call|apply)$/.test(propName(parent) ?? "")));
  const executed = (roots: N[]): Use[] => {
    const out: Use[] = [];
    const go = (n: N, parent: N | null): void => {
      if (n.type === "Identifier") {
        if (refs.has(n)) out.push([n, parent]);
        return;
      }
      if (isFn(n) && !isIife(n, parent)) return;
      if (n.type === "MethodDefinition" || (n.type === "PropertyDefinition" && !n.static)) {
        if (n.computed) go(n.key, n);
        return;
      }
      for (const k of kids(n)) go(k, n);
    };
    for (const r of roots) go(r, null);
    return out;
  };
  // The function a call runs, when it can be told statically.
  const callee = (d: N, id: N, parent: N | null): N | null => {
    if (!parent || !(parent.type === "CallExpression" || parent.type === "NewExpression") || parent.callee !== id) return null;
    const target = d.type === "VariableDeclarator" ? d.init : d;
    if (!target) return null;
    if (isFn(target)) return target;
    if (target.type === "ClassDeclaration" || target.type === "ClassExpression")
      return target.body.body.find((m: N) => m.kind === "constructor")?.value ?? null;
    return null;
  };
  const reached = new Map<N, Set<N>>(); // function -> declarations its run touches
  const reach = (fn: N): Set<N> => {
    let set = reached.get(fn);
    if (set) return set;
    reached.set(fn, (set = new Set()));
    for (const [id, parent] of executed([...fn.params, fn.body])) {
      const d = resolve(id);
      if (!d) continue;
      set.add(d);
      const f = callee(d, id, parent);
      if (f) for (const x of reach(f)) set.add(x);
    }
    return set;
  };
  const where = (t: N): string => `${t.id.name} (declared at ${t.loc.start.line}:${t.loc.start.column + 1})`;
  for (const body of lists) {
    body.forEach((stmt, j) => {
      // Declared later in this same list, so not yet defined when stmt runs.
      const later = (t: N): boolean => {
        const pos = declPos.get(t);
        return !!pos && pos.list === body && pos.index > j;
      };
      for (const [id, parent] of executed([stmt])) {
        const d = resolve(id);
        if (!d) continue;
        const f = callee(d, id, parent);
        if (later(d)) add("use-before-declaration", id, `${where(d)} is used before its declaration: ${NO_HOIST}`);
        else if (f) {
          for (const t of reach(f))
            if (later(t)) add("use-before-declaration", id, `${id.name}() runs code that uses ${where(t)} before its declaration: ${NO_HOIST}`);
        }
      }
    });
  }

  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}
