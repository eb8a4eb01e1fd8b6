"""Import provenance on PostgreSQL: each import's record, its rows, what it replaced, its undo.

The rules are SQLite's (`sqlite_imports.py`, `precedence.py`): a sample's `source` is
`import_id * 16 + source code`; an import never replaces a synced row, wins over another
import's row only with the larger reading (the loser set aside in `import_displaced_*` so undo
can put it back), and undo removes its rows and restores what it displaced where the second or
day is free again.  Here the hours an import touches are loaded, changed as numpy tables and
written back whole (`postgres_hours.replace_hours`), in the import's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from heartkeep.errors import NoAccounts
from heartkeep.model import Daily, DailyKind, Sample, SampleColumns, Source
from heartkeep.store import postgres_days as days
from heartkeep.store import postgres_hours as hours
from heartkeep.store import precedence
from heartkeep.store.protocol import ImportRun, ImportWrite, Provenance, UndoResult
from heartkeep.store.rows import daily_from_row, zones_json
from heartkeep.store.sqlite_imports import IMPORT_STRIDE, _ascending_unique, _run_from_row

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import psycopg

_RUN_COLUMNS = (
    "r.id, a.key, r.imported_s, r.kind, r.time_zone, r.files, r.digest, r.samples_read, "
    "r.inserted, r.replaced, r.kept, r.merged, r.conflicts, r.dailies, r.first_s, r.last_s"
)


class ImportsMixin:
    """The `ImportStore` half of `PostgresStore`."""

    if TYPE_CHECKING:
        _conn: hours.Conn

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _writable_account_id(self, key: str) -> int: ...

        def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]: ...

    def find_import(self, account_key: str, kind: str, digest: str) -> ImportRun | None:
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        row = self._sql(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE r.account_id = %s AND r.kind = %s AND r.digest = %s ORDER BY r.id DESC LIMIT 1",
            (account_id, kind, digest),
        ).fetchone()
        return None if row is None else _run_from_row(row)

    def begin_import(self, account_key: str, provenance: Provenance, imported_s: int) -> int:
        files = orjson.dumps(
            [
                {"name": f.name, "sha256": f.sha256, "bytes": f.bytes}
                for f in sorted(provenance.files, key=lambda f: (f.sha256, f.name))
            ]
        ).decode()
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            row = self._sql(
                "INSERT INTO import_run (account_id, imported_s, kind, time_zone, files, digest) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (account_id, imported_s, provenance.kind, provenance.time_zone, files,
                 provenance.digest),
            ).fetchone()  # fmt: skip
        assert row is not None
        return int(row[0])

    def finish_import(
        self,
        import_id: int,
        *,
        samples_read: int,
        samples: ImportWrite,
        dailies: int,
        first_s: int | None,
        last_s: int | None,
    ) -> None:
        self._sql(
            "UPDATE import_run SET samples_read = %s, inserted = %s, replaced = %s, kept = %s, "
            "merged = %s, conflicts = %s, dailies = %s, first_s = %s, last_s = %s WHERE id = %s",
            (samples_read, samples.inserted, samples.replaced, samples.kept, samples.merged,
             samples.conflicts, dailies, first_s, last_s, import_id),
        )  # fmt: skip

    def imports(self, account_key: str | None = None) -> list[ImportRun]:
        rows = self._sql(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE %s::text IS NULL OR a.key = %s ORDER BY r.id",
            (account_key, account_key),
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    # samples ----------------------------------------------------------------------------------
    def write_import_samples(
        self, account_key: str, import_id: int, samples: Sequence[Sample], source: Source
    ) -> ImportWrite:
        """Write one file's samples under the precedence rule (see `ImportStore`)."""
        if not samples:
            return ImportWrite()
        columns = _ascending_unique(SampleColumns.from_samples(samples))
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
            at = np.minimum(np.searchsorted(old[:, 0], new[:, 0]), max(len(old) - 1, 0))
            held = (old[at, 0] == new[:, 0]) if len(old) else np.zeros(len(new), dtype=bool)
            replaced = kept = conflicts = 0
            write = ~held  # rows of `new` that end up stored
            if held.any():
                old_rows = old[at[held]]
                new_bpm, new_offset = new[held, 1], new[held, 2]
                old_bpm, old_offset, old_source = old_rows[:, 1], old_rows[:, 2], old_rows[:, 3]
                provider = np.isin(old_source % IMPORT_STRIDE, sorted(precedence.PROVIDER_CODES))
                same = (new_bpm == old_bpm) & (new_offset == old_offset)
                ours = old_source // IMPORT_STRIDE == import_id
                contested = ~provider & ~same
                wins = contested & precedence.samples_win(new_bpm, new_offset, old_bpm, old_offset)
                loses = contested & ~wins
                kept = int((provider & ~same).sum()) + int((loses & ~ours).sum())
                conflicts = int((loses & ours).sum()) + int((wins & ours).sum())
                displace = wins & ~ours
                replaced = int(displace.sum())
                if replaced:
                    with self._conn.cursor() as cursor:
                        cursor.executemany(
                            "INSERT INTO import_displaced_sample (displaced_by, account_id, "
                            "instant, bpm, offset_min, source) VALUES (%s, %s, %s, %s, %s, %s) "
                            "ON CONFLICT DO NOTHING",
                            [(import_id, account_id, *row) for row in old_rows[displace].tolist()],
                        )
                write[np.flatnonzero(held)[wins]] = True
            chosen = new[write]
            if len(chosen):
                keep = np.ones(len(old), dtype=bool)
                keep[at[write & held]] = False
                combined = np.concatenate([old[keep], chosen])
                combined = combined[np.argsort(combined[:, 0], kind="stable")]
                hours.replace_hours(self._conn, account_id, touched, combined)
                offsets = chosen[:, 2]
                days.mark_dirty(
                    self._conn, account_id, chosen[:, 0].tolist(),
                    (int(offsets.min()), int(offsets.max())),
                )  # fmt: skip
        return ImportWrite(int((~held).sum()), replaced, kept, merged, conflicts)

    # dailies ----------------------------------------------------------------------------------
    def write_import_dailies(
        self, account_key: str, import_id: int, dailies: Iterable[Daily], source: Source
    ) -> ImportWrite:
        """Write dailies (at most one per day and kind) under the precedence rule."""
        inserted = replaced = kept = conflicts = 0
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            for daily in dailies:
                key = (account_id, daily.day, daily.kind.value)
                old = self._sql(
                    "SELECT day::text, kind, value, zones, source, import_id FROM daily "
                    "WHERE account_id = %s AND day = %s AND kind = %s",
                    key,
                ).fetchone()
                zones = zones_json(daily.zones) if daily.kind is DailyKind.ZONES else None
                if old is not None:
                    held = daily_from_row(old[:4])
                    if precedence.is_provider(old[4]) or held == daily:
                        kept += held != daily
                        continue
                    if not precedence.daily_wins(daily, held):
                        kept += old[5] != import_id
                        conflicts += old[5] == import_id
                        continue
                    if old[5] == import_id:
                        conflicts += 1
                    else:
                        replaced += 1
                        self._sql(
                            "INSERT INTO import_displaced_daily (displaced_by, account_id, day, "
                            "kind, value, zones, source, import_id) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            (import_id, *key, old[2], old[3], old[4], old[5]),
                        )
                else:
                    inserted += 1
                self._sql(
                    "INSERT INTO daily (account_id, day, kind, value, zones, source, import_id) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (account_id, day, kind) "
                    "DO UPDATE SET value = excluded.value, zones = excluded.zones, "
                    "source = excluded.source, import_id = excluded.import_id",
                    (*key, daily.value, zones, source.code, import_id),
                )
        return ImportWrite(inserted, replaced, kept, 0, conflicts)

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
            dailies_removed = self._sql(
                "DELETE FROM daily WHERE account_id = %s AND import_id = %s",
                (account_id, import_id),
            ).rowcount
            dailies_restored = self._sql(
                "INSERT INTO daily (account_id, day, kind, value, zones, source, import_id) "
                "SELECT account_id, day, kind, value, zones, source, import_id "
                "FROM import_displaced_daily WHERE displaced_by = %s ON CONFLICT DO NOTHING",
                (import_id,),
            ).rowcount
            self._sql(
                "DELETE FROM import_displaced_sample WHERE displaced_by = %s OR source / 16 = %s",
                (import_id, import_id),
            )
            self._sql(
                "DELETE FROM import_displaced_daily WHERE displaced_by = %s OR import_id = %s",
                (import_id, import_id),
            )
            self._sql("DELETE FROM import_run WHERE id = %s", (import_id,))
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
            combined = np.concatenate([remaining, restored])
            combined = combined[np.argsort(combined[:, 0], kind="stable")]
            hours.replace_hours(self._conn, account_id, chunk, combined)
            days.mark_dirty(
                self._conn, account_id, changed[:, 0].tolist(),
                (int(changed[:, 2].min()), int(changed[:, 2].max())),
            )  # fmt: skip
        return int(ours.sum()), len(restored)
