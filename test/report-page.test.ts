// The report page (scripts/lib/report-page.ts) in a real headless browser:
// Debian's chromium driven by playwright-core. For a known run the page must
// load with no console error and draw the expected charts, traces and
// markers; the same for the page of a captured console log. Skips, saying
// so, where chromium is not installed (.ci/run installs it).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { chromium, type Browser } from "playwright-core";
import { demoScript, runProblems, runSession } from "../scripts/lib/session.ts";
import { writeReport } from "../scripts/lib/report-page.ts";

const CHROMIUM = "/usr/bin/chromium";
const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium): the page's browser test is skipped`;
if (SKIP) process.stdout.write(`# skipped: ${SKIP}\n`);

const TMP = mkdtempSync(join(tmpdir(), "report-page-"));
let browser: Browser | null = null;

before(async () => {
  if (SKIP) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
});
after(async () => {
  await browser?.close();
  rmSync(TMP, { recursive: true, force: true });
});

interface Drawn {
  charts: Array<{ title: string; traces: string[] }>;
  traces: number;
  markers: Record<string, number>;
}

/** Open a page from disk; what it drew, its console errors and any request it made. */
async function open(path: string): Promise<{ drawn: Drawn; errors: string[]; requests: string[]; uplots: number; canvases: number }> {
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:")) requests.push(r.url());
  });
  await page.goto("file://" + resolve(path));
  await page.waitForFunction("'dpcmReport' in window", null, { timeout: 20_000 });
  const drawn = (await page.evaluate("window.dpcmReport")) as Drawn;
  const uplots = await page.locator(".uplot").count();
  const canvases = await page.locator(".uplot canvas").count();
  await page.close();
  return { drawn, errors, requests, uplots, canvases };
}

describe("the report page in headless chromium", { skip: SKIP }, () => {
  test("a slow-CPU demo run: one waveform per output, every link, every xrun, dropout and switch, the CPU load", async () => {
    const result = await runSession({ board: "pico-wm8731", steps: demoScript("pico-wm8731", 440), machine: { statementCostUs: 100 } });
    const path = join(TMP, "run.html");
    writeReport(path, {
      title: "test run",
      summary: ["a known run"],
      problems: runProblems(result),
      xLabel: "virtual s since power-on",
      end: result.endAt,
      outputs: result.outputs.map((o) => ({ name: o.name, recording: o.recording, gaps: o.gapList })),
      events: result.events,
      cpu: result.cpu,
      notes: [],
    });
    const { drawn, errors, requests, uplots, canvases } = await open(path);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [], "nothing fetched: the page is self-contained");
    // Charts: codec, spk, routing, events, CPU.
    assert.deepEqual(
      drawn.charts.map((c) => c.title.split(" (")[0]),
      ["output codec", "output spk", "routing", "events", "CPU load per period"],
    );
    assert.equal(uplots, 5);
    assert.ok(canvases >= 5);
    assert.deepEqual(drawn.charts[2]!.traces, ["media → codec", "alert → spk", "media → spk"]);
    assert.equal(drawn.traces, 2 * 2 + 3 + drawn.charts[3]!.traces.length + 1);
    const gapCount = result.outputs.reduce((n, o) => n + o.gaps, 0);
    assert.ok(result.xruns > 0 && gapCount > 0, "the known run has xruns and dropouts");
    assert.deepEqual(drawn.markers, { xrun: result.xruns, race: 0, gap: gapCount, boot: 1, switch: result.events.routes.length });
    assert.match(drawn.charts[4]!.traces[0]!, /^irq share \(emulator: interrupt statements x statement cost\)/);
  });

  test("npm run monitor -- --summary <log> writes the log's page: routing, races, restarts", async () => {
    const page = join(TMP, "restarts.html");
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/monitor.ts", "--summary", "test/fixtures/serial/monitor-restarts.capture", "--page", page], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^page: /m);
    const { drawn, errors } = await open(page);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      drawn.charts.map((c) => c.title.split(" (")[0]),
      ["routing", "events"],
    );
    assert.deepEqual(drawn.charts[0]!.traces, ["media → bt", "media → line"]);
    assert.deepEqual(drawn.markers, { xrun: 0, race: 3, boot: 5, switch: 3 });
    assert.match(readFileSync(page, "utf8"), /A console log carries no audio/);
  });
});
