"""Day aggregates of a sync's backfill from the pages it writes, instead of reading them back.

Why: a sync ends by refreshing every day it wrote from the samples, and for a backfill that is
reading the whole backfill back (issue 11: about two thirds of what keeping aggregates cost a
sync).  A backfill writes its pages newest first, each page all new, into a stretch of the store
that held nothing; the store's samples over that stretch are then exactly the pages written,
so a `BackwardAggregator` fed with them gives what the refresh would compute — with nothing
read back.  `fresh_days.py` does the same for imports, which write oldest first.

A run is such a stretch in the making.  Unlike an import's, it spans transactions (the engine
commits each page with its cursor), so before taking a page it checks that the store is still
what the run has seen: no other connection has committed since the run's last page (`PRAGMA
data_version`), and the store's own other writers end the run (`SqliteStore` drops it on any
other write of samples, on a rollback and when an account is forgotten).  Days are stored only
when certain: a day more than a day above the oldest sample written (no sample still to come
can fall on it) and, when samples were stored above the run before it began, a day that none
of them can fall on.  Each is stored with its dirty mark cleared in the transaction of the page
that completed it; what the run never completes stays dirty for the refresh, as before.  A
dropped run only leaves days dirty, never wrong.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heartkeep.aggregates import DayAggregate, day_of_ordinal, ordinal_of_day
from heartkeep.day_aggregator import BackwardAggregator
from heartkeep.store.aggregate_upkeep import DAY_S, store_days
from heartkeep.store.day_range import FIRST_ORDINAL, LAST_ORDINAL, MAX_OFFSET_MIN

_REACH_S = MAX_OFFSET_MIN * 60  # how far from its UTC day a sample's local day can be


def _data_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA data_version").fetchone()[0])


@dataclass
class BackfillRun:
    """All-new pages written newest first into a stretch that held nothing, being aggregated."""

    account_id: int
    low_s: int  # the oldest instant written by the run
    high_day: int  # the last day the run may store (later ones may hold samples above it)
    done_from_day: int  # days from this one up are stored (or left to the refresh)
    aggregator: BackwardAggregator
    version: int  # `PRAGMA data_version` at the run's last page

    @classmethod
    def start(
        cls, db: sqlite3.Connection, account_id: int, table: npt.NDArray[np.int64]
    ) -> BackfillRun:
        """A run whose first page, `table` (ascending, distinct instants), has just been
        written, all new, where nothing was stored; takes it in."""
        last_s = int(table[-1, 0])
        after = db.execute(
            "SELECT instant FROM heart_rate WHERE account_id = ? AND instant > ? "
            "ORDER BY instant LIMIT 1",
            (account_id, last_s),
        ).fetchone()
        after_s = None if after is None else int(after[0])
        # A sample stored above the run falls on a local day at most a day before its UTC day.
        high_day = LAST_ORDINAL if after_s is None else (after_s - _REACH_S) // DAY_S - 1
        run = cls(
            account_id=account_id,
            low_s=last_s + 1,
            high_day=min(high_day, LAST_ORDINAL),
            done_from_day=LAST_ORDINAL + 1,
            aggregator=BackwardAggregator(after_s=after_s),
            version=_data_version(db),
        )
        run.add(db, table)
        return run

    def continues(self, db: sqlite3.Connection, account_id: int, last_s: int) -> bool:
        """Whether a page just written (all new, into a stretch that held nothing) whose newest
        sample is at `last_s` extends the run: the same account, older than the run, nothing
        stored between the two, no other connection's commit since the run's last page."""
        if account_id != self.account_id or last_s >= self.low_s:
            return False
        if _data_version(db) != self.version:
            return False
        between = db.execute(
            "SELECT 1 FROM heart_rate WHERE account_id = ? AND instant > ? AND instant < ? LIMIT 1",
            (account_id, last_s, self.low_s),
        ).fetchone()
        return between is None

    def add(self, db: sqlite3.Connection, table: npt.NDArray[np.int64]) -> int:
        """Take a page just written (older than the run); store the days it completes, in the
        writer's transaction.  The number of days stored."""
        days = self.aggregator.feed(table)
        self.low_s = int(table[0, 0])
        self.version = _data_version(db)
        # No sample still to come falls on a day more than a day above the oldest one.
        return self._store(db, days, self.low_s // DAY_S + 2)

    def finish(self, db: sqlite3.Connection) -> int:
        """The run is over: store the days the samples stored below it cannot fall on, if no
        other connection has committed since its last page (else leave them dirty).  Call in a
        write transaction; the number of days stored."""
        if _data_version(db) != self.version:
            return 0
        before = db.execute(
            "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant < ? "
            "ORDER BY instant DESC LIMIT 1",
            (self.account_id, self.low_s),
        ).fetchone()
        previous = None if before is None else (int(before[0]), int(before[1]))
        days = self.aggregator.close(previous)
        # A sample stored below the run falls on a local day at most a day after its UTC day.
        low_day = FIRST_ORDINAL if previous is None else (previous[0] + _REACH_S) // DAY_S + 1
        return self._store(db, days, max(low_day, FIRST_ORDINAL))

    def _store(self, db: sqlite3.Connection, days: list[DayAggregate], from_day: int) -> int:
        """Store `days` in [from_day, high_day] — every day of the run in that range not
        stored before — and clear the dirty marks of that range (a marked day without a day
        of the run holds no sample: its stale row, if any, goes too)."""
        low, high = from_day, min(self.high_day, self.done_from_day - 1)
        if low > high:
            return 0
        self.done_from_day = low
        inner = [day for day in days if low <= ordinal_of_day(day.day) <= high]
        marked = db.execute(
            "SELECT day FROM hr_day_dirty WHERE account_id = ? AND day >= ? AND day <= ?",
            (self.account_id, day_of_ordinal(low).isoformat(), day_of_ordinal(high).isoformat()),
        ).fetchall()
        names = {day for (day,) in marked} | {day.day.isoformat() for day in inner}
        store_days(db, self.account_id, sorted(names), inner)
        return len(inner)


__all__ = ["BackfillRun"]
