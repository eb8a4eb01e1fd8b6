"""One-year backfill against the sandbox's defaults: exact data, requests, quota, ingest speed.

Prints figures and ratios; asserts nothing (timings never go into tests).  Two phases:

- client side (its own process, the sandbox in a child process with its quota lifted, so only
  heartkeep's CPU and memory are counted): samples per second of client CPU (HTTP client, JSON
  decoding, parsing, SQLite, the final VACUUM), bytes per sample, the client's peak RSS;
- quota (sandbox and client in one process on one simulated clock), once on the sandbox's
  defaults — an unverified app's 2.5 requests/s per user, 429s without Retry-After, the page
  sizes observed live (~5,000 a page, an empty page now and then) — and once more with big pages
  timing out (504 DEADLINE_EXCEEDED above `--deadline-points`): the data compared sample for
  sample with the sandbox's ground truth, requests against the floor ceil(N / 5,000), 429s and
  504s as a share of requests, and the simulated time against the quota-bound minimum
  (requests ÷ 2.5 s).

Usage: python bench/bench_sync.py [--days 365] [--deadline-points 1500] [--skip-client]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from msgspec.structs import replace

from heartkeep import api
from heartkeep.auth import login
from heartkeep.clock import FakeClock
from heartkeep.config import Settings, load_settings
from heartkeep.model import Sample, Window
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.physiology import demo_user
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.state import SandboxState
from heartkeep.store import open_store
from heartkeep.store.sqlite import SqliteStore
from heartkeep.sync import AccountReport

QUOTA_PER_SECOND = 2.5  # an unverified app's per-user quota, the sandbox's default


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


SERVE = """
import sys
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.state import SandboxState
from heartkeep.store import open_store
from heartkeep.store.sqlite import SqliteStore
config = SandboxConfig(start_s={start}, page_size_mode={mode!r}, per_user_per_minute=10**9,
                       per_project_per_minute=10**9, per_user_per_second=0)
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
    shutil.rmtree(home, ignore_errors=True)  # ~20 MB a run otherwise left in the temp folder


def run(days: int, deadline_points: int) -> None:
    """One backfill on the sandbox's defaults (plus the 504 fault when `deadline_points`)."""
    home = Path(tempfile.mkdtemp(prefix="hk-bench-"))
    os.environ["HEARTKEEP_HOME"] = str(home)
    user = demo_user(TEST_START_S)
    config = SandboxConfig(
        start_s=TEST_START_S, users=(user,), deadline_above_points=deadline_points
    )
    with SandboxServer(config) as server:
        state = server.state
        clock = state.clock
        settings = replace(load_settings(), sandbox_url=server.url)
        login(settings, clock=clock, provider="google", open_browser=consent, timeout_s=10)
        start_day = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()
        since = start_day - dt.timedelta(days=days)
        # What the API serves at the start is the yardstick: hold the device's uploads there
        # while the paced requests move the clock.
        state.set_last_sync(user.health_user_id, clock.now_s() - config.sync_lag_s)
        state.request_log.clear()
        sim_before = clock.now_s()
        wall_before = time.perf_counter()
        report = api.sync(settings, clock=clock, since=since)
        wall_s = time.perf_counter() - wall_before
        sim_s = clock.now_s() - sim_before
        log = list(state.request_log)
        (account,) = report.accounts
        exact, truth_total = compare_with_truth(settings, state, user.health_user_id, account)
    requests = len(log)
    list_log = [r for r in log if "/dataTypes/heart-rate/dataPoints" in r.path]
    refused = sum(1 for r in log if r.status == 429)
    timeouts = sum(1 for r in log if r.status == 504)
    samples = account.samples_added
    floor = math.ceil(samples / 5_000)
    minimum_s = requests / QUOTA_PER_SECOND
    fault = f", pages above {deadline_points:,} points time out" if deadline_points else ""
    print(f"== {days}-day backfill on the sandbox's defaults{fault}")
    print(
        f"data                    {samples:,} samples stored, ground truth {truth_total:,}: "
        f"{'exact' if exact else 'MISMATCH'} ({account.status})"
    )
    print(
        f"requests                {requests:,} in all; heart-rate pages {len(list_log):,} "
        f"(floor ceil(N/5,000) = {floor:,}, ratio {len(list_log) / floor:.3f})"
    )
    print(
        f"429s                    {refused} ({refused / requests:.2%} of requests); "
        f"504s {timeouts} ({timeouts / requests:.2%})"
    )
    print(
        f"simulated time          {sim_s:,.0f} s; quota-bound minimum {minimum_s:,.0f} s "
        f"({requests:,} requests / {QUOTA_PER_SECOND} per s); ratio {sim_s / minimum_s:.3f}"
    )
    print(f"wall time               {wall_s:.1f} s (sandbox and client in one process)")
    sys.stdout.flush()


def compare_with_truth(
    settings: Settings, state: SandboxState, user_id: str, account: AccountReport
) -> tuple[bool, int]:
    """Stored samples against the sandbox's ground truth, 20 days at a time (flat memory)."""
    key = account.account_key
    exact = True
    total = 0
    with open_store(settings.database) as store:
        span = store.sample_span(key)
        if span is None:
            return False, 0
        start = span.start_s
        end = state.visible_end_s(user_id)
        chunk = 20 * 86_400
        for lo in range(start, end, chunk):
            window = Window(lo, min(end, lo + chunk))
            truth = [
                Sample(i, b, o // 60)
                for i, b, o in state.ground_truth_samples(user_id, window.start_s, window.end_s)
            ]
            stored = [s for batch in store.iter_samples(key, window) for s in batch]
            exact = exact and stored == truth
            total += len(truth)
    return exact and total == account.samples_added, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--deadline-points", type=int, default=1_500)
    parser.add_argument("--client", action="store_true", help="only the client-side phase")
    parser.add_argument("--skip-client", action="store_true", help="only the quota phases")
    args = parser.parse_args()
    if args.client:
        client_side("observed", args.days)
        return
    # Each phase in its own process, so one's peak memory does not show up in the other's.
    if not args.skip_client:
        subprocess.run([sys.executable, __file__, "--days", str(args.days), "--client"], check=True)
    run(args.days, 0)
    run(args.days, args.deadline_points)


if __name__ == "__main__":
    main()
