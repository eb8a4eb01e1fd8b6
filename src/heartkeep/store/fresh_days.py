"""Day aggregates of an import from the columns it has just written, instead of reading them back.

Why: the refresh that ends an import recomputes every day the import wrote from the samples,
and for a first import that is reading the whole import back (issue 11: a fifth of its CPU).
When an import writes its files in ascending time into a stretch of the store that held no
sample — a first import, or an archive newer than everything stored — the store's samples over
that stretch are exactly the columns written, so an `Aggregator` (the one code path from samples
to days) fed with those columns gives what the refresh would compute.  Only the days no
sample outside the stretch can fall on are certain that way: offsets are within a day of UTC
(`day_range.MAX_OFFSET_MIN`), so the stored samples just before and after the stretch, if any,
may share a day or two at its ends.  Those edge days stay dirty, and the refresh computes them
as before; into an empty store, none is left.

A run is a stretch in the making.  `FreshRun.continues` says whether a write may extend it
(same account, later than the run, nothing stored in between, nothing written since behind its
back: `sqlite3.Connection.total_changes` moved only by the run's own writes); otherwise the
caller ends it with `finish` — which stores the inner days and clears their dirty marks, in the
writer's transaction — before the next write changes the store.  A run that is dropped instead
(a rollback) only leaves its days dirty, never wrong.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import numpy as np

from heartkeep.aggregates import DayAggregate, day_of_ordinal, ordinal_of_day
from heartkeep.day_aggregator import Aggregator
from heartkeep.model import SampleColumns
from heartkeep.store.aggregate_upkeep import DAY_S, store_days
from heartkeep.store.day_range import FIRST_ORDINAL, LAST_ORDINAL, MAX_OFFSET_MIN


@dataclass
class FreshRun:
    """Columns written in ascending order into a stretch that held nothing, being aggregated."""

    account_id: int
    before_s: int | None  # the stored sample just before the run (None: there is none)
    last_s: int
    aggregator: Aggregator
    changes: int  # the connection's total_changes after the run's last write
    days: list[DayAggregate] = field(default_factory=list)

    @classmethod
    def start(cls, db: sqlite3.Connection, account_id: int, first_s: int) -> FreshRun:
        """A run whose first columns start at `first_s` (call before writing them)."""
        before = db.execute(
            "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant < ? "
            "ORDER BY instant DESC LIMIT 1",
            (account_id, first_s),
        ).fetchone()
        previous = None if before is None else (int(before[0]), int(before[1]))
        aggregator = Aggregator(before=previous)
        before_s = None if previous is None else previous[0]
        return cls(account_id, before_s, first_s - 1, aggregator, db.total_changes)

    def continues(self, db: sqlite3.Connection, account_id: int, first_s: int) -> bool:
        """Whether columns from `first_s` on, into a stretch that holds nothing, extend the run
        (call before writing them)."""
        if account_id != self.account_id or first_s <= self.last_s:
            return False
        if db.total_changes != self.changes:
            return False
        between = db.execute(
            "SELECT 1 FROM heart_rate WHERE account_id = ? AND instant > ? AND instant < ? LIMIT 1",
            (account_id, self.last_s, first_s),
        ).fetchone()
        return between is None

    def add(self, db: sqlite3.Connection, columns: SampleColumns) -> None:
        """Take the columns just written (ascending, distinct instants) into the run."""
        table = np.column_stack([columns.instants_s, columns.bpm, columns.offsets_min])
        self.days += self.aggregator.feed(table.astype(np.int64, copy=False))
        self.last_s = int(columns.instants_s[-1])
        self.changes = db.total_changes

    def finish(self, db: sqlite3.Connection) -> int:
        """Store the run's inner days and clear their dirty marks, if nothing else has written
        since the run's last columns (else leave them dirty); the number of days stored."""
        if db.total_changes != self.changes:
            return 0
        after = db.execute(
            "SELECT instant FROM heart_rate WHERE account_id = ? AND instant > ? "
            "ORDER BY instant LIMIT 1",
            (self.account_id, self.last_s),
        ).fetchone()
        after_s = None if after is None else int(after[0])
        days = self.days + self.aggregator.close(after_s)
        # A sample before the stretch (at or before `before_s`) falls on a local day up to a
        # day after its UTC day, one after it (at or after `after_s`) up to a day before: the
        # days between hold the run's samples only.  Into an empty store, that is every day.
        reach_s = MAX_OFFSET_MIN * 60
        low = None if self.before_s is None else (self.before_s + reach_s) // DAY_S + 1
        high = None if after_s is None else (after_s - reach_s) // DAY_S - 1
        # Neighbours at the ends of the calendar (rows another program left) leave no day.
        if (low is not None and low > LAST_ORDINAL) or (high is not None and high < FIRST_ORDINAL):
            return 0
        low = None if low is None else max(low, FIRST_ORDINAL)
        high = None if high is None else min(high, LAST_ORDINAL)
        inner = [
            day
            for day in days
            if (low is None or low <= ordinal_of_day(day.day))
            and (high is None or ordinal_of_day(day.day) <= high)
        ]
        # A dirty day between them without a day of the run has no sample at all: its row
        # (if a stale one is left) goes, and so does its mark.
        empty = db.execute(
            "SELECT day FROM hr_day_dirty WHERE account_id = ? AND day >= ? AND day <= ?",
            (
                self.account_id,
                "" if low is None else day_of_ordinal(low).isoformat(),
                "~" if high is None else day_of_ordinal(high).isoformat(),
            ),
        ).fetchall()
        names = {day for (day,) in empty} | {day.day.isoformat() for day in inner}
        store_days(db, self.account_id, sorted(names), inner)
        return len(inner)


__all__ = ["FreshRun"]
