"""Deleting a span of one account's samples on PostgreSQL: what a webhook's DELETE asks for.

Why a method of its own: Google tells a study that a participant's data in an interval was
deleted (the person removed it in the Fitbit app); the study must delete exactly those samples,
keep everything around them, and keep the day and minute summaries exact.  Samples are packed
by hour (`postgres_hours.py`), so the hours the span touches are read, filtered and written
back whole, under the account's writer lock, in one transaction; the days whose summaries the
removed samples fed are marked dirty, as a write marks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from heartkeep.model import Window
from heartkeep.store import postgres_days as days
from heartkeep.store import postgres_hours as hours

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class DeletesMixin:
    """The span deletion of `PostgresStore` (which supplies the connection)."""

    if TYPE_CHECKING:
        _conn: hours.Conn

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

    def delete_samples(self, account_key: str, window: Window) -> int:
        """Delete the account's samples in `window` (every source); returns how many went.
        Sync state is left alone: the span stays complete, the provider now serves nothing
        there, and a later sync of it finds nothing to add."""
        with self.transaction():
            account_id = self._account_id(account_key, create=False)
            if account_id is None or window.end_s <= window.start_s:
                return 0
            hours.lock_account(self._conn, account_id)
            table = hours.load_span(
                self._conn,
                account_id,
                (window.start_s // hours.HOUR_S) * hours.HOUR_S,
                (-(-window.end_s // hours.HOUR_S)) * hours.HOUR_S,
            )
            inside = (table[:, 0] >= window.start_s) & (table[:, 0] < window.end_s)
            removed = table[inside]
            if not len(removed):
                return 0
            hour_of = table[:, 0] // hours.HOUR_S
            touched = np.unique(removed[:, 0] // hours.HOUR_S)
            kept = table[np.isin(hour_of, touched) & ~inside]
            hours.replace_hours(self._conn, account_id, touched.tolist(), kept)
            days.mark_rows_dirty(self._conn, account_id, removed)
            return len(removed)
