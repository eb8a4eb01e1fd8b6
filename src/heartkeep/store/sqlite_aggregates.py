"""Aggregates on SQLite: per-day and per-minute summaries kept current with the samples.

Why a mixin of its own: `sqlite.py` is the hot path of sync and reads, `sqlite_imports.py` the
import side; this is the summaries side of `SqliteStore` (`store/protocol.py`,
`AggregateStore`), with the rules in `aggregate_upkeep.py` and the check in
`aggregate_check.py`.  Its modules load numpy, so they are imported on first use: `status` and
`--help` never pay for them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import chain
from typing import TYPE_CHECKING

from heartkeep.model import Sample, Window
from heartkeep.store.failures import store_failure
from heartkeep.store.rows import bounds

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import numpy.typing as npt

    from heartkeep.aggregates import DayAggregate, MinuteSeries
    from heartkeep.store.appended_days import Row
    from heartkeep.store.backfill_days import BackfillRun


class AggregatesMixin:
    """The `AggregateStore` part of `SqliteStore` (which supplies the connection helpers)."""

    if TYPE_CHECKING:
        _db: sqlite3.Connection
        path: Path
        _backfill: BackfillRun | None  # a sync's backfill being aggregated (backfill_days.py)

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _account_keys(self, only: str | None = None) -> list[str]: ...

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as failure:
            raise store_failure(failure, self.path) from failure

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction around several reads, so a refresh committed by another
        process between them cannot pair an old `hr_day` row with a cleared dirty mark."""
        if self._db.in_transaction:
            yield
            return
        with self._guarded():
            self._db.execute("BEGIN")
        try:
            yield
        finally:
            with self._guarded():
                self._db.execute("COMMIT")

    # the write side ----------------------------------------------------------------------------
    def _samples_changed(
        self, account_id: int, instants: Iterable[int], offsets_min: tuple[int, int]
    ) -> None:
        """Samples at these instants, with offsets in this (lowest, highest) range, were just
        written or deleted: keep the aggregates in step, in the writer's transaction (see
        `aggregate_upkeep.samples_changed`)."""
        from heartkeep.store.upkeep_sql import samples_changed

        self._backfill = None  # a write of its own: the run no longer knows the samples
        minutes = {instant // 60 for instant in instants}
        if minutes:
            with self._guarded():
                samples_changed(self._db, account_id, minutes, offsets_min)

    def _newest_sample(self, account_id: int) -> Row | None:
        """The account's newest sample, looked up before a small write (`_small_write`)."""
        from heartkeep.store.appended_days import newest_sample

        with self._guarded():
            return newest_sample(self._db, account_id)

    def _small_write(
        self,
        account_id: int,
        batch: Sequence[Sample],
        offsets_min: tuple[int, int],
        newest: Row | None,
        changed: int,
        inserted: int,
    ) -> None:
        """The upkeep of a small write (`batch` sorted; `changed` rows changed, `inserted` of
        them new; `newest` the newest sample stored before it), in plain Python: samples only
        appended after `newest` keep their days current at once (`appended_days.py`), any
        other write marks its days dirty for the refresh.  Loads no numpy: an hourly sync
        writes a few hundred samples, and loading numpy cost more than the work."""
        from heartkeep.store.appended_days import days_appended
        from heartkeep.store.day_range import check_offsets
        from heartkeep.store.upkeep_sql import (
            MINUTES_ADD_SQL,
            mark_dirty,
            minutes_added,
            minutes_of_rows,
            samples_changed,
        )

        self._backfill = None  # a write of its own: a backfill run no longer knows the samples
        check_offsets(offsets_min)
        rows: list[Row] = []
        for row in batch:  # the rows after `newest`, one per second (the stored one: the last)
            if newest is None or row[0] > newest[0]:
                if rows and rows[-1][0] == row[0]:
                    rows[-1] = row
                else:
                    rows.append(row)
        with self._guarded():
            if changed == inserted == len(rows):  # nothing but new rows after the newest
                minutes = minutes_of_rows(account_id, rows)
                self._db.executemany(MINUTES_ADD_SQL, minutes)
                if not days_appended(self._db, account_id, newest, rows):
                    mark_dirty(self._db, account_id, [m[1] for m in minutes], offsets_min)
            elif inserted == len(batch):  # all new, somewhere before the newest
                minutes_added(self._db, account_id, batch, offsets_min)
            else:
                touched = {row[0] // 60 for row in batch}
                samples_changed(self._db, account_id, touched, offsets_min)

    def _samples_added(
        self,
        account_id: int,
        samples: Sequence[Sample],
        offsets_min: tuple[int, int],
        *,
        backfill: bool = False,
        table: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Samples (ascending, distinct instants) were just inserted, none of them replacing a
        stored row: add them to the aggregates (`aggregate_upkeep.samples_added`).

        `backfill`: a sync page written where nothing was stored; runs of such pages, newest
        first, have their days aggregated from the pages as they come (`backfill_days.py`).
        `table`: the samples as an n x 3 int64 table, if the writer has it already."""
        import numpy as np

        from heartkeep.model import SampleColumns
        from heartkeep.store.aggregate_upkeep import samples_added

        if isinstance(samples, SampleColumns):
            instants, bpm = samples.instants_s, samples.bpm
        else:
            if table is None:
                count = 3 * len(samples)
                table = np.fromiter(chain.from_iterable(samples), np.int64, count).reshape(-1, 3)
            instants, bpm = table[:, 0], table[:, 1]
        if not len(instants):
            return
        run, self._backfill = self._backfill, None  # only a backfill page may continue it
        with self._guarded():
            samples_added(self._db, account_id, instants, bpm, offsets_min)
            if backfill and table is not None:
                self._backfill = self._backfill_page(run, account_id, table)

    def _backfill_page(
        self, run: BackfillRun | None, account_id: int, table: npt.NDArray[np.int64]
    ) -> BackfillRun:
        """Take a backfill page into the current run, or start one with it."""
        from heartkeep.store.backfill_days import BackfillRun

        if run is not None and run.continues(self._db, account_id, int(table[-1, 0])):
            run.add(self._db, table)
            return run
        return BackfillRun.start(self._db, account_id, table)

    # reading -----------------------------------------------------------------------------------
    def day_aggregates(
        self, account_key: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DayAggregate]:
        """Each local day with samples, start <= day < end (either end open), in date order.

        Exact at every instant: a day whose samples changed since it was summarised (a sync
        killed before its refresh) is computed from the samples here."""
        from heartkeep.store.aggregate_upkeep import current_days

        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        with self._snapshot(), self._guarded():
            return current_days(self._db, account_id, start, end)

    def minute_aggregates(
        self, account_key: str, window: Window | None = None, *, bucket_s: int = 60
    ) -> MinuteSeries:
        """Per-`bucket_s` (a multiple of 60, aligned to the UTC epoch) samples and min/mean/max
        bpm over the buckets starting in `window`, as numpy columns; buckets without samples
        are absent.  Raises ValueError for a `bucket_s` that is not a whole number of minutes."""
        import numpy as np

        from heartkeep.aggregates import MinuteSeries, bucket_minutes

        per, first, past = bucket_minutes(*bounds(window), bucket_s)
        account_id = self._account_id(account_key, create=False)
        flat = np.zeros(0, dtype=np.int64)
        if account_id is not None:
            with self._guarded():
                cursor = self._db.execute(
                    f"SELECT minute / {per} * {per}, sum(n), sum(sum_bpm), min(min_bpm), "  # noqa: S608
                    "max(max_bpm) FROM hr_minute WHERE account_id = ? AND minute >= ? "
                    f"AND minute < ? GROUP BY minute / {per} ORDER BY 1",
                    (account_id, first, past),
                )
                flat = np.fromiter(chain.from_iterable(cursor), dtype=np.int64)
        return MinuteSeries.from_buckets(flat.reshape(-1, 5))

    def covered_minutes(self, account_key: str, window: Window) -> int:
        """How many distinct UTC minutes in `window` hold at least one sample (coverage).

        Whole minutes are counted from `hr_minute` (kept current in the writer's transaction):
        30 days cost ~43,000 index entries, not ~700,000 samples (the overview's and `status`'s
        coverage went from ~95 ms to a few).  A minute the window cuts is looked up in the
        samples, so the answer is exactly the samples' count of distinct minutes."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None or window.end_s <= window.start_s:
            return 0
        start_s, end_s = window.start_s, window.end_s
        first_whole, end_whole = -(-start_s // 60), end_s // 60
        count = 0
        with self._guarded():
            if first_whole < end_whole:
                (whole,) = self._db.execute(
                    "SELECT count(*) FROM hr_minute WHERE account_id = ? AND minute >= ? "
                    "AND minute < ?",
                    (account_id, first_whole, end_whole),
                ).fetchone()
                count += int(whole)
            cut = {start_s // 60} if start_s % 60 else set()
            if end_s % 60:
                cut.add(end_s // 60)
            for minute in cut:
                lo, hi = max(start_s, minute * 60), min(end_s, minute * 60 + 60)
                found = self._db.execute(
                    "SELECT 1 FROM heart_rate WHERE account_id = ? AND instant >= ? "
                    "AND instant < ? LIMIT 1",
                    (account_id, lo, hi),
                ).fetchone()
                count += found is not None
        return count

    # upkeep ------------------------------------------------------------------------------------
    def refresh_aggregates(self, account_key: str) -> int:
        """Recompute the account's dirty days from the samples, a short transaction per month
        of them; the number of days refreshed.  Sync and import call it when they end."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        run, self._backfill = self._backfill, None
        if run is not None and run.account_id == account_id:
            with self.transaction(), self._guarded():
                run.finish(self._db)  # the days of its last pages, before the rest
        if not self.dirty_day_count(account_key):
            return 0  # a sync that wrote nothing never loads the upkeep (numpy: ~0.06 s)
        from heartkeep.store.aggregate_upkeep import chunks, dirty_days, refresh_days

        with self._guarded():
            days = dirty_days(self._db, account_id)
        for chunk in chunks(days):
            with self.transaction(), self._guarded():
                refresh_days(self._db, account_id, chunk)
        return len(days)

    def rebuild_aggregates(self, account_key: str | None = None) -> dict[str, int]:
        """Every aggregate from scratch (one account, or all), one transaction per account;
        the number of days stored per account key."""
        from heartkeep.store.aggregate_upkeep import rebuild

        done: dict[str, int] = {}
        self._backfill = None
        for key in self._account_keys(account_key):
            account_id = self._account_id(key, create=False)
            assert account_id is not None
            with self.transaction(), self._guarded():
                done[key] = rebuild(self._db, account_id)
        return done

    def aggregate_problems(self, account_key: str, *, full: bool = False) -> list[str]:
        """Where the stored aggregates disagree with the samples (empty: they agree).  The
        quick check compares a few days spread over the history, `full` every day and minute."""
        from heartkeep.store.aggregate_check import problems

        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        with self._snapshot(), self._guarded():
            return problems(self._db, account_id, full=full)

    def dirty_day_count(self, account_key: str) -> int:
        """Days waiting for a refresh (a writer stopped before it ran); answers stay exact."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        with self._guarded():
            (count,) = self._db.execute(
                "SELECT count(*) FROM hr_day_dirty WHERE account_id = ?", (account_id,)
            ).fetchone()
        return int(count)
