// The lint rules that keep the code's shape honest about contexts:
// espruino/irq-safe (nothing the interrupt runs allocates or builds a
// string) and the one-transition-function rule (a state changes only in
// firmware/dpcm/dpcm.ts). Each case must be flagged, each counter-case not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ESLint, type Linter } from "eslint";

const root = fileURLToPath(new URL("..", import.meta.url));
const eslint = new ESLint({ cwd: root, overrideConfigFile: "eslint.config.mjs" });

async function lint(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages;
}
const show = (messages: Linter.LintMessage[]): string => messages.map((m) => `${m.line}:${m.column} ${m.ruleId} ${m.message}`).join("\n") || "(none)";
const IRQ_FILE = "firmware/dpcm/period.ts";
const MAIN_FILE = "firmware/dpcm/graph.ts";

// What allocates or builds a string, each in a function of an interrupt file.
const allocations: [string, string][] = [
  ["export function f(): Int16Array { return new Int16Array(4); }", "`new`"],
  ["export function f(): number[] { return [1]; }", "an array literal"],
  ["export function f(): object { return { a: 1 }; }", "an object literal"],
  ["export function f(n: number): string { return `n=${n}`; }", "a template string"],
  ["export function f(n: number): string { return 'n=' + n; }", "string concatenation"],
  ["export function f(n: number): string { let s = ''; s += 'x'; return s + n; }", "string concatenation"],
  ["export function f(): void { print(1); }", "print()"],
  ["export function f(n: number): string { return String(n); }", "String()"],
  ["export function f(n: number): string { return n.toFixed(2); }", ".toFixed()"],
  ["export function f(a: number[]): void { a.push(1); }", ".push()"],
  ["export function f(a: Int16Array): Int16Array { return a.subarray(1); }", ".subarray()"],
  ["export function f(o: object): string { return JSON.stringify(o); }", "JSON.stringify()"],
  ["export function f(): void { throw 1; }", "a throw"],
  ["export function f(): () => number { return () => 1; }", "a closure"],
];

for (const [code, what] of allocations) {
  test(`irq-safe flags ${what} in an interrupt file`, async () => {
    const messages = await lint(code, IRQ_FILE);
    assert.ok(
      messages.some((m) => m.ruleId === "espruino/irq-safe" && m.message.startsWith(what + " in code the interrupt runs")),
      show(messages),
    );
  });
}

test("irq-safe: allocation-free code passes in an interrupt file", async () => {
  const code =
    "export function f(a: Int16Array, b: Int16Array, n: number): number {\n" +
    "  a.set(b);\n  a.fill(0);\n  let s = 0;\n  for (let i = 0; i < n; i++) s += a[i];\n  return s > 1 ? Math.round(s) : 0;\n}";
  const messages = await lint(code, IRQ_FILE);
  assert.deepEqual(messages.filter((m) => m.ruleId === "espruino/irq-safe"), [], show(messages));
});

test("irq-safe: a function documented 'Context: main' in an interrupt file may allocate", async () => {
  const messages = await lint("/** Made at boot. Context: main. */\nexport function f(): number[] { return [1]; }", IRQ_FILE);
  assert.deepEqual(messages.filter((m) => m.ruleId === "espruino/irq-safe"), [], show(messages));
});

test("irq-safe: in any other file, functions documented 'Context: irq' or 'Context: both' are checked, others not", async () => {
  for (const tag of ["irq", "both"]) {
    const messages = await lint(`/** Context: ${tag}. */\nexport function f(n: number): string { return 'n=' + n; }`, MAIN_FILE);
    assert.ok(messages.some((m) => m.ruleId === "espruino/irq-safe" && /Context: /.test(m.message)), tag + ": " + show(messages));
  }
  for (const code of [
    "/** Context: main. */\nexport function f(n: number): string { return 'n=' + n; }",
    "export function f(n: number): string { return 'n=' + n; }",
  ]) {
    const messages = await lint(code, MAIN_FILE);
    assert.deepEqual(messages.filter((m) => m.ruleId === "espruino/irq-safe"), [], show(messages));
  }
  // A class method documented as the interrupt's (a driver's trigger()).
  const method = "export class D {\n  n = 0;\n  /** Register writes only. Context: both. */\n  trigger(): string { return 'x' + this.n; }\n}";
  const messages = await lint(method, "drivers/__fixture__.ts");
  assert.ok(messages.some((m) => m.ruleId === "espruino/irq-safe"), show(messages));
});

test("the one transition function: `.state =` is refused outside firmware/dpcm/dpcm.ts, allowed in it", async () => {
  const code = "export function f(o: { state: number }): void { o.state = 1; }";
  for (const file of [MAIN_FILE, "firmware/console.ts", "drivers/__fixture__.ts"]) {
    const messages = await lint(code, file);
    assert.ok(messages.some((m) => m.ruleId === "no-restricted-syntax" && /transition function/.test(m.message)), file + ": " + show(messages));
  }
  const messages = await lint(code, "firmware/dpcm/dpcm.ts");
  assert.deepEqual(messages.filter((m) => /transition function/.test(m.message)), [], show(messages));
  // The Espruino syntax rules still apply where the state rule does.
  const spread = await lint("const xs = [1];\nexport const ys = [0, ...xs];", MAIN_FILE);
  assert.ok(spread.some((m) => /no spread/.test(m.message)), show(spread));
});

test("context-doc: every function and method of firmware/, drivers/ and boards/ says its context", async () => {
  for (const dir of ["drivers", "boards/pico-wm8731"]) {
    const other = await lint("export function f(): number { return 1; }", `${dir}/__fixture__.ts`);
    assert.deepEqual(other.filter((m) => m.ruleId === "espruino/context-doc").map((m) => m.line), [1], show(other));
  }
  const file = "firmware/__fixture__.ts";
  const bare = await lint("export function f(): number { return 1; }\nexport class C { m(): number { return 2; } }", file);
  assert.deepEqual(
    bare.filter((m) => m.ruleId === "espruino/context-doc").map((m) => m.line),
    [1, 2],
    show(bare),
  );
  const tagged = await lint(
    "/** One. Context: main. */\nexport function f(): number { return 1; }\nexport class C {\n  /** Context: both. */\n  m(): number { return 2; }\n}",
    file,
  );
  assert.deepEqual(tagged.filter((m) => m.ruleId === "espruino/context-doc"), [], show(tagged));
});
