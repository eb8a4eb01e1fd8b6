"""A sync's backfill stores its days from the pages it writes, and they equal a recomputation.

A backfill writes pages newest first, each in a transaction with its cursor; the SQLite store
aggregates the days of such a run from the pages (`store/backfill_days.py`) instead of reading
them back at the refresh.  Whatever happens between two pages — another program writing to
the file, an import, a refresh, a page rolled back, an account forgotten — the stored days and
the answers stay exact, and a first backfill leaves the refresh nothing to do.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aggregates import KEY, T0, apply, assert_exact, assert_refreshed, pages

from heartkeep.model import Daily, DailyKind, Sample, Source
from heartkeep.store import SqliteStore, open_store

OFFSETS = (60, 120, -300, 540, -1440, 1440)


class Boom(Exception):
    """Raised inside a page's transaction: the page is rolled back."""


def write_page(store: SqliteStore, page: list[Sample]) -> None:
    """One page as the engine commits it: samples, a daily, the cursor, in one transaction."""
    with store.transaction():
        store.write_samples(KEY, page, Source.GOOGLE_HEALTH)
        store.write_dailies(
            KEY, [Daily(dt.date(2026, 9, 26), DailyKind.RESTING_HR, 57.0)], Source.GOOGLE_HEALTH
        )


def rolled_back_page(store: SqliteStore, page: list[Sample]) -> None:
    with store.transaction():
        store.write_samples(KEY, page, Source.GOOGLE_HEALTH)
        raise Boom


def newest_first(samples: list[Sample], cuts: list[int]) -> list[list[Sample]]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(samples)}), len(samples)]
    return [samples[lo:hi] for lo, hi in pairwise(bounds)][::-1]


@st.composite
def backfills(draw: st.DrawFn) -> list[list[Sample]]:
    """Days of samples 1 s to 5 h apart, offsets changing anywhere (up to a day
    either side of UTC), cut into pages, newest page first."""
    start = T0 + draw(st.integers(-86_400, 3 * 86_400))
    steps = draw(
        st.lists(
            st.one_of(st.integers(1, 3_600), st.integers(3_600, 20_000)), min_size=30, max_size=200
        )
    )
    instants = np.cumsum([start, *steps]).tolist()
    offset = draw(st.sampled_from(OFFSETS))
    samples = []
    for index, instant in enumerate(instants):
        if draw(st.integers(0, 40)) == 0:
            offset = draw(st.sampled_from(OFFSETS))
        samples.append(Sample(int(instant), 40 + (instant * 7 + index) % 150, offset))
    cuts = draw(st.lists(st.integers(1, max(1, len(samples) - 1)), max_size=10))
    return newest_first(samples, cuts)


# What may happen between two pages of a backfill.
BETWEEN = st.one_of(
    st.just(("nothing", None, None)),
    st.just(("nothing", None, None)),
    st.just(("nothing", None, None)),
    st.just(("nothing", None, None)),
    st.just(("nothing", None, None)),
    st.just(("nothing", None, None)),
    st.tuples(st.just("elsewhere"), pages(), st.just(None)),  # another connection writes
    st.tuples(st.just("inside"), st.integers(0, 1_000), st.booleans()),  # … in the run's days
    st.tuples(st.just("rollback"), pages(), st.just(None)),  # a page rolled back
    st.tuples(st.just("sync"), pages(), st.booleans()),
    st.tuples(st.just("import"), st.lists(pages(), min_size=1, max_size=2), st.just("a")),
    st.tuples(st.just("refresh"), st.just(None), st.just(None)),
    st.tuples(st.just("forget"), st.just(None), st.just(None)),
)


def happen(
    store: SqliteStore, path: Path, event: tuple[str, object, object], page: list[Sample]
) -> None:
    kind, payload, extra = event
    if kind == "nothing":
        return
    if kind == "inside":  # a reading a second after one of the page just written
        assert isinstance(payload, int)
        near = page[payload % len(page)]
        reading = [Sample(near.instant_s + 1, 201, near.offset_min)]
        if extra:  # by another program
            with open_store(str(path)) as other:
                other.write_samples(KEY, reading, Source.GOOGLE_HEALTH)
        else:
            write_page(store, reading)
        return
    if kind == "elsewhere":  # another program, on a connection of its own
        assert isinstance(payload, list)
        with open_store(str(path)) as other:
            other.write_samples(KEY, payload, Source.GOOGLE_HEALTH)
    elif kind == "rollback":
        assert isinstance(payload, list)
        with pytest.raises(Boom):
            rolled_back_page(store, payload)
    else:
        apply(store, event)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    around=st.lists(pages(), max_size=2),
    backfill=backfills(),
    events=st.lists(BETWEEN, max_size=12),
    refresh=st.booleans(),
)
def test_days_a_backfill_stores_from_its_pages_equal_a_recomputation(
    tmp_path: Path,
    around: list[list[Sample]],
    backfill: list[list[Sample]],
    events: list[tuple[str, object, object]],
    refresh: bool,
) -> None:
    path = tmp_path / f"hk-{abs(hash(repr((around, backfill, events, refresh))))}.sqlite"
    with open_store(str(path)) as store:
        for page in around:  # samples stored before the backfill, maybe in its way
            write_page(store, page)
        if refresh:
            store.refresh_aggregates(KEY)
        for index, page in enumerate(backfill):
            write_page(store, page)
            if index < len(events):
                happen(store, path, events[index], page)
            assert store.aggregate_problems(KEY, full=True) == []  # the days stored so far
        assert_exact(store)
        assert_refreshed(store)
        assert_exact(store)
    path.unlink()


def test_a_first_backfill_leaves_the_refresh_nothing_to_do(tmp_path: Path) -> None:
    """Ten days of one sample every 10 s, a DST change among them, in pages of 1,000 newest
    first (as a sync writes them): every day is stored as the pages come, none is read back."""
    samples = [Sample(T0 + i * 10, 50 + i % 100, 120 if i < 40_000 else 60) for i in range(86_400)]
    pages_ = newest_first(samples, list(range(1_000, len(samples), 1_000)))
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        for page in pages_:
            write_page(store, page)
        # Only the oldest days wait for the run's end: it cannot know they are complete.
        assert store.dirty_day_count(KEY) <= 3
        assert store.aggregate_problems(KEY, full=True) == []
        assert store.refresh_aggregates(KEY) == 0  # the run's end stores them: nothing left
        assert store.dirty_day_count(KEY) == 0
        assert len(store.day_aggregates(KEY)) == 10  # T0 is 22:00 UTC: midnight at +02:00
        assert_exact(store)
        assert_refreshed(store)


def test_a_backfill_below_a_stored_history_leaves_only_the_days_it_meets(tmp_path: Path) -> None:
    """A backfill of older history under what a first sync stored: the days away from the
    seam are stored from the pages; the two or three at the seam are refreshed as before."""
    older = [Sample(T0 + i * 10, 50 + i % 100, 120) for i in range(60_000)]
    newer = [Sample(T0 + 600_000 + i * 10, 60 + i % 80, 120) for i in range(20_000)]
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        for page in newest_first(newer, list(range(1_000, len(newer), 1_000))):
            write_page(store, page)
        assert store.refresh_aggregates(KEY) == 0
        for page in newest_first(older, list(range(1_000, len(older), 1_000))):
            write_page(store, page)
        assert 0 < store.refresh_aggregates(KEY) <= 3
        assert_exact(store)
        assert_refreshed(store)


@pytest.mark.parametrize("writer", ["another program", "this store"])
def test_a_reading_written_among_the_pages_between_two_of_them_is_not_lost(
    tmp_path: Path, writer: str
) -> None:
    """A reading written into the days a backfill has written but not yet stored, between two
    of its pages — by another program or by this store outside the sync — is counted in its
    day: the run sees the write and leaves the days it has not stored to the refresh."""
    samples = [Sample(T0 + i * 10, 50 + i % 100, 120) for i in range(4 * 8_640)]
    pages_ = newest_first(samples, list(range(1_000, len(samples), 1_000)))
    path = tmp_path / "hk.sqlite"
    with open_store(str(path)) as store:
        for page in pages_[:3]:
            write_page(store, page)
        reading = [Sample(pages_[0][10].instant_s + 1, 201, 120)]
        if writer == "another program":
            with open_store(str(path)) as other:
                other.write_samples(KEY, reading, Source.GOOGLE_HEALTH)
        else:
            store.write_samples(KEY, reading, Source.TAKEOUT)
        for page in pages_[3:]:
            write_page(store, page)
        assert store.aggregate_problems(KEY, full=True) == []
        assert_exact(store)
        assert_refreshed(store)


def test_a_refresh_with_nothing_to_do_loads_no_numpy(tmp_path: Path) -> None:
    """A sync that wrote nothing ends with a refresh that finds nothing dirty: it must not
    load the upkeep's modules (numpy alone is ~0.06 s of every cron run)."""
    path = tmp_path / "hk.sqlite"
    with open_store(str(path)) as store:
        store.write_samples(KEY, [Sample(T0, 60, 120)], Source.GOOGLE_HEALTH)
        store.refresh_aggregates(KEY)
    code = (
        "import sys; from heartkeep.store import open_store; store = open_store(sys.argv[1]); "
        "done = store.refresh_aggregates(sys.argv[2]); store.close(); "
        "print(done, 'numpy' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code, str(path), KEY], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["0", "False"]
