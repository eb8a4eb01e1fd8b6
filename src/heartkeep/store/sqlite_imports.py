"""Import provenance on SQLite: an import's samples, what they replaced, their undo.

Why a mixin of its own: `sqlite.py` is the hot path of sync and reads; this is the import side
(`heartkeep.store.protocol.ImportStore`), kept apart so each stays readable.  The record, the
dailies and the undo's rows past the samples are shared with PostgreSQL (`import_record.py`).

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

from heartkeep.errors import NoAccounts
from heartkeep.model import Daily, Sample, SampleColumns, Source
from heartkeep.store import precedence
from heartkeep.store.import_record import ImportRecordMixin
from heartkeep.store.precedence import IMPORT_STRIDE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from heartkeep.store.fresh_days import FreshRun
    from heartkeep.store.import_rows import ImportWrite, UndoResult


class ImportRunsMixin(ImportRecordMixin):
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
            self,
            account_id: int,
            samples: Sequence[Sample],
            offsets_min: tuple[int, int],
            *,
            backfill: bool = False,
            table: npt.NDArray[np.int64] | None = None,
        ) -> None: ...

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
        """Record the import's counts, once its fresh days are stored (`_end_fresh_run`)."""
        self._end_fresh_run()
        super().finish_import(
            import_id,
            samples_read=samples_read,
            samples=samples,
            dailies=dailies,
            first_s=first_s,
            last_s=last_s,
        )

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
        from heartkeep.store.import_rows import ImportWrite  # see import_rows.py

        if not samples:
            return ImportWrite()
        import numpy as np  # here, not at the top: the start-up of every command loads this module

        account_id = self._writable_account_id(account_key)
        columns = precedence.ascending_unique(SampleColumns.from_samples(samples))
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
            contest = precedence.contest_samples(new_bpm, new_offset, old_rows, import_id)
            kept, conflicts, replaced = contest.kept, contest.conflicts, contest.replaced
            wins = contest.wins
            if replaced:
                self._db.executemany(
                    "INSERT OR IGNORE INTO import_displaced_sample (displaced_by, account_id, "  # noqa: S608
                    f"instant, bpm, offset_min, source) VALUES ({int(import_id)}, "
                    f"{int(account_id)}, ?, ?, ?, ?)",
                    old_rows[contest.displace].tolist(),
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
        """Write dailies under the precedence rule (`import_record.py`), once the samples'
        fresh days are stored."""
        self._end_fresh_run()  # the samples are all written: their days, before more changes
        return super().write_import_dailies(account_key, import_id, dailies, source)

    # undo -------------------------------------------------------------------------------------
    def undo_import(self, import_id: int) -> UndoResult:
        """Remove the import's rows, put back the archive rows it had replaced, forget it.

        Rows it replaced come back only where the second or day is free again (a sync since
        may have filled it).  Raises `NoAccounts` for an unknown import id.
        """
        from heartkeep.store.import_rows import UndoResult  # see import_rows.py

        with self.transaction():
            row = self._execute(
                "SELECT account_id, first_s, last_s FROM import_run WHERE id = ?", (import_id,)
            ).fetchone()
            if row is None:
                raise NoAccounts(
                    f"there is no import {import_id}",
                    hint="`heartkeep import list` shows the imports and their ids.",
                )
            account_id, first_s, last_s = row
            # What changes, for the aggregates: its samples going, the rows it replaced back.
            changing = self._execute(
                "SELECT instant, offset_min FROM heart_rate WHERE account_id = ? AND instant >= ? "
                "AND instant <= ? AND source / 16 = ? UNION ALL SELECT instant, offset_min "
                "FROM import_displaced_sample WHERE displaced_by = ?",
                (account_id, first_s, last_s, import_id, import_id),
            ).fetchall()
            samples_removed = 0
            if first_s is not None:
                samples_removed = self._execute(
                    "DELETE FROM heart_rate WHERE account_id = ? AND instant >= ? "
                    "AND instant <= ? AND source / 16 = ?",
                    (account_id, first_s, last_s, import_id),
                ).rowcount
            samples_restored = self._execute(
                "INSERT OR IGNORE INTO heart_rate (account_id, instant, bpm, offset_min, source) "
                "SELECT account_id, instant, bpm, offset_min, source "
                "FROM import_displaced_sample WHERE displaced_by = ?",
                (import_id,),
            ).rowcount
            dailies_removed, dailies_restored = self._undo_record(account_id, import_id)
            if changing:
                offsets = [offset for _, offset in changing]
                self._samples_changed(
                    account_id, (instant for instant, _ in changing), (min(offsets), max(offsets))
                )
        return UndoResult(
            import_id, samples_removed, dailies_removed, samples_restored, dailies_restored
        )
