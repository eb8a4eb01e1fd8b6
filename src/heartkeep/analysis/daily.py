"""Per-local-day statistics and coverage, computed in one streaming pass over the samples.

A sample's local day comes from the offset reported with it (invariant 4), so a travel day or
a DST change day is counted the way the wearer lived it.  Each sample stands for the time until
the next sample, capped at `gap_cap_s` (default 120 s), so a watch taken off for the night adds
two minutes, not eight hours, and the last sample of the stream counts for nothing; wear time,
coverage and time in zones are sums of those weights.  Coverage divides wear time by the length
of the local day as lived (`timeline.lived_day_window`: 23 or 25 hours on DST change days, 18 or
30 on a flight six zones east or west), from the offsets in force at its two ends.  Min,
max and mean are over samples (not time-weighted) and include every sample of the day.

Two steps, each done in one place: a day's samples become a `DayAggregate`
(`heartkeep.day_aggregator`, the same code the store uses to keep its `hr_day` table current),
and `finish_day` turns an aggregate plus the provider's values into `DayStats`.  `stats` and the
charts read the store's aggregates (`stats_from_aggregates`, O(days)); `daily_stats` does both
steps over a stream of samples, with flat memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from heartkeep import timeline
from heartkeep.aggregates import GAP_CAP_S, DayAggregate
from heartkeep.analysis.zones import DEFAULT_MAX_HR, ZONE_NAMES, zone_minutes, zones_for_day
from heartkeep.day_aggregator import Aggregator
from heartkeep.model import Daily, DailyKind, Sample


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


def finish_day(
    day: dt.date,
    aggregate: DayAggregate | None,
    resting_provider: float | None,
    provider_zones: Daily | None,
    max_hr: int = DEFAULT_MAX_HR,
    zone_name: str | None = None,
) -> DayStats:
    """A day's statistics from its aggregate (None: no samples) and the provider's values.

    The one way `DayStats` is made, whether the aggregate was just computed from samples or
    read from the store's `hr_day` table: zones for any `max_hr`, coverage by the day as lived.
    """
    if aggregate is None:
        zones, source = zones_for_day(
            provider_zones.zones if provider_zones else (), resting_provider, max_hr
        )
        return DayStats(
            day, 0, 0, 86_400, 0.0, None, None, None, resting_provider, None,
            tuple((name, 0.0) for name in ZONE_NAMES), source,
        )  # fmt: skip
    estimate = aggregate.resting_estimate
    zones, source = zones_for_day(
        provider_zones.zones if provider_zones else (),
        resting_provider if resting_provider is not None else estimate,
        max_hr,
    )
    minutes = zone_minutes(aggregate.histogram(), zones)
    length = timeline.lived_day_window(
        day, aggregate.first, aggregate.last, previous=aggregate.previous, zone_name=zone_name
    ).seconds
    return DayStats(
        day=day,
        samples=aggregate.samples,
        wear_s=aggregate.wear_s,
        day_length_s=length,
        coverage=min(aggregate.wear_s / length, 1.0),
        min_bpm=aggregate.min_bpm,
        mean_bpm=aggregate.mean_bpm,
        max_bpm=aggregate.max_bpm,
        resting_provider=resting_provider,
        resting_estimate=estimate,
        zone_minutes=tuple((name, minutes[name]) for name in ZONE_NAMES),
        zone_source=source,
    )


def stats_from_aggregates(
    aggregates: Iterable[DayAggregate],
    dailies: Iterable[Daily] = (),
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
    zone_name: str | None = None,
) -> list[DayStats]:
    """Statistics for every local day in [since, until] (inclusive; open ends allowed) that has
    an aggregate or a provider value, in date order: O(days), no sample read."""
    resting: dict[dt.date, float] = {}
    zones: dict[dt.date, Daily] = {}
    for daily in dailies:
        if daily.kind is DailyKind.RESTING_HR and daily.value is not None:
            resting[daily.day] = daily.value
        elif daily.kind is DailyKind.ZONES:
            zones[daily.day] = daily

    def wanted(day: dt.date) -> bool:
        return (since is None or day >= since) and (until is None or day <= until)

    by_day = {agg.day: agg for agg in aggregates if wanted(agg.day)}
    results = {
        day: finish_day(day, agg, resting.get(day), zones.get(day), max_hr, zone_name)
        for day, agg in by_day.items()
    }
    for day in set(resting) | set(zones):
        if wanted(day) and day not in results:
            results[day] = finish_day(day, None, resting.get(day), zones.get(day), max_hr)
    return [results[day] for day in sorted(results)]


def aggregate_samples(
    batches: Iterable[Sequence[Sample]], *, gap_cap_s: int = GAP_CAP_S
) -> Iterator[DayAggregate]:
    """Day aggregates of a stream of `Sample` batches (ascending by instant), in date order."""
    aggregator = Aggregator(gap_cap_s=gap_cap_s)
    for batch in batches:
        if batch:
            flat = np.fromiter(chain.from_iterable(batch), dtype=np.int64, count=3 * len(batch))
            yield from aggregator.feed(flat.reshape(-1, 3))
    yield from aggregator.close()


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
    return stats_from_aggregates(
        aggregate_samples(batches, gap_cap_s=gap_cap_s),
        dailies,
        since=since,
        until=until,
        max_hr=max_hr,
        zone_name=zone_name,
    )


__all__ = [
    "GAP_CAP_S",
    "DayStats",
    "aggregate_samples",
    "daily_stats",
    "finish_day",
    "stats_from_aggregates",
]
