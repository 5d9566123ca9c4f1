// The serial console and the Espruino globals as the firmware sees them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenericMachine, loadBundle } from "../emulator/index.ts";

test("console.type evaluates at its virtual time and prints =value like Espruino", () => {
  const { machine } = createGenericMachine();
  assert.equal(loadBundle(machine, { code: `global.add = function (a, b) { return a + b; };`, fileName: "c.js" }).ok, true);
  machine.console.type("add(1, 2)");
  machine.console.type('x = { a: 1, "b c": [1, "s"] }');
  machine.console.type("print('hi', 2, x)");
  machine.console.type("Math.round(getTime() * 1000)", 0.25);
  machine.console.type("throw new Error('boom')", 0.3);
  machine.console.type("B5");
  machine.runFor(1);
  assert.equal(
    machine.consoleText(),
    [
      ">add(1, 2)",
      "=3",
      '>x = { a: 1, "b c": [1, "s"] }',
      // Espruino breaks the line before a string, object or array member (checked on the real interpreter).
      "={ a: 1, ",
      '  "b c": [ 1, ',
      '    "s"',
      "   ]",
      " }",
      ">print('hi', 2, x)",
      'hi 2 { "a": 1, ',
      '  "b c": [ 1, ',
      '    "s"',
      "   ]",
      " }",
      "=undefined",
      ">B5",
      "=B5",
      ">Math.round(getTime() * 1000)",
      "=250",
      ">throw new Error('boom')",
      "Uncaught Error: boom",
      " at console-6.js:1:7",
      "",
    ].join("\n"),
  );
  assert.equal(machine.errors.length, 1);
  assert.equal(machine.errors[0]!.context, "console");
});

test("echo and =undefined can be turned off; output goes line-buffered to a log file", () => {
  const dir = mkdtempSync(join(tmpdir(), "emu-console-"));
  const logFile = join(dir, "serial.log");
  const chunks: string[] = [];
  const { machine } = createGenericMachine({
    console: { echo: false, printUndefined: false, logFile, stream: { write: (s: string) => void chunks.push(s) } },
  });
  machine.console.type("print('a'); 5");
  machine.console.type("print('b')");
  machine.runFor(0.1);
  assert.equal(machine.consoleText(), "a\n=5\nb\n");
  assert.deepEqual(chunks, ["a\n", "=5\n", "b\n"]);
  machine.evaluate("print('partial')");
  machine.console.close();
  assert.equal(readFileSync(logFile, "utf8"), "a\n=5\nb\npartial\n");
  assert.equal(machine.console.takeNew(), "a\n=5\nb\npartial\n");
  assert.equal(machine.console.takeNew(), "");
});

test("runUntilOutput waits in virtual time for a line", () => {
  const { machine } = createGenericMachine();
  loadBundle(machine, { code: `setTimeout(function () { print("ready at " + Math.round(getTime())); }, 3000);`, fileName: "w.js" });
  const m = machine.runUntilOutput(/ready at (\d+)/, 10);
  assert.equal(m?.[1], "3");
  assert.ok(machine.now() < 3.1, "stopped as soon as it matched");
  assert.equal(machine.runUntilOutput("never", 1), null);
});

test("builtins Espruino lacks are absent; Espruino globals are there", () => {
  const { machine } = createGenericMachine();
  const types = machine.evaluate(
    "[typeof Map, typeof Set, typeof WeakMap, typeof Symbol, typeof Proxy, typeof Reflect, typeof BigInt," +
      " typeof Array.from, typeof Object.freeze, typeof Number.isInteger, typeof Math.imul, typeof Math.trunc].join()",
  );
  assert.equal(types, Array(12).fill("undefined").join());
  assert.throws(() => machine.evaluate("new Map()"), (e) => String(e) === 'ReferenceError: "Map" is not defined');
  assert.equal(machine.evaluate("[1, 2].slice(1)[0] + Math.sign(-3) + Object.keys({a: 1}).length"), 2);
  assert.equal(machine.evaluate("global === this && global.print === print && typeof global.__p"), "undefined");
  assert.equal(machine.evaluate("process.env.VERSION + ' ' + process.env.BOARD"), "2v29 GENERIC");
  assert.throws(() => machine.evaluate("require('fs')"), /Module fs not found/);
});

test("process.memory reports the board's JsVars and grows with code and flat buffers", () => {
  const { machine } = createGenericMachine();
  const m0 = machine.evaluate("process.memory()") as { total: number; usage: number; free: number; blocksize: number };
  assert.equal(m0.total, 4096);
  assert.equal(m0.free + m0.usage, 4096);
  loadBundle(machine, { code: `var b = new Int16Array(512); E.getAddressOf(b, true); global.keep = b;`, fileName: "m.js" });
  const m1 = machine.evaluate("process.memory()") as { usage: number };
  // 1024 bytes flat = 64 blocks + header, ArrayBuffer and view; the globals
  // `b` and `keep` add their names and views, not the buffer a second time.
  const grown = m1.usage - m0.usage;
  assert.ok(grown >= 67 && grown < 80, `usage ${m0.usage} -> ${m1.usage}`);
  assert.equal(machine.evaluate("E.getSizeOf(new Int16Array(512))"), 2 + 1 + 64);
  // Code: 2 vars a function in flash (the default), or its text in RAM.
  const before = machine.memoryUsage();
  loadBundle(machine, { code: `!function(){ function a() {} var b = function () {}; }()`, fileName: "f.js" });
  assert.equal(machine.memoryUsage() - before, 3 * 2);
  const { machine: ram } = createGenericMachine({ codeCharsPerVar: 12 });
  const r0 = ram.memoryUsage();
  loadBundle(ram, { code: `// ${"x".repeat(1200)}\n`, fileName: "big.js" });
  assert.equal(ram.memoryUsage() - r0, 101);
});

test("E.on('init') listeners run after the bundle loads", () => {
  const { machine } = createGenericMachine();
  const r = loadBundle(machine, { code: `E.on("init", function () { print("booted at", getTime() > 0); });`, fileName: "i.js" });
  assert.equal(r.ok, true);
  assert.equal(machine.consoleText(), "booted at true\n");
  const { machine: other } = createGenericMachine();
  loadBundle(other, { code: `E.on("init", function () { print("booted"); });`, fileName: "i.js" }, { emitInit: false });
  assert.equal(other.consoleText(), "");
});

test("an exception in a timer task is reported and the task keeps running", () => {
  const { machine } = createGenericMachine();
  loadBundle(machine, {
    code: `var n = 0; require("timer").add({ type: "EXEC", time: 1, interval: 1, fn: function () { if (++n === 2) throw new Error("in irq"); } });`,
    fileName: "irq.js",
  });
  machine.runFor(0.0105);
  assert.equal(machine.stats.taskRuns, 10);
  assert.equal(machine.errors.length, 1);
  assert.equal(machine.errors[0]!.context, "task");
  assert.match(machine.consoleText(), /^Uncaught Error: in irq\n at irq\.js:1:\d+\n$/);
});
