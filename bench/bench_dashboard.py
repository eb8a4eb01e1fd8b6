"""The dashboard on a year of data: time to a complete first paint, response sizes, server CPU.

On the cached one-year store of `bench_reads.py` (a real sandbox sync of the demo user, built
once under `bench/.cache/`), the dashboard runs in a child process on loopback, and Debian's
Chromium (headless, through Playwright) opens each view `--runs` times in a fresh page:

- paint: from the start of navigation to the page's `heartkeep-ready` mark, set two animation
  frames after the view has drawn (HTML, scripts, the data request and the chart all count);
  median of the runs.  Target ≤ 300 ms on a quiet machine.  Beside it, the medians of the
  page's earlier marks: `script` (its scripts have run), `data` (the first data decoded),
  `drawn` (the view built and its charts drawn, not yet painted).
- size: bytes of each data endpoint's response, raw and gzipped.  Target: a full day of
  samples ≤ 400 KB before compression.
- server CPU per request: the child's user + sys time (from /proc) around `--runs` requests.
- the page's main-thread CPU per warm first paint, from a Chromium trace: what the paint
  costs the browser, which the load of a shared machine hardly changes.

    .venv/bin/python bench/bench_dashboard.py --days 30   # quick
    .venv/bin/python bench/bench_dashboard.py             # a year (~8 M samples)

Nothing is asserted; the figures go in docs/dashboard.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from reads_stores import LAST_DAY, store_for

# the browser tests' launch of Debian's Chromium (tests/dashboard/headless_chromium.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dashboard"))
import headless_chromium

SERVE = """
import sys
from heartkeep.config import load_settings
from heartkeep.dashboard import DashboardServer
server = DashboardServer(load_settings({"database": sys.argv[1]})).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


MARKS = ("heartkeep-script", "heartkeep-data", "heartkeep-drawn", "heartkeep-ready")
READ_MARKS = "() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])"


def wait_ready(page, view: str, timeout_s: float = 120.0) -> None:
    """Wait for the view's ready mark without touching the page meanwhile.  Playwright's own
    waiting (`wait_for_selector`) injects its script into the page on first use: 10 ms of the
    page's CPU (50 ms of wall time under load) inside the measured span, which no person's
    browser spends.  A look every 50 ms from outside costs the page nothing measurable."""
    deadline = time.monotonic() + timeout_s
    while page.evaluate("() => document.documentElement.dataset.ready") != view:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {view} view never became ready")
        time.sleep(0.05)


def paint_ms(browser, url: str, query: str, view: str, runs: int, *, cold: bool) -> dict:
    """Medians from navigation start to each of the page's marks (the scripts run, the first
    data decoded, the view drawn, its frame painted = ready), each run in a fresh page: warm,
    in one browser context (its cache holds the static files after the first run, as a
    person's browser does on every visit but the first); cold, in a new context each time
    (empty cache: every script fetched and compiled)."""
    signed_in = browser.new_context(viewport={"width": 1280, "height": 900})
    page = signed_in.new_page()
    page.goto(url)  # trades the token for the session cookie
    page.wait_for_selector("html[data-ready]", state="attached")
    marks: dict[str, list[float]] = {name: [] for name in MARKS}
    for _ in range(runs):
        context = signed_in
        if cold:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(signed_in.cookies())
        fresh = context.new_page()
        fresh.goto(f"{url.split('/?')[0]}/?{query}", wait_until="commit")
        wait_ready(fresh, view)
        seen = dict(fresh.evaluate(READ_MARKS))  # the first of each: the first paint's
        for name in MARKS:
            marks[name].append(seen.get(name, float("nan")))
        fresh.close()
        if cold:
            context.close()
    signed_in.close()
    return {name.removeprefix("heartkeep-"): statistics.median(ms) for name, ms in marks.items()}


TRACED = ["disabled-by-default-devtools.timeline", "blink.user_timing"]


def main_thread_cpu_ms(browser, url: str, query: str, view: str, runs: int) -> float:
    """Median CPU time the page's main thread spends from navigation to the ready mark (warm),
    from a Chromium trace: every task on the renderer thread that recorded the mark, by thread
    time, so the figure says what a first paint costs the browser's page whatever else the
    machine runs (the wall-clock figures above grow with the load; this one barely does).
    Tracing adds a little of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("html[data-ready]", state="attached")
    base = url.split("/?")[0]
    cpu: list[float] = []
    for run in range(runs + 2):  # two visits first: the cache holds the page's files
        fresh = context.new_page()
        if run >= 2:
            browser.start_tracing(page=fresh, categories=TRACED)
        fresh.goto(f"{base}/?{query}", wait_until="commit")
        wait_ready(fresh, view)
        ready_ms = dict(fresh.evaluate(READ_MARKS))["heartkeep-ready"]
        if run >= 2:
            events = orjson.loads(browser.stop_tracing())["traceEvents"]
            mark = next(e for e in events if e.get("name") == "heartkeep-ready")
            thread, end_us = (mark["pid"], mark["tid"]), mark["ts"]
            start_us = end_us - ready_ms * 1000
            cpu.append(
                sum(
                    e.get("tdur", 0)
                    for e in events
                    if e.get("name") == "RunTask"
                    and e.get("ph") == "X"
                    and (e["pid"], e["tid"]) == thread
                    and start_us <= e["ts"] < end_us
                )
                / 1000
            )
        fresh.close()
    context.close()
    return statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of synced history")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTKEEP_")}
    database = store_for(options.days, env)
    day = LAST_DAY - dt.timedelta(days=2)  # a whole, worn day
    week = f"from={day - dt.timedelta(days=6)}&to={day}"
    endpoints = {
        "day (every sample)": f"/api/day?date={day}",
        "range 6 h (samples)": None,  # filled in below: needs the day's instants
        "range week (minutes)": f"/api/range?{week}",
        "range year (days)": f"/api/range?from={LAST_DAY - dt.timedelta(days=364)}&to={LAST_DAY}",
        "overview": "/api/overview",
        "accounts": "/api/accounts",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        url = server.stdout.readline().strip()
        base = url.split("/?")[0]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"dashboard on a {options.days}-day store; medians of {options.runs} runs")
        print(f"load average {load} (1, 5, 15 min); niceness {os.nice(0)}")
        with httpx.Client(base_url=base, timeout=300) as client:
            client.get(url)
            start = client.get(endpoints["day (every sample)"]).json()["start_s"]
            endpoints["range 6 h (samples)"] = (
                f"/api/range?start_s={start + 9 * 3600}&end_s={start + 15 * 3600}"
            )
            print(
                f"{'endpoint':<22} {'bytes':>10} {'gzip':>9} {'server CPU/request':>19} {'wall':>8}"
            )
            for name, path in endpoints.items():
                assert path is not None
                body = client.get(path).content  # warm: the page cache holds the rows
                before, started = cpu_s(server.pid), time.perf_counter()
                for _ in range(options.runs):
                    client.get(path)
                per_cpu = (cpu_s(server.pid) - before) / options.runs
                per_wall = (time.perf_counter() - started) / options.runs
                note = "  (target ≤ 400,000)" if name.startswith("day") else ""
                print(
                    f"{name:<22} {len(body):>10,} {len(gzip.compress(body)):>9,} "
                    f"{per_cpu * 1000:>16.0f} ms {per_wall * 1000:>6.0f} ms{note}"
                )
        from playwright.sync_api import sync_playwright

        with sync_playwright() as driver:
            browser = headless_chromium.launch(driver)
            views = {
                "overview": ("view=overview", "overview"),
                "day": (f"view=day&date={day}", "day"),
                "range week": (f"view=range&{week}", "range"),
                "range hour": (f"view=range&from={day}T14:00&to={day}T15:00", "range"),
            }
            for cold in (False, True):
                for name, (query, view) in views.items():
                    ms = paint_ms(browser, url, query, view, options.runs, cold=cold)
                    verdict = "meets" if ms["ready"] <= 300 else "misses"
                    label = f"{name}, {'cold' if cold else 'warm'}"
                    steps = " ".join(f"{k} {ms[k]:.0f}" for k in ("script", "data", "drawn"))
                    print(
                        f"first complete paint, {label:<17} {ms['ready']:>7.0f} ms  "
                        f"({verdict} ≤ 300 ms; {steps})"
                    )
            for name, (query, view) in views.items():
                ms = main_thread_cpu_ms(browser, url, query, view, options.runs)
                print(f"page main-thread CPU, {name + ', warm':<17} {ms:>6.0f} ms  (trace)")
            browser.close()
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still busy with an abandoned request
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
