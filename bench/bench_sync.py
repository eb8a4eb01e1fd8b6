"""One-year backfill against the sandbox: requests vs the floor, ingest speed, bytes, memory, quota.

Prints figures and ratios; asserts nothing (timings never go into tests).  For each page-size
mode of the sandbox ("documented": 10,000 a page; "observed": ~5,000 as seen live) it runs a
real `heartkeep.api.sync` over loopback on a simulated clock shared with the sandbox, then
reports:

- requests: heart-rate list requests vs the floor ceil(N / P) for the page size P served, and
  vs what a one-request-per-day client would need; total requests including identity, profile,
  settings and the two daily listings;
- ingest: samples per second of *client* CPU (HTTP client, JSON decoding, parsing, SQLite, the
  final VACUUM), measured in a process of its own with the sandbox in a child process, so the
  sandbox's time is not counted; bytes per sample of the SQLite file; the client's peak RSS;
- quota (a second run with sandbox and client in one process on one simulated clock, the
  sandbox enforcing its 300 requests/minute): simulated seconds spent waiting, as a ratio to the
  least time that many requests can take under that quota, and the 429s met (should be none).

Usage: python bench/bench_sync.py [--days 365] [--mode documented|observed|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx

from heartkeep import api
from heartkeep.auth import login
from heartkeep.clock import FakeClock
from heartkeep.config import load_settings
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.physiology import demo_user
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store.sqlite import SqliteStore
from heartkeep.sync import EventTally

QUOTA_PER_MINUTE = 300


def consent(url: str) -> bool:
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    httpx.get(answer.headers["location"], timeout=10)
    return True


def peak_rss_mb() -> float:
    """This process's peak resident memory.  VmHWM (Linux) restarts at exec, unlike ru_maxrss,
    which a child started by fork inherits from its parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quota_bound_minimum_s(requests: int) -> float:
    """Least simulated time `requests` requests need at 300 a minute (the first 300 are free)."""
    return max(0, math.ceil(requests / QUOTA_PER_MINUTE) - 1) * 60.0


SERVE = """
import sys
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store.sqlite import SqliteStore
config = SandboxConfig(start_s={start}, page_size_mode={mode!r}, per_user_per_minute=10**9,
                       per_project_per_minute=10**9)
server = SandboxServer(config).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


@contextmanager
def sandbox_process(mode: str) -> Iterator[str]:
    """The sandbox in a child process (its CPU and memory are not ours); yields its URL.

    Its clock stays at the test start and its quota is lifted: the client's own budget, on the
    client's simulated clock, is what paces requests here.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(start=TEST_START_S, mode=mode)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        yield child.stdout.readline().strip()
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def client_side(mode: str, days: int) -> None:
    """Client CPU, bytes on disk and the client's peak RSS, with the sandbox out of process."""
    home = Path(tempfile.mkdtemp(prefix="hk-bench-client-"))
    os.environ["HEARTKEEP_HOME"] = str(home)
    clock = FakeClock(TEST_START_S)
    with sandbox_process(mode) as url:
        settings = replace(load_settings(), sandbox_url=url)
        login(settings, clock=clock, provider="google", open_browser=consent, timeout_s=10)
        since = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date() - dt.timedelta(days=days)
        repack_cpu_s = [0.0]
        repack = SqliteStore.after_bulk_write

        def timed_repack(store: SqliteStore, rows: int) -> bool:
            started = time.process_time()
            try:
                return repack(store, rows)
            finally:
                repack_cpu_s[0] += time.process_time() - started

        SqliteStore.after_bulk_write = timed_repack  # type: ignore[method-assign]
        cpu_before = time.process_time()
        wall_before = time.perf_counter()
        report = api.sync(settings, clock=clock, since=since)
        cpu_s = time.process_time() - cpu_before
        wall_s = time.perf_counter() - wall_before
        SqliteStore.after_bulk_write = repack  # type: ignore[method-assign]
    (account,) = report.accounts
    samples = account.samples_added
    database = Path(settings.database)
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = database.stat().st_size
    peak_mb = peak_rss_mb()
    print(f"== client side, {days}-day backfill, '{mode}' pages, sandbox in another process")
    print(
        f"client ingest           {samples / cpu_s:,.0f} samples/s of client CPU "
        f"({samples:,} samples, {cpu_s:.1f} s CPU: HTTP, JSON, parsing, SQLite, and "
        f"{repack_cpu_s[0]:.1f} s for the VACUUM after the load; {wall_s:.1f} s wall)"
    )
    print(
        f"                        {samples / (cpu_s - repack_cpu_s[0]):,.0f} samples/s "
        "without the VACUUM (fetch, parse, store)"
    )
    print(f"disk                    {size / samples:.2f} bytes/sample ({size / 1e6:.1f} MB)")
    print(f"client peak RSS         {peak_mb:.0f} MB")
    sys.stdout.flush()


def run(mode: str, days: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="hk-bench-"))
    os.environ["HEARTKEEP_HOME"] = str(home)
    user = demo_user(TEST_START_S)
    config = SandboxConfig(start_s=TEST_START_S, users=(user,), page_size_mode=mode)
    with SandboxServer(config) as server:
        clock = server.state.clock
        settings = replace(load_settings(), sandbox_url=server.url)
        login(settings, clock=clock, provider="google", open_browser=consent, timeout_s=10)
        start_day = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()
        since = start_day - dt.timedelta(days=days)
        server.state.request_log.clear()
        tally = EventTally()
        sim_before = clock.now_s()
        wall_before = time.perf_counter()
        cpu_before = time.thread_time()
        report = api.sync(settings, clock=clock, since=since, on_event=tally)
        cpu_s = time.thread_time() - cpu_before
        wall_s = time.perf_counter() - wall_before
        sim_waited_s = clock.now_s() - sim_before
        list_requests = server.state.requests_to("/dataTypes/heart-rate/dataPoints")
        total_requests = len(server.state.request_log)
    (account,) = report.accounts
    samples = account.samples_added
    served = 10_000 if mode == "documented" else 5_000
    database = Path(settings.database)
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        per_day = [
            n
            for (n,) in db.execute(
                "SELECT count(*) FROM heart_rate_readable GROUP BY local_date"
            ).fetchall()
        ]
    size = database.stat().st_size + sum(
        p.stat().st_size for p in database.parent.glob(database.name + "-*")
    )
    floor_documented = math.ceil(samples / 10_000)
    floor_served = math.ceil(samples / served)
    per_day_client = sum(math.ceil(n / served) for n in per_day)
    minimum_s = quota_bound_minimum_s(total_requests)
    peak_mb = peak_rss_mb()
    print(f"== {days}-day backfill, '{mode}' pages ({served:,} a page), one process, one clock")
    print(f"samples                 {samples:,} over {len(per_day)} local days ({account.status})")
    print(
        f"heart-rate requests     {list_requests}  floor ceil(N/10,000) = {floor_documented}  "
        f"(+{list_requests - floor_documented}); floor for P={served:,}: {floor_served} "
        f"(+{list_requests - floor_served}); a day-by-day client: {per_day_client} "
        f"({per_day_client / max(1, list_requests):.2f}x ours)"
    )
    print(f"all requests            {total_requests} (identity, profile, settings, 2 daily lists)")
    print(
        f"main-thread CPU         {samples / cpu_s:,.0f} samples/s ({cpu_s:.1f} s; "
        f"{wall_s:.1f} s wall with the sandbox in the same process)"
    )
    print(f"disk                    {size / samples:.2f} bytes/sample ({size / 1e6:.1f} MB)")
    print(f"peak RSS                {peak_mb:.0f} MB (client + in-process sandbox)")
    ratio = (
        "n/a: fits in one minute's quota" if minimum_s == 0 else f"{sim_waited_s / minimum_s:.3f}x"
    )
    print(
        f"quota (simulated clock) waited {sim_waited_s:.0f} s for {total_requests} requests at "
        f"{QUOTA_PER_MINUTE}/min; quota-bound minimum {minimum_s:.0f} s; ratio {ratio}; "
        f"rate-limit waits {account.rate_limit_waits}, 429s seen: "
        f"{sum(1 for r in server.state.request_log if r.status == 429)}"
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--mode", choices=["documented", "observed", "both"], default="both")
    parser.add_argument("--client", action="store_true", help="only the client-side phase")
    args = parser.parse_args()
    modes = ["documented", "observed"] if args.mode == "both" else [args.mode]
    if args.client:
        client_side(modes[0], args.days)
        return
    # Each phase in its own process, so one's peak memory does not show up in the other's.
    for mode in modes:
        subprocess.run(
            [sys.executable, __file__, "--days", str(args.days), "--mode", mode, "--client"],
            check=True,
        )
        run(mode, args.days)


if __name__ == "__main__":
    main()
