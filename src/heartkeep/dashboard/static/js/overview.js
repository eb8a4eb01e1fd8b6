// Overview: for each account, how fresh the data is (last sync and its age, a stopped series),
// a year of coverage at a glance (one cell per day: click one to open that day), the resting
// heart-rate trend with 7- and 30-day rolling means, and time in zones per week.

import { getJSON } from "./api.js";
import { axes, chart, cssVar, fullTime, ZONE_COLORS } from "./chart.js";
import { card, clear, duration, el, fmt, noAccount } from "./dom.js";
import { hooks, ready } from "./state.js";

const DAY_S = 86400;
const DAY_INCRS = [1, 2, 7, 14, 28, 91, 182, 365].map((days) => days * DAY_S);
const noonUTC = (day) => Date.parse(`${day}T12:00:00Z`) / 1000;
const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

function dayList(first, count) {
  const out = [], start = noonUTC(first);
  for (let i = 0; i < count; i++) out.push(new Date((start + i * DAY_S) * 1000).toISOString().slice(0, 10));
  return out;
}

function freshness(status) {
  if (!status || !status.account) return [card("Last sync", "never", "run “Sync now” or `heartkeep sync`")];
  const ok = status.last_success ? `${duration(status.last_success_age_s)} ago` : "never";
  return [
    card("Last sync", ok, status.last_success ? status.last_success.replace("T", " ").replace("Z", " UTC") : null),
    card("Newest sample", status.newest_sample_age_s === null ? "–" : `${duration(status.newest_sample_age_s)} old`),
    card("Coverage 7 d · 30 d", `${fmt(status.coverage_7d * 100, 0)} % · ${fmt(status.coverage_30d * 100, 0)} %`),
  ];
}

// The calendar is one stop for Tab (the newest day), not 371: the arrow keys move a day up and
// down a column and a week left and right, Home and End go to the first and last day, Enter
// opens the day.
const MOVES = { ArrowUp: -1, ArrowDown: 1, ArrowLeft: -7, ArrowRight: 7 };

function calendarKeys(grid) {
  grid.addEventListener("keydown", (event) => {
    const cells = [...grid.querySelectorAll("a.cell")];
    const at = cells.indexOf(event.target);
    if (at < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    let to = null;
    if (event.key in MOVES) to = at + MOVES[event.key];
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = cells.length - 1;
    if (to === null) return;
    event.preventDefault();
    const next = cells[Math.max(0, Math.min(cells.length - 1, to))];
    cells[at].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}

function calendar(info, days) {
  const grid = el("div", { class: "calendar", role: "group", "aria-label": "Coverage, one cell per day: arrow keys move by day and week, Enter opens the day" });
  const weekday = (new Date(`${days[0]}T12:00:00Z`).getUTCDay() + 6) % 7; // Monday first
  for (let i = 0; i < weekday; i++) grid.append(el("span", { class: "cell pad" }));
  days.forEach((day, i) => {
    const value = info.calendar[i];
    const level = value === null ? "none" : value < 0.25 ? "c1" : value < 0.5 ? "c2" : value < 0.75 ? "c3" : "c4";
    const label = `${day}: ${value === null ? "no data" : `${Math.round(value * 100)} % covered`}`;
    grid.append(el("a", {
      class: `cell ${level}`, href: `/?view=day&date=${day}`, title: label, "aria-label": label,
      tabindex: i === days.length - 1 ? 0 : -1,
      "data-view": "day", "data-params": JSON.stringify({ date: day, account: info.account, from: "", to: "" }),
    }));
  });
  calendarKeys(grid);
  return grid;
}

// A young history is drawn over a week at least (two weeks of bars): given a single x,
// uPlot spreads its time axis over years around it.
const MIN_DAYS = 7;

function restingChart(box, info, days) {
  // From the first day with a value: a young history is not squeezed against the right edge.
  let first = info.resting.findIndex((v) => v !== null);
  if (first < 0) first = days.length - 1;
  first = Math.max(0, Math.min(first, days.length - MIN_DAYS));
  const cut = (list) => list.slice(first);
  const xs = cut(days).map(noonUTC);
  const daily = axes("resting bpm", utcDate);
  daily[0].incrs = DAY_INCRS;
  return chart(box, {
    tzDate: utcDate,
    scales: { x: { time: true } },
    axes: daily,
    series: [{ label: "Day", value: (u, ts) => (ts === null ? "–" : new Date(ts * 1000).toISOString().slice(0, 10)) },
      { label: "resting", stroke: cssVar("--muted"), width: 0, points: { show: true, size: 4, fill: cssVar("--muted") } },
      { label: "7-day mean", stroke: cssVar("--line"), width: 2, points: { show: false } },
      { label: "30-day mean", stroke: cssVar("--accent"), width: 2, points: { show: false } }],
  }, [xs, cut(info.resting), cut(info.resting_7d), cut(info.resting_30d)], 220);
}

function zonesChart(box, given) {
  const names = ["LIGHT", "MODERATE", "VIGOROUS", "PEAK"];
  const weekly = { ...given }, padded = given.weeks.length === 1;
  if (padded) { // an empty week before the only one (see MIN_DAYS)
    weekly.weeks = [new Date((noonUTC(given.weeks[0]) - 7 * DAY_S) * 1000).toISOString().slice(0, 10), ...given.weeks];
    for (const name of names) weekly[name] = [0, ...given[name]];
  }
  const xs = weekly.weeks.map((w) => noonUTC(w) + 3.5 * DAY_S);
  // Stacked bars: each series is drawn as the running total up to its zone, biggest first.
  const totals = names.map((_, k) => weekly.weeks.map((_, i) => (padded && i === 0 ? null : names.slice(0, names.length - k).reduce((sum, n) => sum + weekly[n][i], 0))));
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  const series = [{}, ...names.slice().reverse().map((name, k) => ({
    label: name.toLowerCase(), fill: cssVar(ZONE_COLORS[name]), stroke: cssVar(ZONE_COLORS[name]), paths: bars,
    points: { show: false }, value: (u, v, si, i) => (i === null ? "–" : `${fmt(weekly[name][i])} min`),
  }))];
  const week = (u, ts) => (ts === null ? "–" : `week of ${new Date((ts - 3.5 * DAY_S) * 1000).toISOString().slice(0, 10)}`);
  const weekAxes = axes("minutes", utcDate);
  weekAxes[0].incrs = DAY_INCRS.slice(2);
  return chart(box, {
    tzDate: utcDate,
    scales: {
      x: { time: true, range: (u, min, max) => [min - 4 * DAY_S, max + 4 * DAY_S] },
      y: { range: (u, min, max) => [0, Math.max(60, max * 1.08)] },
    },
    axes: weekAxes,
    series: [{ label: "Week", value: week }, ...series.slice(1)],
  }, [xs, ...totals], 220);
}

// An account connected but with nothing stored yet: say so and what to do, instead of an empty
// calendar and charts with no days on their axes.
function noData() {
  return el("p", { class: "empty-state" }, "No heart rate stored for this account yet. ",
    el("a", { href: "/?view=sync", "data-view": "sync" }, "Sync now"),
    " (or run `heartkeep sync`) to fetch it; a watch that has not uploaded anything yet has nothing to fetch.");
}

export async function renderOverview(root, { accounts }) {
  const data = await getJSON("/api/overview");
  if (hooks) hooks.payloads.overview = data;
  const charts = [];
  root.append(el("h1", {}, "Overview"));
  if (!data.accounts.length) root.append(noAccount());
  const stored = new Set(accounts.filter((a) => a.first_s !== null).map((a) => a.key));
  for (const info of data.accounts) {
    const days = dayList(info.first_day, info.calendar.length);
    const warnings = (info.status.warnings || []).map((w) => el("p", { class: "warning", role: "alert" }, `⚠ ${w}`));
    const section = el("section", { class: "account-card" },
      el("h2", {}, info.display_name || info.account),
      el("p", { class: "muted" }, info.display_name ? `${info.account} · ${info.time_zone}` : info.time_zone),
      warnings,
      el("div", { class: "cards" }, freshness(info.status)),
    );
    root.append(section);
    if (!stored.has(info.account)) {
      section.append(noData());
      continue;
    }
    section.append(
      el("h3", {}, "Coverage, one cell per day"),
      calendar(info, days),
      el("div", { class: "legend-row muted" }, "less", ["none", "c1", "c2", "c3", "c4"].map((c) => el("span", { class: `cell ${c}` })), "more"),
      el("h3", {}, "Resting heart rate"),
    );
    const resting = el("div", { class: "chart" });
    const zones = el("div", { class: "chart" });
    section.append(resting, el("h3", {}, "Time in zones per week"), zones);
    charts.push(restingChart(resting, info, days), zonesChart(zones, info.zones_weekly));
    const grid = section.querySelector(".calendar");
    grid.scrollLeft = grid.scrollWidth; // the newest weeks in view on a narrow screen
  }
  if (hooks) hooks.charts.overview = charts;
  ready("overview");
  return () => charts.forEach((u) => u.destroy());
}
