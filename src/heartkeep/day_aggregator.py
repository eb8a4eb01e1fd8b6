"""Samples streamed into local days: the one code path from samples to `DayAggregate`s.

Why a module of its own: the store's upkeep (fresh, appended and backfilled days), PostgreSQL's
days and `analysis/daily.py` all turn samples into days, and they must do it the same way;
`aggregates.py` holds what a day's aggregate is, this holds how a stream of samples becomes
one.

The rules (invariant 4 and the gap rule of `analysis/daily.py`): a sample's local day comes from
its own offset; each sample weighs the time until the next sample of the whole history, capped
at `GAP_CAP_S`; the last sample of the history weighs nothing.  Feed an `Aggregator` tables of
(instant_s, bpm, offset_min) rows in ascending instant order; it hands back each day once the
stream has moved far enough past it that no sample still to come can fall on it (offsets are
at most a day from UTC).  `BackwardAggregator` does the same for a history that arrives newest
first (a sync's backfill).  Memory is flat: a day in progress keeps its histogram and
per-minute sums (at most ~1,800 minutes).  numpy loads when a table is fed, not with the module.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import msgspec

from heartkeep.aggregates import (
    BINS,
    GAP_CAP_S,
    HISTOGRAM_DTYPE,
    DayAggregate,
    day_of_ordinal,
    resting_estimate,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _zeros(size: int) -> npt.NDArray[np.int64]:
    import numpy as np

    return np.zeros(size, dtype=np.int64)


class _Day(msgspec.Struct):
    """A day in progress: everything additive, plus the per-minute sums of the resting estimate."""

    seconds_by_bpm: npt.NDArray[np.int64] = msgspec.field(default_factory=lambda: _zeros(BINS))
    count: int = 0
    total_bpm: int = 0
    min_bpm: int = 10**6
    max_bpm: int = -1
    wear_s: int = 0
    first: tuple[int, int] | None = None
    last: tuple[int, int] = (0, 0)
    previous: tuple[int, int] | None = None
    minute_parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = msgspec.field(
        default_factory=list
    )

    def add(
        self,
        instant: npt.NDArray[np.int64],
        bpm: npt.NDArray[np.int64],
        offset: npt.NDArray[np.int64],
        weight: npt.NDArray[np.int64],
        previous: tuple[int, int] | None,
    ) -> None:
        import numpy as np

        if self.first is None:
            self.first = (int(instant[0]), int(offset[0]))
            self.previous = previous
        self.last = (int(instant[-1]), int(offset[-1]))
        self.count += len(bpm)
        self.total_bpm += int(bpm.sum())
        self.min_bpm = min(self.min_bpm, int(bpm.min()))
        self.max_bpm = max(self.max_bpm, int(bpm.max()))
        self.wear_s += int(weight.sum())
        self.seconds_by_bpm += np.bincount(
            np.clip(bpm, 0, BINS - 1), weights=weight, minlength=BINS
        ).astype(np.int64)
        self.minute_parts.append((instant // 60, bpm))

    def take_later(self, later: _Day) -> None:
        """Add the part of the same day that follows this one (a backfill arrives newest
        first): everything additive adds up, `first` and `previous` stay this part's."""
        self.last = later.last
        self.count += later.count
        self.total_bpm += later.total_bpm
        self.min_bpm = min(self.min_bpm, later.min_bpm)
        self.max_bpm = max(self.max_bpm, later.max_bpm)
        self.wear_s += later.wear_s
        self.seconds_by_bpm += later.seconds_by_bpm
        self.minute_parts += later.minute_parts

    def finish(self, ordinal: int) -> DayAggregate:
        import numpy as np

        assert self.first is not None
        minutes = np.concatenate([part[0] for part in self.minute_parts])
        bpm = np.concatenate([part[1] for part in self.minute_parts])
        if len(minutes) < 2 or bool(np.all(minutes[1:] >= minutes[:-1])):
            # Parts in time order (always, as fed): a minute's samples are neighbours.
            heads = np.flatnonzero(np.concatenate(([True], minutes[1:] != minutes[:-1])))
            means = np.add.reduceat(bpm, heads) / np.diff(heads, append=len(minutes))
        else:
            _, inverse = np.unique(minutes, return_inverse=True)
            means = np.bincount(inverse, weights=bpm) / np.bincount(inverse)
        return DayAggregate(
            day=day_of_ordinal(ordinal),
            samples=self.count,
            sum_bpm=self.total_bpm,
            min_bpm=self.min_bpm,
            max_bpm=self.max_bpm,
            wear_s=self.wear_s,
            first=self.first,
            last=self.last,
            previous=self.previous,
            resting_estimate=resting_estimate(means),
            seconds_by_bpm=self.seconds_by_bpm.astype(HISTOGRAM_DTYPE).tobytes(),
        )


def _day_groups(
    ordinals: npt.NDArray[np.int64],
) -> list[tuple[int, slice | npt.NDArray[np.intp]]]:
    """The rows of each day of a table, as (first row, rows) in day order: slices when the
    days never go back along the table (one offset: nearly always), else index arrays."""
    import numpy as np

    steps = np.diff(ordinals)
    if not bool((steps < 0).any()):
        bounds = [0, *(np.flatnonzero(steps) + 1).tolist(), len(ordinals)]
        return [(lo, slice(lo, hi)) for lo, hi in itertools.pairwise(bounds)]
    order = np.argsort(ordinals, kind="stable")
    cuts = np.flatnonzero(np.diff(ordinals[order])) + 1
    return [(int(group[0]), group) for group in np.split(order, cuts)]


class Aggregator:
    """Streams (instant_s, bpm, offset_min) tables, ascending by instant, into day aggregates.

    `before` is the sample just before the stream (None: the history starts with it), so the
    first day's `previous` is right even when the stream is a window of a longer history.
    `feed` returns the days the stream has left behind; `close(next_instant_s)` the rest, the
    last sample weighing the gap to `next_instant_s` (the first sample after the stream; None:
    the history ends here, and it weighs nothing).
    """

    def __init__(
        self, *, before: tuple[int, int] | None = None, gap_cap_s: int = GAP_CAP_S
    ) -> None:
        self._open: dict[int, _Day] = {}
        self._carry: npt.NDArray[np.int64] | None = None
        self._before = before
        self._gap_cap_s = gap_cap_s

    def feed(self, table: npt.NDArray[np.int64]) -> list[DayAggregate]:
        """Take rows (an n×3 int64 array); return the days now complete, in date order."""
        import numpy as np

        if len(table) == 0:
            return []
        if self._carry is not None:
            table = np.concatenate([self._carry, table])
        weight = np.minimum(np.diff(table[:, 0]), self._gap_cap_s)
        self._carry = table[-1:]
        return self._consume(table[:-1], weight)

    def close(self, next_instant_s: int | None = None) -> list[DayAggregate]:
        """The days still open, once the stream has ended (see the class docstring)."""
        import numpy as np

        done: list[DayAggregate] = []
        if self._carry is not None:
            last = int(self._carry[0, 0])
            gap = 0 if next_instant_s is None else min(next_instant_s - last, self._gap_cap_s)
            done = self._consume(self._carry, np.array([gap], dtype=np.int64))
            self._carry = None
        return done + self._settle(None)

    def _consume(
        self, table: npt.NDArray[np.int64], weight: npt.NDArray[np.int64]
    ) -> list[DayAggregate]:

        if len(table) == 0:
            return []
        instant, bpm, offset = table[:, 0], table[:, 1], table[:, 2]
        ordinals = (instant + offset * 60) // 86_400
        for head, group in _day_groups(ordinals):
            ordinal = int(ordinals[head])
            acc = self._open.get(ordinal)
            if acc is None:
                acc = self._open[ordinal] = _Day()
            previous = (int(instant[head - 1]), int(offset[head - 1])) if head else self._before
            acc.add(instant[group], bpm[group], offset[group], weight[group], previous)
        self._before = (int(instant[-1]), int(offset[-1]))
        # A later sample's day is at least two before this table's lowest: at most a day of
        # offset on either side (a day of +24 h here, one of -24 h next).
        return self._settle(int(ordinals.min()) - 2)

    def _settle(self, before_ordinal: int | None) -> list[DayAggregate]:
        done: list[DayAggregate] = []
        for ordinal in sorted(self._open):
            if before_ordinal is not None and ordinal >= before_ordinal:
                break
            done.append(self._open.pop(ordinal).finish(ordinal))
        return done


class BackwardAggregator:
    """`Aggregator` for a history that arrives newest first, as a sync's backfill writes it.

    Feed tables of (instant_s, bpm, offset_min) rows, each ascending within and wholly before
    every table fed earlier.  Each sample weighs the gap to the next one, which has already
    arrived (`after_s`: the first sample after the stream; None: the history ends with it, and
    the newest sample weighs nothing).  A day is handed back once the stream has gone more than
    a day below its midnight (offsets are at most a day from UTC: no sample still to come can
    fall on it, and the one before its first sample has arrived); `close(before)` hands back
    the rest, `before` being the sample just before the stream (None: the history starts with
    it).  The days equal what `Aggregator` makes of the same samples fed oldest first.
    """

    def __init__(self, *, after_s: int | None = None, gap_cap_s: int = GAP_CAP_S) -> None:
        self._open: dict[int, _Day] = {}
        self._next_s = after_s
        self._low_s: int | None = None  # the oldest instant fed
        # The day of the oldest sample fed: the sample before its first one comes next.
        self._pending: int | None = None
        self._gap_cap_s = gap_cap_s

    def feed(self, table: npt.NDArray[np.int64]) -> list[DayAggregate]:
        """Take rows older than all fed so far; return the days now complete, in date order."""
        import numpy as np

        if len(table) == 0:
            return []
        instant, bpm, offset = table[:, 0], table[:, 1], table[:, 2]
        if self._low_s is not None and int(instant[-1]) >= self._low_s:
            raise ValueError("BackwardAggregator takes tables newest first")
        weight = np.empty(len(table), dtype=np.int64)
        weight[:-1] = np.minimum(np.diff(instant), self._gap_cap_s)
        last_s = int(instant[-1])
        weight[-1] = 0 if self._next_s is None else min(self._next_s - last_s, self._gap_cap_s)
        if self._pending is not None:  # its first sample's predecessor is this table's last
            self._open[self._pending].previous = (last_s, int(offset[-1]))
        ordinals = (instant + offset * 60) // 86_400
        for head, group in _day_groups(ordinals):
            ordinal = int(ordinals[head])
            previous = (int(instant[head - 1]), int(offset[head - 1])) if head else None
            part = _Day()
            part.add(instant[group], bpm[group], offset[group], weight[group], previous)
            later = self._open.get(ordinal)
            if later is not None:
                part.take_later(later)
            self._open[ordinal] = part
        self._pending = int(ordinals[0])
        self._next_s = int(instant[0])
        self._low_s = int(instant[0])
        # Days whose midnight is more than a day above the oldest sample are complete.
        return self._settle(self._low_s // 86_400 + 2)

    def close(self, before: tuple[int, int] | None = None) -> list[DayAggregate]:
        """The days still open, once the stream has ended (see the class docstring)."""
        if self._pending is not None:
            self._open[self._pending].previous = before
            self._pending = None
        return self._settle(None)

    def _settle(self, from_ordinal: int | None) -> list[DayAggregate]:
        done = [
            self._open.pop(ordinal).finish(ordinal)
            for ordinal in sorted(self._open)
            if from_ordinal is None or ordinal >= from_ordinal
        ]
        return done


__all__ = ["Aggregator", "BackwardAggregator"]
