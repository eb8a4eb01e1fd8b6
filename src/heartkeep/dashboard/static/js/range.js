// Range view: any span from an hour to years, chosen as two local date-times (or whole days)
// in the account's zone.  Up to 8 hours it draws every sample; longer, buckets of whole minutes
// (one minute for a week, wider for months) or days, each with a min–max band, so a spike never
// vanishes at a coarse zoom.  Zooming fetches the visible part again at the finer resolution and
// keeps it in the address.  A second span of the same length can be laid over the first, and
// exactly the range drawn exported as CSV or Parquet.

import { decodeTimes, getJSON, post, withGaps } from "./api.js";
import { axes, chart, cssVar, fullTime, pan, wheelZoomPlugin, zoneDate, zoom } from "./chart.js";
import { clear, el, noAccount } from "./dom.js";
import { shiftDay } from "./day.js";
import { hooks, navigate, ready, remember } from "./state.js";

const HOUR = 3600, DAY = 86400;
const SPANS = [["1 h", HOUR], ["6 h", 6 * HOUR], ["day", DAY], ["week", 7 * DAY], ["month", 30 * DAY], ["year", 365 * DAY]];

function describe(p) {
  if (p.resolution === "samples") return "every sample";
  if (p.resolution === "days") return "daily values: mean, with the min–max band";
  const minutes = p.bucket_s / 60;
  return `${minutes === 1 ? "minute" : `${minutes}-minute`} buckets: mean, with the min–max band`;
}

// "YYYY-MM-DDTHH:MM" of an instant on the account's wall clock (what datetime-local shows).
function wallTime(instantS, timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-CA", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  for (const { type, value } of format.formatToParts(new Date(instantS * 1000))) parts[type] = value;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// The "to" box and the export's label name the last minute that is included: a range that ends
// at a midnight shows "to 23:59" of the day before (a whole-day range: its last day), while the
// address and the export keep the end exclusive (`--until` a time is where the range stops).
// Typed back, "to …T23:59" means the end of that day.
const MIDNIGHT = "T00:00", LAST_MINUTE = "T23:59";
function shownEnd(wall) {
  return wall.endsWith(MIDNIGHT) ? `${shiftDay(wall.slice(0, 10), -1)}${LAST_MINUTE}` : wall;
}
function typedEnd(wall) {
  return wall.endsWith(LAST_MINUTE) ? `${shiftDay(wall.slice(0, 10), 1)}${MIDNIGHT}` : wall;
}
// from/to for the address: whole days (`to` the last day, included) when both ends are
// midnights, so the view and its export stay in days; local times otherwise.
function rangeParams(fromWall, toWall) {
  const end = typedEnd(toWall);
  if (fromWall.endsWith(MIDNIGHT) && end.endsWith(MIDNIGHT) && end > fromWall) {
    return { from: fromWall.slice(0, 10), to: shiftDay(end.slice(0, 10), -1) };
  }
  return { from: fromWall, to: end };
}

// A payload → columns [x, mean, min, max] (x as instants), gaps as nulls.
function columns(p, shift = 0) {
  if (p.resolution === "days") {
    const xs = p.t.map((t) => t + shift + 43200);
    return withGaps(xs, [p.mean, p.min, p.max], p.gap_s);
  }
  const values = p.resolution === "samples" ? p.bpm : p.mean;
  const xs = Array.from(decodeTimes(p.t0, p.dt, values.length), (t) => t + shift);
  if (p.resolution === "samples") return withGaps(xs, [p.bpm, p.bpm, p.bpm], p.gap_s);
  return withGaps(xs, [p.mean, p.min, p.max], p.gap_s);
}

export async function renderRange(root, { account, params }) {
  if (!account) {
    root.append(el("h1", {}, "Range"), noAccount());
    ready("range");
    return null;
  }
  const zone = account.time_zone;
  const to = params.get("to") || account.last_day;
  const from = params.get("from") || shiftDay(to.slice(0, 10), -6);
  const compare = params.get("compare") || "";
  const base = { account: account.key };
  // the first request of the page: page.py `first_request` preloads exactly this URL
  const main = await getJSON("/api/range", { ...base, from, to, compare });
  const other = main.other || null;
  if (hooks) hooks.payloads.range = { main, other };
  const shiftS = other ? main.start_s - other.start_s : 0;
  const startWall = wallTime(main.start_s, zone), endWall = wallTime(main.end_s, zone);
  const wholeDays = !from.includes("T") && !to.includes("T");

  const status = el("p", { class: "muted", id: "range-resolution" });
  const exportNote = el("span", { class: "muted", id: "export-status", role: "status" });
  const format = el("select", { id: "export-format", "aria-label": "Export format" }, el("option", { value: "csv" }, "CSV"), el("option", { value: "parquet" }, "Parquet"));
  // what the boxes say for the whole range drawn (whole days stay days)
  const wholeFrom = wholeDays ? `${from}${MIDNIGHT}` : startWall, wholeTo = wholeDays ? `${to}${LAST_MINUTE}` : shownEnd(endWall);
  const fromInput = el("input", { type: "datetime-local", id: "range-from", value: wholeFrom, step: 60, "aria-label": "From" });
  const toInput = el("input", { type: "datetime-local", id: "range-to", value: wholeTo, step: 60, "aria-label": "To, included" });
  const compareInput = el("input", { type: "datetime-local", id: "range-compare", value: other ? wallTime(other.start_s, zone) : "", step: 60, "aria-label": "Overlay from" });
  const show = () => fromInput.value && toInput.value && navigate(rangeParams(fromInput.value, toInput.value));
  const quick = (label, seconds) => el("button", { type: "button", title: `The ${label} up to the end of this range`,
    on: { click: () => navigate(rangeParams(wallTime(main.end_s - seconds, zone), endWall)) } }, label);
  const form = el("form", { class: "toolbar", id: "range-form", on: { submit: (e) => { e.preventDefault(); show(); } } },
    el("label", {}, "from ", fromInput),
    el("label", {}, "to ", toInput),
    el("button", { type: "submit", id: "range-show" }, "Show"),
  );
  // What Export writes: exactly the range drawn, to the minute (the inputs' precision), as the
  // address gives it (whole days stay days) or as local times after a zoom; the server reads
  // both as `heartkeep export --since/--until` does, so the file is the CLI's for that range.
  const shown = { since: wholeDays ? from : startWall, until: wholeDays ? to : endWall };
  let selected = { ...shown };
  const exportLabel = el("span", { id: "export-range" });
  function describeExport() {
    const { since } = selected;
    if (!since.includes("T")) {
      const { until } = selected;
      exportLabel.textContent = since === until ? `Export ${since} as ` : `Export the days ${since} to ${until} as `;
      return;
    }
    const until = shownEnd(selected.until); // as the "to" box shows it: the last minute included
    exportLabel.textContent = `Export ${since.replace("T", " ")} to ${until.slice(0, 10) === since.slice(0, 10) ? until.slice(11) : until.replace("T", " ")} as `;
  }
  describeExport();
  root.append(
    el("h1", {}, "Range"),
    form,
    el("div", { class: "toolbar small", id: "range-spans" },
      SPANS.map(([label, seconds]) => quick(label, seconds)),
      el("button", { type: "button", title: "Everything stored", on: { click: () => navigate({ from: account.first_day, to: account.last_day }) } }, "all")),
    el("form", { class: "toolbar", on: { submit: (e) => { e.preventDefault(); navigate({ compare: compareInput.value }); } } },
      el("label", {}, "overlay the same length from ", compareInput),
      el("button", { type: "submit", id: "range-overlay" }, "Overlay"),
      compare ? el("button", { type: "button", on: { click: () => navigate({ compare: "" }) } }, "no overlay") : null,
    ),
  );
  const box = el("div", { class: "chart", id: "range-chart" });
  const zoomBar = el("div", { class: "toolbar small" });
  root.append(status, zoomBar, box,
    el("div", { class: "toolbar export" },
      exportLabel, format,
      el("button", { type: "button", id: "export", on: { click: () => download(format.value) } }, "Export"),
      exportNote));

  async function download(fmt) {
    exportNote.textContent = "exporting…";
    const response = await post("/api/export", { format: fmt, ...selected, account: account.key });
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
    const b = columns(o, shiftS);
    // NULL_EXPAND (2): a gap stays a gap where the other span's instants fall inside it
    return uPlot.join([a, [b[0], b[1]]], [[0, 2, 2, 2], [0, 2]]);
  };
  const band = cssVar("--band");
  const toDate = zoneDate(zone);
  const series = [{ value: fullTime(toDate) },
    { label: "mean", stroke: cssVar("--line"), width: 1, points: { show: false } },
    { label: "min", stroke: band, width: 1, points: { show: false } },
    { label: "max", stroke: band, width: 1, points: { show: false } }];
  if (other) series.push({ label: `from ${wallTime(other.start_s, zone).replace("T", " ")}`, stroke: cssVar("--accent"), width: 1, points: { show: false } });
  // `loaded`: the span the drawn data was fetched for; `seq` drops a re-fetch overtaken by another
  let pending = null, seq = 0, loaded = { lo: main.start_s, hi: main.end_s };
  const u = chart(box, {
    tzDate: toDate,
    scales: { x: { time: true } },
    axes: axes("bpm", toDate),
    series,
    bands: [{ series: [3, 2], fill: band }],
    cursor: { drag: { x: true, y: false, setScale: true } },
    plugins: [wheelZoomPlugin(60)],
    hooks: { setScale: [(self, key) => { if (key === "x") followScale(self); }] },
  }, tables(main, other), 340);
  u.setScale("x", { min: main.start_s, max: main.end_s });
  status.textContent = `Drawn from ${describe(main)}.`;

  // The boxes and the export name the range in view at once: a person may type a new range
  // as soon as the view is drawn, and a late update would put the old one back under "Show".
  // Only the address and the re-fetch wait for the zoom or pan to settle.
  function followScale(self) {
    const { min, max } = self.scales.x;
    const lo = Math.max(main.start_s, Math.floor(min)), hi = Math.min(main.end_s, Math.ceil(max));
    if (!(hi > lo)) return;
    const whole = lo <= main.start_s && hi >= main.end_s;
    selected = whole ? { ...shown } : { since: wallTime(lo, zone), until: wallTime(hi + 59, zone) };
    describeExport();
    fromInput.value = whole ? wholeFrom : selected.since;
    toInput.value = whole ? wholeTo : shownEnd(selected.until);
    clearTimeout(pending);
    // back where the data drawn was fetched for (the first draw; a resize): nothing to fetch
    if (lo === loaded.lo && hi === loaded.hi) return;
    pending = setTimeout(() => refetch(self, lo, hi, whole), 200);
  }

  async function refetch(self, lo, hi, whole) {
    const mine = ++seq;
    loaded = { lo, hi };
    remember(whole ? { from, to } : { from: selected.since, to: selected.until });
    const m = await getJSON("/api/range", { ...base, start_s: lo, end_s: hi });
    const o = other ? await getJSON("/api/range", { ...base, start_s: lo - shiftS, end_s: hi - shiftS }) : null;
    if (mine !== seq) return;
    self.setData(tables(m, o), false);
    status.textContent = `Drawn from ${describe(m)}.`;
    if (hooks) hooks.payloads.rangeVisible = m;
    document.documentElement.dataset.rangeResolution = m.resolution;
  }
  zoomBar.append(
    el("button", { type: "button", title: "Earlier", "aria-label": "Earlier", on: { click: () => pan(u, -0.5) } }, "◀"),
    el("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", on: { click: () => zoom(u, 0.5) } }, "+"),
    el("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", on: { click: () => zoom(u, 2) } }, "−"),
    el("button", { type: "button", title: "Later", "aria-label": "Later", on: { click: () => pan(u, 0.5) } }, "▶"),
    el("button", { type: "button", on: { click: () => u.setScale("x", { min: main.start_s, max: main.end_s }) } }, "whole range"),
  );
  document.documentElement.dataset.rangeResolution = main.resolution;
  if (hooks) hooks.charts.range = u;
  ready("range");
  return () => { clearTimeout(pending); seq++; u.destroy(); clear(box); };
}
