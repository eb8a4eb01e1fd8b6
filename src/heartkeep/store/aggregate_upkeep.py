"""Keeping `hr_minute` and `hr_day` in step with `heart_rate`, on a plain SQLite connection.

Why these rules (docs/schema.md, "Aggregates"):

- `hr_minute` is recomputed, in the writer's own transaction, for exactly the UTC minutes a
  write or delete touched: one `INSERT … SELECT … GROUP BY instant / 60` per run of touched
  minutes, so its cost follows what was written.
- A day's aggregate depends on all its samples and on two samples outside it (the one after its
  last sample, whose gap weighs that sample; the one before its first, which tells when the day
  began), so a write marks days *dirty* — the days its samples may fall on under any offset
  (within a day of UTC), and the days of its two outside neighbours — instead of recomputing
  whole days for every page.  `refresh` recomputes the dirty days from the samples in one pass
  at the end of a sync or an import; readers compute dirty days on the fly (`compute_days`),
  so an answer is exact even after a writer was killed between its commit and the refresh.

Functions here take the connection and leave transactions to the caller (`SqliteStore`, or the
upgrade in `opening.py`).  numpy loads with this module, which only large writes, refreshes and
summaries need; the half of the rules that needs no numpy (SQL, dirty marks, `hr_day` rows) is
`upkeep_sql.py`, re-exported here.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat

import numpy as np
import numpy.typing as npt

from heartkeep.aggregates import DayAggregate, ordinal_of_day
from heartkeep.day_aggregator import Aggregator
from heartkeep.store.sample_tables import sample_tables
from heartkeep.store.upkeep_sql import (
    DAY_COLUMNS,
    DAY_RUN_GAP,
    DAY_S,
    MINUTE_OF_INSTANT_SQL,
    MINUTE_RUN_GAP,
    MINUTES_ADD_SQL,
    REFRESH_CHUNK_DAYS,
    aggregate_from_row,
    chunks,
    day_row,
    dirty_days,
    mark_dirty,
    ordinal_of,
    runs,
    samples_changed,
    store_days,
)


def samples_added(
    db: sqlite3.Connection,
    account_id: int,
    instants: npt.NDArray[np.int64],
    bpm: npt.NDArray[np.int64],
    offsets_min: tuple[int, int],
) -> None:
    """`samples_changed` for the common case of rows that were all new (a backfill page, a
    first import): their minutes are added to `hr_minute` from the arrays, with no re-read of
    `heart_rate`.  `instants` ascending and distinct, `bpm` alongside."""
    # Ascending instants: a minute's samples are neighbours (no sort, unlike np.unique).
    of_sample = instants // 60
    heads = np.flatnonzero(np.concatenate(([True], of_sample[1:] != of_sample[:-1])))
    minutes = of_sample[heads]
    counts = np.diff(heads, append=len(of_sample))
    db.executemany(
        MINUTES_ADD_SQL,
        zip(
            repeat(account_id, len(minutes)),
            minutes.tolist(),
            counts.tolist(),
            np.add.reduceat(bpm, heads).tolist(),
            np.minimum.reduceat(bpm, heads).tolist(),
            np.maximum.reduceat(bpm, heads).tolist(),
            strict=True,
        ),
    )
    mark_dirty(db, account_id, minutes.tolist(), offsets_min)


# --- computing days from samples ----------------------------------------------------------------


def aggregate_range(
    db: sqlite3.Connection,
    account_id: int,
    start_s: int,
    end_s: int,
    minutes: list[npt.NDArray[np.int64]] | None = None,
) -> Iterator[DayAggregate]:
    """Aggregates of every day with samples in [start_s, end_s), days at the two edges partial
    (callers keep the days they know to be whole); edge samples weighed against the store's
    real neighbours.  With `minutes`, the same pass appends the per-minute rows (minute, n,
    sum, min, max) of the range to it, as tables."""
    before = db.execute(
        "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant < ? "
        "ORDER BY instant DESC LIMIT 1",
        (account_id, start_s),
    ).fetchone()
    after = db.execute(
        "SELECT instant FROM heart_rate WHERE account_id = ? AND instant >= ? "
        "ORDER BY instant LIMIT 1",
        (account_id, end_s),
    ).fetchone()
    aggregator = Aggregator(before=None if before is None else (int(before[0]), int(before[1])))
    pending = np.zeros((0, 3), dtype=np.int64)  # the rows of a minute the next table may continue
    for table in sample_tables(db, account_id, start_s, end_s):
        if minutes is not None:
            rows = np.concatenate([pending, table])
            cut = int(np.searchsorted(rows[:, 0], rows[-1, 0] // 60 * 60))
            minutes.append(minute_rows(rows[:cut]))
            pending = rows[cut:]
        yield from aggregator.feed(table)
    if minutes is not None:
        minutes.append(minute_rows(pending))
    yield from aggregator.close(None if after is None else int(after[0]))


def minute_rows(table: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """(minute, n, sum_bpm, min_bpm, max_bpm) rows of instant-ascending sample rows."""
    if len(table) == 0:
        return np.zeros((0, 5), dtype=np.int64)
    bpm = table[:, 1]
    minutes, heads, counts = np.unique(table[:, 0] // 60, return_index=True, return_counts=True)
    return np.column_stack(
        [
            minutes,
            counts,
            np.add.reduceat(bpm, heads),
            np.minimum.reduceat(bpm, heads),
            np.maximum.reduceat(bpm, heads),
        ]
    ).astype(np.int64)


def compute_days(
    db: sqlite3.Connection, account_id: int, ordinals: Iterable[int]
) -> dict[int, DayAggregate]:
    """The aggregates of these local days from the samples (a day without samples is absent).

    Each run of nearby days is one pass over its samples, a day wider on either side: a local
    day's samples lie within a day of its UTC midnight."""
    wanted = set(ordinals)
    found: dict[int, DayAggregate] = {}
    for lo, hi in runs(sorted(wanted), DAY_RUN_GAP):
        for aggregate in aggregate_range(db, account_id, (lo - 1) * DAY_S, (hi + 2) * DAY_S):
            ordinal = ordinal_of_day(aggregate.day)
            if ordinal in wanted and lo <= ordinal <= hi:
                found[ordinal] = aggregate
    return found


# --- hr_day rows ----------------------------------------------------------------------------------


def stored_days(
    db: sqlite3.Connection, account_id: int, start: dt.date | None, end: dt.date | None
) -> tuple[dict[str, DayAggregate], list[str]]:
    """`hr_day` rows and dirty days with start <= day < end (either end open)."""
    span = (account_id, start.isoformat() if start else "", end.isoformat() if end else "~")
    rows = db.execute(
        f"SELECT {DAY_COLUMNS} FROM hr_day "  # noqa: S608 - our own column list
        "WHERE account_id = ? AND day >= ? AND day < ? ORDER BY day",
        span,
    ).fetchall()
    dirty = [
        day
        for (day,) in db.execute(
            "SELECT day FROM hr_day_dirty WHERE account_id = ? AND day >= ? AND day < ? "
            "ORDER BY day",
            span,
        )
    ]
    return {row[0]: aggregate_from_row(row) for row in rows}, dirty


def current_days(
    db: sqlite3.Connection, account_id: int, start: dt.date | None, end: dt.date | None
) -> list[DayAggregate]:
    """Exact aggregates for start <= day < end: stored rows, dirty days from the samples."""
    stored, dirty = stored_days(db, account_id, start, end)
    if dirty:
        fresh = compute_days(db, account_id, map(ordinal_of, dirty))
        for day in dirty:
            stored.pop(day, None)
        stored.update({aggregate.day.isoformat(): aggregate for aggregate in fresh.values()})
    return [stored[day] for day in sorted(stored)]


def refresh_days(db: sqlite3.Connection, account_id: int, days: Sequence[str]) -> None:
    """Recompute these (dirty) days' rows from the samples and clear their dirty marks; call in
    one transaction so a reader sees either the old row and the mark or the new row alone."""
    store_days(db, account_id, days, compute_days(db, account_id, map(ordinal_of, days)).values())


def refresh_all(db: sqlite3.Connection) -> int:
    """Refresh every account's dirty days on an autocommit connection, a transaction per chunk
    (the schema-5 upgrade: a killed upgrade leaves days dirty, never wrong).  Days refreshed."""
    accounts = [row[0] for row in db.execute("SELECT DISTINCT account_id FROM hr_day_dirty")]
    done = 0
    for account_id in accounts:
        for chunk in chunks(dirty_days(db, account_id)):
            db.execute("BEGIN IMMEDIATE")
            try:
                refresh_days(db, account_id, chunk)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            done += len(chunk)
    return done


def rebuild(db: sqlite3.Connection, account_id: int) -> int:
    """Every aggregate of the account from scratch, in the caller's transaction; days stored."""
    for table in ("hr_minute", "hr_day", "hr_day_dirty"):
        db.execute(f"DELETE FROM {table} WHERE account_id = ?", (account_id,))  # noqa: S608
    minutes: list[npt.NDArray[np.int64]] = []
    rows = [
        day_row(account_id, aggregate)
        for aggregate in aggregate_range(db, account_id, -(2**62), 2**62, minutes)
    ]
    # The minutes from the same pass: one read of the samples for both tables.
    for part in minutes:
        db.executemany(
            "INSERT INTO hr_minute (account_id, minute, n, sum_bpm, min_bpm, max_bpm) "  # noqa: S608
            f"VALUES ({int(account_id)}, ?, ?, ?, ?, ?)",
            part.tolist(),
        )
    db.executemany(
        f"INSERT INTO hr_day (account_id, {DAY_COLUMNS}) "  # noqa: S608 - our own column list
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


__all__ = [
    "DAY_COLUMNS",
    "DAY_RUN_GAP",
    "DAY_S",
    "MINUTE_OF_INSTANT_SQL",
    "MINUTE_RUN_GAP",
    "REFRESH_CHUNK_DAYS",
    "aggregate_from_row",
    "aggregate_range",
    "chunks",
    "compute_days",
    "current_days",
    "day_row",
    "dirty_days",
    "mark_dirty",
    "minute_rows",
    "rebuild",
    "refresh_all",
    "refresh_days",
    "runs",
    "samples_added",
    "samples_changed",
    "store_days",
    "stored_days",
]
