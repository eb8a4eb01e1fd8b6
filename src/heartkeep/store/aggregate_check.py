"""Checking the stored aggregates against the samples they summarise (for `heartkeep doctor`).

Why a quick and a full check: the full one recomputes every day and minute (about what a
rebuild costs, seconds for a year); the quick one, which `doctor` runs by default, recomputes a
handful of days spread over the history (the newest among them, where writes happen) and their
minutes.  Dirty days are not compared: readers compute them from the samples anyway.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable
from functools import partial
from itertools import chain
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from heartkeep.aggregates import DayAggregate, ordinal_of_day
from heartkeep.store.aggregate_upkeep import (
    DAY_S,
    MINUTE_OF_INSTANT_SQL,
    aggregate_range,
    compute_days,
    stored_days,
)

QUICK_DAYS = 8  # days compared by the quick check: the newest two and six spread evenly
MAX_REPORTED = 5
_FIELDS = (
    "samples", "sum_bpm", "min_bpm", "max_bpm", "wear_s", "first", "last", "previous",
    "resting_estimate", "seconds_by_bpm",
)  # fmt: skip


class CheckReads(NamedTuple):
    """What the check reads, from one backend, bound to one account: the stored days (and the
    dirty ones), days recomputed from the samples (over a span, collecting the recomputed
    minute rows; or given days), and the per-minute comparisons (all of them against the
    recomputed rows; or those of a span of instants)."""

    stored_days: Callable[[], tuple[dict[str, DayAggregate], list[str]]]
    aggregate_range: Callable[[int, int, list[npt.NDArray[np.int64]]], Iterable[DayAggregate]]
    compute_days: Callable[[list[int]], dict[int, DayAggregate]]
    all_minutes: Callable[[npt.NDArray[np.int64]], list[str]]
    minutes_between: Callable[[int, int], list[str]]


def problems(db: sqlite3.Connection, account_id: int, *, full: bool) -> list[str]:
    """What disagrees, one line each (at most a few, then a count); empty when all agree."""
    reads = CheckReads(
        stored_days=partial(stored_days, db, account_id, None, None),
        aggregate_range=partial(aggregate_range, db, account_id),
        compute_days=partial(compute_days, db, account_id),
        all_minutes=partial(_all_minutes, db, account_id),
        minutes_between=partial(_minutes, db, account_id),
    )
    return check(reads, full=full)


def check(reads: CheckReads, *, full: bool) -> list[str]:
    """The check itself, the same for both backends (see the module's docstring)."""
    stored, dirty = reads.stored_days()
    for day in dirty:
        stored.pop(day, None)
    found: list[str] = []
    if full:
        minutes: list[npt.NDArray[np.int64]] = [np.zeros((0, 5), dtype=np.int64)]
        fresh = {
            aggregate.day.isoformat(): aggregate
            for aggregate in reads.aggregate_range(-(2**62), 2**62, minutes)
            if aggregate.day.isoformat() not in dirty
        }
        checked = sorted(set(stored) | set(fresh))
        found += reads.all_minutes(np.concatenate(minutes))
    else:
        days = sorted(stored)
        step = max(1, len(days) // (QUICK_DAYS - 2))
        checked = sorted(set(days[::step][: QUICK_DAYS - 2] + days[-2:]))
        ordinals = [ordinal_of_day(dt.date.fromisoformat(day)) for day in checked]
        fresh = {
            aggregate.day.isoformat(): aggregate
            for aggregate in reads.compute_days(ordinals).values()
        }
        for ordinal in ordinals:
            found += reads.minutes_between((ordinal - 1) * DAY_S, (ordinal + 2) * DAY_S)
    for day in checked:
        found += _compare(day, stored.get(day), fresh.get(day))
    if len(found) > MAX_REPORTED:
        found = [*found[:MAX_REPORTED], f"and {len(found) - MAX_REPORTED} more"]
    return found


def _compare(day: str, stored: DayAggregate | None, fresh: DayAggregate | None) -> list[str]:
    if stored == fresh:
        return []
    if stored is None:
        return [f"{day}: no summary stored, the samples have one"]
    if fresh is None:
        return [f"{day}: a summary is stored for a day without samples"]
    fields = [name for name in _FIELDS if getattr(stored, name) != getattr(fresh, name)]
    detail = (
        ", ".join(
            f"{name} {getattr(stored, name)} stored, {getattr(fresh, name)} from the samples"
            for name in fields
            if name != "seconds_by_bpm"
        )
        or "time per bpm differs"
    )
    return [f"{day}: {detail}"]


def _all_minutes(
    db: sqlite3.Connection, account_id: int, fresh: npt.NDArray[np.int64]
) -> list[str]:
    """Every stored per-minute row against `fresh`, the rows recomputed in the same pass."""
    cursor = db.execute(
        "SELECT minute, n, sum_bpm, min_bpm, max_bpm FROM hr_minute WHERE account_id = ? "
        "ORDER BY minute",
        (account_id,),
    )
    stored = np.fromiter(chain.from_iterable(cursor), dtype=np.int64).reshape(-1, 5)
    return minute_tables_differ(stored, fresh)


def minute_tables_differ(stored: npt.NDArray[np.int64], fresh: npt.NDArray[np.int64]) -> list[str]:
    """Stored per-minute rows (minute, n, sum, min, max) against recomputed ones, as a line."""
    if stored.shape == fresh.shape and np.array_equal(stored, fresh):
        return []
    differing = {tuple(row) for row in stored.tolist()} ^ {tuple(row) for row in fresh.tolist()}
    minutes = len({row[0] for row in differing})
    return [f"per-minute summaries: {minutes} minutes disagree with the samples"]


def _minutes(db: sqlite3.Connection, account_id: int, start_s: int, end_s: int) -> list[str]:
    """Per-minute rows that differ from a recomputation over [start_s, end_s), as one line."""
    span = (account_id, start_s, end_s)
    minute_span = (account_id, -(-start_s // 60), -(-end_s // 60))
    stored = (
        "SELECT minute, n, sum_bpm, min_bpm, max_bpm FROM hr_minute "
        "WHERE account_id = ? AND minute >= ? AND minute < ?"
    )
    fresh = (
        f"SELECT {MINUTE_OF_INSTANT_SQL}, count(*), sum(bpm), min(bpm), max(bpm) "  # noqa: S608
        "FROM heart_rate "
        f"WHERE account_id = ? AND instant >= ? AND instant < ? GROUP BY {MINUTE_OF_INSTANT_SQL}"
    )
    (extra,) = db.execute(
        f"SELECT count(*) FROM ({stored} EXCEPT {fresh})",  # noqa: S608 - our own SQL
        (*minute_span, *span),
    ).fetchone()
    (missing,) = db.execute(
        f"SELECT count(*) FROM ({fresh} EXCEPT {stored})",  # noqa: S608 - our own SQL
        (*span, *minute_span),
    ).fetchone()
    if not extra and not missing:
        return []
    first = dt.datetime.fromtimestamp(max(start_s, 0), dt.UTC).date()
    where = "" if start_s < 0 else f" from {first}"
    return [f"per-minute summaries{where}: {extra + missing} minutes disagree with the samples"]
