// Day view: every sample of one local day at full resolution, zones shaded, gaps left open;
// drag or wheel to zoom down to seconds, buttons or the URL (from/to) to pan; arrow keys for
// the previous and next day.  The day's true length shows on DST and travel days.

import { decodeTimes, getJSON, withGaps } from "./api.js";
import { axes, chart, cssVar, fullTime, offsetDate, pan, wheelZoomPlugin, zoom, zonesPlugin } from "./chart.js";
import { card, clear, duration, el, fmt, noAccount } from "./dom.js";
import { hooks, navigate, ready, remember } from "./state.js";

export function shiftDay(day, days) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function numbers(payload) {
  const s = payload.stats;
  const hours = payload.length_s / 3600;
  const lengthNote = Math.abs(hours - 24) > 0.01 ? "not 24 h: a clock change or a trip" : null;
  const cards = [card("Day length", `${fmt(hours, hours % 1 ? 1 : 0)} h`, lengthNote)];
  if (!s) return [...cards, card("Samples", "0", "nothing stored for this day")];
  cards.push(
    card("Samples", s.samples.toLocaleString("en")),
    card("Coverage", fmt(s.coverage * 100, 1, " %"), `worn ${duration(s.wear_s)}`),
    card("Min · mean · max", `${fmt(s.min_bpm)} · ${fmt(s.mean_bpm)} · ${fmt(s.max_bpm)}`, "bpm"),
    card("Resting HR", fmt(s.resting_bpm, 0, " bpm"), s.resting_source === "provider" ? "from the provider" : "heartkeep's estimate"),
  );
  const zones = Object.entries(s.zone_minutes);
  const list = el("ul", { class: "zones" }, zones.map(([n, m]) => el("li", {}, el("span", {}, n.toLowerCase()), el("span", {}, `${fmt(m)} min`))));
  cards.push(card("Zone minutes", zones.length ? list : "–", payload.zone_source === "provider" ? "provider's zones" : "zones from resting HR (Karvonen)"));
  return cards;
}

export async function renderDay(root, { account, params }) {
  if (!account) {
    root.append(el("h1", {}, "Day"), noAccount());
    ready("day");
    return null;
  }
  const day = params.get("date") || account.last_day;
  const payload = await getJSON("/api/day", { account: account.key, date: day });
  if (hooks) hooks.payloads.day = payload;
  const toolbar = el("div", { class: "toolbar" },
    el("a", { class: "button", href: `/?view=day&date=${shiftDay(day, -1)}`, "data-view": "day", "data-params": JSON.stringify({ date: shiftDay(day, -1), from: "", to: "" }), title: "Previous day (←)", id: "prev-day" }, "← previous"),
    el("input", { type: "date", value: day, id: "day-picker", "aria-label": "Day", on: { change: (e) => e.target.value && navigate({ date: e.target.value, from: "", to: "" }) } }),
    el("a", { class: "button", href: `/?view=day&date=${shiftDay(day, 1)}`, "data-view": "day", "data-params": JSON.stringify({ date: shiftDay(day, 1), from: "", to: "" }), title: "Next day (→)", id: "next-day" }, "next →"),
  );
  const box = el("div", { class: "chart", id: "day-chart" });
  const zoomBar = el("div", { class: "toolbar small" });
  root.append(
    el("h1", {}, `Heart rate on ${day}`),
    toolbar,
    el("div", { class: "cards" }, numbers(payload)),
    zoomBar,
    box,
    el("p", { class: "muted hint" }, "Drag across the chart or use the wheel to zoom (down to seconds); double-click to see the whole day again. Gaps longer than 2 minutes stay empty."),
  );
  const xs = decodeTimes(payload.t0, payload.dt, payload.bpm.length);
  const data = withGaps(xs, [payload.bpm], payload.gap_s);
  const lo = Math.min(40, ...payload.zones.map((z) => z.min_bpm));
  let u = null;
  const toDate = offsetDate(payload.offsets);
  const opts = {
    tzDate: toDate,
    scales: { x: { time: true }, y: { range: (self, min, max) => [Math.min(lo, min ?? lo) - 5, Math.max(180, (max ?? 0) + 10)] } },
    axes: axes("bpm", toDate),
    series: [{ value: fullTime(toDate) }, { label: "bpm", stroke: cssVar("--line"), width: 1, points: { show: false } }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: true } },
    plugins: [zonesPlugin(payload.zones), wheelZoomPlugin(10)],
    hooks: {
      setScale: [(self, key) => {
        if (key !== "x") return;
        const { min, max } = self.scales.x;
        const whole = min <= payload.start_s && max >= payload.end_s;
        remember({ from: whole ? "" : Math.round(min), to: whole ? "" : Math.round(max) });
      }],
    },
  };
  if (payload.bpm.length === 0) box.append(el("p", { class: "empty" }, "No samples on this day: the watch was off, or this day is not synced yet."));
  u = chart(box, opts, data, 340);
  const from = Number(params.get("from")), to = Number(params.get("to"));
  u.setScale("x", from && to && to > from ? { min: from, max: to } : { min: payload.start_s, max: payload.end_s });
  zoomBar.append(
    el("button", { type: "button", title: "Earlier", "aria-label": "Earlier", on: { click: () => pan(u, -0.5) } }, "◀"),
    el("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", on: { click: () => zoom(u, 0.5) } }, "+"),
    el("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", on: { click: () => zoom(u, 2) } }, "−"),
    el("button", { type: "button", title: "Later", "aria-label": "Later", on: { click: () => pan(u, 0.5) } }, "▶"),
    el("button", { type: "button", title: "The whole day", id: "whole-day", on: { click: () => u.setScale("x", { min: payload.start_s, max: payload.end_s }) } }, "whole day"),
  );
  if (hooks) hooks.charts.day = u;
  const keys = (event) => {
    if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowLeft") navigate({ date: shiftDay(day, -1), from: "", to: "" });
    else if (event.key === "ArrowRight") navigate({ date: shiftDay(day, 1), from: "", to: "" });
  };
  document.addEventListener("keydown", keys);
  ready("day");
  return () => { document.removeEventListener("keydown", keys); u.destroy(); clear(box); };
}
