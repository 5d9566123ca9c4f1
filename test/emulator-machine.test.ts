// The machine: virtual time, the EXEC timer task as the interrupt (preempts
// between statements, never nests, drops firings), main-loop timers, the bus,
// flat memory, pins, I2C, the statement hook.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createGenericMachine, loadBundle, Machine, type Peripheral } from "../emulator/index.ts";

/** Firmware values come from another realm: compare them as plain JSON data. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function load(machine: Machine, code: string): void {
  const r = loadBundle(machine, { code, fileName: `t${machine.scripts.length}.js` });
  assert.equal(r.ok, true, r.message ?? "");
}

test("virtual time advances by the statement cost", () => {
  const machine = new Machine({ statementCostUs: 7 });
  const s0 = machine.statements;
  const t0 = machine.nowNs;
  machine.evaluate("var a = 1; a = 2; a = 3;");
  assert.equal(machine.statements - s0, 3);
  assert.equal(machine.nowNs - t0, 3 * 7000);
  // getTime() sees it: two statements between the two reads (the second read's own included).
  const dt = machine.evaluate("var t0 = getTime(); a = 4; var t1 = getTime(); t1 - t0") as number;
  assert.ok(Math.abs(dt - 14e-6) < 1e-12, `dt ${dt}`);
  // Idle time jumps to the end of the run.
  machine.runFor(0.5);
  assert.ok(Math.abs(machine.now() - (t0 + 7 * 7000) / 1e9 - 0.5) < 1e-12);
});

test("the EXEC task preempts a long main-loop loop between statements", () => {
  const { machine } = createGenericMachine(); // 20 us a statement
  load(
    machine,
    `var trace = [];
     require("timer").add({ type: "EXEC", fn: function () { trace.push("T"); }, time: 1, interval: 1 });
     global.work = function () { for (var i = 0; i < 400; i++) trace.push(i); };
     global.trace = trace;`,
  );
  machine.console.type("work()");
  machine.runFor(0.0001); // the line is dispatched at once; the loop takes 8 ms
  // A host copy: the firmware's array has only the board's methods (no flatMap, no at).
  const trace = [...(machine.global.trace as Array<number | string>)];
  const main = trace.filter((x) => typeof x === "number");
  assert.deepEqual(plain(main), Array.from({ length: 400 }, (_, i) => i), "main loop ran in order, to completion");
  const marks = trace.flatMap((x, i) => (x === "T" ? [i] : []));
  assert.ok(marks.length >= 7, `task ran ${marks.length} times during the loop`);
  assert.ok(marks[0]! > 0 && marks.at(-1)! < trace.length - 1, "task ran in the middle of the loop");
  // 1 ms = 50 statements: 49 main-loop statements, then the task's one.
  for (let k = 1; k < marks.length; k++) assert.equal(marks[k]! - marks[k - 1]! - 1, 49);
  assert.equal(machine.stats.taskRuns, marks.length);
  assert.equal(machine.stats.interruptStatements, marks.length);
});

test("the EXEC task never nests, and firings during a run are dropped and counted", () => {
  const { machine } = createGenericMachine();
  load(
    machine,
    `var depth = 0, maxDepth = 0, runs = 0;
     global.state = function () { return [runs, maxDepth]; };
     require("timer").add({ type: "EXEC", time: 1, interval: 1, fn: function () {
       depth++; maxDepth = Math.max(maxDepth, depth); runs++;
       for (var k = 0; k < 145; k++) {}
       depth--;
     } });`,
  );
  // One run: 3 statements + for + 145 empty iterations + depth-- = 150 statements = 3 ms,
  // so the firings at +1, +2 and +3 ms fall inside it and are dropped.
  machine.runFor(0.1);
  const [runs, maxDepth] = machine.evaluate("state()") as number[];
  assert.equal(maxDepth, 1);
  assert.equal(machine.stats.taskRuns, runs);
  assert.ok(runs! >= 20, `runs ${runs}`);
  assert.equal(machine.stats.droppedFirings, 3 * runs!);
  assert.equal(machine.stats.interruptStatements, 150 * runs!);
});

test("firings faster than a statement coalesce; every firing either ran or was dropped", () => {
  const { machine } = createGenericMachine();
  // A 10 us interval: shorter than one 20 us statement, so a busy main loop
  // sees several firings per statement (one runs, the rest are dropped).
  load(
    machine,
    `global.t0 = getTime();
     require("timer").add({ type: "EXEC", time: 0.1, interval: 0.01, fn: function () { var x = 1; } });
     global.spin = function (n) { for (var i = 0; i < n; i++) {} };`,
  );
  const firstNs = Math.round((machine.global.t0 as number) * 1e9) + 20_000 + 100_000;
  machine.console.type("spin(500)");
  machine.runFor(0.05);
  const firings = Math.floor((machine.nowNs - firstNs) / 10_000) + 1;
  assert.equal(machine.stats.taskRuns + machine.stats.droppedFirings, firings);
  assert.ok(machine.stats.droppedFirings > machine.stats.taskRuns, "most firings dropped");
  assert.ok(machine.stats.taskRuns > 100);
});

test("setTimeout and setInterval run in time order from the idle loop", () => {
  const { machine } = createGenericMachine();
  load(
    machine,
    `var log = []; global.log = log;
     setTimeout(function () { log.push("b@" + Math.round(getTime() * 1000)); }, 20);
     setTimeout(function () { log.push("a@" + Math.round(getTime() * 1000)); }, 10);
     setTimeout(function () { log.push("c"); }, 20);
     setTimeout(function () { log.push("z0"); setTimeout(function () { log.push("z1"); }, 0); }, 0);
     var n = 0, iv = setInterval(function () { log.push("i" + (++n)); if (n === 3) clearInterval(iv); }, 7);
     setTimeout(function (x, y) { log.push(x + y); }, 30, "ar", "gs");`,
  );
  machine.runFor(0.1);
  assert.deepEqual(plain(machine.global.log), ["z0", "z1", "i1", "a@10", "i2", "b@20", "c", "i3", "args"]);
  // As on the board (2v29): an unknown id is ignored, an explicit undefined is refused.
  assert.equal(machine.evaluate("clearTimeout(99); clearInterval(98); 1"), 1);
  assert.throws(() => machine.evaluate("clearTimeout(undefined)"), (e) => String(e) === "Error: clearTimeout(undefined) not allowed. Use clearTimeout() instead");
});

test("peek32/poke32 reach mapped peripherals (time-synced) and fault on unmapped addresses", () => {
  const { machine } = createGenericMachine();
  const regs = new Map<number, number>();
  const advanced: number[] = [];
  const gpio: Peripheral = {
    name: "GPIOB",
    base: 0x40020400,
    size: 0x400,
    read32: (off) => regs.get(off) ?? 0,
    write32: (off, v) => void regs.set(off, v),
    advanceTo: (now) => void advanced.push(now),
  };
  machine.map(gpio);
  assert.throws(() => machine.map({ ...gpio, name: "OVERLAP", base: 0x40020600 }), /overlaps GPIOB/);
  machine.evaluate("poke32(0x40020414, 0x80000020)");
  assert.equal(regs.get(0x14), 0x80000020);
  assert.equal(machine.evaluate("peek32(0x40020414)"), 0x80000020);
  // The model was brought up to the time of the access (the last statement).
  assert.equal(advanced.at(-1), machine.now());
  assert.equal(machine.faults.length, 0);

  assert.equal(machine.evaluate("peek32(0x40003800)"), 0);
  machine.evaluate("poke32(0x50000000, 1)");
  assert.equal(machine.faults.length, 2);
  assert.equal(machine.faults[0]!.register, "0x40003800");
  assert.match(machine.faults[0]!.message, /peek32 .*unmapped address 0x40003800/);
  assert.match(machine.faults[1]!.message, /poke32 .*unmapped address 0x50000000/);
});

test("I2C: devices answer, a NAK throws an Error in the firmware's realm", () => {
  const { machine } = createGenericMachine();
  const written: number[][] = [];
  machine.attachI2C("I2C1", 0x1a, {
    write: (bytes) => (written.push([...bytes]), bytes[0] !== 0xff),
    read: (n) => Uint8Array.from({ length: n }, (_, i) => 0x10 + i),
  });
  load(machine, `I2C1.setup({ scl: B6, sda: B7, bitrate: 100000 });`);
  const t0 = machine.nowNs;
  machine.evaluate("I2C1.writeTo(0x1A, [0x1E, 0x00]); I2C1.writeTo(0x1A, 0x0C, [1], 'A')");
  assert.deepEqual(written, [[0x1e, 0x00], [0x0c, 1, 0x41]]);
  assert.ok(machine.nowNs - t0 > 2 * 20000 + 500_000, "bus time: 2 x (9 x 4 + 2) clocks at 100 kHz");
  assert.deepEqual(plain(machine.evaluate("var r = I2C1.readFrom(0x1A, 3); [r instanceof Uint8Array, r[0], r[2]]")), [true, 0x10, 0x12]);

  const caught = machine.evaluate(
    "var m = []; try { I2C1.writeTo(0x1B, 1); } catch (e) { m.push(e instanceof Error, e.message); }" +
      "try { I2C1.writeTo(0x1A, 0xFF); } catch (e) { m.push(e.message); } m",
  );
  assert.deepEqual(plain(caught), [true, "I2C: no ACK from device 0x1B", "I2C: no ACK from device 0x1A"]);
  assert.throws(() => machine.evaluate("I2C2.readFrom(0x1A, 1)"), /no ACK/);
  assert.equal(machine.faults.at(-1)!.register, "I2C2.setup"); // used before setup()
});

test("flat memory: E.getAddressOf gives stable SRAM addresses, readMemory16 reads live data", () => {
  const { machine } = createGenericMachine();
  load(machine, `var buf = new Int16Array(64); global.buf = buf; global.small = new Uint8Array(4); global.mid = new Uint8Array(16);`);
  const a = machine.evaluate("E.getAddressOf(buf, true)") as number;
  assert.ok(a >= 0x20000000 && a % 4 === 0);
  assert.equal(machine.evaluate("E.getAddressOf(buf, true)"), a);
  assert.equal(machine.evaluate("E.getAddressOf(buf.subarray(10), true)"), a + 20);
  // Measured on the real interpreter: a buffer that fits in one JsVar has an
  // address too (4 bytes fit on every board); one of two or three JsVars
  // (here 16 bytes: more than 10, at most the break-even of 20) has none.
  const s = machine.evaluate("E.getAddressOf(small, true)") as number;
  assert.ok(s >= 0x20000000 && s !== a, "one-JsVar buffer has an address");
  assert.equal(machine.evaluate("E.getAddressOf(mid, true)"), 0, "neither one JsVar nor flat");
  const b = machine.evaluate("E.getAddressOf(new Uint8Array(100), true)") as number;
  assert.ok(b >= a + 128 && b % 4 === 0);
  machine.evaluate("buf[3] = -2; buf[4] = 0x1234;");
  assert.equal(machine.readMemory16(a + 6), 0xfffe);
  assert.equal(machine.readMemory16(a + 8), 0x1234);
  assert.equal(machine.faults.length, 0);
  assert.equal(machine.readMemory16(0x2001fff0), 0);
  assert.match(machine.faults[0]!.message, /unmapped SRAM address 0x2001FFF0/);
});

test("pins: digitalWrite drives levels and listeners; pins print as their names", () => {
  const { machine } = createGenericMachine({ pinAliases: { LED1: "B2" }, pins: ["B2", "B5", "LED1"] });
  const seen: boolean[] = [];
  machine.onPin("B5", (level) => seen.push(level));
  machine.evaluate("digitalWrite(B5, 1); digitalWrite(B5, false); pinMode(B5, 'output'); digitalWrite(LED1, true)");
  assert.deepEqual(seen, [true, false]);
  assert.equal(machine.pinLevel("B5"), false);
  assert.equal(machine.pinMode("B5"), "output");
  assert.equal(machine.pinLevel("B2"), true);
  assert.equal(machine.evaluate("String(B5) + ',' + String(LED1)"), "B5,B2");
  assert.throws(() => machine.evaluate("pinMode(B5, 'sideways')"), /Unknown pin mode/);
});

test("onStatement can force the interrupt at exactly the k-th statement", () => {
  for (const k of [0, 1, 4, 7]) {
    const { machine } = createGenericMachine({ execTasksFire: false });
    load(
      machine,
      `var trace = []; global.trace = trace;
       require("timer").add({ type: "EXEC", time: 1, interval: 1, fn: function () { trace.push("T"); } });
       global.work = function () { for (var i = 0; i < 8; i++) trace.push(i); };`,
    );
    // Tasks do not fire on their own now.
    machine.runFor(0.05);
    assert.equal(machine.stats.taskRuns, 0);
    let base = -1;
    const inTaskSeen: boolean[] = [];
    machine.onStatement = (site, index, inTask) => {
      if (inTask) {
        inTaskSeen.push(true);
        return true; // ignored: no nesting
      }
      if (base < 0) base = index; // index of the `work()` statement
      // statement base+1 is the for, base+2+j is push(j)
      return index === base + 2 + k;
    };
    machine.console.type("work()");
    machine.runFor(0.01);
    machine.onStatement = null;
    const expected: Array<number | string> = [0, 1, 2, 3, 4, 5, 6, 7];
    expected.splice(k, 0, "T");
    assert.deepEqual(plain(machine.global.trace), expected, `k = ${k}`);
    assert.equal(machine.stats.taskRuns, 1);
    assert.equal(machine.stats.forcedTaskRuns, 1);
    assert.deepEqual(inTaskSeen, [true]);
  }
});

test("a masked timer interrupt stays pending and runs once when unmasked", () => {
  const { machine } = createGenericMachine();
  load(machine, `var n = 0; global.n = function () { return n; };
    require("timer").add({ type: "EXEC", time: 1, interval: 1, fn: function () { n++; } });`);
  machine.setTimerInterruptMasked(true);
  machine.runFor(0.0105);
  assert.equal(machine.stats.taskRuns, 0);
  machine.setTimerInterruptMasked(false);
  machine.evaluate("var x = 1;");
  assert.equal(machine.stats.taskRuns, 1, "the pending firing ran at the first statement");
  assert.equal(machine.stats.droppedFirings, 9, "ten firings while masked: one pending, nine dropped");
});

test("a callback that never returns is interrupted and the machine goes on", { timeout: 20_000 }, () => {
  const { machine } = createGenericMachine({ maxCallbackSeconds: 0.5 });
  load(machine, `setTimeout(function () { for (;;) {} }, 1); setTimeout(function () { print("still alive"); }, 2);`);
  machine.runFor(2);
  assert.match(machine.consoleText(), /Uncaught InternalError: Execution Interrupted[^\n]*\n[^]*still alive/);
  assert.equal(machine.errors.length, 1);
});
