"""Dailies and the sync engine's bookkeeping on PostgreSQL: plain rows, as in SQLite.

Why a mixin of its own: `postgres.py` holds the connection and the packed samples; these are
the few-rows-a-day tables (dailies, stream state, the fetch ledger, run history), column for
column those of `sqlite.py`, so this reads as a translation of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import psycopg

from heartkeep.errors import StoreError
from heartkeep.model import Daily, DailyKind, Source
from heartkeep.store.protocol import LedgerEntry, StreamState, SyncRun, WriteResult
from heartkeep.store.rows import daily_from_row, zones_json

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class LedgerMixin:
    """The dailies and `SyncStore` bookkeeping of `PostgresStore`."""

    if TYPE_CHECKING:
        _conn: psycopg.Connection[tuple[Any, ...]]

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _writable_account_id(self, key: str) -> int: ...

    def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        try:
            return self._conn.execute(query.encode(), parameters)
        except psycopg.Error as failure:
            raise StoreError(f"PostgreSQL: {str(failure).strip()}") from failure

    # dailies ----------------------------------------------------------------------------------
    def write_dailies(
        self, account_key: str, dailies: Iterable[Daily], source: Source
    ) -> WriteResult:
        """Upsert per-day values keyed by (account, local day, kind)."""
        inserted = updated = 0
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            for daily in dailies:
                key = (account_id, daily.day, daily.kind.value)
                zones = zones_json(daily.zones) if daily.kind is DailyKind.ZONES else None
                row = self._sql(
                    "SELECT value, zones, source FROM daily "
                    "WHERE account_id = %s AND day = %s AND kind = %s",
                    key,
                ).fetchone()
                values = (daily.value, zones, source.code)
                if row is None:
                    inserted += 1
                elif tuple(row) != values:
                    updated += 1
                else:
                    continue
                self._sql(
                    "INSERT INTO daily (account_id, day, kind, value, zones, source) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, kind) DO "
                    "UPDATE SET value = excluded.value, zones = excluded.zones, "
                    "source = excluded.source, import_id = NULL",
                    (*key, *values),
                )
        return WriteResult(inserted=inserted, updated=updated)

    def dailies(
        self,
        account_key: str,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        kind: DailyKind | None = None,
    ) -> list[Daily]:
        """Dailies with start <= day < end, ordered by day then kind."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        rows = self._sql(
            "SELECT day::text, kind, value, zones FROM daily WHERE account_id = %s "
            "AND day >= %s AND day < %s AND (%s::text IS NULL OR kind = %s) ORDER BY day, kind",
            (
                account_id,
                start or dt.date.min,
                end or dt.date.max,
                kind.value if kind else None,
                kind.value if kind else None,
            ),
        ).fetchall()
        return [daily_from_row(row) for row in rows]

    # sync state and ledger --------------------------------------------------------------------
    def stream_state(self, account_key: str, stream: str) -> StreamState:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return StreamState()
        row = self._sql(
            "SELECT covered_from_s, complete_until_s, job_lo_s, job_hi_s, job_frontier_s, "
            "last_success_s FROM sync_state WHERE account_id = %s AND stream = %s",
            (account_id, stream),
        ).fetchone()
        return StreamState() if row is None else StreamState(*row)

    def save_stream_state(self, account_key: str, stream: str, state: StreamState) -> None:
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            self._sql(
                "INSERT INTO sync_state (account_id, stream, covered_from_s, complete_until_s, "
                "job_lo_s, job_hi_s, job_frontier_s, last_success_s) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, stream) DO "
                "UPDATE SET covered_from_s = excluded.covered_from_s, "
                "complete_until_s = excluded.complete_until_s, job_lo_s = excluded.job_lo_s, "
                "job_hi_s = excluded.job_hi_s, job_frontier_s = excluded.job_frontier_s, "
                "last_success_s = excluded.last_success_s",
                (
                    account_id,
                    stream,
                    state.covered_from_s,
                    state.complete_until_s,
                    state.job_lo_s,
                    state.job_hi_s,
                    state.job_frontier_s,
                    state.last_success_s,
                ),
            )

    def record_fetch(self, account_key: str, entry: LedgerEntry) -> None:
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            self._sql(
                "INSERT INTO fetch_ledger (account_id, stream, fetched_at_s, start_s, end_s, "
                "requests, received, inserted, updated) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    account_id,
                    entry.stream,
                    entry.fetched_at_s,
                    entry.start_s,
                    entry.end_s,
                    entry.requests,
                    entry.received,
                    entry.inserted,
                    entry.updated,
                ),
            )

    def ledger(self, account_key: str, *, limit: int = 100) -> list[LedgerEntry]:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        rows = self._sql(
            "SELECT stream, fetched_at_s, start_s, end_s, requests, received, inserted, updated "
            "FROM fetch_ledger WHERE account_id = %s ORDER BY id DESC LIMIT %s",
            (account_id, limit),
        ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    def begin_run(self, account_key: str, started_s: int) -> int:
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            row = self._sql(
                "INSERT INTO sync_run (account_id, started_s, status) "
                "VALUES (%s, %s, 'running') RETURNING id",
                (account_id, started_s),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def finish_run(
        self,
        run_id: int,
        *,
        finished_s: int,
        status: str,
        requests: int,
        samples_added: int,
        rate_limit_waits: int,
        error: str | None = None,
    ) -> None:
        with self.transaction():
            self._sql(
                "UPDATE sync_run SET finished_s = %s, status = %s, requests = %s, "
                "samples_added = %s, rate_limit_waits = %s, error = %s WHERE id = %s",
                (finished_s, status, requests, samples_added, rate_limit_waits, error, run_id),
            )

    def runs(self, account_key: str, *, limit: int = 20) -> list[SyncRun]:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        rows = self._sql(
            "SELECT id, started_s, finished_s, status, requests, samples_added, "
            "rate_limit_waits, error FROM sync_run WHERE account_id = %s "
            "ORDER BY id DESC LIMIT %s",
            (account_id, limit),
        ).fetchall()
        return [SyncRun(row[0], account_key, *row[1:]) for row in rows]
