"""Import provenance on PostgreSQL: an import's samples, what they replaced, their undo.

The rules are SQLite's (`sqlite_imports.py`, `precedence.py`): a sample's `source` is
`import_id * 16 + source code`; an import never replaces a synced row, wins over another
import's row only with the larger reading (the loser set aside in `import_displaced_*` so undo
can put it back), and undo removes its rows and restores what it displaced where the second or
day is free again.  Here the hours an import touches are loaded, changed as numpy tables and
written back whole (`postgres_hours.replace_hours`), in the import's transaction.  The record,
the dailies and the undo's rows past the samples are shared with SQLite (`import_record.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from heartkeep.errors import NoAccounts
from heartkeep.model import Sample, SampleColumns, Source
from heartkeep.store import postgres_days as days
from heartkeep.store import postgres_hours as hours
from heartkeep.store import precedence
from heartkeep.store.import_record import ImportRecordMixin
from heartkeep.store.precedence import IMPORT_STRIDE
from heartkeep.store.protocol import ImportWrite, UndoResult

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import psycopg


class ImportsMixin(ImportRecordMixin):
    """The `ImportStore` half of `PostgresStore`."""

    if TYPE_CHECKING:
        _conn: hours.Conn

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _writable_account_id(self, key: str) -> int: ...

        def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]: ...

    # samples ----------------------------------------------------------------------------------
    def write_import_samples(
        self, account_key: str, import_id: int, samples: Sequence[Sample], source: Source
    ) -> ImportWrite:
        """Write one file's samples under the precedence rule (see `ImportStore`)."""
        if not samples:
            return ImportWrite()
        columns = precedence.ascending_unique(SampleColumns.from_samples(samples))
        merged = len(samples) - len(columns)
        owned = int(import_id) * IMPORT_STRIDE + int(source.code)
        new = np.column_stack(
            [columns.instants_s, columns.bpm, columns.offsets_min,
             np.full(len(columns), owned, dtype=np.int64)]
        ).astype(np.int64)  # fmt: skip
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            hours.lock_account(self._conn, account_id)
            touched = np.unique(new[:, 0] // hours.HOUR_S).tolist()
            old = hours.load(self._conn, account_id, touched)
            at, held = hours.match(old, new[:, 0])
            replaced = kept = conflicts = 0
            write = ~held  # rows of `new` that end up stored
            if held.any():
                old_rows = old[at[held]]
                contest = precedence.contest_samples(
                    new[held, 1], new[held, 2], old_rows, import_id
                )
                kept, conflicts, replaced = contest.kept, contest.conflicts, contest.replaced
                if replaced:
                    with self._conn.cursor() as cursor:
                        cursor.executemany(
                            "INSERT INTO import_displaced_sample (displaced_by, account_id, "
                            "instant, bpm, offset_min, source) VALUES (%s, %s, %s, %s, %s, %s) "
                            "ON CONFLICT DO NOTHING",
                            [
                                (import_id, account_id, *row)
                                for row in old_rows[contest.displace].tolist()
                            ],
                        )
                write[np.flatnonzero(held)[contest.wins]] = True
            chosen = new[write]
            if len(chosen):
                keep = np.ones(len(old), dtype=bool)
                keep[at[write & held]] = False
                hours.rewrite(self._conn, account_id, touched, old[keep], chosen)
                days.mark_rows_dirty(self._conn, account_id, chosen)
        return ImportWrite(int((~held).sum()), replaced, kept, merged, conflicts)

    # undo -------------------------------------------------------------------------------------
    def undo_import(self, import_id: int) -> UndoResult:
        """Remove the import's rows, put back the archive rows it had replaced, forget it.
        Raises `NoAccounts` for an unknown import id."""
        with self.transaction():
            row = self._sql(
                "SELECT account_id, first_s, last_s FROM import_run WHERE id = %s", (import_id,)
            ).fetchone()
            if row is None:
                raise NoAccounts(
                    f"there is no import {import_id}",
                    hint="`heartkeep import list` shows the imports and their ids.",
                )
            account_id, first_s, last_s = (None if v is None else int(v) for v in row)
            assert account_id is not None
            hours.lock_account(self._conn, account_id)
            displaced = np.array(
                self._sql(
                    "SELECT instant, bpm, offset_min, source FROM import_displaced_sample "
                    "WHERE displaced_by = %s ORDER BY instant",
                    (import_id,),
                ).fetchall(),
                dtype=np.int64,
            ).reshape(-1, 4)
            spans = [] if first_s is None or last_s is None else [(first_s, last_s + 1)]
            touched = set((displaced[:, 0] // hours.HOUR_S).tolist())
            for lo, hi in spans:  # the hours with samples in the import's span
                touched.update(
                    int(hour)
                    for (hour,) in self._sql(
                        "SELECT hour FROM hr_hour WHERE account_id = %s AND hour >= %s "
                        "AND hour <= %s",
                        (account_id, lo // hours.HOUR_S, (hi - 1) // hours.HOUR_S),
                    )
                )
            ordered = sorted(touched)
            removed = restored_count = 0
            for lo_at in range(0, len(ordered), hours.READ_HOURS):
                chunk = ordered[lo_at : lo_at + hours.READ_HOURS]
                in_chunk = np.isin(displaced[:, 0] // hours.HOUR_S, chunk)
                gone, back = self._undo_hours(
                    account_id, import_id, chunk, spans, displaced[in_chunk]
                )
                removed += gone
                restored_count += back
            dailies_removed, dailies_restored = self._undo_record(account_id, import_id)
        return UndoResult(import_id, removed, dailies_removed, restored_count, dailies_restored)

    def _undo_hours(
        self,
        account_id: int,
        import_id: int,
        chunk: list[int],
        spans: list[tuple[int, int]],
        displaced: hours.Table,
    ) -> tuple[int, int]:
        """Undo an import in these hours: its rows out, the free displaced ones back in."""
        old = hours.load(self._conn, account_id, chunk)
        inside = np.zeros(len(old), dtype=bool)
        for lo, hi in spans:
            inside |= (old[:, 0] >= lo) & (old[:, 0] < hi)
        ours = inside & (old[:, 3] // IMPORT_STRIDE == import_id)
        remaining = old[~ours]
        restored = displaced[~np.isin(displaced[:, 0], remaining[:, 0])]
        changed = np.concatenate([old[ours], restored])
        if len(changed):
            hours.rewrite(self._conn, account_id, chunk, remaining, restored)
            days.mark_rows_dirty(self._conn, account_id, changed)
        return int(ours.sum()), len(restored)
