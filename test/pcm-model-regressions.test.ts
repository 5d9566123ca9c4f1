// Firmware bugs the model-based test (test/pcm-model.test.ts) found, each as
// the smallest console sequence on the generic board's bundle that shows it,
// and the fix it got (named on each test).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createGenericMachine } from "../emulator/boards/generic.ts";
import { loadBundleFile } from "../emulator/load-bundle.ts";
import type { Machine } from "../emulator/machine.ts";
import { BUNDLE, bundleMissing } from "../scripts/lib/pcm-model.ts";

const missing = bundleMissing();
if (missing) console.log(`# skipped: ${missing}`);

/** The generic board after READY, with the interrupt's timer task firing on its own unless `manual`. */
function boot(manual = false): Machine {
  const { machine } = createGenericMachine({ console: { echo: false, printUndefined: false }, execTasksFire: !manual });
  const loaded = loadBundleFile(machine, BUNDLE);
  if (!loaded.ok) assert.fail(`${BUNDLE}: ${loaded.message}`);
  if (manual) tick(machine, 0.05);
  else machine.runUntilOutput(/^READY /m, 2);
  assert.match(machine.console.takeNew(), /^READY /m);
  return machine;
}

/** Manual interrupt: run `seconds` of main loop, firing the timer task by hand every `step` seconds. */
function tick(machine: Machine, seconds: number, step = 0.004): void {
  const end = machine.now() + seconds - 1e-9;
  while (machine.now() < end) {
    machine.runFor(step);
    machine.fireInterrupt();
  }
}

/** Type one console line now, run it, return what it printed (without what the main loop printed before it: WARN, EVT). */
function type(machine: Machine, line: string): string[] {
  machine.console.takeNew();
  machine.console.type(line);
  machine.runFor(0);
  return machine.console
    .takeNew()
    .split("\n")
    .filter((l) => l && !/^(WARN|OK be=|OK irq|EVT) /.test(l));
}

/** Every WARN line the board printed so far. */
function warnings(machine: Machine): string[] {
  return machine.console.lines().filter((l) => l.startsWith("WARN "));
}

const opts = missing ? { skip: missing } : {};

test("a refused open leaves the closed FE as it was (its period and written count)", opts, () => {
  const m = boot();
  type(m, 'route("media","line",true)');
  type(m, 'play("media",440,0.05)');
  m.runFor(0.3);
  const fe = () => type(m, "stats()").find((l) => l.startsWith("STATS fe=media "));
  assert.match(fe()!, /^STATS fe=media state=CLOSED rate=8000 period=128 written=512 /);
  assert.match(type(m, 'open("media",44100,64)')[0], /^ERROR open: /);
  assert.match(fe()!, /^STATS fe=media state=CLOSED rate=8000 period=128 written=512 /);
});

test("open() refuses a period of 0 frames (16 to 4096, or left out)", opts, () => {
  const m = boot();
  type(m, 'route("media","line",true)');
  assert.match(type(m, 'open("media",8000,0)')[0], /^ERROR open: /);
});

test("the watchdog stays quiet when a BE starts after a long command or restarts between two checks", opts, () => {
  const m = boot();
  type(m, 'route("alert","bt",true)');
  // Building the 16 kHz tone keeps the main loop busy about 25 ms before bt starts.
  type(m, 'play("alert",440)');
  m.runFor(0.1);
  type(m, 'xrun("alert")');
  type(m, 'play("alert",440)');
  m.runFor(0.1);
  assert.deepEqual(warnings(m), []);
});

test("a sink completes periods at its own period size, not the board's", opts, () => {
  const m = boot();
  type(m, 'route("media","line",true)');
  assert.match(type(m, 'open("media",8000,256)')[0], /^OK open media 8000 Hz, 256-frame periods$/);
  type(m, 'play("media",440)');
  const periods = () => Number(/ periods=(\d+)/.exec(type(m, "stats()").find((l) => l.startsWith("STATS be=line "))!)![1]);
  const before = periods();
  m.runFor(1);
  // 8000 / 256 = 31.25 periods a second.
  const done = periods() - before;
  assert.ok(Math.abs(done - 31.25) <= 2, `line completed ${done} periods of 256 frames in 1 s at 8 kHz`);
});

test("a short period is refused or served without a watchdog warning", opts, () => {
  const m = boot();
  type(m, 'route("media","line",true)');
  const opened = type(m, 'open("media",48000,16)')[0];
  if (opened.startsWith("ERROR ")) return;
  type(m, 'play("media",440)');
  m.runFor(0.2);
  assert.deepEqual(warnings(m), []);
});

test("a timed tone xrun'd after its last write still ends: the FE closes", opts, () => {
  const m = boot();
  type(m, 'route("alert","line",true)');
  // One line: the tone's only period is written and the xrun lands before the player drains it.
  type(m, 'play("alert",440,0.01);xrun("alert")');
  m.runFor(0.3);
  assert.deepEqual(type(m, "routes()"), ["ROUTES fe\\be line bt", "ROUTE media CLOSED line=off bt=off", "ROUTE alert CLOSED line=on bt=off"]);
});

test("an xrun stop from the interrupt in the middle of suspend's walk leaves no link behind", opts, () => {
  const m = boot(true);
  type(m, 'route("media","line",true)');
  type(m, 'route("media","bt",true)');
  type(m, 'play("media",440)');
  tick(m, 0.1);
  // Starve media (as the race explorer does): its ring runs dry, each link finds no data once.
  const dpcm = m.global.DPCM as {
    player: { voices: Array<{ tone: unknown }> };
    card: { links: { items: Array<{ inUse: boolean; emptyPeriods: number; fe: { index: number } }> } };
  };
  dpcm.player.voices[0].tone = null;
  const links = () => dpcm.card.links.items.filter((l) => l.inUse && l.fe.index === 0);
  for (let ms = 0; ms < 200 && !links().every((l) => l.emptyPeriods >= 1); ms++) tick(m, 0.001, 0.001);
  assert.equal(links().length, 2);
  assert.ok(links().every((l) => l.emptyPeriods >= 1), "both links ran dry");
  // Let the next period of both BEs fall due, then suspend; the interrupt lands as the walk reaches bt's link.
  m.runFor(0.009);
  const src = readFileSync("firmware/dpcm/trigger.ts", "utf8").split("\n");
  const firstLine = src.findIndex((l) => l.startsWith("export function linkSet(")) + 2;
  let entries = 0;
  let inside = false;
  let fired = false;
  m.onStatement = (site, _index, inTask) => {
    if (inTask) return;
    const pos = m.describeSite(site)?.source;
    const here = !!pos && pos.source.endsWith("trigger.ts") && pos.line === firstLine;
    if (here && !inside) entries++;
    inside = here;
    if (entries === 2 && here && !fired) {
      fired = true;
      return true;
    }
  };
  assert.deepEqual(type(m, 'suspend("media")'), ["OK suspend media (state SUSPENDED)"]);
  m.onStatement = null;
  assert.ok(fired, "the interrupt was forced inside the walk");
  assert.equal(type(m, "routes()")[1], "ROUTE media SUSPENDED line=on/suspended bt=on/suspended");
  type(m, 'route("media","bt",false)');
  tick(m, 0.02);
  assert.match(type(m, "races()")[0], /^RACES total=0 /);
});

test("a drain's end falling due in the middle of suspend's walk waits for the walk: the FE ends SUSPENDED, then drains after resume", opts, () => {
  const m = boot(true);
  type(m, 'route("media","line",true)');
  // 80 frames of tone, less than one 128-frame period: the player writes it and drains.
  type(m, 'play("media",440,0.01)');
  const dpcm = m.global.DPCM as {
    card: {
      fes: Array<{ state: number; applPtr: number }>;
      links: { items: Array<{ inUse: boolean; emptyPeriods: number; pos: number; fe: { index: number } }> };
    };
  };
  const link = () => dpcm.card.links.items.find((l) => l.inUse && l.fe.index === 0)!;
  // Run until one more empty period ends the drain (PLAYED_OUT is 2 in period.ts).
  for (let ms = 0; ms < 300 && !(link().emptyPeriods === 1 && link().pos >= dpcm.card.fes[0].applPtr); ms++) tick(m, 0.001, 0.001);
  assert.equal(link().emptyPeriods, 1, "the link played its data out and found none once");
  assert.match(type(m, "routes()")[1], /^ROUTE media DRAINING /);
  m.runFor(0.017); // the next period falls due, unserved
  const src = readFileSync("firmware/dpcm/trigger.ts", "utf8").split("\n");
  const firstLine = src.findIndex((l) => l.startsWith("export function linkSet(")) + 2;
  let fired = false;
  m.onStatement = (site, _index, inTask) => {
    if (inTask || fired) return;
    const pos = m.describeSite(site)?.source;
    if (pos && pos.source.endsWith("trigger.ts") && pos.line === firstLine) {
      fired = true;
      return true;
    }
  };
  assert.deepEqual(type(m, 'suspend("media")'), ["OK suspend media (state SUSPENDED)"]);
  m.onStatement = null;
  assert.ok(fired, "the interrupt was forced inside the walk");
  tick(m, 0.05);
  assert.equal(type(m, "routes()")[1], "ROUTE media SUSPENDED line=on/suspended bt=off");
  assert.deepEqual(type(m, 'resume("media")'), ["OK resume media (state DRAINING)"]);
  tick(m, 0.1);
  assert.match(type(m, "routes()")[1], /^ROUTE media CLOSED /);
  assert.match(type(m, "races()")[0], /^RACES total=0 /);
});

test("a closed FE's params are the board's again, rate and period both (stats() showed rate=8000 period=768 after a 48 kHz stream)", opts, () => {
  const m = boot();
  type(m, 'route("media","line",true)');
  assert.match(type(m, 'open("media",48000)')[0], /^OK open media 48000 Hz, 768-frame periods$/);
  type(m, 'play("media",440)');
  m.runFor(0.1);
  type(m, 'stop("media")');
  assert.match(type(m, "stats()").find((l) => l.startsWith("STATS fe=media "))!, /^STATS fe=media state=CLOSED rate=8000 period=128 /);
});
