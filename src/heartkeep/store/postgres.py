"""The scale-out store: PostgreSQL through psycopg 3, behind the same protocol as SQLite.

Why it exists: a research study (issue 13) keeps thousands of participants' second-by-second
heart rate, synced by many workers on many hosts; one SQLite file cannot take their writes.
What it promises is what `SqliteStore` promises (`store/protocol.py`, and the same contract
tests run against both): upserts keyed by (account, second), the larger reading kept within a
write and the later write winning across writes, every merge counted, the precedence rule on
import and its undo, sync state committed with the data it covers, and day and minute
summaries exact at every instant.  How it stores samples differs (packed hours, see
`postgres_schema.py` and `postgres_hours.py`); the view `heart_rate` reads as SQLite's table.

One `PostgresStore` is one connection (autocommit outside `transaction()`, which nests through
savepoints); use it from one thread at a time.  Any number of stores in any number of
processes may share a database: writers of one account queue on an advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

import numpy as np
import psycopg

from heartkeep.errors import StoreError
from heartkeep.model import Account, Sample, SampleColumns, Source, Window
from heartkeep.store import postgres_days as days
from heartkeep.store import postgres_hours as hours
from heartkeep.store.accounts import AccountsMixin
from heartkeep.store.dialect import POSTGRES
from heartkeep.store.failures import NoDatabase
from heartkeep.store.forgetting import ForgetReport
from heartkeep.store.ledger import LedgerMixin
from heartkeep.store.postgres_arrays import fetch_rows
from heartkeep.store.postgres_deletes import DeletesMixin
from heartkeep.store.postgres_failures import describe, guarded
from heartkeep.store.postgres_imports import ImportsMixin
from heartkeep.store.postgres_schema import LATEST_VERSION, migrate, schema_version
from heartkeep.store.postgres_summaries import SummariesMixin
from heartkeep.store.postgres_tokens import TokensMixin
from heartkeep.store.protocol import WriteResult
from heartkeep.store.rows import bounds
from heartkeep.store.token_cipher import TokenCipher

WRITE_BATCH = 50_000


def _batches(samples: Iterable[Sample]) -> Iterator[hours.Table]:
    """(instant, bpm, offset) int64 tables of up to `WRITE_BATCH` samples, in the order given;
    `SampleColumns` are sliced without a Python object per sample."""
    if isinstance(samples, SampleColumns):
        for start in range(0, len(samples), WRITE_BATCH):
            part = samples[start : start + WRITE_BATCH]
            yield np.column_stack([part.instants_s, part.bpm, part.offsets_min]).astype(np.int64)
        return
    iterator = iter(samples)
    while batch := list(islice(iterator, WRITE_BATCH)):
        try:
            yield np.array(batch, dtype=np.int64).reshape(-1, 3)
        except (OverflowError, ValueError, TypeError) as failure:
            raise StoreError(f"a sample could not be stored: {failure}") from failure


class PostgresStore(
    DeletesMixin, ImportsMixin, LedgerMixin, AccountsMixin, SummariesMixin, TokensMixin
):
    """`SyncStore`, `ImportStore` and the summaries (`store/protocol.py`) on PostgreSQL.

    Open it with `open_postgres_store(url)`; the import side lives in `postgres_imports.py`,
    the dailies and sync bookkeeping (shared with SQLite) in `ledger.py`."""

    _dialect = POSTGRES

    def __init__(
        self, url: str, *, readonly: bool = False, token_cipher: TokenCipher | None = None
    ) -> None:
        """Connect; a writer creates or upgrades the schema, a reader only checks it.
        `token_cipher` seals participants' tokens (default: keys from the environment, read
        when tokens are first used, see `token_cipher.py`).  Raises
        `StoreError` (exit 9) when the server cannot be reached or the schema is newer than
        this heartkeep, `NoDatabase` (exit 10) when a reader finds no heartkeep schema."""
        self.where = describe(url)
        try:
            self._conn: hours.Conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as failure:
            message = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
            raise StoreError(
                f"could not connect to PostgreSQL at {self.where}: {message}",
                hint="Check that the server runs and the URL (host, port, user, database).",
            ) from failure
        self._account_ids: dict[str, int] = {}
        self._cipher = token_cipher
        try:
            if readonly:
                self._conn.execute("SET default_transaction_read_only = on")
                version = schema_version(self._conn)
                if version is None:
                    raise NoDatabase(
                        f"no heartkeep store in the PostgreSQL database at {self.where}",
                        hint="A writer (sync, import) creates it on first use.",
                    )
                if version > LATEST_VERSION:
                    raise StoreError(
                        f"{self.where} was written by a newer heartkeep (schema {version}; "
                        f"this one knows {LATEST_VERSION})",
                        hint="Upgrade heartkeep.",
                    )
            else:
                migrate(self._conn, where=self.where)
        except psycopg.Error as failure:
            self._conn.close()
            raise StoreError(f"PostgreSQL at {self.where}: {str(failure).strip()}") from failure
        except BaseException:
            self._conn.close()
            raise

    def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        try:
            return self._conn.execute(query.encode(), parameters)
        except psycopg.Error as failure:
            raise StoreError(f"PostgreSQL: {str(failure).strip()}") from failure

    def _run(self, sql: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        """A statement shared with SQLite (`dialect.py`), its ? placeholders made psycopg's."""
        return self._sql(POSTGRES.statement(sql), parameters)

    def _token_cipher(self) -> TokenCipher:
        if self._cipher is None:
            self._cipher = TokenCipher.from_environment()
        return self._cipher

    def connection(self) -> hours.Conn:
        """The store's own psycopg connection (autocommit), for tables kept beside the store's
        (the study's invites, audit trail and grant states).  Public on purpose: statements on
        it join the store's `transaction()` — a withdrawal deletes the participant's data and
        writes its audit record atomically — where a second connection could not.  Use it for
        your own tables only; the store's tables change through its methods."""
        return self._conn

    # lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit everything inside at exit, or nothing if it raises.  Nests via savepoints."""
        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as failure:
            self._account_ids.clear()
            raise StoreError(f"PostgreSQL: {str(failure).strip()}") from failure
        except BaseException:
            self._account_ids.clear()  # an account made inside is gone again
            raise

    def after_bulk_write(self, rows_written: int) -> bool:
        """Nothing to do: PostgreSQL's autovacuum and analyze keep up on their own."""
        return False

    # accounts ---------------------------------------------------------------------------------
    def _insert_account(self, account: Account) -> int:
        # One creator at a time: ids are 0, 1, 2… as in SQLite, never a duplicate.
        self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.acct'))")
        row = self._conn.execute(
            "INSERT INTO account (id, key, provider, user_id, display_name, time_zone, "
            "member_since, created_s) SELECT COALESCE(max(id) + 1, 0), %s, %s, %s, %s, %s, %s, "
            "extract(epoch FROM now())::bigint FROM account "
            "ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id",
            (
                account.key,
                account.provider,
                account.user_id,
                account.display_name,
                account.time_zone,
                account.member_since,
            ),
        ).fetchone()
        assert row is not None
        self._account_ids[account.key] = int(row[0])
        return int(row[0])

    @guarded
    def forget_account(self, account_key: str) -> ForgetReport:
        """Delete every row of the account from every table that has an `account_id`, in one
        transaction.  The space returns to PostgreSQL through (auto)vacuum."""
        with self.transaction():
            account_id = self._account_id(account_key, create=False)
            if account_id is None:
                return ForgetReport(account_key)
            hours.lock_account(self._conn, account_id)
            (samples,) = self._conn.execute(
                "SELECT COALESCE(sum(cardinality(bpm)), 0) FROM hr_hour WHERE account_id = %s",
                (account_id,),
            ).fetchone() or (0,)
            tables = [
                name
                for (name,) in self._conn.execute(
                    "SELECT c.relname FROM pg_class AS c JOIN pg_attribute AS a "
                    "ON a.attrelid = c.oid AND a.attname = 'account_id' "
                    "WHERE c.relnamespace = current_schema()::regnamespace "
                    "AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                    "AND c.relname != 'account'"
                )
            ]
            named = {
                "daily": "dailies",
                "sync_state": "sync_states",
                "fetch_ledger": "ledger_entries",
                "sync_run": "runs",
                "sample_merge": "merge_counts",
            }
            counts: dict[str, int] = {"other_rows": 0, "samples": int(samples)}
            for table in tables:
                deleted = self._conn.execute(
                    f'DELETE FROM "{table}" WHERE account_id = %s'.encode(),  # noqa: S608 - catalog names
                    (account_id,),
                ).rowcount
                if table != "hr_hour":
                    field = named.get(table, "other_rows")
                    counts[field] = counts.get(field, 0) + deleted
            self._conn.execute("DELETE FROM account WHERE id = %s", (account_id,))
        self._account_ids.pop(account_key, None)
        return ForgetReport(account_key, **counts)

    # heart rate -------------------------------------------------------------------------------
    @guarded
    def write_samples(
        self, account_key: str, samples: Iterable[Sample], source: Source
    ) -> WriteResult:
        """Upsert samples (see `Store.write_samples`): within the call the larger reading of a
        second stays, against stored rows the new one wins; identical re-reads write nothing."""
        result = WriteResult()
        previous_last: int | None = None
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            hours.lock_account(self._conn, account_id)
            for batch in _batches(samples):
                written, previous_last = self._write_batch(
                    account_id, batch, source.code, previous_last
                )
                result += written
            if result.merged:
                self._conn.execute(
                    "INSERT INTO sample_merge (account_id, source, merged) VALUES (%s, %s, %s) "
                    "ON CONFLICT (account_id, source) DO UPDATE "
                    "SET merged = sample_merge.merged + excluded.merged",
                    (account_id, source.code, result.merged),
                )
        return result

    def _write_batch(
        self, account_id: int, given: hours.Table, code: int, previous_last: int | None
    ) -> tuple[WriteResult, int]:
        # Sorted by (instant, bpm, offset), the last row of each second is the larger reading.
        given = given[np.lexsort((given[:, 2], given[:, 1], given[:, 0]))]
        last = np.ones(len(given), dtype=bool)
        last[:-1] = given[1:, 0] != given[:-1, 0]
        merged = len(given) - int(last.sum())
        if previous_last is not None and previous_last == int(given[0, 0]):
            merged += 1  # the same second ended the previous batch
        new = np.column_stack([given[last], np.full(int(last.sum()), code, dtype=np.int64)])
        touched = np.unique(new[:, 0] // hours.HOUR_S).tolist()
        old = hours.load(self._conn, account_id, touched)
        at, held = hours.match(old, new[:, 0])
        differs = held.copy()
        if len(old):
            differs[held] = (old[at[held], 1:] != new[held, 1:]).any(axis=1)
        inserted, updated = int((~held).sum()), int(differs.sum())
        if inserted or updated:
            keep = np.ones(len(old), dtype=bool)
            keep[at[held]] = False
            hours.rewrite(self._conn, account_id, touched, old[keep], new)
            changed = ~held | differs
            offsets = np.concatenate([new[changed, 2], old[at[held & differs], 2]])
            days.mark_dirty(
                self._conn,
                account_id,
                new[changed, 0],
                (int(offsets.min()), int(offsets.max())),
            )
        return WriteResult(inserted, updated, merged), int(given[-1, 0])

    @guarded
    def merged_samples(self, account_key: str) -> int:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        (merged,) = self._conn.execute(
            "SELECT (SELECT COALESCE(sum(merged), 0) FROM sample_merge WHERE account_id = %s) "
            "+ (SELECT COALESCE(sum(merged), 0) FROM import_run WHERE account_id = %s)",
            (account_id, account_id),
        ).fetchone() or (0,)
        return int(merged)

    def iter_samples(
        self, account_key: str, window: Window | None = None, *, batch_size: int = 10_000
    ) -> Iterator[Sequence[Sample]]:
        """Samples in ascending instant order, `batch_size` at a time (memory stays flat)."""
        account_id = guarded(self._account_id)(account_key, create=False)
        if account_id is None:
            return
        pending: list[Sample] = []
        make = Sample._make
        tables = hours.iter_tables(self._conn, account_id, *bounds(window))
        while True:
            try:
                table = next(tables, None)
            except psycopg.Error as failure:
                raise StoreError(f"PostgreSQL: {str(failure).strip()}") from failure
            if table is None:
                break
            pending += map(make, zip(*(table[:, i].tolist() for i in range(3)), strict=True))
            while len(pending) >= batch_size:
                yield pending[:batch_size]
                pending = pending[batch_size:]
        if pending:
            yield pending

    @guarded
    def sample_columns(self, account_key: str, window: Window | None = None) -> SampleColumns:
        """The window's samples, ascending, as numpy columns, all at once (bounded windows)."""
        account_id = self._account_id(account_key, create=False)
        table = hours.empty()
        if account_id is not None:
            table = hours.load_span(self._conn, account_id, *bounds(window))
        return SampleColumns(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())

    def _count(self, account_id: int, start_s: int, end_s: int, column: str) -> int:
        """Samples (`column` "samples") or distinct minutes ("minutes") in [start_s, end_s):
        whole hours from the array lengths, the two edge hours from their samples."""
        if start_s >= end_s:
            return 0
        first = -(-start_s // hours.HOUR_S)
        past = end_s // hours.HOUR_S  # hours first..past-1 lie wholly inside
        total = 0
        if first < past:
            table = "hr_hour" if column == "samples" else "hr_minute"
            length = "bpm" if column == "samples" else "minute"
            low, high = max(first, -(2**31)), min(past - 1, 2**31 - 1)
            (whole,) = self._conn.execute(
                f"SELECT COALESCE(sum(cardinality({length})), 0) FROM {table} "  # noqa: S608
                "WHERE account_id = %s AND hour >= %s AND hour <= %s".encode(),
                (account_id, low, high),
            ).fetchone() or (0,)
            total += int(whole)
            edges = [(start_s, first * hours.HOUR_S), (past * hours.HOUR_S, end_s)]
        else:
            edges = [(start_s, end_s)]
        for lo, hi in edges:
            if lo < hi:
                part = hours.load_span(self._conn, account_id, lo, hi)
                total += len(part) if column == "samples" else len(np.unique(part[:, 0] // 60))
        return total

    @guarded
    def sample_count(self, account_key: str, window: Window | None = None) -> int:
        account_id = self._account_id(account_key, create=False)
        return 0 if account_id is None else self._count(account_id, *bounds(window), "samples")

    @guarded
    def covered_minutes(self, account_key: str, window: Window) -> int:
        """How many distinct UTC minutes in `window` hold at least one sample (coverage)."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        return self._count(account_id, window.start_s, window.end_s, "minutes")

    @guarded
    def sample_span(self, account_key: str) -> Window | None:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        ends = []
        for order in ("", "DESC"):
            rows = fetch_rows(
                self._conn,
                "SELECT hour, seconds, bpm, offset_min, source FROM hr_hour "  # noqa: S608
                f"WHERE account_id = %s ORDER BY hour {order} LIMIT 1",
                (account_id,),
            )
            if not rows:
                return None
            ends.append(hours.unpack(rows)[:, 0])
        return Window(int(ends[0][0]), int(ends[1][-1]) + 1)
