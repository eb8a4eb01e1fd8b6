"""The default store: one SQLite file, WAL mode, integer columns, batched upserts.

Why it looks like this: a year of one-second heart rate is ~10 million rows, so every byte of a
row and every Python call per row counts.  Samples are written with `executemany` straight from
`Sample` tuples (no copying), sorted ascending within a batch so B-tree pages fill up, as upserts
keyed by (account, instant) so any re-read is harmless.  `transaction()` nests (savepoints inside
an outer BEGIN IMMEDIATE), which lets the sync engine commit a page and its cursor together while
each write call on its own still commits alone.

One `SqliteStore` is one connection; use it from one thread at a time.  Other processes may read
while a sync writes (WAL), and a second writer waits up to `busy_timeout_s`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartkeep.errors import StoreError
from heartkeep.model import Account, Sample, SampleColumns, Source, Window
from heartkeep.store.accounts import AccountsMixin
from heartkeep.store.check_stamp import remember_clean_close
from heartkeep.store.dialect import SQLITE
from heartkeep.store.failures import store_failure
from heartkeep.store.forgetting import ForgetReport, delete_account_rows
from heartkeep.store.ledger import LedgerMixin
from heartkeep.store.opening import integrity_problems, open_empty, open_reader, open_writer
from heartkeep.store.protocol import WriteResult
from heartkeep.store.rows import bounds
from heartkeep.store.sample_batches import sample_batches
from heartkeep.store.sqlite_aggregates import AggregatesMixin
from heartkeep.store.sqlite_imports import ImportRunsMixin

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heartkeep.store.backfill_days import BackfillRun
    from heartkeep.store.fresh_days import FreshRun

# A load this large (about six weeks of one-second data) is followed by a VACUUM.
COMPACT_AFTER_ROWS = 1_000_000
_by_instant = itemgetter(0)
_by_offset = itemgetter(2)


class SqliteStore(ImportRunsMixin, AggregatesMixin, LedgerMixin, AccountsMixin):
    """`SyncStore`, `ImportStore` and `AggregateStore` (`heartkeep.store.protocol`) on a SQLite
    file.

    Open it with `open_store`.  The import side (provenance, precedence, undo) lives in
    `sqlite_imports.py`, the per-day and per-minute summaries in `sqlite_aggregates.py`, the
    dailies and sync bookkeeping (shared with PostgreSQL) in `ledger.py`, account lookup in
    `accounts.py`."""

    _dialect = SQLITE

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 30.0,
        readonly: bool = False,
        missing_ok: bool = False,
    ):
        """`readonly`: open for reading only (see `store/opening.py`: no file or folder is
        created, no integrity check is paid for); otherwise checked, private and migrated.
        `missing_ok` (readers only): a file that is not there reads as an empty store."""
        self.path = path
        self._checked_s: float | None = None  # writers: when the file was last found sound
        if readonly and missing_ok and not path.exists():
            self._db = open_empty()
        elif readonly:
            self._db = open_reader(path, busy_timeout_s=busy_timeout_s)
        else:
            self._db, self._checked_s = open_writer(path, busy_timeout_s=busy_timeout_s)
        self._depth = 0
        self._fresh_run: FreshRun | None = None  # see sqlite_imports.py
        self._backfill: BackfillRun | None = None  # see sqlite_aggregates.py
        self._account_ids: dict[str, int] = {}
        self._upsert_sql: dict[tuple[int, int, bool], str] = {}

    # lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()
        if self._checked_s is not None and self._depth == 0:
            remember_clean_close(self.path, self._checked_s)
            self._checked_s = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit everything inside at exit, or nothing if it raises.  Nests via savepoints."""
        depth = self._depth
        if depth == 0:
            self._execute("BEGIN IMMEDIATE")
        else:
            self._execute(f"SAVEPOINT hk_{depth}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            self._account_ids.clear()  # an account made inside is gone again
            self._backfill = None  # its pages may be gone: what it left is dirty, not wrong
            if depth == 0:
                self._fresh_run = None  # its days stay dirty
                self._execute("ROLLBACK")
            else:
                self._execute(f"ROLLBACK TO hk_{depth}")
                self._execute(f"RELEASE hk_{depth}")
            raise
        self._depth -= 1
        if depth == 0:
            self._fresh_run = None  # not finished by its import: its days stay dirty
            self._execute("COMMIT")
        else:
            self._execute(f"RELEASE hk_{depth}")

    def after_bulk_write(self, rows_written: int) -> bool:
        """Count rows written since the last repack; repack once they pass a threshold.

        B-tree pages split while filling up end ~85 % full (about 17.8 bytes a sample, whether
        a backfill arrives newest first or daily syncs append); VACUUM rewrites them full (about
        15.1 bytes) in a few seconds for a year.  Doing it every `COMPACT_AFTER_ROWS` new rows
        (six weeks of one-second data) keeps the file near the packed size at a small cost.
        Returns True if it repacked.
        """
        with self.transaction():
            self._execute(
                "INSERT INTO store_meta (key, value) VALUES ('rows_since_compaction', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                (max(0, rows_written),),
            )
            (pending,) = self._execute(
                "SELECT value FROM store_meta WHERE key = 'rows_since_compaction'"
            ).fetchone()
        if pending < COMPACT_AFTER_ROWS:
            return False
        self.vacuum()
        self.optimize()
        self._execute("UPDATE store_meta SET value = 0 WHERE key = 'rows_since_compaction'")
        return True

    def integrity_problems(self, *, full: bool = False) -> list[str]:
        """What `PRAGMA quick_check` (`full`: `integrity_check`) finds; empty when sound."""
        return integrity_problems(self._db, self.path, full=full)

    def optimize(self) -> None:
        """Refresh the query planner's statistics; cheap, worth it after a large backfill."""
        self._execute("PRAGMA optimize")

    def vacuum(self) -> None:
        """Rewrite the file compactly (pages full, free pages returned); slow on big files."""
        self._execute("VACUUM")

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as failure:
            raise store_failure(failure, self.path) from failure

    def _run(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        """A statement shared with PostgreSQL (`dialect.py`): SQLite takes it as written."""
        return self._execute(sql, parameters)

    # accounts ---------------------------------------------------------------------------------
    def _insert_account(self, account: Account) -> int:
        (next_id,) = self._execute("SELECT COALESCE(MAX(id) + 1, 0) FROM account").fetchone()
        self._execute(
            "INSERT INTO account (id, key, provider, user_id, display_name, time_zone, "
            "member_since, created_s) VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%s', 'now'))",
            (
                next_id,
                account.key,
                account.provider,
                account.user_id,
                account.display_name,
                account.time_zone,
                account.member_since.isoformat() if account.member_since else None,
            ),
        )
        self._account_ids[account.key] = int(next_id)
        return int(next_id)

    def forget_account(self, account_key: str) -> ForgetReport:
        """Delete everything stored for the account (see `store/forgetting.py`), then VACUUM."""
        with self.transaction():
            try:
                report = delete_account_rows(self._db, account_key)
            except sqlite3.DatabaseError as failure:
                raise store_failure(failure, self.path) from failure
        self._account_ids.pop(account_key, None)
        self._upsert_sql.clear()
        self._backfill = None
        self.vacuum()
        return report

    # heart rate -------------------------------------------------------------------------------
    def write_samples(
        self, account_key: str, samples: Iterable[Sample], source: Source
    ) -> WriteResult:
        """Upsert samples in batches, each sorted ascending.

        Counts: `inserted` rows are new; `updated` rows existed with a different bpm, offset or
        source; identical re-reads count as neither (they do not even rewrite the row).
        Readings of one call that share a whole second are `merged`: the row keeps the larger
        bpm (whatever their order), and the count is added to
        the account's `sample_merge` row in the same transaction, so none is lost silently.
        Input sorted by instant has its merges counted across batch boundaries too.
        """
        account_id = self._writable_account_id(account_key)
        result = WriteResult()
        previous_last: int | None = None
        with self.transaction():
            for batch, table in sample_batches(samples):
                result += self._write_batch(account_id, source.code, batch, table, previous_last)
                previous_last = batch[-1][0]
            if result.merged:
                self._execute(
                    "INSERT INTO sample_merge (account_id, source, merged) VALUES (?, ?, ?) "
                    "ON CONFLICT (account_id, source) DO UPDATE "
                    "SET merged = merged + excluded.merged",
                    (account_id, source.code, result.merged),
                )
        return result

    def merged_samples(self, account_key: str) -> int:
        """Readings ever merged into another of the same second for this account."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        (merged,) = self._execute(
            "SELECT (SELECT COALESCE(sum(merged), 0) FROM sample_merge WHERE account_id = ?) "
            "+ (SELECT COALESCE(sum(merged), 0) FROM import_run WHERE account_id = ?)",
            (account_id, account_id),
        ).fetchone()
        return int(merged)

    def _upsert_statement(self, account_id: int, source_code: int, *, new: bool = False) -> str:
        # The account id and source code are the same for a whole batch; baking them into the
        # statement (they are our own integers, never user text) lets executemany take the
        # rows as they are, with no per-row copy.  `new`: the rows are distinct and their
        # stretch holds nothing (a backfill page), so a plain INSERT does, without the
        # conflict check the upsert pays for on every row.
        key = (account_id, source_code, new)
        sql = self._upsert_sql.get(key)
        if sql is None:
            sql = (
                "INSERT INTO heart_rate (account_id, instant, bpm, offset_min, source) "  # noqa: S608
                f"VALUES ({int(account_id)}, ?, ?, ?, {int(source_code)})"
            )
            if not new:
                sql += (
                    " ON CONFLICT (account_id, instant) DO UPDATE SET "
                    "bpm = excluded.bpm, offset_min = excluded.offset_min, "
                    "source = excluded.source "
                    "WHERE bpm != excluded.bpm OR offset_min != excluded.offset_min "
                    "OR source != excluded.source"
                )
            self._upsert_sql[key] = sql
        return sql

    def _write_batch(
        self,
        account_id: int,
        source_code: int,
        batch: Sequence[Sample],
        table: npt.NDArray[np.int64] | None,
        previous_last: int | None,
    ) -> WriteResult:
        """Write one batch (`sample_batches`: sorted, with its table when large)."""
        first, last = batch[0][0], batch[-1][0]
        if table is None:
            distinct = len(set(map(_by_instant, batch)))
            offsets = (min(map(_by_offset, batch)), max(map(_by_offset, batch)))
        else:  # the same answers from the columns the aggregates' upkeep takes as well
            instants = table[:, 0]
            distinct = 1 + int((instants[1:] != instants[:-1]).sum())
            offsets = (int(table[:, 2].min()), int(table[:, 2].max()))
        merged = len(batch) - distinct
        if previous_last is not None and previous_last == first:
            merged += 1  # the same second ended the previous batch
        before = self._count_range(account_id, first, last + 1)
        # A small write keeps the days current by itself when it only appends (appended_days.py)
        newest = self._newest_sample(account_id) if table is None else None
        sql = self._upsert_statement(account_id, source_code, new=before == 0 and merged == 0)
        changes = self._db.total_changes
        try:
            self._db.executemany(sql, batch)
        except (sqlite3.InterfaceError, sqlite3.IntegrityError, OverflowError) as failure:
            raise StoreError(f"a sample could not be stored: {failure}") from failure
        except sqlite3.DatabaseError as failure:
            raise store_failure(failure, self.path) from failure
        changed = self._db.total_changes - changes
        # Into a stretch that held nothing every distinct second is a new row: no second count.
        inserted = (
            distinct if before == 0 else self._count_range(account_id, first, last + 1) - before
        )
        # A backfill's pages (a first sync's first one, or one continuing the run) are
        # aggregated from the pages themselves (backfill_days.py), small or not.
        paged = inserted == len(batch) and before == 0
        paged = paged and (newest is None or self._backfill is not None)
        if changed:  # identical re-reads change no sample, hence no aggregate
            if table is None and not paged:  # a few new minutes (an hourly sync): no numpy
                self._small_write(account_id, batch, offsets, newest, changed, inserted)
            elif inserted == len(batch):  # all new (a backfill page): add, re-read nothing
                # Into a stretch that held nothing, its days can come from the pages too.
                self._samples_added(account_id, batch, offsets, backfill=before == 0, table=table)
            else:
                self._samples_changed(account_id, map(_by_instant, batch), offsets)
        # A merged reading that rewrote its second's row is a merge, not a changed row.
        updated = max(0, changed - inserted - merged)
        return WriteResult(inserted=inserted, updated=updated, merged=merged)

    def _count_range(self, account_id: int, start_s: int, end_s: int) -> int:
        row = self._execute(
            "SELECT count(*) FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant < ?",
            (account_id, start_s, end_s),
        ).fetchone()
        return int(row[0])

    def iter_samples(
        self, account_key: str, window: Window | None = None, *, batch_size: int = 10_000
    ) -> Iterator[Sequence[Sample]]:
        """Samples in ascending instant order, `batch_size` at a time (memory stays flat)."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return
        start_s, end_s = bounds(window)
        cursor = self._execute(
            "SELECT instant, bpm, offset_min FROM heart_rate "
            "WHERE account_id = ? AND instant >= ? AND instant < ? ORDER BY instant",
            (account_id, start_s, end_s),
        )
        make = Sample._make
        try:
            while rows := self._fetch(cursor, batch_size):
                yield list(map(make, rows))
        finally:
            cursor.close()

    def sample_columns(self, account_key: str, window: Window | None = None) -> SampleColumns:
        """The window's samples, ascending, as numpy columns from one SELECT: no `Sample` per
        row (a day of 86,400 readings in ~50 ms, where `iter_samples` plus columns took ~4x).
        For readers that need a bounded window whole (the dashboard's day), not for streaming."""
        import numpy as np

        account_id = self._account_id(account_key, create=False)
        table = np.zeros((0, 3), dtype=np.int64)
        if account_id is not None:
            start_s, end_s = bounds(window)
            cursor = self._execute(
                "SELECT instant, bpm, offset_min FROM heart_rate "
                "WHERE account_id = ? AND instant >= ? AND instant < ? ORDER BY instant",
                (account_id, start_s, end_s),
            )
            try:
                flat = np.fromiter(chain.from_iterable(cursor), dtype=np.int64)
            except sqlite3.DatabaseError as failure:
                raise store_failure(failure, self.path) from failure
            table = flat.reshape(-1, 3)
        return SampleColumns(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())

    def _fetch(self, cursor: sqlite3.Cursor, size: int) -> list[Any]:
        try:
            return cursor.fetchmany(size)
        except sqlite3.DatabaseError as failure:
            raise store_failure(failure, self.path) from failure

    def sample_count(self, account_key: str, window: Window | None = None) -> int:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return 0
        return self._count_range(account_id, *bounds(window))

    def sample_span(self, account_key: str) -> Window | None:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        # Two queries: SQLite answers a lone min() or max() from the index in O(log n).
        (first,) = self._execute(
            "SELECT min(instant) FROM heart_rate WHERE account_id = ?", (account_id,)
        ).fetchone()
        if first is None:
            return None
        (last,) = self._execute(
            "SELECT max(instant) FROM heart_rate WHERE account_id = ?", (account_id,)
        ).fetchone()
        return Window(int(first), int(last) + 1)
