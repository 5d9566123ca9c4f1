// npm run check:pcm: the model-based test of test/pcm-model.test.ts, as many
// runs as asked (default 1000). Prints what was executed and the verdict;
// exits 1 on a failure, with the shrunk counterexample (the console lines
// typed, routes first) and how to replay it.
//
//   npm run check:pcm -- --runs 1000 --seed 42
//   npm run check:pcm -- --seed 42 --path "17:3:2" --replay-path "MGoAI:V"   (replay one counterexample)

import { Command, InvalidArgumentError } from "commander";
import fc from "fast-check";
import { BUNDLE, Figures, bundleMissing, pcmProperty, replayPathOf } from "./lib/pcm-model.ts";

function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER, range = `from ${min}`) {
  return (value: string): number => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number ${range}`);
    return n;
  };
}

const program = new Command()
  .name("npm run check:pcm --")
  .description(`Random console sequences on ${BUNDLE} in the emulator, checked against a reference model of ALSA's PCM rules.`)
  .option("--runs <n>", "sequences to run", integer("--runs", 1), 1000)
  .option("--seed <n>", "fast-check seed (default: a new one, printed)", integer("--seed", -2147483648, 2147483647, "(a 32-bit seed, as a run prints it)"))
  .option("--max-commands <n>", "commands per sequence, at most", integer("--max-commands", 1), 25)
  .option("--path <path>", "with --seed: replay the counterexample at this fast-check path")
  .option("--replay-path <p>", "with --path: the commands' replayPath printed with it")
  .parse();

const opts = program.opts<{ runs: number; seed?: number; maxCommands: number; path?: string; replayPath?: string }>();
if (opts.path && opts.seed === undefined) program.error("--path needs the --seed it came from");
const missing = bundleMissing();
if (missing) {
  console.error(`check:pcm: ${missing}`);
  process.exit(2);
}

const seed = opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const figures = new Figures();
console.log(
  `check:pcm: ${opts.runs} runs of up to ${opts.maxCommands} commands on ${BUNDLE}, seed ${seed}` +
    (opts.path ? `, replaying path ${opts.path}` : ""),
);

const started = performance.now();
const result = fc.check(pcmProperty(figures, opts.maxCommands, opts.replayPath), { numRuns: opts.runs, seed, path: opts.path, endOnFailure: !!opts.path });
const seconds = (performance.now() - started) / 1000;

const list = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}=${n}`)
    .join(" ") || "none";

const shrinking = result.failed ? figures.runs - result.numRuns : 0;
console.log(`runs executed:      ${figures.runs}` + (result.failed ? ` (${result.numRuns} until the first failure, ${shrinking} while shrinking it)` : ""));
console.log(
  `commands executed:  ${figures.commands} (${figures.accepted} accepted, ${figures.refused} refused; 2 stops end each run), ` +
    `${figures.waits} waits, ${figures.virtualSeconds.toFixed(1)} virtual seconds`,
);
console.log(`accepted by kind:   ${list(figures.accepts)}`);
console.log(`refusals by kind:   ${list(figures.refusals)}`);
console.log(`FE states seen:     ${list(figures.states)} (before each command and after each wait, both FEs)`);
console.log(`(b) refused commands compared before/after: ${figures.unchangedChecked}; not comparable (an interrupt stopped an FE meanwhile): ${figures.unchangedSkipped}`);
console.log(`(c) routes of closed sessions checked, by link history: ${list(figures.routesChecked)}`);
console.log(`events:             xrun=${figures.xrunEvents} (xrun() injected ${figures.xrunsInjected}) drained=${figures.drainedEvents}; watchdog warnings with the interrupt overloaded: ${figures.overloadWarnings}`);
console.log(`time:               ${seconds.toFixed(1)} s`);

if (!result.failed) {
  console.log("verdict: PASS (no race, every refusal changed nothing, frame accounting exact, rates fixed, the model agreed)");
  process.exit(0);
}

console.log("verdict: FAIL");
if (result.counterexample) {
  const [routes, commands] = result.counterexample;
  console.log("shrunk counterexample (console lines, in order; wait(s) lets time pass):");
  for (const c of [...routes, ...commands]) console.log(`  ${String(c)}`);
}
const replayPath = result.counterexample ? replayPathOf(result.counterexample[1]) : undefined;
console.log(
  `replay: npm run check:pcm -- --seed ${result.seed} --path "${result.counterexamplePath}"` +
    (replayPath ? ` --replay-path "${replayPath}"` : "") +
    (opts.maxCommands !== 25 ? ` --max-commands ${opts.maxCommands}` : ""),
);
const error = result.errorInstance;
console.log(error instanceof Error ? error.message : String(error));
process.exit(1);
