// Native mixing without a toolchain: the JavaScript reference in
// firmware/native/mix.ts, and firmware/native/mix.ts bundled as rollup builds
// the firmware and run on the emulator, whose E.nativeCall recognises the
// committed routine by its bytes, runs the reference semantics on the flat
// buffers and charges the routine's cycles (emulator/native-code.ts).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { Machine, loadBundle } from "../emulator/index.ts";
import { CORE_HZ, mixCycles, mixInstructions } from "../emulator/native-code.ts";
import { MIX_THUMB2_BASE64, MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE } from "../firmware/native/mix-thumb2.ts";
import { scanBundle } from "../scripts/espruino-scan.ts";
import { seededRandom } from "../scripts/lib/session.ts";
import { expectedMix, mixCases, mixModule } from "./support/native-mix.ts";

const { mixSaturating } = mixModule;

/** firmware/native/mix.ts as one iife exposing NativeMix, built like dist/<board>.js (TypeScript, terser). */
let bundle = "";
before(async () => {
  const build = await rollup({
    input: "firmware/native/mix.ts",
    plugins: [typescript({ tsconfig: "tsconfig.json", noEmitOnError: true, sourceMap: false })],
    onwarn(w) {
      throw new Error(`rollup: ${w.message}`);
    },
  });
  const { output } = await build.generate({
    format: "iife",
    name: "NativeMix",
    plugins: [terser({ ecma: 2015, module: false, compress: { passes: 2 }, format: { comments: false } })],
  });
  await build.close();
  bundle = output[0].code;
});

function machineFor(board: string): Machine {
  const machine = new Machine({ board, statementCostUs: 60 });
  const r = loadBundle(machine, { code: bundle, fileName: "native-mix.js" });
  assert.equal(r.ok, true, r.message ?? "");
  return machine;
}

/** An Int16Array of the firmware's realm holding `data`, as global `name`. */
function put(machine: Machine, name: string, data: Int16Array): void {
  machine.evaluate(`global.${name} = new Int16Array([${Array.from(data).join(",")}]);`);
}
function get(machine: Machine, name: string): number[] {
  return Array.from(machine.global[name] as Int16Array);
}

test("mixSaturating clips at +32767 and -32768 instead of wrapping, any length", () => {
  const dst = new Int16Array([30000, -30000, 100, 32767, -32768, 20000, 7]);
  mixSaturating(dst, new Int16Array([30000, -30000, -200, 1, -1, -30000, -8]));
  assert.deepEqual(Array.from(dst), [32767, -32768, -100, 32767, -32768, -10000, -1]);
  const rnd = seededRandom(3);
  const a = Int16Array.from({ length: 1001 }, () => Math.floor(rnd() * 65536) - 32768);
  const b = Int16Array.from({ length: 1001 }, () => Math.floor(rnd() * 65536) - 32768);
  const want = Array.from(a, (v, i) => Math.max(-32768, Math.min(32767, v + b[i]!)));
  mixSaturating(a, b);
  assert.deepEqual(Array.from(a), want);
});

test("the bundle passes the Espruino dialect scan", () => {
  assert.deepEqual(scanBundle(bundle, "native-mix.js"), []);
  assert.match(bundle, /atob\("[A-Za-z0-9+/=]+"\)|atob\([a-zA-Z_$][\w$]*\)/);
});

test("emulated Pico (PICO_R1_3): nativeMixer() mixes through E.nativeCall bit for bit as the reference", () => {
  const machine = machineFor("PICO_R1_3");
  assert.equal(machine.evaluate("global.mix = NativeMix.nativeMixer(); typeof mix"), "function");
  for (const c of mixCases()) {
    put(machine, "d", c.dst);
    put(machine, "s", c.src);
    machine.evaluate("mix(d, s)");
    assert.deepEqual(get(machine, "d"), Array.from(expectedMix(c)), c.name);
    assert.deepEqual(get(machine, "s"), Array.from(c.src), `${c.name}: src changed`);
  }
  // Views at odd sample offsets (addresses on 2-byte boundaries) of one buffer.
  put(machine, "d", Int16Array.from({ length: 300 }, (_, i) => ((i * 997) % 65536) - 32768));
  const before = get(machine, "d");
  machine.evaluate("global.v = d.subarray(3, 103); global.w = d.subarray(151, 251); mix(v, w);");
  const want = before.map((x, i) => (i >= 3 && i < 103 ? Math.max(-32768, Math.min(32767, x + before[i + 148]!)) : x));
  assert.deepEqual(get(machine, "d"), want);
  put(machine, "d", new Int16Array([20000, -20000, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
  machine.evaluate("mix(d, d)");
  assert.deepEqual(get(machine, "d"), [32767, -32768, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
});

test("emulated Pico: a native mix costs its statements plus the routine's pessimistic cycles at 84 MHz", () => {
  const machine = machineFor("PICO_R1_3");
  machine.evaluate("global.mix = NativeMix.nativeMixer();");
  for (const n of [256, 257, 4096, 11]) {
    put(machine, "d", new Int16Array(n).fill(1000));
    put(machine, "s", new Int16Array(n).fill(-3));
    const t0 = machine.nowNs;
    const s0 = machine.statements;
    machine.evaluate("mix(d, s)");
    const statements = machine.statements - s0;
    const nativeNs = machine.nowNs - t0 - statements * machine.statementCostNs;
    // 11 samples (22 bytes) are just flat in the emulator; fewer fall back to JavaScript.
    assert.equal(nativeNs, Math.round((mixCycles(n).pessimistic * 1e9) / CORE_HZ), `${n} samples`);
    // The evaluated call and the mixer's three (terser merges its two
    // declarations, and its if/else into one expression), whatever the length.
    assert.equal(statements, 4);
    assert.deepEqual(new Set(get(machine, "d")), new Set([997]));
  }
  // One 128-frame stereo period: 585 instructions, 1477 cycles, 17.6 us.
  assert.equal(mixInstructions(256), 585);
  assert.deepEqual(mixCycles(256), { optimistic: 690, pessimistic: 1477 });
});

test("emulated Pico: buffers without a flat address fall back to mixSaturating; lengths must match", () => {
  const machine = machineFor("PICO_R1_3");
  machine.evaluate("global.mix = NativeMix.nativeMixer();");
  // 12..20 bytes: more than one JsVar holds, too few to be stored flat (the
  // emulated Pico's threshold): no flat address. (Smaller ones fit in one JsVar and have one.)
  put(machine, "d", new Int16Array([32000, -32000, 3, 4, 5, 6]));
  put(machine, "s", new Int16Array([1000, -1000, 3, 4, 5, 6]));
  assert.equal(machine.evaluate("E.getAddressOf(d, true)"), 0);
  const t0 = machine.nowNs;
  const s0 = machine.statements;
  machine.evaluate("mix(d, s)");
  assert.equal(machine.nowNs - t0, (machine.statements - s0) * machine.statementCostNs, "no native cycles charged");
  assert.deepEqual(get(machine, "d"), [32767, -32768, 6, 8, 10, 12]);
  put(machine, "s", new Int16Array(5));
  assert.throws(() => machine.evaluate("mix(d, s)"), /mix: dst has 6 samples, src 5/);
});

test("boards that are not Cortex-M4 keep JavaScript: nativeMixer() says why", () => {
  for (const board of ["GENERIC", "LINUX", "ESPRUINOBOARD"]) {
    const machine = machineFor(board);
    const why = machine.evaluate("NativeMix.nativeMixer()");
    assert.equal(typeof why, "string");
    assert.match(why as string, new RegExp(`no native mixer on ${board}: its code is for Cortex-M4 boards`));
  }
  const machine = machineFor("PICO_R1_3");
  machine.evaluate("delete E.nativeCall;");
  assert.equal(machine.evaluate("NativeMix.nativeMixer()"), "no native mixer: this Espruino build has no E.nativeCall");
});

test("emulator E.nativeCall: unknown code, wrong entry, signature, board or address is an error, as the board would crash", () => {
  const code = JSON.stringify(MIX_THUMB2_BASE64);
  const sig = JSON.stringify(MIX_THUMB2_SIGNATURE);
  const pico = machineFor("PICO_R1_3");
  const bad = (m: Machine, expr: string, re: RegExp): void => {
    assert.throws(() => m.evaluate(expr), (e: Error) => {
      assert.match(e.message, re);
      return true;
    });
  };
  // Spaces in the signature are fine (Espruino's lexer skips them); so is this exact call.
  assert.equal(pico.evaluate(`typeof E.nativeCall(${MIX_THUMB2_ENTRY}, "void (int, int, int)", atob(${code}))`), "function");
  bad(pico, `E.nativeCall(1, ${sig}, atob(${code}).slice(2))`, /unknown machine code \(106 bytes, sha256 [0-9a-f]{16}\.\.\.\): the emulator cannot run it/);
  bad(pico, `E.nativeCall(1, ${sig}, "\\u0100")`, /not a byte string/);
  bad(pico, `E.nativeCall(0x08012345, ${sig})`, /code at absolute address 134292293/);
  bad(pico, `E.nativeCall(0, ${sig}, atob(${code}))`, /entered at offset 1 \(Thumb bit set\), not 0/);
  bad(pico, `E.nativeCall(1, "void(int,int)", atob(${code}))`, /takes void\(int,int,int\), not void\(int,int\)/);
  bad(pico, `E.nativeCall(1, "void(int,long)", atob(${code}))`, /Error Parsing signature at argument number 2/);
  bad(machineFor("GENERIC"), `E.nativeCall(1, ${sig}, atob(${code}))`, /Cortex-M4 code; on a GENERIC board it would crash/);
  pico.evaluate(`global.f = E.nativeCall(1, ${sig}, atob(${code})); global.b = new Int16Array(64);`);
  bad(pico, "f(0x1234, E.getAddressOf(b, true), 64)", /dst address 0x1234 is not a buffer E.getAddressOf gave/);
  bad(pico, "f(E.getAddressOf(b, true), E.getAddressOf(b, true) + 2, 64)", /src: 128 bytes from 0x[0-9a-f]+ run past its 128-byte buffer/);
  pico.evaluate("f(E.getAddressOf(b, true), E.getAddressOf(b, true), 0)"); // nothing to do, no error
});

test("emulator atob gives Espruino's byte string", () => {
  const m = machineFor("PICO_R1_3");
  assert.equal(m.evaluate('atob("AAECA/8=").length'), 5);
  assert.equal(m.evaluate('atob("AAECA/8=").charCodeAt(4)'), 255);
  assert.throws(() => m.evaluate("atob(5)"), /Expecting String, got number/);
});
