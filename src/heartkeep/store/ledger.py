"""Dailies and the sync engine's bookkeeping, for both stores: the few-rows-a-day tables.

Why one module for two databases: dailies, stream state, the fetch ledger and the run history
are column for column the same in SQLite and PostgreSQL, so their statements are written once,
in the SQL both accept; what differs (placeholders, how a day is passed) is the store's
`Dialect` (`store/dialect.py`).  The store supplies the connection (`_run`), the transaction
and the account ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from heartkeep.model import Daily, DailyKind, Source
from heartkeep.store.dialect import SharedStatements
from heartkeep.store.protocol import LedgerEntry, StreamState, SyncRun, WriteResult
from heartkeep.store.rows import daily_from_row, zones_json


class LedgerMixin(SharedStatements):
    """The dailies and `SyncStore` bookkeeping of `SqliteStore` and `PostgresStore`."""

    # dailies ----------------------------------------------------------------------------------
    def write_dailies(
        self, account_key: str, dailies: Iterable[Daily], source: Source
    ) -> WriteResult:
        """Upsert per-day values keyed by (account, local day, kind); a synced value is no
        import's (`import_id` NULL)."""
        inserted = updated = 0
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            for daily in dailies:
                key = (account_id, self._dialect.day(daily.day), daily.kind.value)
                zones = zones_json(daily.zones) if daily.kind is DailyKind.ZONES else None
                row = self._run(
                    "SELECT value, zones, source FROM daily "
                    "WHERE account_id = ? AND day = ? AND kind = ?",
                    key,
                ).fetchone()
                values = (daily.value, zones, source.code)
                if row is None:
                    inserted += 1
                elif tuple(row) != values:
                    updated += 1
                else:
                    continue
                self._run(
                    "INSERT INTO daily (account_id, day, kind, value, zones, source) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day, kind) DO "
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
        day = self._dialect.day
        rows = self._run(
            "SELECT CAST(day AS TEXT), kind, value, zones FROM daily WHERE account_id = ? "
            "AND day >= ? AND day < ? AND (CAST(? AS TEXT) IS NULL OR kind = ?) "
            "ORDER BY day, kind",
            (
                account_id,
                day(start) if start else self._dialect.first_day,
                day(end) if end else self._dialect.past_last_day,
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
        row = self._run(
            "SELECT covered_from_s, complete_until_s, job_lo_s, job_hi_s, job_frontier_s, "
            "last_success_s FROM sync_state WHERE account_id = ? AND stream = ?",
            (account_id, stream),
        ).fetchone()
        return StreamState() if row is None else StreamState(*row)

    def save_stream_state(self, account_key: str, stream: str, state: StreamState) -> None:
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            self._run(
                "INSERT INTO sync_state (account_id, stream, covered_from_s, complete_until_s, "
                "job_lo_s, job_hi_s, job_frontier_s, last_success_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, stream) DO "
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
            self._run(
                "INSERT INTO fetch_ledger (account_id, stream, fetched_at_s, start_s, end_s, "
                "requests, received, inserted, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        rows = self._run(
            "SELECT stream, fetched_at_s, start_s, end_s, requests, received, inserted, updated "
            "FROM fetch_ledger WHERE account_id = ? ORDER BY id DESC LIMIT ?",
            (account_id, limit),
        ).fetchall()
        return [LedgerEntry(*row) for row in rows]

    def begin_run(self, account_key: str, started_s: int) -> int:
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            # fetchall: SQLite finishes a RETURNING statement only once its rows are read
            (row,) = self._run(
                "INSERT INTO sync_run (account_id, started_s, status) "
                "VALUES (?, ?, 'running') RETURNING id",
                (account_id, started_s),
            ).fetchall()
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
            self._run(
                "UPDATE sync_run SET finished_s = ?, status = ?, requests = ?, samples_added = ?, "
                "rate_limit_waits = ?, error = ? WHERE id = ?",
                (finished_s, status, requests, samples_added, rate_limit_waits, error, run_id),
            )

    def runs(self, account_key: str, *, limit: int = 20) -> list[SyncRun]:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return []
        rows = self._run(
            "SELECT id, started_s, finished_s, status, requests, samples_added, "
            "rate_limit_waits, error FROM sync_run WHERE account_id = ? ORDER BY id DESC LIMIT ?",
            (account_id, limit),
        ).fetchall()
        return [SyncRun(row[0], account_key, *row[1:]) for row in rows]
