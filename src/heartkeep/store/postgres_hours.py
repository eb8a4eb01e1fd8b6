"""Packed samples on PostgreSQL: one `hr_hour` row per (account, UTC hour), read and written whole.

Why whole hours: a row holds an hour's samples as arrays (`postgres_schema.py`), so every change
— a sync page, an import, an undo — reads the hours it touches, changes them as numpy tables of
(instant, bpm, offset_min, source) rows, and writes them back: one `DELETE` of the hours' rows,
then a binary `COPY` of the packed rows (`postgres_arrays.py`: numpy in, numpy out, no Python
object per sample) straight into `hr_hour` (and the same for the hours' per-minute summaries in
`hr_minute`, recomputed from the new arrays, so they are current in the writer's
transaction).  Read-modify-write needs one writer per account at a time:
`lock_account` takes a transaction-level advisory lock that a second writer of the same
account (another worker) waits on; writers of different accounts never wait for each other.

numpy loads with this module, which only the PostgreSQL store imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from heartkeep.errors import StoreError
from heartkeep.store.postgres_arrays import INT2, INT4, copy_rows, fetch_rows

HOUR_S = 3600
INT16 = (-(2**15), 2**15 - 1)
# Hours fetched per query when streaming (about 200,000 samples at one a second).
READ_HOURS = 200
Table = npt.NDArray[np.int64]  # n × 4: instant, bpm, offset_min, source; ascending, distinct
Conn = psycopg.Connection[tuple[Any, ...]]

_HOUR_COLUMNS = "account_id, hour, seconds, bpm, offset_min, source"
_MINUTE_COLUMNS = "account_id, hour, minute, n, sum_bpm, min_bpm, max_bpm"


def empty() -> Table:
    return np.zeros((0, 4), dtype=np.int64)


def lock_account(conn: Conn, account_id: int) -> None:
    """Wait for, then hold until the transaction ends, the right to change this account's hours."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.hr_hour'), %s)",
        (account_id,),
    )


def unpack(rows: Sequence[Sequence[Any]]) -> Table:
    """(hour, seconds, bpm, offset_min, source) rows, ascending by hour, as one table (the
    arrays as `fetch_rows` reads them: numpy, or plain lists)."""
    if not rows:
        return empty()
    lengths = np.array([len(row[1]) for row in rows], dtype=np.int64)

    def column(index: int) -> Table:
        return np.concatenate([np.asarray(row[index], dtype=np.int64) for row in rows])

    gaps = column(1)
    running = np.cumsum(gaps)
    heads = np.cumsum(lengths) - lengths
    hours = np.array([row[0] for row in rows], dtype=np.int64)
    before = np.repeat(running[heads] - gaps[heads], lengths)  # the sum up to each row's start
    instants = running - before + np.repeat(hours * HOUR_S, lengths)
    return np.column_stack([instants, column(2), column(3), column(4)])


def hour_columns(table: Table) -> tuple[list[int], list[int], list[tuple[Table, str]]]:
    """`hr_hour` rows of a table (ascending, distinct instants) for `copy_rows`: the hours,
    where each starts in the table, and the columns (seconds as gaps, bpm, offset, source)."""
    instants = table[:, 0]
    hours = instants // HOUR_S
    seconds = instants - hours * HOUR_S
    gaps = np.diff(seconds, prepend=0)
    starts, heads = np.unique(hours, return_index=True)
    gaps[heads] = seconds[heads]
    columns = [(gaps, INT2), (table[:, 1], INT2), (table[:, 2], INT2), (table[:, 3], INT4)]
    return starts.tolist(), heads.tolist(), columns


def minute_columns(table: Table) -> tuple[list[int], list[int], list[tuple[Table, str]]]:
    """`hr_minute` rows (per hour: minutes with samples, n, sum, min, max) of a table of whole
    hours, for `copy_rows`, as `hour_columns` gives them."""
    if len(table) == 0:
        return [], [], []
    minutes, heads, counts = np.unique(table[:, 0] // 60, return_index=True, return_counts=True)
    bpm = table[:, 1]
    columns = [
        (minutes % 60, INT2),
        (counts, INT2),
        (np.add.reduceat(bpm, heads), INT4),
        (np.minimum.reduceat(bpm, heads), INT2),
        (np.maximum.reduceat(bpm, heads), INT2),
    ]
    hours, starts = np.unique(minutes // 60, return_index=True)
    return hours.tolist(), starts.tolist(), columns


def minute_rows(account_id: int, table: Table) -> Iterator[tuple[Any, ...]]:
    """`hr_minute` rows as tuples of (account_id, hour, minute, n, sum, min, max) arrays."""
    hours, starts, columns = minute_columns(table)
    ends = [*starts[1:], len(columns[0][0]) if columns else 0]
    for hour, start, end in zip(hours, starts, ends, strict=True):
        yield (account_id, hour, *(values[start:end] for values, _ in columns))


def load(conn: Conn, account_id: int, hours: Iterable[int]) -> Table:
    """The samples of these hours (those that have any), ascending."""
    wanted = sorted(set(hours))
    if not wanted:
        return empty()
    rows = fetch_rows(
        conn,
        "SELECT hour, seconds, bpm, offset_min, source FROM hr_hour WHERE account_id = %s "
        "AND hour >= %s AND hour <= %s AND hour = ANY(%s) ORDER BY hour",
        (account_id, wanted[0], wanted[-1], wanted),
    )
    return unpack(rows)


def load_span(conn: Conn, account_id: int, start_s: int, end_s: int) -> Table:
    """The samples of [start_s, end_s), ascending (for small spans: edges, undo, imports)."""
    parts = list(iter_tables(conn, account_id, start_s, end_s))
    return np.concatenate(parts) if parts else empty()


def iter_tables(
    conn: Conn, account_id: int, start_s: int, end_s: int, *, hours: int = READ_HOURS
) -> Iterator[Table]:
    """The samples of [start_s, end_s) as tables of up to `hours` hours each, ascending."""
    lo, hi = _hour_bounds(start_s, end_s)
    while lo <= hi:
        rows = fetch_rows(
            conn,
            "SELECT hour, seconds, bpm, offset_min, source FROM hr_hour WHERE account_id = %s "
            "AND hour >= %s AND hour <= %s ORDER BY hour LIMIT %s",
            (account_id, lo, hi, hours),
        )
        if not rows:
            return
        table = unpack(rows)
        table = table[(table[:, 0] >= start_s) & (table[:, 0] < end_s)]
        if len(table):
            yield table
        if len(rows) < hours:
            return
        lo = int(rows[-1][0]) + 1


def _hour_bounds(start_s: int, end_s: int) -> tuple[int, int]:
    """Inclusive `hour` bounds of [start_s, end_s), clamped to the column's range."""
    low, high = -(2**31), 2**31 - 1
    return max(low, start_s // HOUR_S), min(high, (end_s - 1) // HOUR_S)


def neighbour_before(conn: Conn, account_id: int, instant_s: int) -> tuple[int, int] | None:
    """(instant, offset) of the last sample before `instant_s`, if any."""
    _, hour = _hour_bounds(instant_s, instant_s + 1)
    rows = fetch_rows(
        conn,
        "SELECT hour, seconds, bpm, offset_min, source FROM hr_hour WHERE account_id = %s "
        "AND hour <= %s ORDER BY hour DESC LIMIT 2",
        (account_id, hour),
    )
    table = unpack(rows[::-1])
    table = table[table[:, 0] < instant_s]
    return None if len(table) == 0 else (int(table[-1, 0]), int(table[-1, 2]))


def neighbour_after(conn: Conn, account_id: int, instant_s: int) -> tuple[int, int] | None:
    """(instant, offset) of the first sample at or after `instant_s`, if any."""
    hour, _ = _hour_bounds(instant_s, instant_s + 1)
    rows = fetch_rows(
        conn,
        "SELECT hour, seconds, bpm, offset_min, source FROM hr_hour WHERE account_id = %s "
        "AND hour >= %s ORDER BY hour LIMIT 2",
        (account_id, hour),
    )
    table = unpack(rows)
    table = table[table[:, 0] >= instant_s]
    return None if len(table) == 0 else (int(table[0, 0]), int(table[0, 2]))


def check_values(table: Table) -> None:
    """Refuse what the columns cannot hold, as SQLite refuses an integer beyond 64 bits."""
    for index, name in ((1, "bpm"), (2, "UTC offset")):
        column = table[:, index]
        if len(column) and (column.min() < INT16[0] or column.max() > INT16[1]):
            raise StoreError(f"a sample could not be stored: its {name} is out of range")
    years = (
        {_month(int(hour))[0] for hour in np.unique(table[:, 0] // HOUR_S)} if len(table) else ()
    )
    if any(not 1 <= year <= 9999 for year in years):
        raise StoreError("a sample could not be stored: its time is out of range")


def _month(hour: int) -> tuple[int, int]:
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour)
    except OverflowError:
        return (0, 1)
    return moment.year, moment.month


def _month_start_hour(year: int, month: int) -> int:
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    return int(start.timestamp()) // HOUR_S


def ensure_partitions(conn: Conn, hours: Iterable[int]) -> None:
    """Create (and attach) the monthly partitions of `hr_hour` these hours fall in.

    A standalone table attached with `ATTACH PARTITION` takes only a SHARE UPDATE EXCLUSIVE
    lock on `hr_hour`, so readers and writers go on; an advisory lock per month makes a second
    worker needing the same month wait (until the first commits) and then find it made."""
    months = sorted({_month(int(hour)) for hour in hours})
    for year, month in months:
        name = f"hr_hour_p{year:04d}{month:02d}"
        (present,) = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone() or (
            False,
        )
        if present:
            continue
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || %s))", (name,)
        )
        # Read pg_class itself, not to_regclass: waiting on an advisory lock does not refresh
        # this backend's catalog cache, so to_regclass could still miss the partition another
        # worker created meanwhile (CREATE TABLE then failed with "already exists": found by
        # four queue workers backfilling one month at once).
        (present,) = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = %s "
            "AND relnamespace = current_schema()::regnamespace)",
            (name,),
        ).fetchone() or (False,)
        if present:
            continue
        lo = _month_start_hour(year, month)
        hi = (
            _month_start_hour(year + month // 12, month % 12 + 1)
            if (year, month) < (9999, 12)
            else 2**31 - 1
        )
        conn.execute(
            f"CREATE TABLE {name} (LIKE hr_hour INCLUDING DEFAULTS INCLUDING STORAGE) "
            "WITH (toast_tuple_target = 128)".encode()
        )
        conn.execute(
            f"ALTER TABLE hr_hour ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})".encode()
        )


def replace_hours(conn: Conn, account_id: int, hours: Iterable[int], table: Table) -> None:
    """Make `table` the whole content of `hours` (each row of it lies in one of them): the
    hours' rows (and their minutes) are deleted, then those with samples copied in."""
    touched = np.unique(np.fromiter(hours, dtype=np.int64))
    present = np.unique(table[:, 0] // HOUR_S) if len(table) else np.zeros(0, dtype=np.int64)
    if len(table):
        check_values(table)
    _delete_hours(conn, account_id, np.union1d(touched, present).tolist(), both=True)
    if not len(table):
        return
    ensure_partitions(conn, present.tolist())
    _copy(conn, "hr_hour", _HOUR_COLUMNS, copy_rows(account_id, *hour_columns(table)))
    _copy(conn, "hr_minute", _MINUTE_COLUMNS, copy_rows(account_id, *minute_columns(table)))


def match(old: Table, instants: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], Any]:
    """Where each of `instants` stands in `old` (ascending): the index of its row (meaningful
    where held), and whether `old` holds that very instant."""
    at = np.minimum(np.searchsorted(old[:, 0], instants), max(len(old) - 1, 0))
    held = (old[at, 0] == instants) if len(old) else np.zeros(len(instants), dtype=bool)
    return at, held


def rewrite(conn: Conn, account_id: int, hours: Iterable[int], kept: Table, added: Table) -> None:
    """Make the rows `kept` (of what `hours` held) and `added` the whole content of `hours`,
    in instant order (`replace_hours`)."""
    combined = np.concatenate([kept, added])
    replace_hours(conn, account_id, hours, combined[np.argsort(combined[:, 0], kind="stable")])


def replace_minutes(conn: Conn, account_id: int, table: Table) -> None:
    """Write the per-minute rows of the whole hours in `table`, instead of what they held."""
    hours, _, _ = minute_columns(table)
    _delete_hours(conn, account_id, hours, both=False)
    _copy(conn, "hr_minute", _MINUTE_COLUMNS, copy_rows(account_id, *minute_columns(table)))


def _delete_hours(conn: Conn, account_id: int, hours: list[int], *, both: bool) -> None:
    """Delete these hours' `hr_minute` rows (and `hr_hour` rows when `both`), one statement."""
    if not hours:
        return
    where = "account_id = %(a)s AND hour >= %(lo)s AND hour <= %(hi)s AND hour = ANY(%(hours)s)"
    statement = f"DELETE FROM hr_minute WHERE {where}"  # noqa: S608 - constant text
    if both:
        statement = f"WITH h AS (DELETE FROM hr_hour WHERE {where}) {statement}"  # noqa: S608
    conn.execute(
        statement.encode(), {"a": account_id, "lo": hours[0], "hi": hours[-1], "hours": hours}
    )


def _copy(conn: Conn, target: str, columns: str, stream: bytes) -> None:
    """`stream`, a binary COPY of `columns`, into `target`.  Straight in, no staging table
    and upsert: the writer holds the account's lock (`lock_account`) and has just deleted
    the rows these replace, so nothing can conflict."""
    with conn.cursor() as cursor:
        statement = f"COPY {target} ({columns}) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(statement.encode()) as copy:
            copy.write(stream)
