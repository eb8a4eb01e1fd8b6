"""Day aggregates of an import from the columns it has just written, instead of reading them back.

Why: the refresh that ends an import recomputes every day the import wrote from the samples,
and for a first import that is reading the whole import back (issue 11: a fifth of its CPU).
When an import writes its files in ascending time into a stretch of the store that held no
sample — a first import, or an archive newer than everything stored — the store's samples over
that stretch are exactly the columns written, so an `Aggregator` (the one code path from samples
to days) fed with those columns gives what the refresh would compute.  Only the *inner* days
are certain that way: offsets are within a day of UTC (`day_range.MAX_OFFSET_MIN`), so a sample
outside the stretch can still fall on the first or last UTC day of it, or the day next to it.
Those edge days stay dirty, and the refresh computes them as before.

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

from heartkeep.aggregates import Aggregator, DayAggregate, ordinal_of_day
from heartkeep.model import SampleColumns
from heartkeep.store.aggregate_upkeep import DAY_S, store_days


@dataclass
class FreshRun:
    """Columns written in ascending order into a stretch that held nothing, being aggregated."""

    account_id: int
    first_s: int
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
        aggregator = Aggregator(before=None if before is None else (int(before[0]), int(before[1])))
        return cls(account_id, first_s, first_s - 1, aggregator, db.total_changes)

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
        days = self.days + self.aggregator.close(None if after is None else int(after[0]))
        # A sample before the stretch falls on its UTC day + 1 at the latest, one after it on
        # its UTC day - 1 at the earliest.
        low = (self.first_s - 1) // DAY_S + 2
        high = (self.last_s + 1) // DAY_S - 2
        inner = [day for day in days if low <= ordinal_of_day(day.day) <= high]
        store_days(db, self.account_id, [day.day.isoformat() for day in inner], inner)
        return len(inner)


__all__ = ["FreshRun"]
