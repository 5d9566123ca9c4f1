// Lint for code that runs on Espruino 2v29. Every error below is something the
// interpreter rejects or runs differently although Node and tsc accept it
// (see ../shared/espruino-2v29-facts.md). scripts/scan-bundles.ts checks the
// built bundle for the same things after TypeScript and terser.
//
// Allowed on purpose: `?.` and `??` (tsc at target ES2015 lowers `?.`; `??`
// runs natively), classes, arrows, getters, enums, typed arrays. The bundle
// scan still rejects `?.` if it ever reaches the output.
import { builtinRules } from "eslint/use-at-your-own-risk";
import tseslint from "typescript-eslint";

const E = "Espruino 2v29";
// Built-in classes a class cannot extend on the board (all but Array and Object).
const BUILTIN_CLASSES =
  "Error|TypeError|SyntaxError|ReferenceError|InternalError|RangeError|Promise|ArrayBuffer|DataView|Date|RegExp|String|Number|Boolean|Function|(Int|Uint|Float)(8|16|32|64)(Clamped)?Array";

// One message per construct, so a failure says what to write instead.
const syntax = [
  ["ObjectPattern", `${E} has no destructuring (SyntaxError): read properties one by one.`],
  ["ArrayPattern", `${E} has no destructuring (SyntaxError): index the array.`],
  ["AssignmentPattern", `${E} has no default parameters (SyntaxError): use \`if (x === undefined) x = ...\`.`],
  // Only on real functions: `...args` in a type or `declare function` is erased.
  [":function > RestElement", `${E} has no rest parameters (SyntaxError): pass an array.`],
  ["SpreadElement", `${E} has no spread (SyntaxError): use concat, a loop or Object.assign.`],
  [
    ":matches(Property, MethodDefinition, PropertyDefinition, AccessorProperty)[computed=true]",
    `${E} has no computed keys (SyntaxError): assign obj[k] = v after creating the object.`,
  ],
  [":function[async=true]", `${E}: async functions fail (and tsc lowers them to generators, which fail too).`],
  ["AwaitExpression", `${E}: await fails; use Promise.then.`],
  ["ForOfStatement[await=true]", `${E}: for await fails.`],
  [":function[generator=true]", `${E} has no generators (SyntaxError).`],
  ["YieldExpression", `${E} has no generators/yield (SyntaxError).`],
  ["LabeledStatement", `${E} has no labelled statements (SyntaxError): use a flag or return from a function.`],
  ["BinaryExpression[operator='**']", `${E} has no \`**\` (SyntaxError): use a literal or a shift for a power of two, Math.pow otherwise.`],
  ["AssignmentExpression[operator='**=']", `${E} has no \`**=\` (SyntaxError): use a literal or a shift for a power of two, Math.pow otherwise.`],
  // tsc lowers #private to WeakMap helpers, and WeakMap is missing.
  ["PrivateIdentifier", `${E}: #private compiles to WeakMap, which is missing; use \`private\`.`],
  ["Decorator", `${E}: decorators compile to helpers using Reflect/Symbol, which are missing.`],
  [
    // tsc emits super(...arguments) for a derived class without a constructor.
    ":matches(ClassDeclaration, ClassExpression)[superClass] > ClassBody:not(:has(> MethodDefinition[kind='constructor']))",
    `${E}: a derived class needs an explicit constructor (tsc would emit super(...arguments), a SyntaxError).`,
  ],
  // Measured (test/fidelity probes objects/length-assign): an array's or a typed array's length is read-only.
  // Without types every `x.length =` is refused: a plain object's field called length needs another name.
  [
    ":matches(AssignmentExpression > MemberExpression.left, UpdateExpression > MemberExpression.argument):matches([property.name='length'][computed=false], [property.value='length'])",
    `${E}: assigning an array's or a typed array's length throws (Assignment to a constant): use splice(), or a new array.`,
  ],
  // Measured (builtins/extends-builtins): only Array and Object can be derived from.
  [
    `:matches(ClassDeclaration, ClassExpression) > Identifier.superClass[name=/^(${BUILTIN_CLASSES})$/]`,
    `${E}: a class derived from a built-in class other than Array or Object fails at super() (Calling 'super' outside of class): wrap the built-in in a field instead.`,
  ],
  [
    "MemberExpression[object.type='MemberExpression'][object.property.name='prototype'][object.object.name=/^(Array|String|Function|Object|Number|Boolean|RegExp|Date|Error|Promise|ArrayBuffer|DataView|(Int|Uint|Float)(8|16|32|64)(Clamped)?Array)$/]:not([object.object.name='Object'][property.name='hasOwnProperty'])",
    `${E}: built-in methods are undefined through X.prototype (only Object.prototype.hasOwnProperty works); call them on an instance, e.g. [].slice.`,
  ],
].map(([selector, message]) => ({ selector, message }));

const missing = `is missing in ${E}`;
// Measured by the fidelity probes builtins-v8/missing-* (test/fidelity/real-2v29.json);
// emulator/espruino-globals.ts removes the same names (test/dialect-lint.test.ts checks the two agree).
const globals = [
  ...["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt", "WeakRef", "FinalizationRegistry"].map((name) => ({
    name,
    message: `${name} ${missing}: use plain objects/arrays.`,
  })),
  ...["RangeError", "EvalError", "URIError", "AggregateError"].map((name) => ({
    name,
    message: `${name} ${missing}: throw an Error (its message says what was wrong).`,
  })),
  ...["Intl", "SharedArrayBuffer", "Atomics", "WebAssembly", "BigInt64Array", "BigUint64Array", "decodeURI", "encodeURI", "escape", "unescape"].map(
    (name) => ({ name, message: `${name} ${missing}.` }),
  ),
];
const properties = [
  ["Array", "from", "copy with a loop"],
  ["Array", "of", "use an array literal"],
  ["Object", "freeze", "drop it (use readonly / as const for typing)"],
  ["Object", "is", "use === (and x !== x for NaN)"],
  ["Object", "hasOwn", "use Object.prototype.hasOwnProperty.call(o, k)"],
  ["Object", "seal", "drop it"],
  ["Object", "preventExtensions", "drop it"],
  ["Object", "isFrozen", "drop it"],
  ["Object", "isSealed", "drop it"],
  ["Object", "isExtensible", "drop it"],
  ["Object", "getOwnPropertySymbols", "there are no symbols"],
  ["Number", "isInteger", "use (x | 0) === x or Math.floor(x) === x"],
  ["Number", "isFinite", "use isFinite(x) (the global) on a number"],
  ["Number", "isNaN", "use x !== x, or isNaN(x) (the global) on a number"],
  ["Number", "isSafeInteger", "compare with 9007199254740991"],
  ["Number", "parseFloat", "use parseFloat (the global)"],
  ["Number", "parseInt", "use parseInt (the global)"],
  ["Number", "MAX_SAFE_INTEGER", "write 9007199254740991"],
  ["Number", "MIN_SAFE_INTEGER", "write -9007199254740991"],
  ["Number", "EPSILON", "write 2.220446049250313e-16"],
  ["Math", "imul", "use (a * b) | 0 when the product fits in 53 bits"],
  ["Math", "trunc", "use x | 0 or x < 0 ? Math.ceil(x) : Math.floor(x)"],
  ["Math", "hypot", "use Math.sqrt(x * x + y * y)"],
  ["Math", "log2", "use Math.log(x) / Math.LN2"],
  ["Math", "log10", "use Math.log(x) / Math.LN10"],
  ...["cbrt", "expm1", "log1p", "clz32", "fround", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh"].map((p) => ["Math", p, "write it with Math.exp/Math.log/Math.pow"]),
  ["String", "fromCodePoint", "use String.fromCharCode"],
  ["String", "raw", "write the string out"],
  ["Date", "UTC", "compute the time yourself"],
  ["ArrayBuffer", "isView", "test for the typed array classes you use"],
  ["Promise", "race", "Promise has only then/catch/all/resolve/reject"],
  ["Promise", "allSettled", "Promise has only then/catch/all/resolve/reject"],
  ["Promise", "any", "Promise has only then/catch/all/resolve/reject"],
].map(([object, property, fix]) => ({ object, property, message: `${object}.${property} ${missing}: ${fix}.` }));
properties.push({ property: "finally", message: `Promise.prototype.finally ${missing}: use then + catch.` });
// Methods of numbers, strings, arrays and typed arrays the board lacks (the
// names too plain to refuse on every object, like at/keys/values/flat, are
// left to the bundle scan's list and the emulator).
for (const [property, fix] of [
  ["toPrecision", "use toFixed"],
  ["toExponential", "use toFixed"],
  ["toLocaleString", "use toFixed or string concatenation"],
  ["trimStart", "use trim"],
  ["trimEnd", "use trim"],
  ["trimLeft", "use trim"],
  ["trimRight", "use trim"],
  ["codePointAt", "use charCodeAt"],
  ["normalize", "drop it"],
  ["localeCompare", "compare with < and >"],
  ["matchAll", "loop with exec"],
  ["flatMap", "use map and concat"],
  ["copyWithin", "use set() with a subarray"],
  ["findLast", "loop from the end"],
  ["findLastIndex", "loop from the end"],
  ["lastIndexOf", "loop from the end"],
  ["reduceRight", "loop from the end"],
  ["toReversed", "copy, then reverse()"],
  ["toSorted", "copy, then sort()"],
  ["toSpliced", "copy, then splice()"],
  ["isPrototypeOf", "use instanceof"],
  ["propertyIsEnumerable", "every property is enumerable on the board"],
]) {
  properties.push({ property, message: `${property} ${missing}: ${fix}.` });
}

// Math.pow is exp(log(x) * y) on the board for an exponent outside 0..9
// (jswrap_math_pow), so Math.pow(2, 15) === 32768 is false and
// (Math.pow(2, 15) - 1) | 0 is 32766. A power of two is wanted exact.
const exactPowerOfTwo = {
  meta: {
    type: "problem",
    schema: [],
    messages: {
      inexact: `${E}: Math.pow(2, {{exponent}}) is inexact on the board (Math.pow(2, 15) === 32768 is false): write the power of two as a literal, or 1 << n.`,
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        const c = node.callee;
        if (c.type !== "MemberExpression" || c.computed || c.object.type !== "Identifier" || c.object.name !== "Math") return;
        if (c.property.name !== "pow" || node.arguments.length < 2) return;
        const [base, exponent] = node.arguments;
        if (base.type !== "Literal" || base.value !== 2) return;
        const exact = exponent.type === "Literal" && Number.isInteger(exponent.value) && exponent.value >= 0 && exponent.value <= 9;
        if (!exact) context.report({ node, messageId: "inexact", data: { exponent: context.sourceCode.getText(exponent) } });
      },
    };
  },
};

// no-loop-func allows closures over `for (let i ...)` (fresh binding per
// iteration in ES2015). Espruino has ONE binding for the whole loop, so every
// closure sees the last value. for-in/for-of heads are flagged too (unmeasured,
// assumed the same); a `const` copy inside the loop body is fresh and fine.
const loopBindingClosure = {
  meta: {
    type: "problem",
    schema: [],
    messages: {
      shared: `${E} has one binding of '{{name}}' for the whole loop, so this closure sees its last value: copy it to a const inside the loop body.`,
    },
  },
  create(context) {
    function check(loop, decl) {
      if (!decl || decl.type !== "VariableDeclaration" || decl.kind === "var") return;
      for (const variable of context.sourceCode.getDeclaredVariables(decl)) {
        for (const ref of variable.references) {
          for (let scope = ref.from; scope && scope.block !== loop; scope = scope.upper) {
            if (scope.type === "function") {
              context.report({ node: ref.identifier, messageId: "shared", data: { name: variable.name } });
              break;
            }
          }
        }
      }
    }
    return {
      ForStatement: (node) => check(node, node.init),
      "ForInStatement, ForOfStatement": (node) => check(node, node.left),
    };
  },
};

// Reuse a stock rule's logic, adding the Espruino reason to its messages.
function withReason(rule, reason) {
  const messages = {};
  for (const [id, text] of Object.entries(rule.meta.messages)) messages[id] = `${text} (${E}: ${reason})`;
  return { ...rule, meta: { ...rule.meta, messages } };
}


// Code the interrupt can run must not allocate or build strings: on the board
// that is heap work inside the timer task (and may trigger a garbage
// collection or run out of JsVars mid-period). Checked in the interrupt
// files (every function but one documented "Context: main") and in every
// function documented "Context: irq" or "Context: both" anywhere else.
export const INTERRUPT_FILES = [
  "firmware/irq.ts",
  "firmware/log.ts",
  "firmware/list.ts",
  "firmware/dpcm/trigger.ts",
  "firmware/dpcm/buffer.ts",
  "firmware/dpcm/xrun.ts",
  "firmware/dpcm/period.ts",
];
const ALLOCATING_METHODS = new Set([
  "concat", "slice", "map", "filter", "reduce", "join", "split", "toFixed", "toString", "push", "unshift", "splice",
  "substr", "substring", "replace", "padStart", "padEnd", "repeat", "subarray", "bind", "toLowerCase", "toUpperCase",
]);
const irqSafe = {
  meta: {
    type: "problem",
    schema: [],
    messages: {
      alloc: "{{what}} in code the interrupt runs ({{why}}): it allocates or builds a string, which the interrupt must never do. Move it to the main loop, or precompute it at boot.",
    },
  },
  create(context) {
    const file = context.filename.replace(/\\/g, "/");
    const irqFile = INTERRUPT_FILES.some((f) => file.endsWith("/" + f));
    const sourceCode = context.sourceCode;
    function tagOf(fn) {
      const candidates = [fn];
      let p = fn.parent;
      if (p && (p.type === "MethodDefinition" || p.type === "Property" || p.type === "VariableDeclarator")) {
        candidates.push(p);
        if (p.type === "VariableDeclarator") p = p.parent;
        candidates.push(p);
        p = p.parent;
      }
      if (p && p.type === "ExportNamedDeclaration") candidates.push(p);
      for (const c of candidates) {
        const comments = sourceCode.getCommentsBefore(c);
        const doc = comments.length ? comments[comments.length - 1] : null;
        if (doc && doc.type === "Block" && doc.value.startsWith("*")) {
          const m = /Context: (main|irq|both)\b/.exec(doc.value);
          return m ? m[1] : null;
        }
      }
      return null;
    }
    const stack = [];
    function enter(fn) {
      const tag = tagOf(fn);
      const outer = stack.length ? stack[stack.length - 1] : null;
      let checked;
      let why;
      if (tag) {
        checked = tag !== "main";
        why = "Context: " + tag;
      } else if (irqFile) {
        checked = true;
        why = "an interrupt file";
      } else {
        checked = outer ? outer.checked : false;
        why = outer ? outer.why : "";
      }
      if (outer && outer.checked) context.report({ node: fn, messageId: "alloc", data: { what: "a closure", why: outer.why } });
      stack.push({ checked, why });
    }
    function leave() {
      stack.pop();
    }
    function flag(node, what) {
      const top = stack.length ? stack[stack.length - 1] : null;
      if (top && top.checked) context.report({ node, messageId: "alloc", data: { what, why: top.why } });
    }
    const isString = (n) => (n.type === "Literal" && typeof n.value === "string") || n.type === "TemplateLiteral";
    return {
      FunctionDeclaration: enter,
      "FunctionDeclaration:exit": leave,
      FunctionExpression: enter,
      "FunctionExpression:exit": leave,
      ArrowFunctionExpression: enter,
      "ArrowFunctionExpression:exit": leave,
      NewExpression: (n) => flag(n, "`new`"),
      ArrayExpression: (n) => flag(n, "an array literal"),
      ObjectExpression: (n) => flag(n, "an object literal"),
      TemplateLiteral: (n) => flag(n, "a template string"),
      ThrowStatement: (n) => flag(n, "a throw"),
      BinaryExpression: (n) => {
        if (n.operator === "+" && (isString(n.left) || isString(n.right))) flag(n, "string concatenation");
      },
      AssignmentExpression: (n) => {
        if (n.operator === "+=" && isString(n.right)) flag(n, "string concatenation");
      },
      CallExpression: (n) => {
        const c = n.callee;
        if (c.type === "Identifier" && (c.name === "print" || c.name === "String")) flag(n, c.name + "()");
        else if (c.type === "MemberExpression" && !c.computed && c.property.type === "Identifier") {
          if (c.object.type === "Identifier" && (c.object.name === "console" || c.object.name === "JSON")) flag(n, c.object.name + "." + c.property.name + "()");
          else if (ALLOCATING_METHODS.has(c.property.name)) flag(n, "." + c.property.name + "()");
        }
      },
    };
  },
};

// Every function says which context it runs in (ARCHITECTURE.md, "Execution
// contexts"): a "Context: main", "Context: irq" or "Context: both" in its doc
// comment. Top-level functions and class methods; functions made inside
// another function take their maker's word.
const contextDoc = {
  meta: {
    type: "suggestion",
    schema: [],
    messages: { missing: "Say which context `{{name}}` runs in: add \"Context: main\", \"Context: irq\" or \"Context: both\" to its doc comment." },
  },
  create(context) {
    const sourceCode = context.sourceCode;
    function documented(node) {
      let target = node.parent && node.parent.type === "ExportNamedDeclaration" ? node.parent : node;
      const comments = sourceCode.getCommentsBefore(target);
      const doc = comments.length ? comments[comments.length - 1] : null;
      return doc !== null && doc.type === "Block" && /Context: (main|irq|both)\b/.test(doc.value);
    }
    function nested(node) {
      for (let p = node.parent; p; p = p.parent) {
        if (p.type === "FunctionDeclaration" || p.type === "FunctionExpression" || p.type === "ArrowFunctionExpression") return true;
      }
      return false;
    }
    return {
      FunctionDeclaration(node) {
        if (node.body && !nested(node) && !documented(node)) context.report({ node, messageId: "missing", data: { name: node.id ? node.id.name : "?" } });
      },
      MethodDefinition(node) {
        if (node.kind === "constructor" || !node.value.body || nested(node)) return;
        if (!documented(node)) context.report({ node, messageId: "missing", data: { name: node.key.name || "?" } });
      },
    };
  },
};

const espruino = {
  rules: {
    "context-doc": contextDoc,
    "irq-safe": irqSafe,
    "loop-binding-closure": loopBindingClosure,
    "exact-power-of-two": exactPowerOfTwo,
    // The TS version knows type-only references (interfaces, types) are erased.
    "no-use-before-define": withReason(
      tseslint.plugin.rules["no-use-before-define"],
      "function declarations are not hoisted, define before use",
    ),
    "no-loop-func": withReason(builtinRules.get("no-loop-func"), "closures in a loop see the last value"),
  },
};

export default [
  { ignores: ["dist/**", "node_modules/**"] },
  {
    files: ["firmware/**/*.ts", "drivers/**/*.ts", "boards/**/*.ts"],
    // Syntax-only parsing (no parserOptions.project): fast, no type info needed.
    languageOptions: { parser: tseslint.parser, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["firmware/**/*.ts", "drivers/**/*.ts", "boards/**/*.ts"],
    // Ambient declarations emit no code: parsed, not checked.
    ignores: ["**/*.d.ts"],
    plugins: { espruino },
    rules: {
      "no-restricted-syntax": ["error", ...syntax],
      "no-restricted-globals": ["error", ...globals],
      "no-restricted-properties": ["error", ...properties],
      "espruino/no-use-before-define": [
        "error",
        { functions: true, classes: true, variables: true, enums: true, typedefs: false, ignoreTypeReferences: true },
      ],
      "espruino/no-loop-func": "error",
      "espruino/loop-binding-closure": "error",
      "espruino/exact-power-of-two": "error",
      "espruino/irq-safe": "error",
    },
  },
  {
    // Every function of the firmware, its drivers and its boards says its context.
    files: ["firmware/**/*.ts", "drivers/**/*.ts", "boards/**/*.ts"],
    ignores: ["**/*.d.ts", "firmware/native/mix-thumb2.ts"],
    rules: { "espruino/context-doc": "error" },
  },
  {
    // One checked transition function per object: states change only in
    // firmware/dpcm/dpcm.ts (feSetState, beSetState, linkSetState).
    files: ["firmware/**/*.ts", "drivers/**/*.ts", "boards/**/*.ts"],
    ignores: ["**/*.d.ts", "firmware/dpcm/dpcm.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        ...syntax,
        {
          selector: "AssignmentExpression[left.type='MemberExpression'][left.property.name='state']",
          message: "A state changes only through its transition function in firmware/dpcm/dpcm.ts (feSetState, beSetState, linkSetState), which checks the table.",
        },
      ],
    },
  },
];
