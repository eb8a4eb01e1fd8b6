"""Small writes keep the aggregates exact without numpy (issue 11: an up-to-date sync ≤ 0.15 s).

An hourly sync writes a few hundred samples, most after the newest one stored (and a re-read
tail before it).  Below `COLUMNS_FROM` rows a write keeps `hr_minute` in plain Python and, when
it only appends, brings its days' rows up to date at once (`store/appended_days.py`); above,
the numpy path does the work.  Random interleavings of such appends — below and above the
threshold, with re-read tails, late changes and offset changes — with the other writers of
`test_aggregates.py` leave every answer equal to a recomputation from the samples; and a sync
that finds a few new minutes, run as cron runs it (a fresh process), never loads numpy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_aggregates import ACTIONS, KEY, OFFSETS, T0, apply, assert_exact, assert_refreshed

from heartkeep.model import Sample, Source
from heartkeep.store import SqliteStore
from heartkeep.store.sample_batches import COLUMNS_FROM


@st.composite
def appends(draw: st.DrawFn) -> tuple[int, list[int], int, int, int, int]:
    """(how many new samples, their gaps, re-read tail, offset, offset after a switch, switch
    index): a sync page after the newest sample, below or above `COLUMNS_FROM` rows."""
    count = draw(st.one_of(st.integers(1, 300), st.integers(COLUMNS_FROM - 5, COLUMNS_FROM + 300)))
    gaps = draw(st.lists(st.integers(1, 200), min_size=count, max_size=count))
    tail = draw(st.integers(0, 30))
    before, after = draw(st.sampled_from(OFFSETS)), draw(st.sampled_from(OFFSETS))
    switch = draw(st.one_of(st.just(count), st.integers(0, count)))
    return count, gaps, tail, before, after, switch


def append(store: SqliteStore, spec: tuple[int, list[int], int, int, int, int], seed: int) -> int:
    """Write `spec`'s page after the newest sample, with a re-read tail (as the trailing window
    of an hourly sync fetches it); the number of rows written."""
    _, gaps, tail, before, after, switch = spec
    stored = [s for batch in store.iter_samples(KEY) for s in batch]
    start = stored[-1].instant_s if stored else T0
    page = list(stored[-tail:]) if tail else []
    instant = start
    for index, gap in enumerate(gaps):
        instant += gap
        page.append(
            Sample(instant, 40 + (index * 37 + seed) % 160, before if index < switch else after)
        )
    with store.transaction():
        store.write_samples(KEY, page, Source.GOOGLE_HEALTH)
    return len(page)


SMALL_ACTIONS = st.one_of(
    st.tuples(st.just("append"), appends(), st.integers(0, 1000)),
    st.tuples(st.just("append"), appends(), st.integers(0, 1000)),
    ACTIONS,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(SMALL_ACTIONS, min_size=1, max_size=6))
def test_appends_below_and_above_the_threshold_keep_aggregates_exact(
    backend, actions: list[tuple[str, object, object]]
) -> None:
    with backend.fresh() as store:
        for action in actions:
            if action[0] == "append":
                append(store, action[1], action[2])  # type: ignore[arg-type]
                if action[2] % 2:
                    store.refresh_aggregates(KEY)  # or not: a sync killed before it
            else:
                apply(store, action)
            assert_exact(store)
        assert_refreshed(store)
        assert_exact(store)


def test_an_hourly_append_leaves_no_day_to_refresh(tmp_path: Path) -> None:
    """Pages appended after the newest sample, each with its re-read tail, keep the stored day
    rows exact by themselves: nothing dirty, the refresh has nothing to do, a full check of
    every day and minute agrees — over a local midnight, from before four hours of minutes to
    after (the resting estimate).  A zone change leaves its day to the refresh, exactly."""
    with SqliteStore(tmp_path / "hk.sqlite") as store:
        for hour in range(30):
            append(store, (300, [12] * 300, 5, 120, 120, 300), hour)
            if hour == 0:  # the first sync of an account ends as a backfill does
                store.refresh_aggregates(KEY)
            assert store.dirty_day_count(KEY) == 0
            assert store.aggregate_problems(KEY, full=True) == []
        assert store.refresh_aggregates(KEY) == 0
        assert_exact(store)
        append(store, (300, [12] * 300, 5, 60, 60, 300), 7)  # the clocks go back an hour
        assert_exact(store)
        assert_refreshed(store)


def test_a_changed_small_write_still_marks_its_days(tmp_path: Path) -> None:
    """A small write that changes a stored sample (not an append) leaves its days to the
    refresh, as before: readers compute them exactly in the meantime."""
    with SqliteStore(tmp_path / "hk.sqlite") as store:
        append(store, (400, [10] * 400, 0, 60, 60, 400), 1)
        store.refresh_aggregates(KEY)
        append(store, (100, [10] * 100, 3, 60, 60, 100), 2)
        assert store.dirty_day_count(KEY) == 0
        first = next(iter(store.iter_samples(KEY)))[3]
        store.write_samples(KEY, [Sample(first.instant_s, first.bpm + 1, 60)], Source.GOOGLE_HEALTH)
        assert store.dirty_day_count(KEY) > 0
        assert_exact(store)
        assert_refreshed(store)


# An up-to-date sync as cron runs it: a fresh interpreter, a few new minutes to fetch.
CRON_SYNC = """
import sys
from msgspec.structs import replace
from heartkeep import api
from heartkeep.clock import FakeClock
from heartkeep.config import load_settings
settings = replace(load_settings(), sandbox_url=sys.argv[1], http_timeout_s=10.0)
report = api.sync(settings, clock=FakeClock(float(sys.argv[2])), trailing_days=0)
(account,) = report.accounts
print(account.ok, account.samples_added, "numpy" in sys.modules)
"""


def test_an_up_to_date_sync_loads_no_numpy(world_factory, small_user) -> None:
    world = world_factory(users=(small_user(2),))
    assert world.sync().accounts[0].ok
    world.state.set_last_sync(world.user_id, None)
    world.clock.advance(600)  # ten minutes later the watch has uploaded a few hundred samples
    now = world.clock.now_s()
    done = subprocess.run(
        [sys.executable, "-c", CRON_SYNC, world.server.url, str(now)],
        capture_output=True,
        text=True,
        check=True,
    )
    ok, added, numpy_loaded = done.stdout.split()
    assert ok == "True"
    assert 0 < int(added) < COLUMNS_FROM
    assert numpy_loaded == "False"
    with world.store() as store:
        assert store.dirty_day_count(world.account_key) == 0
        assert store.aggregate_problems(world.account_key, full=True) == []
    assert world.stored(world.history()) == world.truth(world.history())
