// Sync view: "Sync now" runs the same sync as `heartkeep sync` on the server, and the page
// follows it live over server-sent events.  The server takes the same lock as the CLI: when
// cron or a terminal is already syncing, the page says so and starts nothing.

import { getJSON, post } from "./api.js";
import { clear, duration, el } from "./dom.js";
import { accounts, ready } from "./state.js";

const STREAMS = { "heart-rate": "heart rate", dailies: "daily values" };
const n = (value) => value.toLocaleString("en");

// The log says what a person needs: per account and stream one line that grows while pages
// bring new data (pages that bring nothing add no line: an up-to-date sync re-reads its last
// days page by page), the provider's own waits and retries, and each account's result.
function logLine(event, streams) {
  switch (event.event) {
    case "PageCommitted": {
      const key = `${event.account_key} ${event.stream}`;
      const seen = streams.get(key) || { pages: 0, inserted: 0, line: null };
      seen.pages++;
      seen.inserted += event.inserted;
      streams.set(key, seen);
      if (!seen.inserted) return null;
      const text = `${event.account_key}: ${STREAMS[event.stream] || event.stream} +${n(seen.inserted)} new (${seen.pages} ${seen.pages === 1 ? "page" : "pages"})`;
      if (seen.line) { seen.line.textContent = text; return null; }
      seen.line = el("li", {}, text);
      return seen.line;
    }
    // pacing within the quota ("budget") is routine; the provider's own limits are worth a line
    case "RateLimitWait": return event.cause === "budget" ? null : el("li", {}, `waiting ${event.wait_s.toFixed(1)} s: the provider's rate limit (${event.cause})`);
    case "RetryScheduled": return el("li", {}, `retrying ${event.path} in ${event.wait_s.toFixed(1)} s: ${event.reason}`);
    case "AccountFinished": {
      const result = event.status === "ok" && event.samples_added === 0
        ? "up to date, nothing new"
        : `${event.status}, +${n(event.samples_added)} samples`;
      return el("li", { class: `result-${event.status}` }, `${event.account_key}: ${result} (${event.requests} ${event.requests === 1 ? "request" : "requests"})${event.error ? ` — ${event.error}` : ""}`);
    }
    default: return null;
  }
}

export async function renderSync(root) {
  const state = el("p", { id: "sync-state", class: "status", role: "status" }); // read out as it changes
  const log = el("ol", { id: "sync-log", class: "log" });
  const button = el("button", { type: "button", id: "sync-now", class: "primary" }, "Sync now");
  const history = el("tbody", { id: "sync-runs" });
  let source = null;
  root.append(el("h1", {}, "Sync"),
    el("p", { class: "muted" }, "Fetches what is new for every connected account, exactly as `heartkeep sync` does, with the same lock: a sync already running from cron or a terminal is never doubled."),
    el("div", { class: "toolbar" }, button), state, log,
    el("h3", {}, "Recent syncs (from here, cron or a terminal)"),
    el("div", { class: "table-wrap" }, el("table", { class: "runs" },
      el("thead", {}, el("tr", {}, ["started", "account", "status", "samples", "requests"].map((h) => el("th", {}, h)))),
      history)));

  // Each cell carries its column's name (data-label): on a phone the rows stack as cards
  // (dashboard.css) and the numbers are read "+172 samples", "19 requests".
  async function showRuns() {
    const { runs } = await getJSON("/api/sync");
    const names = new Map(accounts().map((a) => [a.key, a.display_name || a.key]));
    clear(history);
    for (const run of runs) {
      const status = run.status === "running" ? "running (or was killed)" : run.status;
      history.append(el("tr", { class: `run-${run.status}` },
        el("td", { class: "run-started", "data-label": "started" }, `${duration(run.age_s)} ago`),
        el("td", { class: "account-key", "data-label": "account", title: run.account }, names.get(run.account) || run.account),
        el("td", { class: "run-status", "data-label": "status" }, run.error ? `${status}: ${run.error}` : status),
        el("td", { class: "run-samples", "data-label": "samples" }, `+${run.samples_added.toLocaleString("en")}`),
        el("td", { class: "run-requests", "data-label": run.requests === 1 ? "request" : "requests" }, String(run.requests))));
    }
    if (!runs.length) history.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No sync recorded yet.")));
  }

  function follow(from) {
    if (source) source.close();
    let seen = from, pages = 0, added = 0;
    const streams = new Map();
    source = new EventSource(`/api/sync/events?from=${from}`);
    source.onmessage = (message) => {
      const event = JSON.parse(message.data);
      seen++;
      if (event.event === "RequestSent") return;
      if (event.event === "Finished") {
        const added = event.samples_added.toLocaleString("en");
        state.textContent = event.exit_code === 0 ? `Done: +${added} samples.` : `Finished with problems (exit ${event.exit_code}): +${added} samples.`;
        state.dataset.state = event.exit_code === 0 ? "done" : "failed";
      } else if (event.event === "Busy") {
        state.textContent = "Another heartkeep sync is already running (cron, a timer or a terminal); this one was not started. Its data appears here once it finishes.";
        state.dataset.state = "busy";
      } else if (event.event === "Failed") {
        state.textContent = `Sync failed: ${event.message}`;
        state.dataset.state = "failed";
      } else {
        if (event.event === "PageCommitted") {
          pages++;
          added += event.inserted;
          state.textContent = `Syncing… ${pages} pages, +${added.toLocaleString("en")} new samples`;
        }
        const line = logLine(event, streams);
        if (line) {
          log.append(line);
          while (log.children.length > 200) log.firstChild.remove();
        }
      }
    };
    source.addEventListener("end", () => { source.close(); source = null; button.disabled = false; showRuns(); });
    source.onerror = () => { if (source && source.readyState === EventSource.CLOSED) button.disabled = false; };
    return () => seen;
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    clear(log);
    state.textContent = "Syncing…";
    state.dataset.state = "running";
    const response = await post("/api/sync");
    if (!response.ok) {
      state.textContent = `Could not start: ${(await response.json().catch(() => ({}))).error || response.status}`;
      button.disabled = false;
      return;
    }
    follow(0);
  });

  const now = await getJSON("/api/sync");
  await showRuns();
  if (now.state === "running") {
    button.disabled = true;
    state.textContent = "Syncing…";
    state.dataset.state = "running";
    follow(0);
  } else {
    state.textContent = now.run ? `Last run from this page: ${now.state}.` : "No sync started from this page yet.";
    state.dataset.state = now.state;
  }
  ready("sync");
  return () => { if (source) source.close(); };
}
