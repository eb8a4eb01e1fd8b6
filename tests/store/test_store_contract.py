"""The store contract: what importers, exporters and the sync engine may rely on.

Every test opens a real database — a SQLite file in a temp dir and, through the `backend`
fixture (tests/store/conftest.py), a PostgreSQL schema of its own — writes through the public
methods and reads back through them or through plain SQL, as a user of the database would.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartkeep.errors import StoreError
from heartkeep.model import Account, Daily, DailyKind, Sample, Source, Window, Zone
from heartkeep.store import StreamState, SyncStore, open_store
from heartkeep.store.migrations import LATEST_VERSION

KEY = "google-health:4809172653309184512"
T0 = 1_790_000_000


@pytest.fixture
def store(backend):
    return backend.fresh()


def _samples(start_s: int, count: int, step_s: int = 1, offset_min: int = 60) -> list[Sample]:
    return [Sample(start_s + i * step_s, 60 + i % 40, offset_min) for i in range(count)]


def test_open_store_creates_a_versioned_wal_database(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "hk.sqlite"
    open_store(str(path)).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_postgres_url_given_to_the_personal_commands_is_refused_clearly() -> None:
    with pytest.raises(StoreError, match="keeps its data in a SQLite file"):
        open_store("postgresql://localhost/heartkeep")


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="is not a heartkeep database"):
        open_store(str(path))


def test_a_newer_schema_is_refused_rather_than_guessed_at(tmp_path: Path) -> None:
    path = tmp_path / "hk.sqlite"
    open_store(str(path)).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(StoreError, match="newer heartkeep"):
        open_store(str(path))


def test_reopening_keeps_data_and_does_not_migrate_twice(backend) -> None:
    where = backend.location()
    with backend.open(where) as first:
        first.write_samples(KEY, _samples(T0, 10), Source.GOOGLE_HEALTH)
    with backend.open(where) as second:
        assert second.sample_count(KEY) == 10
    with backend.open(where, readonly=True) as reader:
        assert reader.sample_count(KEY) == 10


def test_accounts_round_trip_and_update_in_place(store: SyncStore) -> None:
    account = Account(
        "google-health", "4809172653309184512", "Ada", "Europe/Berlin", dt.date(2025, 10, 1)
    )
    store.upsert_account(account)
    assert store.accounts() == [account]
    moved = Account(
        "google-health", "4809172653309184512", "Ada L.", "America/New_York", dt.date(2025, 10, 1)
    )
    store.upsert_account(moved)
    assert store.account(KEY) == moved
    assert store.account("fitbit-legacy:NOPE12") is None


def test_writing_samples_for_an_unknown_account_creates_it(store: SyncStore) -> None:
    store.write_samples("takeout:ada", _samples(T0, 3), Source.TAKEOUT)
    assert [a.key for a in store.accounts()] == ["takeout:ada"]


def test_first_account_gets_id_zero_so_its_rows_are_smallest(backend, store) -> None:
    store.upsert_account(Account("google-health", "1"))
    store.upsert_account(Account("fitbit-legacy", "ABC123"))
    assert backend.rows(store, "SELECT id, key FROM account ORDER BY id") == [
        (0, "google-health:1"),
        (1, "fitbit-legacy:ABC123"),
    ]


def test_write_samples_is_an_upsert_and_counts_what_changed(store: SyncStore) -> None:
    first = store.write_samples(KEY, _samples(T0, 100), Source.GOOGLE_HEALTH)
    assert (first.inserted, first.updated) == (100, 0)
    again = store.write_samples(KEY, _samples(T0, 100), Source.GOOGLE_HEALTH)
    assert (again.inserted, again.updated) == (0, 0)
    revised = [Sample(T0 + 5, 150, 60), Sample(T0 + 1000, 70, 60)]
    changed = store.write_samples(KEY, revised, Source.GOOGLE_HEALTH)
    assert (changed.inserted, changed.updated) == (1, 1)
    assert store.sample_count(KEY) == 101
    got = [s for batch in store.iter_samples(KEY, Window(T0 + 5, T0 + 6)) for s in batch]
    assert got == [Sample(T0 + 5, 150, 60)]


def test_samples_come_back_ascending_in_batches_whatever_the_write_order(
    store: SyncStore,
) -> None:
    samples = _samples(T0, 25_000, step_s=2)
    store.write_samples(KEY, reversed(samples), Source.GOOGLE_HEALTH)
    batches = list(store.iter_samples(KEY, batch_size=10_000))
    assert [len(b) for b in batches] == [10_000, 10_000, 5_000]
    assert [s for b in batches for s in b] == samples


def test_window_reads_are_closed_open(store: SyncStore) -> None:
    store.write_samples(KEY, _samples(T0, 10), Source.GOOGLE_HEALTH)
    window = Window(T0 + 2, T0 + 5)
    assert [s.instant_s for b in store.iter_samples(KEY, window) for s in b] == [
        T0 + 2,
        T0 + 3,
        T0 + 4,
    ]
    assert store.sample_count(KEY, window) == 3
    assert store.sample_span(KEY) == Window(T0, T0 + 10)


def test_accounts_are_kept_apart(store: SyncStore) -> None:
    store.write_samples(KEY, _samples(T0, 10), Source.GOOGLE_HEALTH)
    store.write_samples("fitbit-legacy:ABC123", _samples(T0, 4), Source.FITBIT_LEGACY)
    assert store.sample_count(KEY) == 10
    assert store.sample_count("fitbit-legacy:ABC123") == 4
    assert store.sample_count("nobody:here") == 0
    assert store.sample_span("nobody:here") is None
    assert list(store.iter_samples("nobody:here")) == []


class Boom(RuntimeError):
    """Stands for any failure in the middle of a transaction."""


def test_a_failing_transaction_commits_nothing(store: SyncStore) -> None:
    def write_then_fail() -> None:
        with store.transaction():
            store.write_samples(KEY, _samples(T0, 50), Source.TAKEOUT)
            store.save_stream_state(KEY, "heart-rate", StreamState(complete_until_s=T0 + 50))
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert store.sample_count(KEY) == 0
    assert store.stream_state(KEY, "heart-rate") == StreamState()


def test_nested_transactions_commit_with_the_outer_one(store: SyncStore) -> None:
    def inner_fails() -> None:
        with store.transaction():
            store.write_samples(KEY, _samples(T0 + 100, 5), Source.TAKEOUT)
            raise Boom

    with store.transaction():
        store.write_samples(KEY, _samples(T0, 5), Source.TAKEOUT)
        with pytest.raises(Boom):
            inner_fails()
    # the inner block rolled back to its savepoint, the outer one committed
    assert store.sample_count(KEY) == 5


def test_dailies_round_trip_with_zones_and_filters(store: SyncStore) -> None:
    zones = (
        Zone("LIGHT", 98, 117, 42.5),
        Zone("MODERATE", 118, 140, 10.0),
        Zone("VIGOROUS", 141, 160, None),
        Zone("PEAK", 161, 220, 0.0),
    )
    days = [
        Daily(dt.date(2026, 3, 28), DailyKind.RESTING_HR, 57.0),
        Daily(dt.date(2026, 3, 29), DailyKind.RESTING_HR, 58.0),
        Daily(dt.date(2026, 3, 29), DailyKind.ZONES, zones=zones),
    ]
    assert store.write_dailies(KEY, days, Source.GOOGLE_HEALTH).inserted == 3
    assert store.write_dailies(KEY, days, Source.GOOGLE_HEALTH).inserted == 0
    assert store.dailies(KEY) == sorted(days, key=lambda d: (d.day, d.kind.value))
    assert store.dailies(KEY, start=dt.date(2026, 3, 29), kind=DailyKind.ZONES) == [days[2]]
    assert store.dailies(KEY, end=dt.date(2026, 3, 29)) == [days[0]]
    result = store.write_dailies(
        KEY, [Daily(dt.date(2026, 3, 28), DailyKind.RESTING_HR, 56.0)], Source.GOOGLE_HEALTH
    )
    assert (result.inserted, result.updated) == (0, 1)


def test_readable_views_show_iso_times_local_dates_and_names(backend, store) -> None:
    # 2026-03-29 00:30:00Z is 01:30 in Berlin (winter, +60) — and 23:30 the day before in New York
    instant = int(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC).timestamp())
    store.write_samples(KEY, [Sample(instant, 61, 60)], Source.GOOGLE_HEALTH)
    store.write_samples("takeout:ny", [Sample(instant, 62, -240)], Source.TAKEOUT)
    store.write_samples("takeout:in", [Sample(instant, 63, 330)], Source.TAKEOUT)
    store.write_samples("takeout:nf", [Sample(instant, 64, -150)], Source.TAKEOUT)
    rows = backend.rows(
        store,
        "SELECT account, time_utc, time_local, local_date, bpm, utc_offset_min, source "
        "FROM heart_rate_readable ORDER BY bpm",
    )
    assert rows == [
        (
            KEY,
            "2026-03-29T00:30:00Z",
            "2026-03-29T01:30:00+01:00",
            "2026-03-29",
            61,
            60,
            "google-health",
        ),
        (
            "takeout:ny",
            "2026-03-29T00:30:00Z",
            "2026-03-28T20:30:00-04:00",
            "2026-03-28",
            62,
            -240,
            "takeout",
        ),
        (
            "takeout:in",
            "2026-03-29T00:30:00Z",
            "2026-03-29T06:00:00+05:30",
            "2026-03-29",
            63,
            330,
            "takeout",
        ),
        (
            "takeout:nf",
            "2026-03-29T00:30:00Z",
            "2026-03-28T22:00:00-02:30",
            "2026-03-28",
            64,
            -150,
            "takeout",
        ),
    ]


def test_source_table_matches_the_source_enum(backend, store) -> None:
    rows = backend.rows(store, "SELECT code, name FROM source ORDER BY code")
    assert rows == [(s.code, s.value) for s in Source]


def test_stream_state_ledger_and_runs_round_trip(store: SyncStore) -> None:
    from heartkeep.store import LedgerEntry

    state = StreamState(
        covered_from_s=T0,
        complete_until_s=T0 + 10,
        job_lo_s=T0 + 5,
        job_hi_s=T0 + 100,
        job_frontier_s=T0 + 50,
        last_success_s=T0 + 99,
    )
    store.save_stream_state(KEY, "heart-rate", state)
    assert store.stream_state(KEY, "heart-rate") == state
    assert store.stream_state(KEY, "daily-heart-rate-zones") == StreamState()
    entry = LedgerEntry("heart-rate", T0, T0 - 100, T0, 2, 500, 400, 3)
    store.record_fetch(KEY, entry)
    assert store.ledger(KEY) == [entry]
    run = store.begin_run(KEY, T0)
    assert store.runs(KEY)[0].status == "running"
    store.finish_run(
        run, finished_s=T0 + 3, status="ok", requests=7, samples_added=400, rate_limit_waits=1
    )
    latest = store.runs(KEY)[0]
    assert (latest.status, latest.requests, latest.samples_added, latest.finished_s) == (
        "ok",
        7,
        400,
        T0 + 3,
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5_000), st.integers(30, 220), st.sampled_from([-300, 0, 60, 120, 345])
        ),
        max_size=300,
    )
)
def test_any_write_sequence_reads_back_as_last_write_and_largest_reading(backend, rows) -> None:
    """Across writes the later one wins; within one write, the larger reading of a second."""
    with backend.fresh() as store:
        half = len(rows) // 2
        store.write_samples(KEY, [Sample(T0 + i, b, o) for i, b, o in rows[:half]], Source.TAKEOUT)
        store.write_samples(KEY, [Sample(T0 + i, b, o) for i, b, o in rows[half:]], Source.TAKEOUT)
        expected: dict[int, Sample] = {}
        for part in (rows[:half], rows[half:]):
            written: dict[int, Sample] = {}
            for i, b, o in part:
                written[T0 + i] = max(
                    written.get(T0 + i, Sample(0, 0, -10_000)), Sample(T0 + i, b, o)
                )
            expected.update(written)
        got = [s for batch in store.iter_samples(KEY, batch_size=7) for s in batch]
        assert got == [expected[k] for k in sorted(expected)]
        assert store.sample_count(KEY) == len(expected)


def test_a_large_newest_first_load_is_repacked_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heartkeep.store import sqlite as backend

    store = open_store(str(tmp_path / "hk.sqlite"))
    monkeypatch.setattr(backend, "COMPACT_AFTER_ROWS", 20_000)
    samples = _samples(T0, 50_000, step_s=3)
    for end in range(len(samples), 0, -10_000):  # pages newest first, as a sync writes them
        store.write_samples(KEY, samples[max(0, end - 10_000) : end], Source.GOOGLE_HEALTH)
    path = tmp_path / "hk.sqlite"

    def size() -> int:
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path.stat().st_size

    before = size()
    assert not store.after_bulk_write(12_000)  # counted, not yet worth a repack
    assert store.after_bulk_write(len(samples) - 12_000)
    assert not store.after_bulk_write(1)  # the count starts again
    assert size() < before * 0.95
    assert store.sample_count(KEY) == len(samples)
    store.close()


# --- PostgreSQL only ----------------------------------------------------------------------------


def test_a_newer_postgres_schema_is_refused_rather_than_guessed_at(postgres_url: str) -> None:
    from heartkeep.store import open_postgres_store
    from heartkeep.store.postgres_schema import LATEST_VERSION as PG_LATEST

    with open_postgres_store(postgres_url) as store:
        store._conn.execute(
            "UPDATE store_meta SET value = %s WHERE key = 'schema_version'", (PG_LATEST + 1,)
        )
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer heartkeep") as refused:
            open_postgres_store(postgres_url, readonly=readonly)
        assert refused.value.exit_code == 9


def test_a_reader_finds_no_store_in_an_empty_postgres_database(postgres_url: str) -> None:
    from heartkeep.store import open_postgres_store
    from heartkeep.store.failures import NoDatabase

    with pytest.raises(NoDatabase, match="no heartkeep store"):
        open_postgres_store(postgres_url, readonly=True)


def test_an_unreachable_postgres_server_is_a_store_error_without_the_password() -> None:
    from heartkeep.store import open_postgres_store

    where = r"could not connect to PostgreSQL at 127\.0\.0\.1:9/study"
    with pytest.raises(StoreError, match=where) as down:
        open_postgres_store("postgresql://ada:s3cret-pw@127.0.0.1:9/study")
    assert down.value.exit_code == 9
    assert "s3cret-pw" not in str(down.value)
