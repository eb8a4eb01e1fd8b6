"""Import provenance on SQLite: each import's record, its rows, what it replaced, its undo.

Why a mixin of its own: `sqlite.py` is the hot path of sync and reads; this is the import side
(`heartkeep.store.protocol.ImportStore`), kept apart so each stays readable.

How rows are owned: a sample's `heart_rate.source` is `import_id * 16 + source code` (plain
codes for synced rows and rows imported before schema 4, so provenance costs synced samples no
byte); `daily.import_id` names the import that wrote a daily (NULL: synced, or before schema
4).  When an import wins a second or a day over another import's row
(`heartkeep.store.precedence`), the losing row is copied to `import_displaced_*` first, so
undoing the winner can put it back.  Undo looks for an import's samples only inside
[first_s, last_s] of that import, a primary-key range scan, so the heart-rate table needs no
extra index (an index would cost every sample several bytes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from heartkeep.errors import NoAccounts
from heartkeep.model import Daily, DailyKind, Sample, SampleColumns, Source
from heartkeep.store import precedence
from heartkeep.store.protocol import ImportFile, ImportRun, ImportWrite, Provenance, UndoResult
from heartkeep.store.rows import daily_from_row, zones_json

if TYPE_CHECKING:
    from heartkeep.store.fresh_days import FreshRun

# heart_rate.source = import_id * IMPORT_STRIDE + source code (see migrations._V4).
IMPORT_STRIDE = 16

_RUN_COLUMNS = (
    "r.id, a.key, r.imported_s, r.kind, r.time_zone, r.files, r.digest, r.samples_read, "
    "r.inserted, r.replaced, r.kept, r.merged, r.conflicts, r.dailies, r.first_s, r.last_s"
)


class ImportRunsMixin:
    """The `ImportStore` half of `SqliteStore` (which supplies the connection helpers)."""

    if TYPE_CHECKING:
        _db: sqlite3.Connection
        _fresh_run: FreshRun | None  # the import's columns being aggregated (fresh_days.py)

        def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor: ...

        def _writable_account_id(self, key: str) -> int: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _samples_changed(
            self, account_id: int, instants: Iterable[int], offsets_min: tuple[int, int]
        ) -> None: ...

        def _samples_added(
            self, account_id: int, samples: Sequence[Sample], offsets_min: tuple[int, int]
        ) -> None: ...

    # the record -------------------------------------------------------------------------------
    def find_import(self, account_key: str, kind: str, digest: str) -> ImportRun | None:
        """The latest import of exactly these files (same digest) into this account, if any."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        row = self._execute(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE r.account_id = ? AND r.kind = ? AND r.digest = ? ORDER BY r.id DESC LIMIT 1",
            (account_id, kind, digest),
        ).fetchone()
        return None if row is None else _run_from_row(row)

    def begin_import(self, account_key: str, provenance: Provenance, imported_s: int) -> int:
        account_id = self._writable_account_id(account_key)
        files = orjson.dumps(
            [
                {"name": f.name, "sha256": f.sha256, "bytes": f.bytes}
                for f in sorted(provenance.files, key=lambda f: (f.sha256, f.name))
            ]
        ).decode()
        cursor = self._execute(
            "INSERT INTO import_run (account_id, imported_s, kind, time_zone, files, digest) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                account_id,
                imported_s,
                provenance.kind,
                provenance.time_zone,
                files,
                provenance.digest,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

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
        self._end_fresh_run()
        self._execute(
            "UPDATE import_run SET samples_read = ?, inserted = ?, replaced = ?, kept = ?, "
            "merged = ?, conflicts = ?, dailies = ?, first_s = ?, last_s = ? WHERE id = ?",
            (
                samples_read,
                samples.inserted,
                samples.replaced,
                samples.kept,
                samples.merged,
                samples.conflicts,
                dailies,
                first_s,
                last_s,
                import_id,
            ),
        )

    def imports(self, account_key: str | None = None) -> list[ImportRun]:
        rows = self._execute(
            f"SELECT {_RUN_COLUMNS} FROM import_run AS r JOIN account AS a ON a.id = r.account_id "  # noqa: S608
            "WHERE ? IS NULL OR a.key = ? ORDER BY r.id",
            (account_key, account_key),
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    # samples ----------------------------------------------------------------------------------
    def write_import_samples(
        self, account_key: str, import_id: int, samples: Sequence[Sample], source: Source
    ) -> ImportWrite:
        """Write one file's samples (any order; best as `SampleColumns`) under the precedence
        rule.

        Readings of one second in this call are merged (the larger stays).  Against stored
        rows: a synced row always stays (`kept`); a row of this same import (the file's twin)
        gives way to a larger reading (`conflicts`); another import's row gives way to a
        larger reading after being set aside (`replaced`), else stays (`kept`, or nothing at
        all when both say the same).

        Columns all the way: a day file of 86,400 readings costs one sort check, one range
        read of what is stored and one `executemany`, with no Python object per reading but
        the row tuple `executemany` binds.
        """
        if not samples:
            return ImportWrite()
        import numpy as np  # here, not at the top: the start-up of every command loads this module

        account_id = self._writable_account_id(account_key)
        columns = _ascending_unique(SampleColumns.from_samples(samples))
        merged = len(samples) - len(columns)
        instants, bpms, offsets = columns.instants_s, columns.bpm, columns.offsets_min
        first_s = int(instants[0])
        stored = self._execute(
            "SELECT instant, bpm, offset_min, source FROM heart_rate "
            "WHERE account_id = ? AND instant >= ? AND instant <= ? ORDER BY instant",
            (account_id, first_s, int(instants[-1])),
        ).fetchall()
        owned = int(import_id) * IMPORT_STRIDE + int(source.code)
        replaced = kept = conflicts = 0
        fresh = columns
        run = self._fresh_run
        if run is not None and (stored or not run.continues(self._db, account_id, first_s)):
            self._end_fresh_run()  # before this write changes what the run's days depend on
            run = None
        if not stored and run is None:
            from heartkeep.store.fresh_days import FreshRun  # numpy: not at start-up

            run = self._fresh_run = FreshRun.start(self._db, account_id, first_s)
        if stored:
            old = np.array(stored, dtype=np.int64).reshape(-1, 4)
            at = np.minimum(np.searchsorted(old[:, 0], instants), len(old) - 1)
            held = old[at, 0] == instants
            fresh = columns.where(~held)
            new_bpm, new_offset = bpms[held], offsets[held]
            old_rows = old[at[held]]
            old_bpm, old_offset, old_source = old_rows[:, 1], old_rows[:, 2], old_rows[:, 3]
            provider = np.isin(old_source % IMPORT_STRIDE, sorted(precedence.PROVIDER_CODES))
            same = (new_bpm == old_bpm) & (new_offset == old_offset)
            ours = old_source // IMPORT_STRIDE == import_id
            contested = ~provider & ~same
            wins = contested & precedence.samples_win(new_bpm, new_offset, old_bpm, old_offset)
            loses = contested & ~wins
            kept = _count(provider & ~same) + _count(loses & ~ours)
            conflicts = _count(loses & ours) + _count(wins & ours)
            displace = wins & ~ours
            replaced = _count(displace)
            if replaced:
                self._db.executemany(
                    "INSERT OR IGNORE INTO import_displaced_sample (displaced_by, account_id, "  # noqa: S608
                    f"instant, bpm, offset_min, source) VALUES ({int(import_id)}, "
                    f"{int(account_id)}, ?, ?, ?, ?)",
                    old_rows[displace].tolist(),
                )
            if wins.any():
                self._db.executemany(
                    f"UPDATE heart_rate SET bpm = ?, offset_min = ?, source = {owned} "  # noqa: S608
                    f"WHERE account_id = {int(account_id)} AND instant = ?",
                    zip(
                        new_bpm[wins].tolist(),
                        new_offset[wins].tolist(),
                        instants[held][wins].tolist(),
                        strict=True,
                    ),
                )
        self._db.executemany(
            "INSERT INTO heart_rate (account_id, instant, bpm, offset_min, source) "  # noqa: S608
            f"VALUES ({int(account_id)}, ?, ?, ?, {owned})",
            fresh.rows(),
        )
        offset_range = (int(offsets.min()), int(offsets.max()))
        if not stored:  # all new: added to the aggregates from the columns
            self._samples_added(account_id, columns, offset_range)
            assert run is not None
            run.add(self._db, columns)
        else:  # one instant per touched minute is all the recomputation needs
            self._samples_changed(account_id, np.unique(instants // 60 * 60).tolist(), offset_range)
        return ImportWrite(len(fresh), replaced, kept, merged, conflicts)

    # dailies ----------------------------------------------------------------------------------
    def _end_fresh_run(self) -> None:
        """Store the inner days of the columns written so far (`store/fresh_days.py`)."""
        run, self._fresh_run = self._fresh_run, None
        if run is not None:
            run.finish(self._db)

    def write_import_dailies(
        self, account_key: str, import_id: int, dailies: Iterable[Daily], source: Source
    ) -> ImportWrite:
        """Write dailies (at most one per day and kind) under the precedence rule."""
        self._end_fresh_run()  # the samples are all written: their days, before more changes
        account_id = self._writable_account_id(account_key)
        inserted = replaced = kept = conflicts = 0
        for daily in dailies:
            key = (account_id, daily.day.isoformat(), daily.kind.value)
            old = self._execute(
                "SELECT day, kind, value, zones, source, import_id FROM daily "
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
                    self._execute(
                        "INSERT OR IGNORE INTO import_displaced_daily (displaced_by, account_id, "
                        "day, kind, value, zones, source, import_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (import_id, *key, old[2], old[3], old[4], old[5]),
                    )
            else:
                inserted += 1
            self._execute(
                "INSERT OR REPLACE INTO daily (account_id, day, kind, value, zones, source, "
                "import_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, daily.value, zones, source.code, import_id),
            )
        return ImportWrite(inserted, replaced, kept, 0, conflicts)

    # undo -------------------------------------------------------------------------------------
    def undo_import(self, import_id: int) -> UndoResult:
        """Remove the import's rows, put back the archive rows it had replaced, forget it.

        Rows it replaced come back only where the second or day is free again (a sync since
        may have filled it).  Raises `NoAccounts` for an unknown import id.
        """
        row = self._execute(
            "SELECT account_id, first_s, last_s FROM import_run WHERE id = ?", (import_id,)
        ).fetchone()
        if row is None:
            raise NoAccounts(
                f"there is no import {import_id}",
                hint="`heartkeep import list` shows the imports and their ids.",
            )
        account_id, first_s, last_s = row
        # What changes, for the aggregates: its samples going, the rows it replaced coming back.
        changing = self._execute(
            "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant >= ? "
            "AND instant <= ? AND source / 16 = ? UNION ALL SELECT instant, offset_min "
            "FROM import_displaced_sample WHERE displaced_by = ?",
            (account_id, first_s, last_s, import_id, import_id),
        ).fetchall()
        samples_removed = 0
        if first_s is not None:
            samples_removed = self._execute(
                "DELETE FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant <= ? "
                "AND source / 16 = ?",
                (account_id, first_s, last_s, import_id),
            ).rowcount
        dailies_removed = self._execute(
            "DELETE FROM daily WHERE account_id = ? AND import_id = ?", (account_id, import_id)
        ).rowcount
        samples_restored = self._execute(
            "INSERT OR IGNORE INTO heart_rate (account_id, instant, bpm, offset_min, source) "
            "SELECT account_id, instant, bpm, offset_min, source "
            "FROM import_displaced_sample WHERE displaced_by = ?",
            (import_id,),
        ).rowcount
        dailies_restored = self._execute(
            "INSERT OR IGNORE INTO daily (account_id, day, kind, value, zones, source, "
            "import_id) SELECT account_id, day, kind, value, zones, source, import_id "
            "FROM import_displaced_daily WHERE displaced_by = ?",
            (import_id,),
        ).rowcount
        # Its own set-asides are spent; rows of it that others set aside must never return.
        self._execute(
            "DELETE FROM import_displaced_sample WHERE displaced_by = ? OR source / 16 = ?",
            (import_id, import_id),
        )
        self._execute(
            "DELETE FROM import_displaced_daily WHERE displaced_by = ? OR import_id = ?",
            (import_id, import_id),
        )
        self._execute("DELETE FROM import_run WHERE id = ?", (import_id,))
        if changing:
            offsets = [offset for _, offset in changing]
            self._samples_changed(
                account_id, (instant for instant, _ in changing), (min(offsets), max(offsets))
            )
        return UndoResult(
            import_id, samples_removed, dailies_removed, samples_restored, dailies_restored
        )


def _ascending_unique(columns: SampleColumns) -> SampleColumns:
    """The columns by ascending instant, one row per second: the largest (bpm, offset) of
    each, the reading the precedence rule keeps.  A day file is usually in order already."""
    import numpy as np  # see write_import_samples

    instants = columns.instants_s
    if len(instants) < 2 or bool(np.all(instants[1:] > instants[:-1])):
        return columns
    order = np.lexsort((columns.offsets_min, columns.bpm, instants))
    ordered = SampleColumns(instants[order], columns.bpm[order], columns.offsets_min[order])
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ordered.instants_s[1:] != ordered.instants_s[:-1]
    return ordered.where(last)


def _count(mask: Any) -> int:
    return int(mask.sum())


def _run_from_row(row: Sequence[Any]) -> ImportRun:
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
