"""Samples as text formatted inside SQLite: one byte string per batch of rows, none per sample.

The text exports (CSV, JSON Lines, FHIR) are each one SQL expression over a row of
`heart_rate` (`instant`, `bpm`, `offset_min`): SQLite's `strftime`, `printf` and `||` run in C,
and `group_concat` joins a batch of lines in the same statement, so the Python side receives a
single `bytes` per batch (`CAST … AS BLOB` skips a UTF-8 decode and re-encode) with the batch's
count and first and last instant.  Building a `Sample`, a tuple or a string per row cost more
than the formatting itself (see `exporters/csv.py` for the figures).

Batches are read with a keyset (`instant >= next ORDER BY instant LIMIT n`) over the table's
primary key, so each statement is one index range scan, memory stays at one batch whatever the
history, and sparse and dense histories cost the same per sample.  `group_concat` on SQLite
before 3.44 has no `ORDER BY` of its own; it concatenates in the order its input arrives, and
the input here is an ordered subquery with a `LIMIT` (which SQLite must read in order), which
tests/exporters check on every run.

SQLite's date functions give NULL outside the years 0000–9999; a line that comes out NULL
(a stored instant or offset no clock can show) becomes a NUL byte, which no format ever holds,
and stops the export with a message instead of silently dropping the sample.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from heartkeep.errors import StoreError
from heartkeep.store.failures import store_failure


# ISO-8601 without a zone for an epoch-seconds expression: `datetime()` with its space made a
# `T`.  The same text as `strftime('%Y-%m-%dT%H:%M:%S', …)` (tests/exporters check it across the
# years 0000-9999), in 0.32 µs instead of 0.65 µs: strftime interprets its format each time.
def iso_sql(seconds_sql: str) -> str:
    """SQL for the ISO-8601 text (`2026-11-20T13:00:00`) of `seconds_sql` (UTC epoch s)."""
    return f"replace(datetime({seconds_sql}, 'unixepoch'), ' ', 'T')"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A batch of formatted samples: `text` (lines joined, ended as asked), how many, span.

    `keys` is the batch's `key_sql` values joined by commas, when one was asked for."""

    text: bytes
    count: int
    first_s: int
    last_s: int
    keys: bytes = b""


def chunks(
    db: sqlite3.Connection,
    path: Path,
    line_sql: str,
    *,
    account_id: int,
    start_s: int,
    end_s: int,
    batch_rows: int,
    separator: str = "\n",
    terminator: str = "\n",
    parameters: Mapping[str, object] | None = None,
    key_sql: str = "NULL",
) -> Iterator[Chunk]:
    """Each batch of the account's samples in [start_s, end_s), ascending, as formatted text.

    `line_sql` formats one row (columns `instant`, `bpm`, `offset_min`; named parameters from
    `parameters` may appear in it); lines are joined by `separator` and the batch ends with
    `terminator`.  `key_sql`, if given, is a second per-row value returned comma-joined in
    `Chunk.keys` (for what SQLite cannot compute, such as a hash per sample).  SQLite errors
    become the store's `StoreError`s (exit 9) naming `path`.

    `line_sql` and `key_sql` are SQL text from heartkeep's own modules, never from a user;
    every value (account, window, the formats' fixed pieces) is a bound parameter.
    """
    lines = f"group_concat(coalesce({line_sql}, char(0)), :hk_separator)"
    sql = (
        f"SELECT CAST({lines} || :hk_terminator AS BLOB), "  # noqa: S608 - values are bound
        f"count(*), min(instant), max(instant), CAST(group_concat({key_sql}, ',') AS BLOB) "
        "FROM ("
        "SELECT instant, bpm, offset_min FROM heart_rate "
        "WHERE account_id = :hk_account AND instant >= :hk_from AND instant < :hk_end "
        "ORDER BY instant LIMIT :hk_rows)"
    )
    bound: dict[str, object] = dict(parameters or {})
    bound.update(
        hk_separator=separator,
        hk_terminator=terminator,
        hk_account=account_id,
        hk_end=end_s,
        hk_rows=max(1, batch_rows),
    )
    next_s = start_s
    while next_s < end_s:
        bound["hk_from"] = next_s
        try:
            text, count, first_s, last_s, keys = db.execute(sql, bound).fetchone()
        except sqlite3.Error as failure:
            raise store_failure(failure, path) from failure
        if not count:
            return
        data = bytes(text)
        if b"\0" in data:
            raise _unformattable(path, int(first_s), int(last_s))
        yield Chunk(data, int(count), int(first_s), int(last_s), bytes(keys or b""))
        next_s = int(last_s) + 1


def _unformattable(path: Path, first_s: int, last_s: int) -> StoreError:
    return StoreError(
        f"{path} holds a sample between instants {first_s} and {last_s} whose time cannot be "
        "written as a date (outside the years 0000-9999 with its UTC offset)",
        hint="export the days around it with --since/--until, or check the file with "
        "`heartkeep doctor`",
    )


def json_pieces(dumped: bytes, marks: list[bytes]) -> list[str]:
    """`dumped` (compact JSON) cut at each marker, in order: n markers give n + 1 pieces.

    A marker is a JSON string literal, quotes included (`b'"@@id@@"'`); inside an escaped
    string every quote follows a backslash, so a marker can only match the value it marks,
    whatever text (an account name) the JSON around it holds.
    """
    pieces = []
    rest = dumped
    for mark in marks:
        before, found, rest = rest.partition(mark)
        if not found or mark in rest:
            raise ValueError(f"JSON template: {mark!r} is not there exactly once")
        pieces.append(before.decode())
    pieces.append(rest.decode())
    return pieces
