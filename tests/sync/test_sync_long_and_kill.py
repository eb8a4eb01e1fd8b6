"""The two heavy stories: a year backfilled sample for sample, and a real kill -9 mid-sync."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from heartkeep import api
from heartkeep.model import Window

DAY_S = 86_400


@pytest.mark.slow
def test_a_year_of_history_is_synced_sample_for_sample_at_the_request_floor(
    world_factory, small_user
) -> None:
    # the sandbox serves ~5,000 a page however many are asked, as seen live: the engine asks
    # for 10,000 and copes (bench/bench_sync.py measures the documented 10,000 too)
    world = world_factory(users=(small_user(366),), page_size_mode="observed")
    # The in-process sandbox shares the GIL with the writer: on a loaded 2-core CI machine a
    # page can take longer than the usual 10 s timeout, and the retry it causes is a request
    # this test would count against the floor.  The floor, not the timeout, is under test.
    world.use_timeout(120.0)
    visible_at_start = world.visible_until()
    report = world.sync()
    (account,) = report.accounts
    assert account.ok, account.error
    # the quota waits moved the shared clock on; what became visible meanwhile is the next
    # run's (trailing window), so compare what the API served when this one started
    history = Window(world.history().start_s, visible_at_start)
    # Compared as numpy columns, 20 days (~0.5 M samples) at a time: the same row-for-row
    # equality as lists of `Sample`s, without building ~15 M Python objects to get it.
    chunk = 20 * DAY_S
    total = 0
    for start in range(history.start_s, history.end_s, chunk):
        total += world.assert_stored_is_truth(Window(start, min(history.end_s, start + chunk)))
    assert total > 365 * 15_000  # a year of a watch worn most of the time
    assert account.samples_added == total
    list_requests = world.state.requests_to("/dataTypes/heart-rate/dataPoints")
    # every 20th page comes back empty but with a token (seen live): 20 requests per 19 pages
    assert list_requests <= math.ceil(total / 5_000 * 20 / 19) + 5, f"retries: {account.retries}"
    # identity, profile, settings and one listing per daily type on top
    assert account.requests <= list_requests + 5 + 2


CHILD = """
import os, sys, time
from msgspec.structs import replace
from heartkeep import api
from heartkeep.clock import FakeClock
from heartkeep.config import load_settings
from heartkeep.sync import PageCommitted

def slow_down(event):
    if isinstance(event, PageCommitted):
        time.sleep(0.2)  # real time: gives the parent a window to kill us between pages

settings = replace(load_settings(), sandbox_url={url!r}, http_timeout_s=10.0)
api.sync(settings, clock=FakeClock({now!r}), on_event=slow_down)
"""


def test_a_sync_killed_with_sigkill_resumes_with_no_loss_and_no_duplicates(
    world_factory, small_user
) -> None:
    # The child runs on a clock of its own, so the sandbox's per-second quota (on the shared
    # clock, which stands still) is switched off: this test is about the kill.
    world = world_factory(users=(small_user(6),), page_size_mode="observed", per_user_per_second=0)
    world.freeze_devices()  # the resumed sync's paced requests move the clock
    script = CHILD.format(url=world.server.url, now=world.clock.now_s())
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=os.environ.copy())
    pages = 0
    deadline = time.monotonic() + 60
    try:
        while pages < 3 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
            if os.path.exists(world.settings.database):
                try:
                    with sqlite3.connect(world.settings.database, timeout=5) as db:
                        pages = db.execute("SELECT count(*) FROM fetch_ledger").fetchone()[0]
                except sqlite3.OperationalError:
                    pages = 0  # the schema is being created
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with world.store() as store:
        state = store.stream_state(world.account_key, "heart-rate")
        stored_before = store.sample_count(world.account_key)
        assert store.runs(world.account_key)[0].status == "running"  # killed, not finished
    assert state.job_frontier_s is not None  # an open job, done down to its frontier
    assert state.complete_until_s is None
    report = api.sync(world.settings, clock=world.clock)
    assert report.exit_code == 0
    history = world.history()
    truth = world.truth(history)
    assert world.stored(history) == truth
    (account,) = report.accounts
    assert stored_before + account.samples_added == len(truth)  # nothing stored twice


def test_watch_runs_sync_on_an_interval(world_factory, small_user) -> None:
    world = world_factory(users=(small_user(1),))
    outcomes = []
    started = world.clock.now_s()
    api.watch(world.settings, interval_s=900, clock=world.clock, on_report=outcomes.append, runs=3)
    assert [o.exit_code for o in outcomes] == [0, 0, 0]
    assert world.clock.now_s() - started >= 2 * 900
    assert outcomes[1].samples_added > 0  # 15 minutes of new data each time
    with world.store() as store:
        assert [run.status for run in store.runs(world.account_key)] == ["ok", "ok", "ok"]
