"""A local day's aggregate of heart-rate samples: what the store keeps and analysis finishes.

Why a module of its own, at the bottom of the layers: the store keeps these aggregates current
(`hr_day`, see docs/schema.md) and `analysis/daily.py` finishes statistics from them, so both
must compute them the same way; nothing here knows about either.  The streams that make them
from samples (`Aggregator`, `BackwardAggregator`) are `day_aggregator.py`; this module holds
the values they make and the arithmetic both sides share.

What a day's aggregate holds is exactly what `DayStats` needs besides the provider's values:
sample count, bpm sum/min/max, wear seconds, a 301-bin histogram of seconds by bpm (zone minutes
for any bounds), the first and last samples and the sample just before the day (the day's length
as lived: `timeline.lived_day_window`), and heartkeep's resting-HR estimate.

numpy loads on first use, not with the module: the plain values here (`DayAggregate`, the day
numbering, `resting_estimate_of`) serve a sync that writes a few new minutes, which never
needs numpy (issue 11: an up-to-date sync in ≤ 0.15 s of CPU).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

GAP_CAP_S = 120
BINS = 301  # bpm 0..300; the histogram's bin i holds the seconds spent at i bpm
HISTOGRAM_DTYPE = "<u4"  # little-endian uint32 seconds: a lived day is at most ~30 h
MIN_RESTING_MINUTES = 240
RESTING_FRACTION = 0.10
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def pairwise_sum(values: Sequence[float]) -> float:
    """The float sum numpy's `add.reduce` gives for a contiguous float64 array (`mean`, `sum`):
    its pairwise summation, block for block (numpy/_core/src/umath/loops_utils.h.src: eight
    running sums up to 128 values, halves cut at a multiple of eight above), started from 0.0.
    Why: a few hundred new samples keep their days' resting estimate current without loading
    numpy (0.06 s), and the estimate must equal the one the numpy path stores, to the bit."""
    return 0.0 + _pairwise(values, 0, len(values))


def _pairwise(values: Sequence[float], start: int, count: int) -> float:
    if count < 8:
        total = 0.0
        for index in range(start, start + count):
            total += values[index]
        return total
    if count <= 128:
        r = [values[start + lane] for lane in range(8)]
        index = start + 8
        end = start + count - count % 8
        while index < end:
            for lane in range(8):
                r[lane] += values[index + lane]
            index += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while index < start + count:
            total += values[index]
            index += 1
        return total
    half = count // 2
    half -= half % 8
    return _pairwise(values, start, half) + _pairwise(values, start + half, count - half)


def resting_estimate_of(minute_means: Sequence[float]) -> float | None:
    """`resting_estimate` in plain Python, equal to it for the same means (numpy's sort order
    and summation): for the few days a small write touches, where loading numpy would cost
    more than the work."""
    if len(minute_means) < MIN_RESTING_MINUTES:
        return None
    values = sorted(minute_means)
    count = math.ceil(len(values) * RESTING_FRACTION)
    return round(pairwise_sum(values[:count]) / count, 1)


def resting_estimate(minute_means: Sequence[float] | npt.NDArray[np.float64]) -> float | None:
    """Mean of the lowest 10 % of per-minute mean bpm; None below four hours of minutes."""
    import numpy as np

    values = np.sort(np.asarray(minute_means, dtype=np.float64))
    if len(values) < MIN_RESTING_MINUTES:
        return None
    lowest = values[: math.ceil(len(values) * RESTING_FRACTION)]
    return round(float(lowest.mean()), 1)


class DayAggregate(msgspec.Struct, frozen=True):
    """One local day's samples, summarised.  Plain values, so two aggregates compare with ==.

    `first`, `last` and `previous` are (instant_s, offset_min); `previous` is the sample just
    before the day's first one (None at the start of the history).  `seconds_by_bpm` is the
    histogram as stored: `BINS` little-endian uint32 (`histogram()` gives it as floats).
    """

    day: dt.date
    samples: int
    sum_bpm: int
    min_bpm: int
    max_bpm: int
    wear_s: int
    first: tuple[int, int]
    last: tuple[int, int]
    previous: tuple[int, int] | None
    resting_estimate: float | None
    seconds_by_bpm: bytes

    @property
    def mean_bpm(self) -> float:
        return self.sum_bpm / self.samples

    def histogram(self) -> npt.NDArray[np.float64]:
        """Seconds spent at each whole bpm (index = bpm, 300 holds anything above)."""
        import numpy as np

        return np.frombuffer(self.seconds_by_bpm, dtype=HISTOGRAM_DTYPE).astype(np.float64)


class MinuteSeries(NamedTuple):
    """Per-minute (or coarser) summaries as numpy columns, one row per bucket with samples:
    the bucket's start (UTC epoch seconds), its sample count and min/mean/max bpm."""

    start_s: npt.NDArray[np.int64]
    samples: npt.NDArray[np.int64]
    mean_bpm: npt.NDArray[np.float64]
    min_bpm: npt.NDArray[np.int64]
    max_bpm: npt.NDArray[np.int64]

    @classmethod
    def from_buckets(cls, table: npt.NDArray[np.int64]) -> MinuteSeries:
        """From rows of (bucket's first UTC minute, samples, sum of bpm, min bpm, max bpm), as
        both stores read them from `hr_minute`."""
        import numpy as np

        samples = table[:, 1]
        return cls(
            start_s=table[:, 0] * 60,
            samples=samples,
            mean_bpm=table[:, 2] / np.maximum(samples, 1),
            min_bpm=table[:, 3],
            max_bpm=table[:, 4],
        )


def bucket_minutes(start_s: int, end_s: int, bucket_s: int) -> tuple[int, int, int]:
    """Minutes per bucket, and the UTC minutes [first, past) spanned by the buckets of
    `bucket_s` (aligned to the epoch) that start in [start_s, end_s).  Raises ValueError for a
    `bucket_s` that is not a positive whole number of minutes."""
    if bucket_s <= 0 or bucket_s % 60:
        raise ValueError(f"bucket_s must be a positive multiple of 60, not {bucket_s}")
    per = bucket_s // 60
    return per, -(-start_s // bucket_s) * per, -(-end_s // bucket_s) * per


def day_of_ordinal(ordinal: int) -> dt.date:
    """The date `ordinal` days after 1970-01-01 (how local days are numbered here)."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + ordinal)


def ordinal_of_day(day: dt.date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


__all__ = [
    "BINS",
    "GAP_CAP_S",
    "HISTOGRAM_DTYPE",
    "DayAggregate",
    "MinuteSeries",
    "day_of_ordinal",
    "ordinal_of_day",
    "pairwise_sum",
    "resting_estimate",
    "resting_estimate_of",
]
