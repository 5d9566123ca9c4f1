// Native mixing, copying and silence without a toolchain: the JavaScript
// reference in firmware/native/mix.ts, and firmware/native/mix.ts bundled as
// rollup builds the firmware and run on the emulator, whose E.nativeCall
// recognises the committed routines by their bytes and entries, runs the
// reference semantics on the flat buffers and charges each routine's cycles
// (emulator/native-code.ts).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { Machine, loadBundle } from "../emulator/index.ts";
import { CORE_HZ, copyCycles, mixCycles, mixInstructions, zeroCycles } from "../emulator/native-code.ts";
import { COPY_THUMB2_ENTRY, MIX_THUMB2_BASE64, MIX_THUMB2_ENTRY, MIX_THUMB2_SIGNATURE, ZERO_THUMB2_ENTRY } from "../firmware/native/mix-thumb2.ts";
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

/** The native operations on a machine, as boot installs them: global.ops. */
function nativeOps(machine: Machine): void {
  assert.equal(machine.evaluate("global.ops = NativeMix.nativeSampleOps(NativeMix.nativeSampleRoutines()); typeof ops.mix"), "function");
}

test("emulated Pico (PICO_R1_3): the native mix runs through E.nativeCall bit for bit as the reference", () => {
  const machine = machineFor("PICO_R1_3");
  nativeOps(machine);
  let ran = 0;
  for (const c of mixCases()) {
    put(machine, "d", c.dst);
    put(machine, "s", c.src);
    // 12..20 bytes are too few to be stored flat on the emulated Pico: the card never hands those over (ops.accepts).
    if (!machine.evaluate("ops.accepts(d) && ops.accepts(s)")) continue;
    ran++;
    machine.evaluate("ops.mix(d, s, d.length)");
    assert.deepEqual(get(machine, "d"), Array.from(expectedMix(c)), c.name);
    assert.deepEqual(get(machine, "s"), Array.from(c.src), `${c.name}: src changed`);
  }
  assert.ok(ran > 35, `${ran} cases ran`);
  // Views at odd sample offsets (addresses on 2-byte boundaries) of one buffer.
  put(machine, "d", Int16Array.from({ length: 300 }, (_, i) => ((i * 997) % 65536) - 32768));
  const before = get(machine, "d");
  machine.evaluate("global.v = d.subarray(3, 103); global.w = d.subarray(151, 251); ops.mix(v, w, 100);");
  const want = before.map((x, i) => (i >= 3 && i < 103 ? Math.max(-32768, Math.min(32767, x + before[i + 148]!)) : x));
  assert.deepEqual(get(machine, "d"), want);
  put(machine, "d", new Int16Array([20000, -20000, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
  machine.evaluate("ops.mix(d, d, 12)");
  assert.deepEqual(get(machine, "d"), [32767, -32768, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]);
});

test("emulated Pico: the native copy and silence move exactly the samples asked, at any offset", () => {
  const machine = machineFor("PICO_R1_3");
  nativeOps(machine);
  const rnd = seededRandom(5);
  for (const n of [0, 1, 2, 7, 8, 9, 255, 256, 1920]) {
    // At least 32 bytes each: flat on the emulated Pico.
    const src = Int16Array.from({ length: n + 16 }, () => Math.floor(rnd() * 65536) - 32768);
    const dst = Int16Array.from({ length: n + 18 }, () => Math.floor(rnd() * 65536) - 32768);
    put(machine, "s", src);
    put(machine, "d", dst);
    // copyAt: n samples from s[3..] to d[5..]; the rest of d untouched.
    machine.evaluate(`ops.copyAt(d, 5, s, 3, ${n})`);
    const want = Array.from(dst);
    for (let i = 0; i < n; i++) want[5 + i] = src[3 + i]!;
    assert.deepEqual(get(machine, "d"), want, `copyAt ${n}`);
    assert.deepEqual(get(machine, "s"), Array.from(src), `copyAt ${n}: src changed`);
    // zero: n samples from d[1..].
    machine.evaluate(`ops.zero(d, 1, ${n})`);
    for (let i = 0; i < n; i++) want[1 + i] = 0;
    assert.deepEqual(get(machine, "d"), want, `zero ${n}`);
    // copy: a whole buffer.
    put(machine, "d", new Int16Array(n + 16));
    machine.evaluate(`ops.copy(d, s, ${n + 16})`);
    assert.deepEqual(get(machine, "d"), Array.from(src), `copy ${n + 16}`);
  }
});

test("emulated Pico: a native operation costs its statements plus the routine's pessimistic cycles at 84 MHz", () => {
  const machine = machineFor("PICO_R1_3");
  nativeOps(machine);
  const cases: [string, (n: number) => { pessimistic: number }][] = [
    ["ops.mix(d, s, N)", mixCycles],
    ["ops.copy(d, s, N)", copyCycles],
    ["ops.copyAt(d, 0, s, 0, N)", copyCycles],
    ["ops.zero(d, 0, N)", zeroCycles],
  ];
  for (const [call, cycles] of cases) {
    for (const n of [256, 257, 4096, 11]) {
      put(machine, "d", new Int16Array(n).fill(1000));
      put(machine, "s", new Int16Array(n).fill(-3));
      const t0 = machine.nowNs;
      const s0 = machine.statements;
      machine.evaluate(call.replace("N", String(n)));
      const statements = machine.statements - s0;
      const nativeNs = machine.nowNs - t0 - statements * machine.statementCostNs;
      // 11 samples (22 bytes) are just flat in the emulator.
      assert.equal(nativeNs, Math.round((cycles(n).pessimistic * 1e9) / CORE_HZ), `${call}, ${n} samples`);
      // The evaluated call and the wrapper's one, whatever the length.
      assert.equal(statements, 2, call);
      const want = call.startsWith("ops.mix") ? 997 : call.startsWith("ops.zero") ? 0 : -3;
      assert.deepEqual(new Set(get(machine, "d")), new Set([want]), `${call}, ${n} samples`);
    }
  }
  // One 128-frame stereo period: 585 instructions, 1477 cycles, 17.6 us.
  assert.equal(mixInstructions(256), 585);
  assert.deepEqual(mixCycles(256), { optimistic: 690, pessimistic: 1477 });
});

test("emulated Pico: the native operations refuse a buffer without a flat address (accepts), as the board would write at 0", () => {
  const machine = machineFor("PICO_R1_3");
  nativeOps(machine);
  // 12..20 bytes: more than one JsVar holds, too few to be stored flat (the
  // emulated Pico's threshold): no flat address. (Smaller ones fit in one JsVar and have one.)
  put(machine, "d", new Int16Array([32000, -32000, 3, 4, 5, 6]));
  put(machine, "s", new Int16Array(64));
  assert.equal(machine.evaluate("E.getAddressOf(d, true)"), 0);
  assert.equal(machine.evaluate("ops.accepts(d)"), false);
  assert.equal(machine.evaluate("ops.accepts(s)"), true);
  assert.throws(() => machine.evaluate("ops.copy(d, s, 6)"), /dst address 0x0 is not a buffer E.getAddressOf gave/);
  // The JavaScript operations take any buffer.
  machine.evaluate("global.js = NativeMix.jsSampleOps(); js.copy(d, s.subarray(0, 6), 6);");
  assert.equal(machine.evaluate("js.accepts(d)"), true);
  assert.deepEqual(get(machine, "d"), [0, 0, 0, 0, 0, 0]);
});

test("boards that are not Cortex-M4 keep JavaScript: nativeSampleRoutines() says why", () => {
  for (const board of ["GENERIC", "LINUX", "ESPRUINOBOARD"]) {
    const machine = machineFor(board);
    const why = machine.evaluate("NativeMix.nativeSampleRoutines()");
    assert.equal(typeof why, "string");
    assert.match(why as string, new RegExp(`no native mixer on ${board}: its code is for Cortex-M4 boards`));
  }
  const machine = machineFor("PICO_R1_3");
  machine.evaluate("delete E.nativeCall;");
  assert.equal(machine.evaluate("NativeMix.nativeSampleRoutines()"), "no native mixer: this Espruino build has no E.nativeCall");
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
  for (const entry of [MIX_THUMB2_ENTRY, COPY_THUMB2_ENTRY, ZERO_THUMB2_ENTRY]) {
    assert.equal(pico.evaluate(`typeof E.nativeCall(${entry}, ${sig}, atob(${code}))`), "function");
  }
  bad(pico, `E.nativeCall(1, ${sig}, atob(${code}).slice(2))`, /unknown machine code \(226 bytes, sha256 [0-9a-f]{16}\.\.\.\): the emulator cannot run it/);
  bad(pico, `E.nativeCall(1, ${sig}, "\\u0100")`, /not a byte string/);
  bad(pico, `E.nativeCall(0x08012345, ${sig})`, /code at absolute address 134292293/);
  bad(pico, `E.nativeCall(0, ${sig}, atob(${code}))`, /entered at offsets 1 \(mix_saturating_s16\), 109 \(copy_s16\), 181 \(zero_s16\) \(Thumb bit set\), not 0/);
  bad(pico, `E.nativeCall(108, ${sig}, atob(${code}))`, /not 108: the board would crash/);
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
