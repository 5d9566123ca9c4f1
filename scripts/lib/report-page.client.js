// The report page's own script (plain browser JavaScript, inlined into the
// page by report-page.ts after uPlot's minified build). It reads the run's
// data from <script id="report-data" type="application/json"> and draws one
// uPlot chart per row, all on one time axis: zoom one (drag) and every
// chart follows, the cursor moves in all of them. Marks (xruns, races,
// routing switches, resets) are points in the events chart and faint
// vertical lines across every chart. window.dpcmReport lists what was drawn
// (charts, their traces, marker counts) for the page's browser test.
/* global uPlot */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var root = document.getElementById("charts");
  var charts = [];
  var drawn = { charts: [], traces: 0, markers: {} };
  var COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var MARK_STYLE = {
    xrun: { color: "#ff7f0e", label: "xrun (EVT kind=xrun)" },
    race: { color: "#d62728", label: "RACE line" },
    gap: { color: "#9467bd", label: "dropout in a recording" },
    error: { color: "#bcbd22", label: "ERROR / Uncaught line" },
    boot: { color: "#7f7f7f", label: "firmware start (READY) / board reset" },
    "switch": { color: "#1f77b4", label: "routing switch (OK route)" }
  };
  var MARK_KINDS = Object.keys(MARK_STYLE);

  function width() {
    return Math.max(480, root.clientWidth - 16);
  }

  // Faint vertical lines at every mark, in every chart.
  function markLines(u) {
    var ctx = u.ctx;
    var top = u.bbox.top;
    var height = u.bbox.height;
    ctx.save();
    ctx.lineWidth = 1;
    MARK_KINDS.forEach(function (kind) {
      var list = data.marks[kind] || [];
      ctx.strokeStyle = MARK_STYLE[kind].color;
      ctx.globalAlpha = kind === "switch" || kind === "boot" ? 0.35 : 0.6;
      list.forEach(function (m) {
        var x = Math.round(u.valToPos(m.t, "x", true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      });
    });
    ctx.restore();
  }

  var syncing = false;
  function syncX(u) {
    if (syncing) return;
    syncing = true;
    var min = u.scales.x.min;
    var max = u.scales.x.max;
    charts.forEach(function (other) {
      if (other !== u) other.setScale("x", { min: min, max: max });
    });
    syncing = false;
  }

  function addChart(title, opts, columns, note) {
    var box = document.createElement("section");
    box.className = "chart";
    var h = document.createElement("h2");
    h.textContent = title;
    box.appendChild(h);
    if (note) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = note;
      box.appendChild(p);
    }
    root.appendChild(box);
    opts.width = width();
    opts.height = opts.height || 170;
    opts.cursor = { sync: { key: "run" } };
    opts.scales = opts.scales || {};
    opts.scales.x = { time: false, range: [0, data.end] };
    opts.axes = opts.axes || [{ label: data.xLabel }, {}];
    opts.hooks = { draw: [markLines], setScale: [function (u, key) { if (key === "x") syncX(u); }] };
    var u = new uPlot(opts, columns, box);
    charts.push(u);
    var traces = opts.series.slice(1).map(function (s) { return s.label; });
    drawn.charts.push({ title: title, traces: traces });
    drawn.traces += traces.length;
    return u;
  }

  // Waveforms: a min/max envelope per output.
  data.outputs.forEach(function (o, i) {
    var c = COLORS[i % COLORS.length];
    addChart(
      "output " + o.name + (o.rate ? " (" + o.rate + " Hz)" : ""),
      {
        height: 150,
        series: [
          { label: "t (s)" },
          { label: o.name + " max", stroke: c, width: 1 },
          { label: o.name + " min", stroke: c, width: 1 }
        ],
        bands: [{ series: [1, 2], fill: c + "55" }],
        scales: { y: { range: [-o.peak * 1.1, o.peak * 1.1] } },
        axes: [{ label: data.xLabel }, { label: "sample", size: 60 }]
      },
      [o.t, o.max, o.min],
      o.note
    );
  });
  if (data.outputs.length === 0 && data.noOutputs) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = data.noOutputs;
    root.appendChild(p);
  }

  // Routing: one lane per FE-BE link, drawn while it is connected.
  if (data.links.length) {
    var xs = data.linkX;
    addChart(
      "routing (FE \u2192 BE links, from the OK route lines)",
      {
        height: 90 + 30 * data.links.length,
        series: [{ label: "t (s)" }].concat(
          data.links.map(function (l, i) {
            return { label: l.fe + " \u2192 " + l.be, stroke: COLORS[i % COLORS.length], width: 8, points: { show: false }, spanGaps: false };
          })
        ),
        scales: { y: { range: [0, data.links.length + 1] } },
        axes: [
          { label: data.xLabel },
          {
            size: 110,
            splits: data.links.map(function (_, i) { return i + 1; }),
            values: function () { return data.links.map(function (l) { return l.fe + "\u2192" + l.be; }); }
          }
        ]
      },
      [xs].concat(data.links.map(function (l) { return l.y; }))
    );
  }

  // Events: points, one lane per kind.
  var kinds = MARK_KINDS.filter(function (k) { return k === "xrun" || k === "race" || (data.marks[k] || []).length > 0; });
  var times = [];
  kinds.forEach(function (k) { (data.marks[k] || []).forEach(function (m) { times.push(m.t); }); });
  times = times.sort(function (a, b) { return a - b; }).filter(function (t, i, a) { return i === 0 || t !== a[i - 1]; });
  var columns = [times];
  kinds.forEach(function (k, lane) {
    var at = {};
    (data.marks[k] || []).forEach(function (m) { at[m.t] = true; });
    columns.push(times.map(function (t) { return at[t] ? lane + 1 : null; }));
    drawn.markers[k] = (data.marks[k] || []).length;
  });
  addChart(
    "events",
    {
      height: 60 + 26 * kinds.length,
      series: [{ label: "t (s)" }].concat(
        kinds.map(function (k) {
          return {
            label: MARK_STYLE[k].label + " \u00d7" + (data.marks[k] || []).length,
            stroke: MARK_STYLE[k].color,
            paths: function () { return null; },
            points: { show: true, size: 9, fill: MARK_STYLE[k].color, stroke: MARK_STYLE[k].color }
          };
        })
      ),
      scales: { y: { range: [0, kinds.length + 1] } },
      axes: [
        { label: data.xLabel },
        { size: 110, splits: kinds.map(function (_, i) { return i + 1; }), values: function () { return kinds; } }
      ]
    },
    columns
  );

  // CPU load per period.
  if (data.cpu) {
    addChart(
      "CPU load per period",
      {
        height: 150,
        series: [{ label: "t (s)" }, { label: data.cpu.name + " (%)", stroke: "#d62728", width: 1, fill: "#d6272822" }],
        scales: { y: { range: [0, 100] } },
        axes: [{ label: data.xLabel }, { label: "%", size: 50 }]
      },
      [data.cpu.t, data.cpu.load.map(function (v) { return v * 100; })],
      data.cpu.description
    );
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (u) { u.setSize({ width: width(), height: u.height }); });
  });
  window.dpcmReport = drawn;
})();
