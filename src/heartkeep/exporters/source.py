"""Where an export reads from: the account's samples in one window of the store's SQLite file.

An export reads the file through a connection of its own (`store/opening.py`'s read-only way in:
`mode=ro`, never a write), inside one read transaction, so every batch comes from the same
snapshot even while a sync commits pages.  The store's `iter_samples` builds a `Sample` per row,
which is right for analysis and far too slow for a year of exports (8 M rows: 28–38 % of an
export went into those objects, 38–46 % into fetching the rows as tuples); the writers here get
batches of text formatted by SQLite (`text`) or Arrow record batches (`parquet.py`) instead.

The source also counts what went out (samples, first and last instant) for `ExportReport`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from heartkeep.exporters.sqltext import Chunk, chunks
from heartkeep.model import Account
from heartkeep.store.failures import store_failure
from heartkeep.store.opening import open_reader

BUSY_TIMEOUT_S = 30.0


class SampleSource:
    """`with SampleSource(path, account, start_s, end_s, batch_rows) as source:` — then read.

    `account_id` is the account's row id in the file (what `heart_rate.account_id` holds).
    """

    def __init__(
        self, path: Path, account: Account, start_s: int, end_s: int, batch_rows: int
    ) -> None:
        self.path = path
        self.account = account
        self.start_s = start_s
        self.end_s = end_s
        self.batch_rows = max(1, batch_rows)
        self.account_id = -1
        self.samples = 0
        self.first_s: int | None = None
        self.last_s: int | None = None
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> SampleSource:
        db = open_reader(self.path, busy_timeout_s=BUSY_TIMEOUT_S)
        try:
            db.execute("BEGIN")
            row = db.execute("SELECT id FROM account WHERE key = ?", (self.account.key,))
            found = row.fetchone()
        except sqlite3.Error as failure:
            db.close()
            raise store_failure(failure, self.path) from failure
        self._db = db
        # The caller found the account through the store; a file that lost it meanwhile (a
        # `forget` in between) simply has no samples for it.
        self.account_id = int(found[0]) if found else -1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def note(self, count: int, first_s: int, last_s: int) -> None:
        """Count a batch that went out (ascending batches: the first one sets `first_s`)."""
        if not count:
            return
        if self.first_s is None:
            self.first_s = first_s
        self.last_s = last_s
        self.samples += count

    def text(
        self,
        line_sql: str,
        *,
        separator: str = "\n",
        terminator: str = "\n",
        parameters: Mapping[str, object] | None = None,
        key_sql: str = "NULL",
    ) -> Iterator[Chunk]:
        """The samples as batches of text formatted by `line_sql` (see `sqltext.chunks`)."""
        if self._db is None:
            raise RuntimeError("SampleSource.text outside its `with` block")
        for chunk in chunks(
            self._db,
            self.path,
            line_sql,
            account_id=self.account_id,
            start_s=self.start_s,
            end_s=self.end_s,
            batch_rows=self.batch_rows,
            separator=separator,
            terminator=terminator,
            parameters=parameters,
            key_sql=key_sql,
        ):
            self.note(chunk.count, chunk.first_s, chunk.last_s)
            yield chunk
