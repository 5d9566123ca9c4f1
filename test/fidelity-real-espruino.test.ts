// scripts/lib/real-espruino.ts: finding the real interpreter, running a
// script on it in a fresh directory, a console session with stdin held open.
// The tests that need the interpreter say so and skip where it is absent.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  cleanConsole,
  EspruinoSession,
  findEspruino,
  REPO_ROOT,
  runEspruinoScript,
  type EspruinoBuild,
} from "../scripts/lib/real-espruino.ts";

/** The interpreter's path, or skip the test saying why (a set but wrong variable fails it). */
function need(t: { skip(message: string): void }, build: EspruinoBuild = "stock"): string | null {
  const loc = findEspruino(build);
  if (loc.path) return loc.path;
  if (loc.misconfigured) assert.fail(loc.reason!);
  t.skip(loc.reason!);
  return null;
}

test("findEspruino: the variable first, then ../shared/espruino-2v29 beside the repository", () => {
  const fromEnv = findEspruino("stock", { ESPRUINO_BIN: "/bin/sh" });
  assert.deepEqual([fromEnv.path, fromEnv.source, fromEnv.misconfigured], ["/bin/sh", "ESPRUINO_BIN", false]);
  const timer = findEspruino("timer", { ESPRUINO_TIMER_BIN: "/bin/sh", ESPRUINO_BIN: "/nonexistent" });
  assert.equal(timer.path, "/bin/sh", "each build has its own variable");
  const wrong = findEspruino("stock", { ESPRUINO_BIN: "/nonexistent/espruino" });
  assert.equal(wrong.path, null);
  assert.equal(wrong.misconfigured, true, "a variable naming nothing is a mistake, not a skip");
  assert.match(wrong.reason!, /ESPRUINO_BIN=\/nonexistent\/espruino is not an executable file/);
  const fallback = findEspruino("timer", {});
  const expected = resolve(REPO_ROOT, "..", "shared", "espruino-2v29", "espruino-timer");
  if (existsSync(expected)) assert.equal(fallback.path, expected);
  else {
    assert.equal(fallback.path, null);
    assert.equal(fallback.misconfigured, false);
    assert.match(fallback.reason!, /ESPRUINO_TIMER_BIN is unset/);
  }
});

test("cleanConsole: banner, \\r\\n, erased prompts and the final prompt", () => {
  const raw =
    "\r\n ____                 _ \r\n|  __|___ ___ ___ _ _|_|___ ___ \r\n         |_| espruino.com\r\n 2v29 (c) 2025 G.Williams\r\n\r\n" +
    "Espruino is Open Source. Our work is supported\r\nonly by sales of official boards and donations:\r\nhttp://espruino.com/Donate\r\n\r\n" +
    "first\r\n>\r\x1b[Jsecond\r\n>partial\r\x1b[Jthird\r\n>";
  assert.equal(cleanConsole(raw), "first\nsecond\nthird\n");
  assert.match(cleanConsole(raw, { keepBanner: true }), /^\n ____/);
});

test("runEspruinoScript: output, timers, a fresh directory each run, a load error", async (t) => {
  const bin = need(t);
  if (!bin) return;
  const r = await runEspruinoScript(
    'print(1/3); setTimeout(function () { print("timer"); }, 20);\n' +
      'var s = require("Storage"); print("before:" + s.read("probe")); s.write("probe", "x");',
    { path: bin },
  );
  assert.equal(r.output, "0.33333333333\nbefore:undefined\ntimer\n");
  assert.equal(r.exitCode, 0);
  const again = await runEspruinoScript('print("again:" + require("Storage").read("probe"));', { path: bin });
  assert.equal(again.output, "again:undefined\n", "Storage does not leak between runs");
  const failed = await runEspruinoScript('setTimeout(function () { print("never"); }, 1); throw new Error("at load");', { path: bin });
  assert.equal(failed.exitCode, 1);
  assert.match(failed.output, /^Uncaught Error: at load\n/);
  assert.doesNotMatch(failed.output, /never/, "an exception at load ends the run");
});

test("runEspruinoScript: a run that does not end is killed with SIGKILL at the timeout", async (t) => {
  const bin = need(t);
  if (!bin) return;
  const r = await runEspruinoScript("setInterval(function () {}, 10);", { path: bin, timeoutMs: 400 });
  assert.equal(r.timedOut, true);
  assert.equal(r.signal, "SIGKILL");
  assert.ok(r.ms >= 400 && r.ms < 5000, `${r.ms} ms`);
});

test("EspruinoSession: stdin held open, console lines, waitFor, close", async (t) => {
  const bin = need(t);
  if (!bin) return;
  // A file run lasts while it has timers (stdin open or not); the bare REPL until close().
  const brief = new EspruinoSession({ path: bin, script: "var n = 1;" });
  for (let waited = 0; !brief.exitedAlready && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.equal(brief.exitedAlready, true, "a file run with no timer ends by itself, stdin open");
  await brief.close();
  const s = new EspruinoSession({ path: bin, script: "var n = 41; var keep = setInterval(function () {}, 1000);" });
  try {
    await s.idle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.exitedAlready, false, "a script with a timer keeps running");
    assert.equal(await s.command("n + 1"), "=42\n");
    assert.equal(await s.command("[1, 'a']"), "=[ 1, \n  \"a\"\n ]\n");
    const mark = s.mark();
    s.type('setTimeout(function () { print("later " + n); }, 50)');
    const m = await s.waitFor(/later (\d+)/, 3000, mark);
    assert.equal(m[1], "41");
    await assert.rejects(s.waitFor("never printed", 200), /no \/never printed\/ within 200 ms/);
  } finally {
    const end = await s.close();
    assert.equal(end.timedOut, false);
    assert.equal(end.signal, null, "Ctrl-D ends it without a kill");
  }
});

test("the timer build's EXEC task fires; the stock build's never does", async (t) => {
  const timerBin = need(t, "timer");
  const stockBin = timerBin ? need(t, "stock") : null;
  if (!timerBin || !stockBin) return;
  const code =
    'var n = 0; var id = require("timer").add({ type: "EXEC", fn: function () { n++; }, time: 5, interval: 5 });' +
    'setTimeout(function () { require("timer").remove(id); print(n > 5 ? "fired" : "silent " + n); }, 100);';
  assert.equal((await runEspruinoScript(code, { path: timerBin })).output, "fired\n");
  assert.equal((await runEspruinoScript(code, { path: stockBin })).output, "silent 0\n");
});
