"""The store's day and minute aggregates always equal a recomputation from the samples.

Random interleavings of what writes samples — sync pages (in transactions), imports, the same
files imported again, an import undone, an account forgotten — over a week whose offsets
change (a DST change and a flight), with or without the refresh that ends a sync or an import
(without it: a writer killed between its commit and the refresh).  After every step the
store's answers are exact, and the statistics made from the aggregates are the statistics made
from the samples.  Each test runs against both backends (`backend`, tests/store/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartkeep.analysis.daily import aggregate_samples, daily_stats, stats_from_aggregates
from heartkeep.importers import FileDone, load
from heartkeep.model import Daily, DailyKind, Sample, Source, Window
from heartkeep.store import SqliteStore, open_store
from heartkeep.store.protocol import ImportFile, Provenance

KEY = "google-health:agg"
T0 = 1_790_200_800  # 2026-09-23T22:00:00Z; writes span a week, with offsets 60, 120, -300, 540
OFFSETS = (60, 120, -300, 540)


def samples_of(store: SqliteStore, key: str = KEY) -> list[Sample]:
    return [sample for batch in store.iter_samples(key) for sample in batch]


def assert_exact(store: SqliteStore, key: str = KEY) -> None:
    """Aggregates and statistics from the store equal those recomputed from its samples."""
    expected = list(aggregate_samples(store.iter_samples(key)))
    assert store.day_aggregates(key) == expected
    dailies = store.dailies(key)
    for max_hr in (150, 190):
        from_samples = daily_stats(
            store.iter_samples(key), dailies, max_hr=max_hr, zone_name="Europe/Berlin"
        )
        from_aggregates = stats_from_aggregates(
            store.day_aggregates(key), dailies, max_hr=max_hr, zone_name="Europe/Berlin"
        )
        assert from_aggregates == from_samples
    samples = samples_of(store, key)
    minutes = store.minute_aggregates(key)
    if not samples:
        assert len(minutes.start_s) == 0
        return
    instant = np.array([s.instant_s for s in samples])
    bpm = np.array([s.bpm for s in samples])
    starts, heads, counts = np.unique(instant // 60 * 60, return_index=True, return_counts=True)
    assert minutes.start_s.tolist() == starts.tolist()
    assert minutes.samples.tolist() == counts.tolist()
    assert np.allclose(minutes.mean_bpm, np.add.reduceat(bpm, heads) / counts)
    assert minutes.min_bpm.tolist() == np.minimum.reduceat(bpm, heads).tolist()
    assert minutes.max_bpm.tolist() == np.maximum.reduceat(bpm, heads).tolist()
    # coverage counts whole minutes from hr_minute and looks up the minutes a window cuts
    first, last = int(instant.min()), int(instant.max())
    for lo, hi in ((first, last + 1), (first + 17, last - 29), (first + 61, first + 119)):
        hi = max(lo, hi)
        inside = instant[(instant >= lo) & (instant < hi)]
        assert store.covered_minutes(key, Window(lo, hi)) == len(np.unique(inside // 60))
    columns = store.sample_columns(key)
    assert columns.instants_s.tolist() == instant.tolist()
    assert columns.bpm.tolist() == bpm.tolist()


def assert_refreshed(store: SqliteStore, key: str = KEY) -> None:
    """After a refresh nothing is dirty and the stored rows themselves are exact."""
    store.refresh_aggregates(key)
    assert store.dirty_day_count(key) == 0
    assert store.aggregate_problems(key, full=True) == []
    assert store.aggregate_problems(key) == []


@st.composite
def pages(draw: st.DrawFn) -> list[Sample]:
    """A run of samples somewhere in the week: 1–150 s apart, an offset change inside."""
    start = T0 + draw(st.integers(0, 7 * 86_400))
    steps = draw(st.lists(st.integers(1, 150), min_size=1, max_size=120))
    switch = draw(st.integers(0, len(steps)))
    before, after = draw(st.sampled_from(OFFSETS)), draw(st.sampled_from(OFFSETS))
    instants = np.cumsum([start, *steps]).tolist()
    bpm = draw(st.lists(st.integers(40, 200), min_size=len(instants), max_size=len(instants)))
    return [
        Sample(int(t), b, before if i < switch else after)
        for i, (t, b) in enumerate(zip(instants, bpm, strict=True))
    ]


def provenance(name: str) -> Provenance:
    return Provenance("takeout", "UTC", (ImportFile(name, name * 8, 1),))


ACTIONS = st.one_of(
    st.tuples(st.just("sync"), pages(), st.booleans()),
    st.tuples(st.just("import"), st.lists(pages(), min_size=1, max_size=3), st.sampled_from("ab")),
    st.tuples(st.just("undo"), st.sampled_from("ab"), st.booleans()),
    st.tuples(st.just("refresh"), st.just(None), st.just(None)),
    st.tuples(st.just("forget"), st.just(None), st.just(None)),
)


def apply(store: SqliteStore, action: tuple[str, object, object]) -> None:
    kind, payload, extra = action
    if kind == "sync":
        assert isinstance(payload, list)
        with store.transaction():  # a page and its cursor, as the engine writes them
            store.write_samples(KEY, payload, Source.GOOGLE_HEALTH)
            store.write_dailies(
                KEY, [Daily(dt.date(2026, 9, 26), DailyKind.RESTING_HR, 57.0)], Source.GOOGLE_HEALTH
            )
        if extra:
            store.refresh_aggregates(KEY)
    elif kind == "import":
        assert isinstance(payload, list)
        assert isinstance(extra, str)
        items: list[Sequence[Sample] | FileDone] = []
        for page in payload:
            items += [sorted(page), FileDone(f"{extra}.csv")]
        load(store, KEY, items, Source.TAKEOUT, files_total=len(payload),
             provenance=provenance(extra), imported_s=0)  # fmt: skip
        store.refresh_aggregates(KEY)
    elif kind == "undo":
        assert isinstance(payload, str)
        found = store.find_import(KEY, "takeout", provenance(payload).digest)
        if found is not None:
            with store.transaction():
                store.undo_import(found.import_id)
            if extra:
                store.refresh_aggregates(KEY)
    elif kind == "refresh":
        store.refresh_aggregates(KEY)
    else:
        store.forget_account(KEY)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=6))
def test_aggregates_equal_a_recomputation_after_any_interleaving(
    backend, actions: list[tuple[str, object, object]]
) -> None:
    with backend.fresh() as store:
        for action in actions:
            apply(store, action)
            assert_exact(store)
        assert_refreshed(store)
        assert_exact(store)


def test_a_writer_killed_before_its_refresh_leaves_answers_exact(backend) -> None:
    """Pages committed, refresh never run (SIGKILL): readers compute the dirty days."""
    where = backend.location()
    day = [Sample(T0 + 7_200 + i * 5, 60 + i % 50, 120) for i in range(20_000)]
    with backend.open(where) as store:
        store.write_samples(KEY, day, Source.GOOGLE_HEALTH)
        store.refresh_aggregates(KEY)
        with store.transaction():  # a page re-read changed, whose refresh the kill prevents
            changed = [Sample(T0 + 7_200 + 500, 140, 120), Sample(T0 + 150_000, 99, 120)]
            store.write_samples(KEY, changed, Source.GOOGLE_HEALTH)
    with backend.open(where, readonly=True) as reader:
        assert reader.dirty_day_count(KEY) > 0
        assert_exact(reader)
        assert backend.rows(reader, "SELECT count(*) FROM daily_summary WHERE NOT current")[0][0]


def test_an_upgraded_schema_4_file_gets_every_aggregate(tmp_path: Path) -> None:
    """A file from before aggregates: the upgrade builds them, the views read them."""
    from heartkeep.store.migrations import STEPS

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in (s for step in STEPS[:4] for s in step):
        db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    db.execute(
        "INSERT INTO account (id, key, provider, user_id, created_s) "
        "VALUES (0, ?, 'google-health', 'agg', 0)",
        (KEY,),
    )
    rows = [(0, T0 + i * 7, 50 + i % 90, 60 if i < 30_000 else 120, 0) for i in range(60_000)]
    with db:
        db.execute("BEGIN")
        db.executemany("INSERT INTO heart_rate VALUES (?, ?, ?, ?, ?)", rows)
    db.close()
    with open_store(str(path)) as store:
        assert store.dirty_day_count(KEY) == 0
        assert store.aggregate_problems(KEY, full=True) == []
        assert_exact(store)
    with sqlite3.connect(path) as db:
        summary = db.execute(
            "SELECT day, samples, current FROM daily_summary ORDER BY day"
        ).fetchall()
        assert sum(row[1] for row in summary) == 60_000
        assert all(row[2] == 1 for row in summary)
        (minutes,) = db.execute("SELECT sum(samples) FROM heart_rate_minute").fetchone()
        assert minutes == 60_000


def test_a_tampered_day_or_minute_is_found_and_a_rebuild_mends_it(backend) -> None:
    where = backend.location()
    with backend.open(where) as store:
        store.write_samples(
            KEY, [Sample(T0 + i * 3, 60 + i % 70, 60) for i in range(100_000)], Source.TAKEOUT
        )
        store.refresh_aggregates(KEY)
        assert store.aggregate_problems(KEY) == []
        backend.execute(store, "UPDATE hr_day SET wear_s = wear_s + 60 WHERE day = '2026-09-25'")
        minute = (T0 + 600) // 60
        if backend.name == "sqlite":
            backend.execute(store, "UPDATE hr_minute SET max_bpm = 250 WHERE minute = ?", (minute,))
        else:  # minutes are packed per hour: the minute's element of its hour's array
            backend.execute(
                store,
                "UPDATE hr_minute SET max_bpm[array_position(minute, %s::smallint)] = 250 "
                "WHERE hour = %s",
                (minute % 60, minute // 60),
            )
    with backend.open(where) as store:
        found = store.aggregate_problems(KEY, full=True)
        assert any("2026-09-25: wear_s" in line for line in found), found
        assert any("per-minute" in line for line in found), found
        assert store.rebuild_aggregates() == {KEY: len(store.day_aggregates(KEY))}
        assert store.aggregate_problems(KEY, full=True) == []
        assert_exact(store)


def test_coarse_buckets_sum_the_minutes(backend) -> None:
    with backend.fresh() as store:
        store.write_samples(
            KEY, [Sample(T0 + i * 10, 60 + i % 30, 60) for i in range(10_000)], Source.TAKEOUT
        )
        hours = store.minute_aggregates(KEY, bucket_s=3600)
        minutes = store.minute_aggregates(KEY)
        assert hours.samples.sum() == minutes.samples.sum() == 10_000
        assert (hours.start_s % 3600 == 0).all()
        assert hours.max_bpm.max() == minutes.max_bpm.max()


def test_a_sparse_history_over_decades_reads_back_exactly(backend) -> None:
    """Samples decades apart and a day of one-second data among them: the
    refresh, the rebuild and the full check read them back (a day at a time, empty years
    skipped) and agree with the recomputation."""
    dense = [Sample(T0 + i, 60 + i % 90, 120) for i in range(86_400 + 500)]
    scattered = [Sample(k * 250_000_000 + k, 70 + k, 60 * (k % 3)) for k in range(8)]
    with backend.fresh() as store:
        store.write_samples(KEY, scattered, Source.TAKEOUT)
        store.write_samples(KEY, dense, Source.GOOGLE_HEALTH)
        assert_exact(store)
        assert_refreshed(store)
        assert store.rebuild_aggregates() == {KEY: len(store.day_aggregates(KEY))}
        assert_refreshed(store)
        assert_exact(store)


def test_seconds_before_1970_fall_in_the_minute_they_belong_to(backend) -> None:
    """SQLite's integer `/` truncates toward zero: -30 // 60 is minute -1, not minute 0.  The
    write path (numpy), the SQL rebuild and the full check must all say the same."""
    before = [Sample(-3 * 86_400 + i * 7, 60 + i % 50, 60) for i in range(3_000)]
    with backend.fresh() as store:
        store.write_samples(KEY, before, Source.TAKEOUT)
        assert_refreshed(store)
        assert_exact(store)
        store.rebuild_aggregates()
        assert_refreshed(store)
        minutes = store.minute_aggregates(KEY, Window(-3 * 86_400, 0))
        assert int(minutes.samples.sum()) == len(before)
        assert (minutes.start_s % 60 == 0).all()
        assert minutes.start_s[0] == -3 * 86_400


@st.composite
def long_files(draw: st.DrawFn) -> list[list[Sample]]:
    """Files of an archive over three weeks: each a stretch of up to three days, 5–15 minutes
    between samples, an offset change inside; mostly in ascending order, sometimes not, with
    gaps or overlaps between them."""
    files = []
    start = T0 + draw(st.integers(0, 86_400))
    for _ in range(draw(st.integers(1, 8))):
        start += draw(st.integers(-86_400, 2 * 86_400))
        step = draw(st.integers(300, 900))
        count = draw(st.integers(1, 3 * 86_400 // step))
        switch = draw(st.integers(0, count))
        before, after = draw(st.sampled_from(OFFSETS)), draw(st.sampled_from(OFFSETS))
        files.append(
            [
                Sample(
                    start + i * step,
                    40 + (start + i * step) // 3 % 150,
                    before if i < switch else after,
                )
                for i in range(count)
            ]
        )
        start += count * step
    if draw(st.booleans()):
        files = draw(st.permutations(files))
    return files


def import_files(store: SqliteStore, files: list[list[Sample]], name: str) -> None:
    items: list[Sequence[Sample] | FileDone] = []
    for index, page in enumerate(files):
        items += [page, FileDone(f"{name}-{index}.csv")]
    load(store, KEY, items, Source.TAKEOUT, files_total=len(files), provenance=provenance(name),
         imported_s=0)  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=long_files(),
    second=long_files(),
    synced=st.lists(pages(), max_size=2),
    undo=st.booleans(),
)
def test_days_an_import_aggregates_from_its_columns_equal_a_recomputation(
    tmp_path: Path,
    first: list[list[Sample]],
    second: list[list[Sample]],
    synced: list[list[Sample]],
    undo: bool,
) -> None:
    """Imports of long files (the days inside a stretch of ascending, all-new files are stored
    from the columns as they are written, not read back): exact with or without synced samples
    around, a second archive over the first, an undo, before and after the refresh."""
    path = tmp_path / f"hk-{abs(hash(repr((first, second, synced, undo))))}.sqlite"
    with open_store(str(path)) as store:
        for page in synced:
            store.write_samples(KEY, page, Source.GOOGLE_HEALTH)
        import_files(store, first, "a")
        assert_exact(store)
        assert store.aggregate_problems(KEY, full=True) == []  # stored rows, dirty days aside
        import_files(store, second, "b")
        assert_exact(store)
        assert store.aggregate_problems(KEY, full=True) == []
        if undo:
            found = store.find_import(KEY, "takeout", provenance("a").digest)
            assert found is not None
            with store.transaction():
                store.undo_import(found.import_id)
            assert_exact(store)
        assert_refreshed(store)
        assert_exact(store)
    path.unlink()


def test_a_first_import_in_ascending_files_leaves_the_refresh_nothing_to_do(
    tmp_path: Path,
) -> None:
    """Ten days of day files in order, a DST change among them: every inner day is stored as
    the files are written; into an empty store, the refresh has nothing left."""
    files = []
    for day in range(10):
        offset = 120 if day < 5 else 60
        files.append(
            [Sample(T0 + day * 86_400 + i * 30, 50 + i % 100, offset) for i in range(2_880)]
        )
    with open_store(str(tmp_path / "hk.sqlite")) as store:
        import_files(store, files, "a")
        assert store.dirty_day_count(KEY) == 0  # nothing stored around: no edge day either
        assert len(store.day_aggregates(KEY)) == 10  # T0 is midnight at +02:00
        assert store.aggregate_problems(KEY, full=True) == []
        assert_exact(store)
        assert_refreshed(store)
