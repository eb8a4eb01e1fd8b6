// Range view: any span from an hour to years.  Zoomed in it draws every sample; zoomed out,
// minute or daily buckets with a min–max band (a spike never vanishes at coarse zoom).  Zooming
// fetches the visible part again at the finer resolution.  A second span (a day or a week, any
// length) can be laid over the first, and the selected days exported as CSV or Parquet.

import { decodeTimes, getJSON, post, withGaps } from "./api.js";
import { axes, chart, cssVar, fullTime, pan, wheelZoomPlugin, zoneDate, zoom } from "./chart.js";
import { clear, el } from "./dom.js";
import { localDay, shiftDay } from "./day.js";
import { hooks, navigate, ready } from "./state.js";

const LABEL = { samples: "every sample", minutes: "minute buckets: mean, with the min–max band", days: "daily values: mean, with the min–max band" };

// A payload → columns [x, mean, min, max] (x as instants), gaps as nulls.
function columns(p, shift = 0) {
  if (p.resolution === "days") {
    const xs = p.t.map((t) => t + shift + 43200);
    return withGaps(xs, [p.mean, p.min, p.max], p.gap_s);
  }
  const values = p.resolution === "samples" ? p.bpm : p.mean;
  const xs = Array.from(decodeTimes(p.t0, p.dt, values.length), (t) => t + shift);
  if (p.resolution === "samples") return withGaps(xs, [p.bpm, p.bpm, p.bpm], p.gap_s);
  return withGaps(xs, [p.mean, p.min, p.max], Math.max(p.gap_s, 60 + p.gap_s));
}

function daysBetween(a, b) {
  return Math.round((Date.parse(`${b}T12:00:00Z`) - Date.parse(`${a}T12:00:00Z`)) / 86400000);
}

export async function renderRange(root, { account, params }) {
  if (!account) {
    root.append(el("p", { class: "muted" }, "No account in the store yet."));
    ready("range");
    return null;
  }
  const last = account.last_s ? localDay(account.last_s, account.time_zone) : localDay(Date.now() / 1000, account.time_zone);
  const to = params.get("to") || last;
  const from = params.get("from") || shiftDay(to, -6);
  const compare = params.get("compare") || "";
  const base = { account: account.key };
  const main = await getJSON("/api/range", { ...base, from, to });
  const span = daysBetween(from, to);
  const other = compare ? await getJSON("/api/range", { ...base, from: compare, to: shiftDay(compare, span) }) : null;
  if (hooks) hooks.payloads.range = { main, other };

  const status = el("p", { class: "muted", id: "range-resolution" });
  const exportNote = el("span", { class: "muted", id: "export-status" });
  const format = el("select", { id: "export-format", "aria-label": "Export format" }, el("option", { value: "csv" }, "CSV"), el("option", { value: "parquet" }, "Parquet"));
  const quick = (label, days) => el("button", { type: "button", on: { click: () => navigate({ from: shiftDay(to, -(days - 1)), to }) } }, label);
  const first = account.first_s ? localDay(account.first_s, account.time_zone) : from;
  root.append(
    el("h1", {}, "Range"),
    el("div", { class: "toolbar" },
      el("label", {}, "from ", el("input", { type: "date", id: "range-from", value: from, on: { change: (e) => navigate({ from: e.target.value }) } })),
      el("label", {}, "to ", el("input", { type: "date", id: "range-to", value: to, on: { change: (e) => navigate({ to: e.target.value }) } })),
      quick("day", 1), quick("week", 7), quick("month", 30), quick("year", 365),
      el("button", { type: "button", on: { click: () => navigate({ from: first, to: last }) } }, "all"),
    ),
    el("div", { class: "toolbar" },
      el("label", {}, "overlay the span starting ", el("input", { type: "date", id: "range-compare", value: compare, on: { change: (e) => navigate({ compare: e.target.value }) } })),
      compare ? el("button", { type: "button", on: { click: () => navigate({ compare: "" }) } }, "no overlay") : null,
    ),
  );
  const box = el("div", { class: "chart", id: "range-chart" });
  const zoomBar = el("div", { class: "toolbar small" });
  root.append(status, zoomBar, box,
    el("div", { class: "toolbar export" },
      el("span", {}, `Export ${from} to ${to} as `), format,
      el("button", { type: "button", id: "export", on: { click: () => download(format.value) } }, "Export"),
      exportNote));

  async function download(fmt) {
    exportNote.textContent = "exporting…";
    const response = await post("/api/export", { format: fmt, since: from, until: to, account: account.key });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      exportNote.textContent = `export failed: ${body.error || response.status}`;
      return;
    }
    const blob = await response.blob();
    const name = (response.headers.get("content-disposition") || "").match(/filename="?([^";]+)/)?.[1] || `heartkeep.${fmt}`;
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    exportNote.textContent = `${name}: ${blob.size.toLocaleString("en")} bytes`;
  }

  const tables = (m, o) => {
    const a = columns(m);
    if (!o) return a;
    const b = columns(o, m.start_s - o.start_s);
    // NULL_EXPAND (2): a gap stays a gap where the other span's instants fall inside it
    return uPlot.join([a, [b[0], b[1]]], [[0, 2, 2, 2], [0, 2]]);
  };
  const band = cssVar("--band");
  const toDate = zoneDate(account.time_zone);
  const series = [{ value: fullTime(toDate) },
    { label: "mean", stroke: cssVar("--line"), width: 1, points: { show: false } },
    { label: "min", stroke: band, width: 1, points: { show: false } },
    { label: "max", stroke: band, width: 1, points: { show: false } }];
  if (other) series.push({ label: `from ${compare}`, stroke: cssVar("--accent"), width: 1, points: { show: false } });
  let pending = null, seq = 0;
  const u = chart(box, {
    tzDate: toDate,
    scales: { x: { time: true } },
    axes: axes("bpm", toDate),
    series,
    bands: [{ series: [3, 2], fill: band }],
    cursor: { drag: { x: true, y: false, setScale: true } },
    plugins: [wheelZoomPlugin(60)],
    hooks: { setScale: [(self, key) => { if (key === "x") refetchSoon(self); }] },
  }, tables(main, other), 340);
  u.setScale("x", { min: main.start_s, max: main.end_s });
  status.textContent = `Drawn from ${LABEL[main.resolution]}.`;

  function refetchSoon(self) {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const mine = ++seq;
      const { min, max } = self.scales.x;
      const lo = Math.max(main.start_s, Math.floor(min)), hi = Math.min(main.end_s, Math.ceil(max));
      if (hi <= lo) return;
      const m = await getJSON("/api/range", { ...base, start_s: lo, end_s: hi });
      const o = other ? await getJSON("/api/range", { ...base, start_s: lo - (main.start_s - other.start_s), end_s: hi - (main.start_s - other.start_s) }) : null;
      if (mine !== seq) return;
      self.setData(tables(m, o), false);
      status.textContent = `Drawn from ${LABEL[m.resolution]}.`;
      if (hooks) hooks.payloads.rangeVisible = m;
      document.documentElement.dataset.rangeResolution = m.resolution;
    }, 200);
  }
  zoomBar.append(
    el("button", { type: "button", title: "Earlier", on: { click: () => pan(u, -0.5) } }, "◀"),
    el("button", { type: "button", title: "Zoom in", on: { click: () => zoom(u, 0.5) } }, "+"),
    el("button", { type: "button", title: "Zoom out", on: { click: () => zoom(u, 2) } }, "−"),
    el("button", { type: "button", title: "Later", on: { click: () => pan(u, 0.5) } }, "▶"),
    el("button", { type: "button", on: { click: () => u.setScale("x", { min: main.start_s, max: main.end_s }) } }, "whole range"),
  );
  document.documentElement.dataset.rangeResolution = main.resolution;
  if (hooks) hooks.charts.range = u;
  ready("range");
  return () => { clearTimeout(pending); seq++; u.destroy(); clear(box); };
}
