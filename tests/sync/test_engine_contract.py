"""The engine trusts only the Provider contract — and checks it before moving a cursor.

A tiny in-memory provider stands in for a buggy one here (no HTTP is involved in what is being
tested: the engine's bookkeeping); real providers are tested against the sandbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartkeep.clock import FakeClock
from heartkeep.model import Account, Sample, Source, Window
from heartkeep.providers import DailyPage, Page
from heartkeep.store import open_store
from heartkeep.sync import PageCommitted, sync_account
from heartkeep.sync.planner import earliest_start_s

NOW = 1_795_176_000
DAY = dt.date(2026, 11, 19)


class ScriptedProvider:
    """Serves the pages a test scripts, for any window."""

    name = "scripted"
    source = Source.TAKEOUT

    def __init__(self, pages: list[tuple[int, int, list[int]]]) -> None:
        self.pages = pages  # (covers_start_s, covers_end_s, instants), newest first

    def account(self) -> Account:
        return Account("scripted", "1", time_zone="UTC", member_since=DAY)

    def sample_pages(self, window: Window) -> Iterator[Page]:
        for start, end, instants in self.pages:
            yield Page([Sample(i, 60, 0) for i in instants], Window(start, end))

    def daily_pages(self, start: dt.date, end: dt.date) -> Iterator[DailyPage]:
        return iter(())

    def delivered_until_s(self) -> int | None:
        return None  # a scripted provider cannot tell: nothing is capped


def test_pages_with_a_hole_stop_the_account_without_moving_the_cursor_over_it(
    tmp_path: Path,
) -> None:
    first_day = int(dt.datetime(2026, 11, 19, tzinfo=dt.UTC).timestamp())
    pages = [
        (NOW - 100, NOW, [NOW - 50]),
        (NOW - 300, NOW - 200, [NOW - 250]),  # [NOW-200, NOW-100) was never covered
        (first_day, NOW - 300, [NOW - 400]),
    ]
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        report = sync_account(
            ScriptedProvider(pages), store, account_key="scripted:1", clock=FakeClock(NOW)
        )
        state = store.stream_state("scripted:1", "heart-rate")
        stored = [s.instant_s for b in store.iter_samples("scripted:1") for s in b]
    assert not report.ok
    assert report.exit_code == 5
    assert "do not tile" in (report.error or "")
    assert state.job_frontier_s == NOW - 100  # only the good page counts
    assert state.complete_until_s is None
    assert stored == [NOW - 50]


def test_a_walk_that_stops_short_of_the_window_start_is_not_marked_complete(
    tmp_path: Path,
) -> None:
    pages = [(NOW - 100, NOW, [NOW - 50])]  # and then nothing, far above the window's start
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        report = sync_account(
            ScriptedProvider(pages), store, account_key="scripted:1", clock=FakeClock(NOW)
        )
        state = store.stream_state("scripted:1", "heart-rate")
    assert report.exit_code == 5
    assert state.job_open
    assert state.complete_until_s is None


def test_a_connection_that_belongs_to_someone_else_is_refused(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        report = sync_account(
            ScriptedProvider([]), store, account_key="scripted:2", clock=FakeClock(NOW)
        )
        assert store.sample_count("scripted:2") == 0
    assert report.exit_code == 5
    assert "belongs to scripted:1" in (report.error or "")


@pytest.mark.parametrize("trailing_days", [0, 1, 3])
def test_a_complete_walk_records_the_span_and_the_run(tmp_path: Path, trailing_days: int) -> None:
    first_day = earliest_start_s(DAY)  # the membership date's first instant anywhere (UTC+14)
    pages = [(NOW - 100, NOW, [NOW - 50, NOW - 99]), (first_day, NOW - 100, [first_day])]
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        report = sync_account(
            ScriptedProvider(pages),
            store,
            account_key="scripted:1",
            clock=FakeClock(NOW),
            trailing_days=trailing_days,
        )
        state = store.stream_state("scripted:1", "heart-rate")
        runs = store.runs("scripted:1")
    assert report.ok
    assert report.samples_added == 3
    assert (state.covered_from_s, state.complete_until_s) == (first_day, NOW)
    assert not state.job_open
    assert [(r.status, r.samples_added) for r in runs] == [("ok", 3)]


class CountPagedProvider:
    """Pages by count, newest first, like Google's list endpoint, over a fixed list of samples."""

    name = "counted"
    source = Source.TAKEOUT

    def __init__(self, instants: list[int], page_size: int, first_day: dt.date) -> None:
        self.instants = sorted(instants)
        self.page_size = page_size
        self.first_day = first_day
        self.requests = 0

    def account(self) -> Account:
        return Account("counted", "1", time_zone="UTC", member_since=self.first_day)

    def sample_pages(self, window: Window) -> Iterator[Page]:
        inside = [i for i in reversed(self.instants) if window.start_s <= i < window.end_s]
        upper = window.end_s
        for offset in range(0, max(1, len(inside)), self.page_size):
            chunk = inside[offset : offset + self.page_size]
            self.requests += 1
            last = offset + self.page_size >= len(inside)
            lower = window.start_s if last else min(chunk)
            yield Page([Sample(i, 40 + i % 150, 0) for i in chunk], Window(lower, upper))
            upper = lower

    def daily_pages(self, start: dt.date, end: dt.date) -> Iterator[DailyPage]:
        return iter(())

    def delivered_until_s(self) -> int | None:
        return None  # a scripted provider cannot tell: nothing is capped


class Killed(Exception):
    """A kill at an exact step of the walk."""


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(0, 3 * 86_400 - 1), unique=True, max_size=300),
    page_size=st.integers(1, 40),
    kill_after=st.integers(0, 30),
    trailing_days=st.integers(0, 3),
)
def test_any_kill_point_resumes_to_exactly_the_providers_data(
    tmp_path_factory: pytest.TempPathFactory,
    offsets: list[int],
    page_size: int,
    kill_after: int,
    trailing_days: int,
) -> None:
    first_day = dt.date(2026, 11, 17)
    start = earliest_start_s(first_day)
    now = start + 3 * 86_400
    provider = CountPagedProvider([start + o for o in offsets], page_size, first_day)
    committed = 0

    def kill(event: object) -> None:
        nonlocal committed
        if isinstance(event, PageCommitted):
            committed += 1
            if committed == kill_after:
                raise Killed

    path = tmp_path_factory.mktemp("kill") / "hk.sqlite"
    with open_store(str(path)) as store:
        with contextlib.suppress(Killed):  # the first run may die at any page
            sync_account(
                provider,
                store,
                account_key="counted:1",
                clock=FakeClock(now),
                on_event=kill,
                trailing_days=trailing_days,
            )
        report = sync_account(
            provider,
            store,
            account_key="counted:1",
            clock=FakeClock(now + 60),
            trailing_days=trailing_days,
        )
        assert report.ok, report.error
        stored = [s for batch in store.iter_samples("counted:1") for s in batch]
        state = store.stream_state("counted:1", "heart-rate")
    assert stored == [Sample(i, 40 + i % 150, 0) for i in provider.instants]
    assert (state.covered_from_s, state.complete_until_s) == (start, now + 60)
    assert not state.job_open
