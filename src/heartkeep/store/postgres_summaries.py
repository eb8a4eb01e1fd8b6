"""Day and minute summaries of `PostgresStore`: reading, refreshing, rebuilding, checking.

Why a mixin of its own: `postgres.py` is the connection and the samples' write path; this is
the summaries side (`store/protocol.py`, the aggregates), the rules in `postgres_days.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

from heartkeep.model import Window
from heartkeep.store import postgres_days as days
from heartkeep.store import postgres_hours as hours
from heartkeep.store.postgres_failures import guarded
from heartkeep.store.rows import bounds

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from heartkeep.aggregates import DayAggregate, MinuteSeries


class SummariesMixin:
    """The aggregates part of `PostgresStore`; every method turns database failures into
    `StoreError` (`guarded`)."""

    if TYPE_CHECKING:
        _conn: hours.Conn

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _account_keys(self, only: str | None = None) -> list[str]: ...

        def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]: ...

    # summaries --------------------------------------------------------------------------------
    @guarded
    def day_aggregates(
        self, account_key: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DayAggregate]:
        """Each local day with samples, start <= day < end, exact at every instant."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        with self._snapshot():
            return days.current_days(self._conn, account_id, start, end)

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads in one snapshot (a refresh committed between them cannot pair an old
        `hr_day` row with a cleared dirty mark)."""
        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            yield
            return
        with self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    @guarded
    def minute_aggregates(
        self, account_key: str, window: Window | None = None, *, bucket_s: int = 60
    ) -> MinuteSeries:
        """Per-`bucket_s` (a multiple of 60) samples and min/mean/max bpm over the buckets
        starting in `window`, as numpy columns; ValueError for another `bucket_s`."""
        from heartkeep.aggregates import MinuteSeries, bucket_minutes

        per, first, past = bucket_minutes(*bounds(window), bucket_s)
        account_id = self._account_id(account_key, create=False)
        table = np.zeros((0, 5), dtype=np.int64)
        if account_id is not None:
            rows = days.stored_minutes(self._conn, account_id, first, past)
            if len(rows):
                keys = rows[:, 0] // per * per
                starts, heads = np.unique(keys, return_index=True)
                table = np.column_stack(
                    [
                        starts,
                        np.add.reduceat(rows[:, 1], heads),
                        np.add.reduceat(rows[:, 2], heads),
                        np.minimum.reduceat(rows[:, 3], heads),
                        np.maximum.reduceat(rows[:, 4], heads),
                    ]
                )
        return MinuteSeries.from_buckets(table)

    @guarded
    def refresh_aggregates(self, account_key: str) -> int:
        """Recompute the account's dirty days, a short transaction per month of them."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        dirty = days.dirty_days(self._conn, account_id)
        for chunk in days.chunks(dirty):
            with self.transaction():
                hours.lock_account(self._conn, account_id)
                days.refresh_days(self._conn, account_id, chunk)
        return len(dirty)

    @guarded
    def rebuild_aggregates(self, account_key: str | None = None) -> dict[str, int]:
        """Every summary from the samples (one account, or all), a transaction per account."""
        done: dict[str, int] = {}
        for key in self._account_keys(account_key):
            account_id = self._account_id(key, create=False)
            assert account_id is not None
            with self.transaction():
                hours.lock_account(self._conn, account_id)
                done[key] = days.rebuild(self._conn, account_id)
        return done

    @guarded
    def aggregate_problems(self, account_key: str, *, full: bool = False) -> list[str]:
        """Where stored summaries disagree with the samples (a few days; `full`: all)."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        with self._snapshot():
            return days.problems(self._conn, account_id, full=full)

    @guarded
    def dirty_day_count(self, account_key: str) -> int:
        """Days waiting for a refresh (a writer stopped before it ran); answers stay exact."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        (count,) = self._conn.execute(
            "SELECT count(*) FROM hr_day_dirty WHERE account_id = %s", (account_id,)
        ).fetchone() or (0,)
        return int(count)
