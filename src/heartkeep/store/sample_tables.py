"""Reading stored samples back as numpy tables, with no Python object per sample.

Why a module of its own: the upkeep of the day aggregates re-reads every day a write touched
(the days of a sync, the whole of an import), so this read sits on every writer's path, and so
does the full check of `doctor`.  `Cursor.fetchmany` builds a tuple and three ints per row, and
that cost more than everything done with the rows afterwards (issue 11: 60–70 % of the upkeep of
a sync or an import).  Here SQLite turns each column of at most a day of rows into one
comma-separated text (`group_concat`, in C) and numpy parses it (`np.fromstring`, in C): the
same rows, about twice as fast, three Python objects per day instead of four per sample, on the
writer's own connection and inside its transaction (a second connection — ADBC — would read
another snapshot).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

# Seconds of samples per query: a day of one-second rows is 86,400 rows, ~2 MB of text and
# 2 MB of table, so memory stays flat whatever the range.
SLICE_S = 86_400

_NEXT_SQL = (
    "SELECT instant FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant < ? "
    "ORDER BY instant LIMIT 1"
)
_COLUMNS_SQL = (
    "SELECT count(*), group_concat(instant), group_concat(bpm), group_concat(offset_min) "
    "FROM heart_rate WHERE account_id = ? AND instant >= ? AND instant < ?"
)


def sample_tables(
    db: sqlite3.Connection, account_id: int, start_s: int, end_s: int
) -> Iterator[npt.NDArray[np.int64]]:
    """The account's samples in [start_s, end_s) as n×3 int64 tables of (instant_s, bpm,
    offset_min) rows, ascending by instant across tables, each covering at most `SLICE_S`
    seconds (empty stretches are skipped, never read)."""
    cursor_s = start_s
    while cursor_s < end_s:
        row = db.execute(_NEXT_SQL, (account_id, cursor_s, end_s)).fetchone()
        if row is None:
            return
        low_s = int(row[0])
        high_s = min(end_s, low_s + SLICE_S)
        count, *texts = db.execute(_COLUMNS_SQL, (account_id, low_s, high_s)).fetchone()
        table = np.empty((int(count), 3), dtype=np.int64)
        for column, text in enumerate(texts):
            # A text that does not parse, or parses to another length, raises: never a short
            # table taken for the day.
            table[:, column] = np.fromstring(text, dtype=np.int64, sep=",")
        # The primary key's order is how SQLite walks the range; group_concat does not promise
        # it, so it is checked (one comparison per row) and restored if ever needed.
        if len(table) > 1 and not bool(np.all(table[1:, 0] > table[:-1, 0])):
            table = table[np.argsort(table[:, 0], kind="stable")]
        yield table
        cursor_s = high_s


__all__ = ["SLICE_S", "sample_tables"]
