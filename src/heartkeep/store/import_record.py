"""Import provenance both stores share: each import's record, its dailies, the undo's rows.

Why one module for two databases: the import record (`import_run`), the dailies and what an
import set aside (`import_displaced_*`) are column for column the same in SQLite and
PostgreSQL, so their statements are written once, in the SQL both accept (`store/dialect.py`).
Samples are each backend's own (`sqlite_imports.py` works row by row on the table,
`postgres_imports.py` on packed hours); both decide with `precedence.contest_samples`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from heartkeep.model import Daily, DailyKind, Source
from heartkeep.store import precedence
from heartkeep.store.dialect import SharedStatements
from heartkeep.store.rows import daily_from_row, zones_json

if TYPE_CHECKING:
    from heartkeep.store.import_rows import ImportRun, ImportWrite, Provenance

_RUN_COLUMNS = (
    "r.id, a.key, r.imported_s, r.kind, r.time_zone, r.files, r.digest, r.samples_read, "
    "r.inserted, r.replaced, r.kept, r.merged, r.conflicts, r.dailies, r.first_s, r.last_s"
)


class ImportRecordMixin(SharedStatements):
    """The record and dailies half of `ImportStore`, for `SqliteStore` and `PostgresStore`."""

    # the record -------------------------------------------------------------------------------
    def find_import(self, account_key: str, kind: str, digest: str) -> ImportRun | None:
        """The latest import of exactly these files (same digest) into this account, if any."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        row = self._run(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE r.account_id = ? AND r.kind = ? AND r.digest = ? ORDER BY r.id DESC LIMIT 1",
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
            # fetchall: SQLite finishes a RETURNING statement only once its rows are read
            (row,) = self._run(
                "INSERT INTO import_run (account_id, imported_s, kind, time_zone, files, digest) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (account_id, imported_s, provenance.kind, provenance.time_zone, files,
                 provenance.digest),
            ).fetchall()  # fmt: skip
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
        self._run(
            "UPDATE import_run SET samples_read = ?, inserted = ?, replaced = ?, kept = ?, "
            "merged = ?, conflicts = ?, dailies = ?, first_s = ?, last_s = ? WHERE id = ?",
            (samples_read, samples.inserted, samples.replaced, samples.kept, samples.merged,
             samples.conflicts, dailies, first_s, last_s, import_id),
        )  # fmt: skip

    def imports(self, account_key: str | None = None) -> list[ImportRun]:
        rows = self._run(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE CAST(? AS TEXT) IS NULL OR a.key = ? ORDER BY r.id",
            (account_key, account_key),
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    # dailies ----------------------------------------------------------------------------------
    def write_import_dailies(
        self, account_key: str, import_id: int, dailies: Iterable[Daily], source: Source
    ) -> ImportWrite:
        """Write dailies (at most one per day and kind) under the precedence rule."""
        inserted = replaced = kept = conflicts = 0
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            for daily in dailies:
                key = (account_id, self._dialect.day(daily.day), daily.kind.value)
                old = self._run(
                    "SELECT CAST(day AS TEXT), kind, value, zones, source, import_id FROM daily "
                    "WHERE account_id = ? AND day = ? AND kind = ?",
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
                        self._run(
                            "INSERT INTO import_displaced_daily (displaced_by, account_id, day, "
                            "kind, value, zones, source, import_id) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (import_id, *key, old[2], old[3], old[4], old[5]),
                        )
                else:
                    inserted += 1
                self._run(
                    "INSERT INTO daily (account_id, day, kind, value, zones, source, import_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day, kind) "
                    "DO UPDATE SET value = excluded.value, zones = excluded.zones, "
                    "source = excluded.source, import_id = excluded.import_id",
                    (*key, daily.value, zones, source.code, import_id),
                )
        from heartkeep.store.import_rows import ImportWrite  # see import_rows.py

        return ImportWrite(inserted, replaced, kept, 0, conflicts)

    # undo -------------------------------------------------------------------------------------
    def _undo_record(self, account_id: int, import_id: int) -> tuple[int, int]:
        """The undo's part past the samples (which the caller has taken back first): the
        import's dailies out, the ones it displaced back where the day is free, its set-asides
        spent, its record gone.  Returns (dailies removed, dailies restored)."""
        dailies_removed = self._run(
            "DELETE FROM daily WHERE account_id = ? AND import_id = ?", (account_id, import_id)
        ).rowcount
        dailies_restored = self._run(
            "INSERT INTO daily (account_id, day, kind, value, zones, source, import_id) "
            "SELECT account_id, day, kind, value, zones, source, import_id "
            "FROM import_displaced_daily WHERE displaced_by = ? ON CONFLICT DO NOTHING",
            (import_id,),
        ).rowcount
        # Its own set-asides are spent; rows of it that others set aside must never return.
        self._run(
            "DELETE FROM import_displaced_sample WHERE displaced_by = ? OR source / 16 = ?",
            (import_id, import_id),
        )
        self._run(
            "DELETE FROM import_displaced_daily WHERE displaced_by = ? OR import_id = ?",
            (import_id, import_id),
        )
        self._run("DELETE FROM import_run WHERE id = ?", (import_id,))
        return dailies_removed, dailies_restored


def _run_from_row(row: Sequence[Any]) -> ImportRun:
    from heartkeep.store.import_rows import ImportFile, ImportRun, ImportWrite

    files = tuple(
        ImportFile(str(f["name"]), str(f["sha256"]), int(f["bytes"])) for f in orjson.loads(row[5])
    )
    return ImportRun(
        import_id=row[0],
        account_key=row[1],
        imported_s=row[2],
        kind=row[3],
        time_zone=row[4],
        files=files,
        digest=row[6],
        samples_read=row[7],
        samples=ImportWrite(row[8], row[9], row[10], row[11], row[12]),
        dailies=row[13],
        first_s=row[14],
        last_s=row[15],
    )
