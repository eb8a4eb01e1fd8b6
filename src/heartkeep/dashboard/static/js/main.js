// The dashboard's shell: navigation, the account picker, the theme, and drawing the view the
// URL names.  Links move between views without reloading; Back and Forward work.

import { getJSON } from "./api.js";
import { clear, el } from "./dom.js";
import { renderDay } from "./day.js";
import { renderOverview } from "./overview.js";
import { renderRange } from "./range.js";
import { account, accounts, navigate, params, ready, setAccounts, setRenderer } from "./state.js";
import { renderSync } from "./sync.js";

performance.mark("heartkeep-script"); // the scripts run (the benchmark's breakdown)
const VIEWS = { overview: renderOverview, day: renderDay, range: renderRange, sync: renderSync };
const root = document.getElementById("view");
const accountSelect = document.getElementById("account");
const themeButton = document.getElementById("theme");
let cleanup = null;
let generation = 0;

async function render() {
  const name = VIEWS[params().get("view")] ? params().get("view") : "overview";
  const mine = ++generation;
  document.documentElement.dataset.ready = "";
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.view === name);
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // A control the keyboard was on (next day, Show, a quick span) is rebuilt with the view:
  // give the focus back to its successor, so Enter can be pressed again.
  const focused = root.contains(document.activeElement) ? document.activeElement.id : "";
  if (cleanup) { cleanup(); cleanup = null; }
  clear(root);
  const chosen = account();
  if (chosen) accountSelect.value = chosen.key;
  try {
    const done = await VIEWS[name](root, { account: chosen, accounts: accounts(), params: params() });
    if (mine === generation) cleanup = done || null;
    else if (done) done();
  } catch (error) {
    if (mine !== generation) return;
    clear(root).append(failure(`Could not load this view: ${error.message}`, render));
    ready(name);
  }
  if (mine === generation && focused) document.getElementById(focused)?.focus();
}

// A failure the person can do something about: the message (the server's, never a trace) and
// a way to try again once the cause is gone (a sync that held the store, a file put back).
function failure(message, retry) {
  return el("div", { class: "failure", role: "alert" },
    el("p", { class: "error" }, message),
    el("button", { type: "button", id: "retry", on: { click: retry } }, "Try again"));
}

function applyTheme(choice) {
  if (choice === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  themeButton.textContent = { auto: "◐ auto", light: "☀ light", dark: "☾ dark" }[choice];
  themeButton.setAttribute("aria-label", `Colours: ${choice === "auto" ? "as the system says" : choice}`);
  themeButton.dataset.choice = choice;
}

themeButton.addEventListener("click", () => {
  const order = ["auto", "light", "dark"];
  const next = order[(order.indexOf(themeButton.dataset.choice || "auto") + 1) % order.length];
  localStorage.setItem("heartkeep-theme", next);
  applyTheme(next);
  render(); // charts take their colours from the theme when drawn
});

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-view]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate({ view: link.dataset.view, ...JSON.parse(link.dataset.params || "{}") });
});

accountSelect.addEventListener("change", () => navigate({ account: accountSelect.value }));
window.addEventListener("popstate", render);
setRenderer(render);

async function start() {
  applyTheme(localStorage.getItem("heartkeep-theme") || "auto");
  try {
    // The page arrives with the accounts (no request before the view's own); an empty list may
    // mean the store could not be read: ask, so the page can say why.
    const boot = JSON.parse(document.querySelector('meta[name="heartkeep-boot"]').content);
    setAccounts(boot.accounts.length ? boot.accounts : (await getJSON("/api/accounts")).accounts);
  } catch (error) {
    clear(root).append(failure(`Could not read the store: ${error.message}`, () => location.reload()));
    ready("error");
    return;
  }
  for (const a of accounts()) {
    const label = a.display_name ? `${a.display_name} (${a.key})` : a.key;
    accountSelect.append(el("option", { value: a.key }, label));
  }
  // one account (or none): nothing to choose, so no picker (a disabled one reads as broken)
  accountSelect.closest("label").hidden = accounts().length < 2;
  await render();
}

start();
