"""Day and minute summaries on PostgreSQL, by the rules SQLite's follow (`aggregate_upkeep.py`).

Per-minute rows are rewritten with the hours they summarise (`postgres_hours.replace_hours`), so
they are current in the writer's transaction by construction.  Days follow SQLite's scheme
exactly: a write marks the local days it may change dirty (the days its changed samples may
fall on under any offset, and the days of the stored samples just outside each changed run),
`refresh` recomputes dirty days at the end of a sync or import, and readers compute dirty days
from the samples, so every answer is exact even after a writer died before its refresh.  The
day arithmetic itself (`Aggregator`, `DayAggregate`) is shared with SQLite: only where the
samples come from differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from functools import partial

import numpy as np
import numpy.typing as npt

from heartkeep.aggregates import DayAggregate, day_of_ordinal, ordinal_of_day
from heartkeep.day_aggregator import Aggregator
from heartkeep.store.aggregate_check import CheckReads, check, minute_tables_differ
from heartkeep.store.aggregate_upkeep import (
    DAY_RUN_GAP,
    DAY_S,
    MINUTE_RUN_GAP,
    aggregate_from_row,
    chunks,
    day_row,
    runs,
)
from heartkeep.store.postgres_arrays import fetch_rows
from heartkeep.store.postgres_hours import (
    Conn,
    Table,
    iter_tables,
    minute_columns,
    neighbour_after,
    neighbour_before,
    replace_minutes,
)

WHOLE = (-(2**62), 2**62)
_DAY_COLUMNS = (
    "day, samples, sum_bpm, min_bpm, max_bpm, wear_s, first_s, first_offset_min, last_s, "
    "last_offset_min, previous_s, previous_offset_min, resting_estimate, seconds_by_bpm"
)


def mark_dirty(
    conn: Conn,
    account_id: int,
    instants: npt.NDArray[np.int64] | Sequence[int],
    offsets_min: tuple[int, int],
) -> None:
    """Mark the days that changes at these instants may alter (call after the change)."""
    low_offset, high_offset = min(offsets_min[0], -1440), max(offsets_min[1], 1440)
    minutes = np.unique(np.asarray(instants, dtype=np.int64) // 60)
    if not len(minutes):
        return
    # Runs of minutes at most MINUTE_RUN_GAP apart, as `runs` finds them, at numpy speed.
    breaks = np.flatnonzero(np.diff(minutes) > MINUTE_RUN_GAP) + 1
    heads = np.concatenate([[0], breaks]).astype(np.intp)
    tails = np.concatenate([breaks - 1, [len(minutes) - 1]]).astype(np.intp)
    dirty: set[int] = set()
    for lo, hi in zip(minutes[heads].tolist(), minutes[tails].tolist(), strict=True):
        start_s, end_s = lo * 60, (hi + 1) * 60
        dirty.update(
            range((start_s + low_offset * 60) // DAY_S, (end_s - 1 + high_offset * 60) // DAY_S + 1)
        )
        for neighbour in (
            neighbour_before(conn, account_id, start_s),
            neighbour_after(conn, account_id, end_s),
        ):
            if neighbour is not None:
                dirty.add((neighbour[0] + neighbour[1] * 60) // DAY_S)
    if dirty:
        conn.execute(
            "INSERT INTO hr_day_dirty (account_id, day) SELECT %s, unnest(%s::date[]) "
            "ON CONFLICT DO NOTHING",
            (account_id, [day_of_ordinal(ordinal) for ordinal in sorted(dirty)]),
        )


def mark_rows_dirty(conn: Conn, account_id: int, rows: Table) -> None:
    """`mark_dirty` for these sample rows (instant, bpm, offset, source), just written or
    removed; none is a no-op."""
    if len(rows):
        offsets = rows[:, 2]
        mark_dirty(conn, account_id, rows[:, 0], (int(offsets.min()), int(offsets.max())))


def aggregate_range(
    conn: Conn,
    account_id: int,
    start_s: int,
    end_s: int,
    minutes: list[npt.NDArray[np.int64]] | None = None,
) -> Iterator[DayAggregate]:
    """Days with samples in [start_s, end_s) (the edge days partial), weighed against the
    store's real neighbours; with `minutes`, that pass's per-minute rows are appended to it."""
    aggregator = Aggregator(before=neighbour_before(conn, account_id, start_s))
    after = neighbour_after(conn, account_id, end_s)
    for table in iter_tables(conn, account_id, start_s, end_s):
        if minutes is not None:
            minutes.append(_minute_table(table))
        yield from aggregator.feed(np.ascontiguousarray(table[:, :3]))
    yield from aggregator.close(None if after is None else after[0])


def _minute_table(table: Table) -> npt.NDArray[np.int64]:
    """(minute since 1970, n, sum, min, max) rows of a table of whole hours."""
    hours, starts, columns = minute_columns(table)
    if not hours:
        return np.zeros((0, 5), dtype=np.int64)
    lengths = np.diff([*starts, len(columns[0][0])])
    minutes = columns[0][0] + np.repeat(np.array(hours, dtype=np.int64) * 60, lengths)
    return np.column_stack([minutes, *(values for values, _ in columns[1:])]).astype(np.int64)


def compute_days(conn: Conn, account_id: int, ordinals: Iterable[int]) -> dict[int, DayAggregate]:
    """These local days from the samples (a day without samples is absent)."""
    wanted = set(ordinals)
    found: dict[int, DayAggregate] = {}
    for lo, hi in runs(sorted(wanted), DAY_RUN_GAP):
        for aggregate in aggregate_range(conn, account_id, (lo - 1) * DAY_S, (hi + 2) * DAY_S):
            ordinal = ordinal_of_day(aggregate.day)
            if ordinal in wanted and lo <= ordinal <= hi:
                found[ordinal] = aggregate
    return found


def stored_days(
    conn: Conn, account_id: int, start: dt.date | None, end: dt.date | None
) -> tuple[dict[str, DayAggregate], list[str]]:
    span = (account_id, start or dt.date.min, end or dt.date.max)
    rows = conn.execute(
        f"SELECT day::text, {_DAY_COLUMNS.removeprefix('day, ')} FROM hr_day "  # noqa: S608
        "WHERE account_id = %s AND day >= %s AND day < %s ORDER BY day",
        span,
    ).fetchall()
    dirty = [
        day
        for (day,) in conn.execute(
            "SELECT day::text FROM hr_day_dirty WHERE account_id = %s AND day >= %s "
            "AND day < %s ORDER BY day",
            span,
        )
    ]
    return {row[0]: aggregate_from_row(row) for row in rows}, dirty


def current_days(
    conn: Conn, account_id: int, start: dt.date | None, end: dt.date | None
) -> list[DayAggregate]:
    stored, dirty = stored_days(conn, account_id, start, end)
    if dirty:
        fresh = compute_days(conn, account_id, map(_ordinal, dirty))
        for day in dirty:
            stored.pop(day, None)
        stored.update({aggregate.day.isoformat(): aggregate for aggregate in fresh.values()})
    return [stored[day] for day in sorted(stored)]


def _ordinal(day: str) -> int:
    return ordinal_of_day(dt.date.fromisoformat(day))


def dirty_days(conn: Conn, account_id: int) -> list[str]:
    return [
        day
        for (day,) in conn.execute(
            "SELECT day::text FROM hr_day_dirty WHERE account_id = %s ORDER BY day", (account_id,)
        )
    ]


def refresh_days(conn: Conn, account_id: int, days: Sequence[str]) -> None:
    """Recompute these dirty days and clear their marks (in the caller's transaction)."""
    fresh = compute_days(conn, account_id, map(_ordinal, days))
    conn.execute(
        "DELETE FROM hr_day WHERE account_id = %s AND day = ANY(%s::date[])", (account_id, days)
    )
    _insert_days(conn, account_id, fresh.values())
    conn.execute(
        "DELETE FROM hr_day_dirty WHERE account_id = %s AND day = ANY(%s::date[])",
        (account_id, days),
    )


def _insert_days(conn: Conn, account_id: int, aggregates: Iterable[DayAggregate]) -> None:
    rows = [day_row(account_id, aggregate) for aggregate in aggregates]
    if rows:
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO hr_day (account_id, {_DAY_COLUMNS}) VALUES "  # noqa: S608
                "(%s, %s::date, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )


def rebuild(conn: Conn, account_id: int) -> int:
    """Every day and minute of the account from the samples; days stored."""
    for name in ("hr_day", "hr_day_dirty", "hr_minute"):
        conn.execute(f"DELETE FROM {name} WHERE account_id = %s".encode(), (account_id,))  # noqa: S608
    aggregates = list(aggregate_range(conn, account_id, *WHOLE))
    for table in iter_tables(conn, account_id, *WHOLE):
        replace_minutes(conn, account_id, table)
    _insert_days(conn, account_id, aggregates)
    return len(aggregates)


def stored_minutes(
    conn: Conn, account_id: int, lo_minute: int, hi_minute: int
) -> npt.NDArray[np.int64]:
    """Stored (minute, n, sum, min, max) rows with lo_minute <= minute < hi_minute, ascending."""
    low, high = -(2**31), 2**31 - 1
    rows = fetch_rows(
        conn,
        "SELECT hour, minute, n, sum_bpm, min_bpm, max_bpm FROM hr_minute WHERE account_id = %s "
        "AND hour >= %s AND hour <= %s ORDER BY hour",
        (account_id, max(low, lo_minute // 60), min(high, (hi_minute - 1) // 60)),
    )
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    lengths = [len(row[1]) for row in rows]
    columns = [np.concatenate([row[index] for row in rows]) for index in range(1, 6)]
    hours = np.repeat(np.array([row[0] for row in rows], dtype=np.int64), lengths)
    columns[0] = columns[0] + hours * 60
    table = np.column_stack(columns)
    return table[(table[:, 0] >= lo_minute) & (table[:, 0] < hi_minute)]


def problems(conn: Conn, account_id: int, *, full: bool) -> list[str]:
    """What disagrees with the samples, one line each (a few, then a count): the check of
    `aggregate_check.py` on this backend's reads."""
    reads = CheckReads(
        stored_days=partial(stored_days, conn, account_id, None, None),
        aggregate_range=partial(aggregate_range, conn, account_id),
        compute_days=partial(compute_days, conn, account_id),
        all_minutes=partial(
            _minutes_differ, conn, account_id, lo_minute=WHOLE[0], hi_minute=WHOLE[1]
        ),
        minutes_between=partial(_minutes_between, conn, account_id),
    )
    return check(reads, full=full)


def _minutes_between(conn: Conn, account_id: int, start_s: int, end_s: int) -> list[str]:
    recomputed = [_minute_table(t) for t in iter_tables(conn, account_id, start_s, end_s)]
    table = np.concatenate([np.zeros((0, 5), dtype=np.int64), *recomputed])
    return _minutes_differ(conn, account_id, table, start_s // 60, end_s // 60)


def _minutes_differ(
    conn: Conn, account_id: int, fresh: npt.NDArray[np.int64], lo_minute: int, hi_minute: int
) -> list[str]:
    stored = stored_minutes(conn, account_id, lo_minute, hi_minute)
    return minute_tables_differ(
        stored, fresh[(fresh[:, 0] >= lo_minute) & (fresh[:, 0] < hi_minute)]
    )


__all__ = ["chunks"]
