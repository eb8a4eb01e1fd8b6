"""Day aggregates of a few samples appended after all others, updated in place without numpy.

Why: an hourly sync finds a few hundred new samples, all after the newest one stored.  Marking
their days dirty made the sync's closing refresh recompute two or three whole days from the
samples with numpy — loading numpy alone was a fifth of an up-to-date sync's CPU (issue 11:
≤ 0.15 s).  Samples appended after the newest stored one `last` change only the days they
fall on and the day of `last` (the gap to the first new sample now weighs `last`), so those
days' stored rows, exact when none of them is dirty, are brought up to date by adding the new
samples — the rules of `day_aggregator.Aggregator`, sample for sample:

- each new sample weighs the gap to the next one (capped at `GAP_CAP_S`), the newest nothing;
- counts, sums, extremes, wear and the histogram add up; `last` moves to the newest of the day;
- a day that had no sample gets its `first` and the sample before it (`previous`);
- the resting estimate takes every minute of the day: read from `hr_minute` (already current)
  when every sample of the day's minutes has the day's one offset — checked in SQL, no row
  read into Python — or when the day has fewer than `MIN_RESTING_MINUTES` minutes at all.

Whenever that cannot be sure (a day is dirty, a minute mixes offsets, a day lies at the edge of
the calendar), nothing is written and the caller marks the days dirty as before: the refresh
computes them from the samples, as exact and as slow as ever.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import msgspec

from heartkeep.aggregates import (
    BINS,
    GAP_CAP_S,
    MIN_RESTING_MINUTES,
    DayAggregate,
    day_of_ordinal,
    resting_estimate_of,
)
from heartkeep.store.day_range import FIRST_ORDINAL, LAST_ORDINAL, MAX_OFFSET_MIN
from heartkeep.store.upkeep_sql import DAY_COLUMNS, DAY_S, aggregate_from_row, store_days

Row = tuple[int, int, int]  # (instant_s, bpm, offset_min), as `Sample` and the store have them


def newest_sample(db: sqlite3.Connection, account_id: int) -> Row | None:
    """The account's newest stored sample (one index lookup), before a small write."""
    row = db.execute(
        "SELECT instant, bpm, offset_min FROM heart_rate WHERE account_id = ? "
        "ORDER BY instant DESC LIMIT 1",
        (account_id,),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def _day_of(row: Row) -> int:
    return (row[0] + row[2] * 60) // DAY_S


class _Change:
    """What the new samples add to one day."""

    def __init__(self) -> None:
        self.samples = 0
        self.sum_bpm = 0
        self.min_bpm = 10**6
        self.max_bpm = -1
        self.wear_s = 0
        self.seconds: dict[int, int] = {}  # histogram bin -> seconds added
        self.first: Row | None = None
        self.previous: Row | None = None  # the sample before `first`
        self.last: Row | None = None

    def weigh(self, row: Row, weight: int) -> None:
        self.wear_s += weight
        if weight:
            bin_ = min(max(row[1], 0), BINS - 1)
            self.seconds[bin_] = self.seconds.get(bin_, 0) + weight

    def add(self, row: Row, previous: Row | None) -> None:
        if self.first is None:
            self.first, self.previous = row, previous
        self.last = row
        self.samples += 1
        self.sum_bpm += row[1]
        self.min_bpm = min(self.min_bpm, row[1])
        self.max_bpm = max(self.max_bpm, row[1])


def days_appended(
    db: sqlite3.Connection, account_id: int, last: Row | None, rows: Sequence[Row]
) -> bool:
    """Bring the day rows up to date for `rows` just written (ascending, distinct instants,
    all after `last`, the newest sample stored before them; `hr_minute` already counts
    them), in the writer's transaction.  False when it cannot be sure: nothing was written,
    and the caller marks the days dirty instead."""
    if not rows or (last is not None and rows[0][0] <= last[0]):
        return False
    changes: dict[int, _Change] = {}
    if last is not None:
        # The newest stored sample weighed nothing; now it weighs the gap to the first new one.
        changes[_day_of(last)] = _Change()
        changes[_day_of(last)].weigh(last, min(rows[0][0] - last[0], GAP_CAP_S))
    previous = last
    for index, row in enumerate(rows):
        change = changes.get(_day_of(row))
        if change is None:
            change = changes[_day_of(row)] = _Change()
        change.add(row, previous)
        following = rows[index + 1][0] if index + 1 < len(rows) else None
        change.weigh(row, 0 if following is None else min(following - row[0], GAP_CAP_S))
        previous = row
    # Days near the calendar's ends are the general path's (it refuses what it must).
    if rows[0][0] // DAY_S - 2 < FIRST_ORDINAL or rows[-1][0] // DAY_S + 2 > LAST_ORDINAL:
        return False
    names = [day_of_ordinal(ordinal).isoformat() for ordinal in sorted(changes)]
    marks = ", ".join("?" * len(names))
    dirty = db.execute(
        f"SELECT 1 FROM hr_day_dirty WHERE account_id = ? AND day IN ({marks}) LIMIT 1",  # noqa: S608
        (account_id, *names),
    ).fetchone()
    if dirty is not None:
        return False  # a stored row that is not exact cannot be added to
    stored = {
        row[0]: aggregate_from_row(row)
        for row in db.execute(
            f"SELECT {DAY_COLUMNS} FROM hr_day WHERE account_id = ? AND day IN ({marks})",  # noqa: S608
            (account_id, *names),
        )
    }
    fresh: list[DayAggregate] = []
    for name, ordinal in zip(names, sorted(changes), strict=True):
        day = _updated(stored.get(name), changes[ordinal], ordinal)
        if day is None:
            return False
        sure, resting = _resting_estimate(db, account_id, day)
        if not sure:
            return False
        fresh.append(msgspec.structs.replace(day, resting_estimate=resting))
    store_days(db, account_id, names, fresh)
    return True


def _updated(before: DayAggregate | None, change: _Change, ordinal: int) -> DayAggregate | None:
    """The day with the change added (its resting estimate still the old one); None when the
    store does not hold what it should (the newest sample's day without a row)."""
    seconds = bytearray(before.seconds_by_bpm if before else bytes(4 * BINS))
    for bin_, added in change.seconds.items():
        at = slice(4 * bin_, 4 * bin_ + 4)
        seconds[at] = (int.from_bytes(seconds[at], "little") + added).to_bytes(4, "little")
    if before is None:
        if change.first is None or change.last is None:
            return None
        return DayAggregate(
            day=day_of_ordinal(ordinal),
            samples=change.samples,
            sum_bpm=change.sum_bpm,
            min_bpm=change.min_bpm,
            max_bpm=change.max_bpm,
            wear_s=change.wear_s,
            first=(change.first[0], change.first[2]),
            last=(change.last[0], change.last[2]),
            previous=None if change.previous is None else (change.previous[0], change.previous[2]),
            resting_estimate=None,
            seconds_by_bpm=bytes(seconds),
        )
    return msgspec.structs.replace(
        before,
        samples=before.samples + change.samples,
        sum_bpm=before.sum_bpm + change.sum_bpm,
        min_bpm=min(before.min_bpm, change.min_bpm),
        max_bpm=max(before.max_bpm, change.max_bpm),
        wear_s=before.wear_s + change.wear_s,
        last=before.last if change.last is None else (change.last[0], change.last[2]),
        seconds_by_bpm=bytes(seconds),
    )


def _resting_estimate(
    db: sqlite3.Connection, account_id: int, day: DayAggregate
) -> tuple[bool, float | None]:
    """(True, the day's resting estimate) from `hr_minute`, or (False, None) when its minutes
    may hold samples of another day (a minute whose samples do not all have its one offset)."""
    first_s, offset = day.first
    last_s, last_offset = day.last
    low_minute, high_minute = first_s // 60, last_s // 60
    minutes = db.execute(
        "SELECT n, sum_bpm FROM hr_minute WHERE account_id = ? AND minute >= ? AND minute <= ?",
        (account_id, low_minute, high_minute),
    ).fetchall()
    if len(minutes) < MIN_RESTING_MINUTES:
        return True, None  # the day's minutes are among these: too few for an estimate
    if offset != last_offset or abs(offset) > MAX_OFFSET_MIN:
        return False, None
    # One offset from the first sample to the last: every sample between lies on the day, and
    # so does every sample of the minutes at either end (a local day starts on a minute).
    other = db.execute(
        "SELECT 1 FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant < ? "
        "AND offset_min != ? LIMIT 1",
        (account_id, low_minute * 60, (high_minute + 1) * 60, offset),
    ).fetchone()
    if other is not None:
        return False, None
    return True, resting_estimate_of([total / n for n, total in minutes])


__all__ = ["Row", "days_appended", "newest_sample"]
