// boards/generic/main.ts booted in Node on the fake Espruino globals: the
// READY banner, the EXEC timer task and the service tick, then a timed tone
// played end to end from console commands under the fake clock.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { installEspruinoEnv } from "./support/espruino-env.ts";
import { resetFirmwareState } from "./support/reset.ts";

const env = installEspruinoEnv();
after(() => env.restore());
resetFirmwareState();
await import("../boards/generic/main.ts");

const TASK_MS = 8;

/** Run the board for `seconds` of fake time: the EXEC task every 8 ms, the service tick on its interval. */
function runFor(seconds: number): void {
  const task = env.timerTasks[0];
  const steps = Math.round((seconds * 1000) / TASK_MS);
  for (let i = 0; i < steps; i++) {
    env.advance(TASK_MS / 1000);
    task.fn();
  }
}
// READY comes once the timer task has been seen to fire (two periods).
runFor(0.04);
const boot = env.take();

function cmd(name: string, ...args: unknown[]): string[] {
  env.take();
  env.command(name)(...args);
  return env.take();
}

test("boot prints one READY line and no warning on 2v29", () => {
  assert.deepEqual(boot, ['READY dpcm-espruino 0.2.0 board=generic espruino=2v29 fes=media,alert bes=line,bt irq="timer task every 8 ms"']);
  assert.equal(env.timerTasks.length, 1);
  assert.equal(env.timerTasks[0].type, "EXEC");
  assert.equal(env.timerTasks[0].interval, TASK_MS);
  assert.equal(env.timers.length, 1, "one service tick (the READY timeout has run)");
  assert.equal(env.timers[0].every, TASK_MS / 1000);
});

test("a timed tone on line plays to the end: played == written, no xrun, no race", () => {
  assert.deepEqual(cmd("route", "media", "line", true), ["OK route media line true"]);
  assert.deepEqual(cmd("play", "media", 440, 0.25), ["OK play media 440 Hz for 0.25 s"]);
  runFor(0.6);
  const lines = env.take();
  assert.ok(lines.some((l) => /^EVT t=\S+ kind=drained ctx=irq fe=media be=- link=- at=fe-advance n=2048$/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => l.startsWith("RACE") || l.startsWith("LOST")), lines.join("\n"));
  const stats = cmd("stats");
  assert.ok(stats.includes("STATS fe=media state=CLOSED rate=8000 period=128 written=2048 xruns=0 recoveries=0"), stats.join("\n"));
  assert.ok(
    stats.some((l) =>
      /^STATS be=line state=CLOSE users=0 start_count=0 pause_count=0 suspend_count=0 rate=8000 periods=\d+ hw_start=1 hw_stop=1 hw_pause_push=0 hw_pause_release=0 hw_suspend=0 hw_resume=0 played.media=2048 dropped.media=0 silent.media=0 /.test(l),
    ),
    stats.join("\n"),
  );
  assert.match(cmd("races")[0], /^RACES total=0 /);
});

test("the bt link's fixed 16 kHz: the FE adopts it; line cannot join an 8 kHz FE on bt's terms", () => {
  assert.deepEqual(cmd("route", "media", "line", false), ["OK route media line false"]);
  assert.deepEqual(cmd("route", "media", "bt", true), ["OK route media bt true"]);
  assert.deepEqual(cmd("play", "media", 1000), ["OK play media 1000 Hz"]);
  runFor(0.1);
  const stats = cmd("stats");
  assert.ok(stats.some((l) => l.startsWith("STATS fe=media state=RUNNING rate=16000 ")), stats.join("\n"));
  assert.ok(stats.some((l) => l.startsWith("STATS be=bt state=START users=1 start_count=1 pause_count=0 suspend_count=0 rate=16000 ")), stats.join("\n"));
  // line takes 16 kHz too: it joins live.
  assert.deepEqual(cmd("route", "media", "line", true), ["OK route media line true"]);
  runFor(0.1);
  assert.ok(cmd("stats").some((l) => l.startsWith("STATS be=line state=START users=1 start_count=1 pause_count=0 suspend_count=0 rate=16000 ")));
  assert.deepEqual(cmd("stop", "media"), ["OK stop media"]);
  // alert at 8 kHz on line, then bt refused: it only runs at 16 kHz.
  assert.deepEqual(cmd("route", "alert", "line", true), ["OK route alert line true"]);
  assert.deepEqual(cmd("play", "alert", 300), ["OK play alert 300 Hz"]);
  assert.deepEqual(cmd("route", "alert", "bt", true), ["ERROR route: bt: runs at 16000 Hz only; alert is open at 8000 Hz (a stream's rate is fixed while it is open, and there is no resampler: stop alert first)"]);
  runFor(0.1);
  assert.ok(cmd("stats").some((l) => l.startsWith("STATS fe=alert state=RUNNING rate=8000 ") && l.includes("xruns=0")));
  assert.deepEqual(cmd("stop", "alert"), ["OK stop alert"]);
  runFor(0.05);
  assert.ok(!env.take().some((l) => l.startsWith("RACE")));
  assert.match(cmd("races")[0], /^RACES total=0 /);
});

test("selftest() on the booted board prints only PASS lines", () => {
  const lines = cmd("selftest");
  assert.ok(lines.length > 10);
  assert.ok(lines.slice(0, -1).every((l) => /^SELFTEST PASS [a-z-]+$/.test(l)), lines.join("\n"));
  assert.match(lines[lines.length - 1], /^SELFTEST done pass=\d+ fail=0$/);
});
