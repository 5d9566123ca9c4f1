// One self-contained HTML page per run: what each output played (a min/max
// envelope of its recording), the routing switches as they happened, xruns,
// races, dropouts, errors, resets, and the CPU load per period, all on one
// time axis. It opens from disk with no server and no network: uPlot's
// minified build, its CSS, the page's script (report-page.client.js) and
// the data are all inlined.
//
// Why uPlot (npm "uplot", MIT): it is made for exactly this (many aligned
// time series, tens of thousands of points, zoom and a synced cursor across
// charts), it is 51 kB minified with no dependencies, so a page stays small
// enough to attach to an issue; Chart.js is 4x and Plotly 70x that size.

import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { envelope, type Gap } from "../../emulator/analysis.ts";
import type { Recording } from "../../emulator/hardware.ts";
import type { RunEvents } from "./console-events.ts";
import type { CpuSeries } from "./session.ts";

const require = createRequire(import.meta.url);

export interface PageOutput {
  name: string;
  recording: Recording;
  /** Dropouts found in it (frames of the recording's timeline). */
  gaps: Gap[];
  note?: string;
}

export interface PageInput {
  title: string;
  /** Lines of text shown above the charts (the run's summary). */
  summary: string[];
  /** Empty: the run did what was asked; else why not; null: no verdict (a captured log, not a run). */
  problems: string[] | null;
  /** The x axis' meaning, e.g. "virtual s since power-on". */
  xLabel: string;
  /** Right end of the time axis, seconds. */
  end: number;
  outputs: PageOutput[];
  /** Shown instead of waveforms when there are no outputs. */
  noOutputs?: string;
  events: RunEvents;
  /** null: not measured (say why in notes). */
  cpu: CpuSeries | null;
  /** Caveats about the figures, shown under the summary. */
  notes: string[];
}

/** What the page's script receives (JSON). */
interface PageData {
  xLabel: string;
  end: number;
  /** peak: the largest magnitude in the recording (at least 1), for the y range. */
  outputs: Array<{ name: string; rate: number; peak: number; t: number[]; min: number[]; max: number[]; note?: string }>;
  noOutputs?: string;
  links: Array<{ fe: string; be: string; y: Array<number | null> }>;
  linkX: number[];
  marks: Record<string, Array<{ t: number; text: string }>>;
  cpu: { name: string; description: string; t: number[]; load: number[] } | null;
}

/** At most this many envelope slots per output: enough for a wide screen. */
const ENVELOPE_SLOTS = 4000;

/** Routing lanes: one per FE-BE link, its lane number while connected, null otherwise. */
function routingLanes(ev: RunEvents, end: number): { links: PageData["links"]; linkX: number[] } {
  const keys: string[] = [];
  for (const r of ev.routes) {
    const k = `${r.fe}\u0000${r.be}`;
    if (!keys.includes(k)) keys.push(k);
  }
  if (keys.length === 0) return { links: [], linkX: [] };
  // Each switch off also gets a point just before it, so the lane's line reaches it.
  const eps = Math.max(end, 1) * 1e-6;
  const xs = new Set<number>([0, end]);
  for (const r of ev.routes) {
    xs.add(r.t);
    if (!r.on && r.t - eps > 0) xs.add(r.t - eps);
  }
  for (const b of ev.boots) {
    xs.add(b.t);
    if (b.t - eps > 0) xs.add(b.t - eps);
  }
  const linkX = [...xs].sort((a, b) => a - b);
  const links = keys.map((k, lane) => {
    const [fe, be] = k.split("\u0000") as [string, string];
    // A firmware start or reset disconnects every link.
    const switches = [
      ...ev.routes.filter((r) => r.fe === fe && r.be === be).map((r) => ({ t: r.t, on: r.on })),
      ...ev.boots.map((b) => ({ t: b.t, on: false })),
    ].sort((a, b) => a.t - b.t);
    const y = linkX.map((x) => {
      let on = false;
      for (const s of switches) if (s.t <= x) on = s.on;
      return on ? lane + 1 : null;
    });
    return { fe, be, y };
  });
  return { links, linkX };
}

function pageData(input: PageInput): PageData {
  const ev = input.events;
  const marks: PageData["marks"] = {
    xrun: ev.xruns.map((m) => ({ t: m.t, text: m.text })),
    race: ev.races.map((m) => ({ t: m.t, text: m.text })),
    gap: [],
    error: ev.errors.map((m) => ({ t: m.t, text: m.text })),
    boot: ev.boots.map((m) => ({ t: m.t, text: m.text })),
    switch: ev.routes.map((r) => ({ t: r.t, text: `OK route ${r.fe} ${r.be} ${r.on}` })),
  };
  const outputs = input.outputs
    .filter((o) => o.recording.rate > 0)
    .map((o) => {
      const frames = o.recording.samples.length >> 1;
      const env = envelope(o.recording, input.end, Math.max(1, Math.min(ENVELOPE_SLOTS, frames)));
      for (const g of o.gaps) marks.gap!.push({ t: g.start / o.recording.rate, text: `${o.name}: ${g.frames} silent frames` });
      const peak = Math.max(1, ...env.max, ...env.min.map((v) => -v));
      return { name: o.name, rate: o.recording.rate, peak, ...env, ...(o.note ? { note: o.note } : {}) };
    });
  for (const list of Object.values(marks)) list.sort((a, b) => a.t - b.t);
  return {
    xLabel: input.xLabel,
    end: input.end,
    outputs,
    ...(input.noOutputs ? { noOutputs: input.noOutputs } : {}),
    ...routingLanes(ev, input.end),
    marks,
    cpu: input.cpu ? { name: input.cpu.name, description: input.cpu.description, t: input.cpu.t, load: input.cpu.load } : null,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** The page as one HTML string. */
export function reportHtml(input: PageInput): string {
  const uplotJs = readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8");
  const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const client = readFileSync(new URL("./report-page.client.js", import.meta.url), "utf8");
  const verdict =
    input.problems === null
      ? ""
      : input.problems.length
        ? `<p class="verdict bad">Did not do what was asked: ${input.problems.map(escapeHtml).join("; ")}</p>`
        : `<p class="verdict ok">Did what was asked: no console error, every output meant to play did, no hardware fault, no race in safe mode.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(input.title)}</title>
<style>${uplotCss}
body { font: 14px system-ui, sans-serif; margin: 1em 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .4em; }
h2 { font-size: 1em; margin: 1em 0 .2em; }
pre.summary { background: #f6f6f6; padding: .6em .8em; white-space: pre-wrap; font-size: 12px; }
.verdict { padding: .4em .8em; border-radius: 4px; }
.verdict.ok { background: #e6f4ea; }
.verdict.bad { background: #fde8e8; }
.note { color: #555; font-size: 12px; margin: .2em 0; }
</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
${verdict}
<pre class="summary">${escapeHtml(input.summary.join("\n"))}</pre>
${input.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n")}
<div id="charts"></div>
<p class="note">Charts: uPlot ${escapeHtml(uplotVersion())} (MIT). Drag to zoom (all charts follow), double-click to reset.</p>
<script id="report-data" type="application/json">${scriptJson(pageData(input))}</script>
<script>${uplotJs}</script>
<script>${client}</script>
</body>
</html>
`;
}

function uplotVersion(): string {
  return (JSON.parse(readFileSync(require.resolve("uplot/package.json"), "utf8")) as { version: string }).version;
}

/** Write the page to `path`. */
export function writeReport(path: string, input: PageInput): void {
  writeFileSync(path, reportHtml(input));
}
