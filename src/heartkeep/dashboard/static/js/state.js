// The URL is the dashboard's state (view, account, day, range): every view can be bookmarked.
// Views change it through `navigate` (a new history entry, the view redrawn) or `remember`
// (a zoom or pan: the address follows, nothing is redrawn).

const testHooks = document.documentElement.dataset.test === "1";
// Under test the charts' data is exposed to the browser test (never otherwise).
export const hooks = testHooks ? (window.heartkeep = { charts: {}, payloads: {} }) : null;

let renderer = () => {};
let accountList = [];

export function setRenderer(fn) { renderer = fn; }
export function setAccounts(list) { accountList = list; }
export function accounts() { return accountList; }

export function params() {
  return new URLSearchParams(location.search);
}

function withChanges(changes) {
  const next = params();
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(key);
    else next.set(key, value);
  }
  return `/?${next}`;
}

export function navigate(changes, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", withChanges(changes));
  else history.pushState(null, "", withChanges(changes));
  renderer();
}

export function remember(changes) {
  const next = withChanges(changes);
  // a chart's first drawing "remembers" the address it was opened with: nothing to write
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, "", next);
}

// Mark the view complete once the browser has painted it (tests and the benchmark wait on it):
// "heartkeep-drawn" when the view is built and its charts drawn, "heartkeep-ready" two
// animation frames later, when that frame has been painted.
export function ready(view) {
  performance.mark("heartkeep-drawn");
  requestAnimationFrame(() => requestAnimationFrame(() => {
    performance.mark("heartkeep-ready");
    document.documentElement.dataset.ready = view;
  }));
}

export function account() {
  const key = params().get("account");
  return accountList.find((a) => a.key === key) || accountList[0] || null;
}
