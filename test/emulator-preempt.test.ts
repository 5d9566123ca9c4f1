// The preemption transform: a call before every statement (unbraced bodies
// included), unchanged behaviour, the board's lack of hoisting, the one-binding
// for-let, rejected syntax, and site -> TypeScript mapping.

import { test } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import MagicString from "magic-string";
import {
  createGenericMachine,
  loadBundle,
  mapSite,
  preemptTransform,
  toTraceMap,
  EspruinoSyntaxError,
} from "../emulator/index.ts";
import { espruinoFloatLiteral } from "../emulator/preempt.ts";

test("a call goes before every statement, and unbraced bodies get braces", () => {
  const code = `if(a)b();else c();for(;i<2;i++)d();while(e)f();do g();while(h);switch(k){case 1:l();m();}`;
  const { code: out, sites } = preemptTransform(code);
  assert.equal(
    out,
    `__p(0);if(a){__p(1);b();}else {__p(2);c();}__p(3);for(;i<2;i++){__p(4);d();}` +
      `__p(5);while(e){__p(6);f();}__p(7);do {__p(8);g();}while(h);__p(9);switch(k){case 1:__p(10);l();__p(11);m();}`,
  );
  assert.equal(sites.length, 12);
  // Sites point at the statement in the ORIGINAL code.
  assert.equal(code.slice(sites[1]!.offset, sites[1]!.offset + 4), "b();");
  assert.equal(code.slice(sites[10]!.offset, sites[10]!.offset + 4), "l();");
  assert.deepEqual(sites[2], { offset: code.indexOf("c();"), line: 1, column: code.indexOf("c();") });
});

test("directives stay first, empty loop bodies get a call, site ids start at firstSiteId", () => {
  const { code, sites } = preemptTransform(`!function(){"use asm";while(x){}}()`, { firstSiteId: 100 });
  assert.equal(code, `__p(100);!function(){"use asm";__p(101);while(x){__p(102);}}()`);
  assert.equal(sites.length, 3);
  // Espruino ignores "use strict": the directive becomes a plain statement, so the code runs sloppy.
  assert.equal(preemptTransform(`!function(){"use strict";x()}()`).code, `__p(0);!function(){void "use strict";__p(1);x()}()`);
  assert.equal(preemptTransform(`!function(){"use strict";x()}()`, { ignoreUseStrict: false }).code, `__p(0);!function(){"use strict";__p(1);x()}()`);
});

test("a literal with a fraction or an exponent is the double Espruino's lexer makes of it", () => {
  // 0.3 is 0.1 * 3 on the board (stringToFloatWithRadix); 0.25 and 1e3 agree with V8 and stay as written.
  assert.equal(preemptTransform(`a = 0.3 + 0.25 + 1e3 + {0.3: 1}[k];`).code, `__p(0);a = (0.30000000000000004) + 0.25 + 1e3 + {0.3: 1}[k];`);
  assert.equal(espruinoFloatLiteral("0.3"), 0.1 * 3);
  assert.equal(espruinoFloatLiteral("3.14159"), 3 + 0.1 * 1 + 0.01 * 4 + 0.001 * 1 + 0.0001 * 5 + 0.00001 * 9);
});

test("the transformed program computes the same result, with one call per statement executed", () => {
  const program = `
    function fib(n) { if (n < 2) return n; else return fib(n - 1) + fib(n - 2); }
    var out = [];
    for (var i = 0; i < 6; i++) out.push(fib(i));
    var s = 0, j = 0;
    while (j < 4) s += j++;
    do s *= 2; while (s < 100);
    switch (s) { case 192: out.push("sw"); default: out.push("d"); }
    try { throw new Error("x"); } catch (e) { out.push(e.message); } finally { out.push("f"); }
    if (s) out.push(s); else out.push(-1);
    var o = { get v() { return 7; } };
    out.push(o.v, [1, 2, 3].map(function (x) { return x * 2; }).join(","));
    out.join("|");
  `;
  const plain = vm.runInNewContext(program);
  let calls = 0;
  const { code } = preemptTransform(program);
  const transformed = vm.runInNewContext(code, { __p: () => void calls++ });
  assert.equal(transformed, plain);
  assert.equal(plain, "0|1|1|2|3|5|sw|d|x|f|192|7|2,4,6");
  assert.ok(calls > 60, `statements executed: ${calls}`);

  // An unbraced loop body runs its call on every iteration.
  const counts = new Map<number, number>();
  const loop = preemptTransform(`var x = 0; for (var i = 0; i < 5; i++) x += i; x;`);
  const r = vm.runInNewContext(loop.code, { __p: (id: number) => counts.set(id, (counts.get(id) ?? 0) + 1) });
  assert.equal(r, 10);
  assert.deepEqual([...counts.entries()], [[0, 1], [1, 1], [2, 5], [3, 1]]);
});

test("a function called before its definition throws in the emulator (it works in Node)", () => {
  const code = `!function(){ "use strict"; global.result = f(); function f() { return 42; } }()`;
  // Node hoists:
  const sandbox: Record<string, unknown> = {};
  sandbox.global = sandbox;
  vm.runInNewContext(code, sandbox);
  assert.equal(sandbox.result, 42);
  // Espruino does not, and neither does the emulator:
  const { machine } = createGenericMachine();
  const r = loadBundle(machine, { code, fileName: "hoist.js" });
  assert.equal(r.ok, false);
  assert.match(String(r.error), /^ReferenceError: /);
  assert.match(machine.consoleText(), /^Uncaught ReferenceError: /);
  // Defined first, it works; duplicate declarations and var/param clashes still load.
  const ok = loadBundle(machine, {
    code: `!function(){ function g() { return 1; } function g() { return 2; } var h; function h() { return 3; }
      function k(p) { function p() { return 4; } return p(); }
      global.ok = [g(), h(), k(0)].join(","); }()`,
    fileName: "hoist-ok.js",
  });
  assert.equal(ok.ok, true, ok.message ?? "");
  assert.equal(machine.global.ok, "2,3,4");
});

test("top-level function declarations become globals where they stand", () => {
  const { machine } = createGenericMachine();
  const early = loadBundle(machine, { code: `early(); function early() {}`, fileName: "top1.js" });
  assert.equal(early.ok, false);
  assert.match(String(early.error), /^ReferenceError: /);
  assert.equal(loadBundle(machine, { code: `function cmd() { return 5; }`, fileName: "top2.js" }).ok, true);
  assert.equal(machine.evaluate("cmd()"), 5);
  assert.equal(typeof machine.global.cmd, "function");
});

test("for (let ...) has one binding for the whole loop, as on the board", () => {
  const code = `var fs = []; for (let i = 0; i < 3; i++) fs.push(function () { return i; }); fs.map(function (f) { return f(); }).join(",")`;
  assert.equal(vm.runInNewContext(code), "0,1,2");
  const { machine } = createGenericMachine();
  assert.equal(machine.evaluate(code), "3,3,3");
});

test("syntax Espruino rejects is rejected, with its position", () => {
  for (const [code, what] of [
    ["var {a} = o;", "destructuring"],
    ["function f(a = 1) {}", "default parameters"],
    ["f(...xs);", "spread"],
    ["var o = {[k]: 1};", "computed keys"],
    ["async function f() {}", "async"],
    ["outer: for (;;) break outer;", "labelled"],
    ["x = 2 ** 3;", "\\*\\*"],
    ["x = a?.b;", "optional chaining"],
  ] as const) {
    assert.throws(
      () => preemptTransform(code),
      (e: unknown) => e instanceof EspruinoSyntaxError && new RegExp(what).test(e.message),
      code,
    );
  }
  assert.doesNotThrow(() => preemptTransform("var {a} = o;", { espruinoSyntax: false }));
});

test("a site maps through the bundle's source map to the TypeScript line", () => {
  const ts = `const a: number = 1;\nfunction boom(): void {\n  throw new Error("bad");\n}\nboom();\n`;
  const s = new MagicString(ts);
  s.remove(ts.indexOf(": number"), ts.indexOf(": number") + 8);
  s.remove(ts.indexOf(": void"), ts.indexOf(": void") + 6);
  const js = s.toString();
  const map = s.generateMap({ hires: true, source: "../firmware/x.ts", file: "x.js" });
  const traceMap = toTraceMap(map as never, "dist/x.js.map");

  const { sites } = preemptTransform(js);
  const throwSite = sites.find((site) => js.startsWith("throw", site.offset))!;
  assert.deepEqual(mapSite(throwSite, traceMap), { source: "firmware/x.ts", line: 3, column: 2, name: null });

  // A load error is reported at its TypeScript location.
  const { machine } = createGenericMachine();
  const r = loadBundle(machine, { code: js, map: map as never, fileName: "dist/x.js" });
  assert.equal(r.ok, false);
  assert.equal(r.location?.source?.source, "firmware/x.ts");
  assert.equal(r.location?.source?.line, 3);
  assert.match(machine.consoleText(), /Uncaught Error: bad\n at firmware\/x\.ts:3:\d+\n/);
  // And every site of the script can be described that way.
  const info = machine.describeSite(r.firstSiteId + sites.indexOf(throwSite));
  assert.equal(info?.text, "firmware/x.ts:3:3");
});
