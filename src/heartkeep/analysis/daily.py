"""Per-local-day statistics and coverage, computed in one streaming pass over the samples.

A sample's local day comes from the offset reported with it (invariant 4), so a travel day or
a DST change day is counted the way the wearer lived it.  Each sample stands for the time until
the next sample, capped at `gap_cap_s` (default 120 s), so a watch taken off for the night adds
two minutes, not eight hours, and the last sample of the stream counts for nothing; wear time,
coverage and time in zones are sums of those weights.  Coverage divides wear time by the length
of the local day as lived (`timeline.lived_day_window`: 23 or 25 hours on DST change days, 18 or
30 on a flight six zones east or west), from the offsets in force at its two ends.  Min,
max and mean are over samples (not time-weighted) and include every sample of the day.

Memory is flat: per day heartkeep keeps a 301-bin histogram of seconds by bpm and the per-minute
sums needed by the resting-HR estimate (at most ~1,500 minutes a day), and a day is finished as
soon as the stream has moved two days past it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.analysis.zones import (
    DEFAULT_MAX_HR,
    ZONE_NAMES,
    resting_estimate,
    zone_minutes,
    zones_for_day,
)
from heartkeep.model import Daily, DailyKind, Sample

GAP_CAP_S = 120
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_BINS = 301


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local day.  bpm fields are None on a day with only provider values and no samples.

    `zone_minutes` always has the four zones in order LIGHT, MODERATE, VIGOROUS, PEAK;
    `zone_source` says whether their bounds came from the `provider` or `karvonen` (heartkeep).
    """

    day: dt.date
    samples: int
    wear_s: int
    day_length_s: int
    coverage: float
    min_bpm: int | None
    mean_bpm: float | None
    max_bpm: int | None
    resting_provider: float | None
    resting_estimate: float | None
    zone_minutes: tuple[tuple[str, float], ...]
    zone_source: str

    def as_dict(self) -> dict[str, object]:
        """A flat, JSON- and CSV-friendly mapping (zones as `zone_<name>_min`)."""
        row: dict[str, object] = {
            "day": self.day.isoformat(),
            "samples": self.samples,
            "wear_s": self.wear_s,
            "day_length_s": self.day_length_s,
            "coverage": round(self.coverage, 4),
            "min_bpm": self.min_bpm,
            "mean_bpm": None if self.mean_bpm is None else round(self.mean_bpm, 1),
            "max_bpm": self.max_bpm,
            "resting_provider": self.resting_provider,
            "resting_estimate": self.resting_estimate,
        }
        for name, minutes in self.zone_minutes:
            row[f"zone_{name.lower()}_min"] = round(minutes, 1)
        row["zone_source"] = self.zone_source
        return row


@dataclass(slots=True)
class _Day:
    seconds_by_bpm: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(_BINS, dtype=np.float64)
    )
    count: int = 0
    total_bpm: int = 0
    min_bpm: int = 10**6
    max_bpm: int = -1
    wear_s: int = 0
    first: tuple[int, int] | None = None
    last: tuple[int, int] = (0, 0)
    previous: tuple[int, int] | None = None
    minute_sums: dict[int, list[int]] = field(default_factory=dict)

    def add(
        self,
        instant: npt.NDArray[np.int64],
        bpm: npt.NDArray[np.int64],
        offset: npt.NDArray[np.int64],
        weight: npt.NDArray[np.int64],
        previous: tuple[int, int] | None,
    ) -> None:
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
            np.clip(bpm, 0, _BINS - 1), weights=weight, minlength=_BINS
        )
        minutes, inverse = np.unique(instant // 60, return_inverse=True)
        sums = np.bincount(inverse, weights=bpm)
        counts = np.bincount(inverse)
        for minute, total, n in zip(minutes.tolist(), sums.tolist(), counts.tolist(), strict=True):
            entry = self.minute_sums.get(minute)
            if entry is None:
                self.minute_sums[minute] = [int(total), n]
            else:
                entry[0] += int(total)
                entry[1] += n


def _finish(
    day: dt.date,
    acc: _Day | None,
    resting_provider: float | None,
    provider_zones: Daily | None,
    max_hr: int,
    zone_name: str | None = None,
) -> DayStats:
    if acc is None or acc.first is None:
        zones, source = zones_for_day(
            provider_zones.zones if provider_zones else (), resting_provider, max_hr
        )
        return DayStats(
            day, 0, 0, 86_400, 0.0, None, None, None, resting_provider, None,
            tuple((name, 0.0) for name in ZONE_NAMES), source,
        )  # fmt: skip
    estimate = resting_estimate([total / n for total, n in acc.minute_sums.values()])
    zones, source = zones_for_day(
        provider_zones.zones if provider_zones else (),
        resting_provider if resting_provider is not None else estimate,
        max_hr,
    )
    minutes = zone_minutes(acc.seconds_by_bpm, zones)
    length = timeline.lived_day_window(
        day, acc.first, acc.last, previous=acc.previous, zone_name=zone_name
    ).seconds
    return DayStats(
        day=day,
        samples=acc.count,
        wear_s=acc.wear_s,
        day_length_s=length,
        coverage=min(acc.wear_s / length, 1.0),
        min_bpm=acc.min_bpm,
        mean_bpm=acc.total_bpm / acc.count,
        max_bpm=acc.max_bpm,
        resting_provider=resting_provider,
        resting_estimate=estimate,
        zone_minutes=tuple((name, minutes[name]) for name in ZONE_NAMES),
        zone_source=source,
    )


def daily_stats(
    batches: Iterable[Sequence[Sample]],
    dailies: Iterable[Daily] = (),
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
    gap_cap_s: int = GAP_CAP_S,
    zone_name: str | None = None,
) -> list[DayStats]:
    """Statistics for every local day in [since, until] (inclusive; open ends allowed) that has
    samples or a provider value, in date order.

    `batches` must be ascending by instant (as `Store.iter_samples` yields them); pass a window
    a little wider than the days wanted (a day ahead on each side) so days at the edges are
    whole and each edge sample's gap to its neighbour is known.  `zone_name` (the account's
    IANA zone) lets a DST change day be measured by the zone's rules (see
    `timeline.lived_day_window`).
    """
    resting: dict[dt.date, float] = {}
    zones: dict[dt.date, Daily] = {}
    for daily in dailies:
        if daily.kind is DailyKind.RESTING_HR and daily.value is not None:
            resting[daily.day] = daily.value
        elif daily.kind is DailyKind.ZONES:
            zones[daily.day] = daily

    def wanted(day: dt.date) -> bool:
        return (since is None or day >= since) and (until is None or day <= until)

    open_days: dict[int, _Day] = {}
    results: dict[dt.date, DayStats] = {}
    carry: npt.NDArray[np.int64] | None = None
    before: tuple[int, int] | None = None  # the last sample consumed: the next day's `previous`

    def settle(before_ordinal: int | None) -> None:
        for ordinal in sorted(open_days):
            if before_ordinal is not None and ordinal >= before_ordinal:
                break
            day = dt.date.fromordinal(_EPOCH_ORDINAL + ordinal)
            acc = open_days.pop(ordinal)
            if wanted(day):
                results[day] = _finish(
                    day, acc, resting.get(day), zones.get(day), max_hr, zone_name
                )

    def consume(table: npt.NDArray[np.int64], weight: npt.NDArray[np.int64]) -> None:
        nonlocal before
        if len(table) == 0:
            return
        instant, bpm, offset = table[:, 0], table[:, 1], table[:, 2]
        ordinals = (instant + offset * 60) // 86_400
        order = np.argsort(ordinals, kind="stable")
        sorted_ordinals = ordinals[order]
        cuts = np.flatnonzero(np.diff(sorted_ordinals)) + 1
        for group in np.split(order, cuts):
            ordinal = int(ordinals[group[0]])
            acc = open_days.get(ordinal)
            if acc is None:
                acc = open_days[ordinal] = _Day()
            head = int(group[0])
            previous = (int(instant[head - 1]), int(offset[head - 1])) if head else before
            acc.add(instant[group], bpm[group], offset[group], weight[group], previous)
        before = (int(instant[-1]), int(offset[-1]))
        settle(int(ordinals.min()) - 1)

    for batch in batches:
        if not batch:
            continue
        flat = np.fromiter(chain.from_iterable(batch), dtype=np.int64, count=3 * len(batch))
        table = flat.reshape(-1, 3)
        if carry is not None:
            table = np.concatenate([carry, table])
        weight = np.minimum(np.diff(table[:, 0]), gap_cap_s)
        consume(table[:-1], weight)
        carry = table[-1:]
    if carry is not None:
        consume(carry, np.zeros(1, dtype=np.int64))
    settle(None)

    for day in set(resting) | set(zones):
        if wanted(day) and day not in results:
            results[day] = _finish(day, None, resting.get(day), zones.get(day), max_hr)
    return [results[day] for day in sorted(results)]


__all__ = ["GAP_CAP_S", "DayStats", "daily_stats"]
