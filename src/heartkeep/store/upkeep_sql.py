"""The half of the aggregates' upkeep that needs no numpy: SQL, dirty marks and `hr_day` rows.

Why a module of its own: every write of samples goes through here inside the writer's
transaction, and most are small — an hourly sync finds a few hundred new samples — so this half
loads nothing heavy (issue 11: an up-to-date sync in ≤ 0.15 s of CPU, of which numpy alone
would take 0.06 s).  The rules are `aggregate_upkeep.py`'s (its docstring says why): `hr_minute`
recomputed in SQL for the minutes a write touched, or added to from the rows of an all-new
write; the days a write may change marked dirty; `hr_day` rows written and read as plain values.
The numpy half computes days from samples (`aggregate_upkeep.py`); `appended_days.py` keeps days
current for samples appended after all others without it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from heartkeep.aggregates import DayAggregate, day_of_ordinal, ordinal_of_day
from heartkeep.store.day_range import FIRST_ORDINAL, MAX_OFFSET_MIN, check_days, check_offsets

DAY_S = 86_400
# Touched minutes closer than this are recomputed by one statement (re-reading the few samples
# between them is cheaper than another statement).
MINUTE_RUN_GAP = 60
# Dirty days this close are computed in one pass over the samples (each pass reads a day more
# on either side).
DAY_RUN_GAP = 3
# Dirty days refreshed per transaction: a month is well under a second, so a sync waiting for
# the write lock never waits long.
REFRESH_CHUNK_DAYS = 31

# An instant's UTC minute, rounded down as numpy's `// 60` does: SQLite's `/` truncates toward
# zero, which put each second before 1970 in the wrong minute.
MINUTE_OF_INSTANT_SQL = "((instant - ((instant % 60) + 60) % 60) / 60)"
_MINUTES_SQL = (
    "INSERT INTO hr_minute (account_id, minute, n, sum_bpm, min_bpm, max_bpm) "  # noqa: S608
    f"SELECT account_id, {MINUTE_OF_INSTANT_SQL}, count(*), sum(bpm), min(bpm), max(bpm) "
    "FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant < ? "
    f"GROUP BY {MINUTE_OF_INSTANT_SQL}"
)
DAY_COLUMNS = (
    "day, samples, sum_bpm, min_bpm, max_bpm, wear_s, first_s, first_offset_min, last_s, "
    "last_offset_min, previous_s, previous_offset_min, resting_estimate, seconds_by_bpm"
)


def runs(values: Sequence[int], gap: int) -> list[tuple[int, int]]:
    """Sorted integers as [lo, hi] runs, neighbours at most `gap` apart in one run."""
    found: list[tuple[int, int]] = []
    for value in values:
        if found and value - found[-1][1] <= gap:
            found[-1] = (found[-1][0], value)
        else:
            found.append((value, value))
    return found


def iso_day(ordinal: int) -> str:
    return day_of_ordinal(ordinal).isoformat()


def ordinal_of(day: str) -> int:
    return ordinal_of_day(dt.date.fromisoformat(day))


# --- the write side: inside the writer's transaction ---------------------------------------------


def samples_changed(
    db: sqlite3.Connection,
    account_id: int,
    minutes: Iterable[int],
    offsets_min: tuple[int, int] = (0, 0),
) -> None:
    """Recompute `hr_minute` for the UTC `minutes` whose samples were just written or deleted,
    and mark the days they may change dirty.  `offsets_min` is the (lowest, highest) offset of
    the rows written or deleted, for days beyond the usual one either side of UTC."""
    ordered = sorted(set(minutes))
    for lo, hi in runs(ordered, MINUTE_RUN_GAP):
        db.execute(
            "DELETE FROM hr_minute WHERE account_id = ? AND minute >= ? AND minute <= ?",
            (account_id, lo, hi),
        )
        db.execute(_MINUTES_SQL, (account_id, lo * 60, (hi + 1) * 60))
    mark_dirty(db, account_id, ordered, offsets_min)


MINUTES_ADD_SQL = (
    "INSERT INTO hr_minute (account_id, minute, n, sum_bpm, min_bpm, max_bpm) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, minute) DO UPDATE "
    "SET n = n + excluded.n, sum_bpm = sum_bpm + excluded.sum_bpm, "
    "min_bpm = min(min_bpm, excluded.min_bpm), max_bpm = max(max_bpm, excluded.max_bpm)"
)


def minutes_of_rows(account_id: int, rows: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """(account, minute, n, sum, min, max) of (instant, bpm, …) rows ascending by instant: what
    numpy's `reduceat` gives for an all-new write, in plain Python for a small one."""
    found: list[tuple[int, ...]] = []
    minute = n = total = low = high = 0
    for row in rows:
        instant, bpm = row[0], row[1]
        if n and instant // 60 == minute:
            n += 1
            total += bpm
            low = min(low, bpm)
            high = max(high, bpm)
            continue
        if n:
            found.append((account_id, minute, n, total, low, high))
        minute, n, total, low, high = instant // 60, 1, bpm, bpm, bpm
    if n:
        found.append((account_id, minute, n, total, low, high))
    return found


def minutes_added(
    db: sqlite3.Connection,
    account_id: int,
    rows: Sequence[Sequence[int]],
    offsets_min: tuple[int, int],
) -> None:
    """`aggregate_upkeep.samples_added` for a small write of all-new rows (ascending, distinct
    instants), without numpy: their minutes added to `hr_minute`, their days marked dirty."""
    minutes = minutes_of_rows(account_id, rows)
    db.executemany(MINUTES_ADD_SQL, minutes)
    mark_dirty(db, account_id, [row[1] for row in minutes], offsets_min)


def mark_dirty(
    db: sqlite3.Connection,
    account_id: int,
    minutes: Sequence[int],
    offsets_min: tuple[int, int],
) -> None:
    """Mark the days that samples in these (ascending) UTC minutes may change dirty (their
    offsets, in `offsets_min`, within a day of UTC: see `MAX_OFFSET_MIN`)."""
    check_offsets(offsets_min)
    low_offset, high_offset = -MAX_OFFSET_MIN, MAX_OFFSET_MIN
    dirty: set[int] = set()
    for lo, hi in runs(minutes, MINUTE_RUN_GAP):
        start_s, end_s = lo * 60, (hi + 1) * 60
        first = (start_s + low_offset * 60) // DAY_S
        last = (end_s - 1 + high_offset * 60) // DAY_S
        check_days(first, last, start_s if first < FIRST_ORDINAL else hi * 60)
        dirty.update(range(first, last + 1))
        for neighbour in _neighbours(db, account_id, start_s, end_s):
            day = (neighbour[0] + neighbour[1] * 60) // DAY_S
            check_days(day, day, neighbour[0])
            dirty.add(day)
    db.executemany(
        "INSERT OR IGNORE INTO hr_day_dirty (account_id, day) VALUES (?, ?)",
        [(account_id, iso_day(ordinal)) for ordinal in sorted(dirty)],
    )


def _neighbours(
    db: sqlite3.Connection, account_id: int, start_s: int, end_s: int
) -> list[tuple[int, int]]:
    """The samples just before `start_s` and at or after `end_s`, (instant, offset), if any."""
    found = [
        db.execute(
            "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant < ? "
            "ORDER BY instant DESC LIMIT 1",
            (account_id, start_s),
        ).fetchone(),
        db.execute(
            "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant >= ? "
            "ORDER BY instant LIMIT 1",
            (account_id, end_s),
        ).fetchone(),
    ]
    return [(int(row[0]), int(row[1])) for row in found if row is not None]


# --- hr_day rows ----------------------------------------------------------------------------------


def day_row(account_id: int, aggregate: DayAggregate) -> tuple[Any, ...]:
    previous = aggregate.previous or (None, None)
    return (
        account_id,
        aggregate.day.isoformat(),
        aggregate.samples,
        aggregate.sum_bpm,
        aggregate.min_bpm,
        aggregate.max_bpm,
        aggregate.wear_s,
        *aggregate.first,
        *aggregate.last,
        *previous,
        aggregate.resting_estimate,
        aggregate.seconds_by_bpm,
    )


def aggregate_from_row(row: Sequence[Any]) -> DayAggregate:
    return DayAggregate(
        day=dt.date.fromisoformat(row[0]),
        samples=row[1],
        sum_bpm=row[2],
        min_bpm=row[3],
        max_bpm=row[4],
        wear_s=row[5],
        first=(row[6], row[7]),
        last=(row[8], row[9]),
        previous=None if row[10] is None else (row[10], row[11]),
        resting_estimate=row[12],
        seconds_by_bpm=bytes(row[13]),
    )


def dirty_days(db: sqlite3.Connection, account_id: int) -> list[str]:
    return [
        day
        for (day,) in db.execute(
            "SELECT day FROM hr_day_dirty WHERE account_id = ? ORDER BY day", (account_id,)
        )
    ]


def store_days(
    db: sqlite3.Connection, account_id: int, days: Sequence[str], fresh: Iterable[DayAggregate]
) -> None:
    """Replace these days' rows by `fresh` (exact aggregates of all their samples; a day
    without one has no samples) and clear their dirty marks."""
    keys = [(account_id, day) for day in days]
    db.executemany("DELETE FROM hr_day WHERE account_id = ? AND day = ?", keys)
    db.executemany(
        f"INSERT INTO hr_day (account_id, {DAY_COLUMNS}) "  # noqa: S608 - our own column list
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [day_row(account_id, aggregate) for aggregate in fresh],
    )
    db.executemany("DELETE FROM hr_day_dirty WHERE account_id = ? AND day = ?", keys)


def chunks(days: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(days), REFRESH_CHUNK_DAYS):
        yield days[index : index + REFRESH_CHUNK_DAYS]
