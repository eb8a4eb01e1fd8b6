"""Which data draws a day's chart, read from the store: the day's per-minute summaries when
they can stand in for its samples, else the samples themselves.

Both the `plot day` figure (`charts.day.draw_day`) and the report's SVG (`charts.svg.day_svg`)
draw the `DayCurve` made here, so the two always show the same day the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from heartkeep import timeline
from heartkeep.analysis.daily import stats_from_aggregates
from heartkeep.analysis.zones import zones_for_day
from heartkeep.charts.day import DayCurve, day_curve, minute_breaks, minute_day_curve
from heartkeep.model import Account, DailyKind, Sample, Window, Zone

if TYPE_CHECKING:
    from heartkeep.store import Store

_ONE_DAY = dt.timedelta(days=1)


def _around(account: Account, day: dt.date) -> Window:
    """The UTC span of the local days before, of and after `day` in the account's zone."""
    start = timeline.local_day_window(day - _ONE_DAY, account.time_zone).start_s
    return Window(start, timeline.local_day_window(day + _ONE_DAY, account.time_zone).end_s)


def day_and_previous(
    store: Store, account: Account, day: dt.date
) -> tuple[list[Sample], Sample | None]:
    """The local day's samples, and the sample just before its first (which tells the offset
    in force when the day began: `timeline.lived_day_window`)."""
    samples: list[Sample] = []
    previous: Sample | None = None
    before: Sample | None = None
    for batch in store.iter_samples(account.key, _around(account, day)):
        for sample in batch:
            if timeline.local_date(sample.instant_s, sample.offset_min) == day:
                if not samples:
                    previous = before
                samples.append(sample)
            before = sample
    return samples, previous


def day_chart(store: Store, account: Account, day: dt.date, max_hr: int) -> DayCurve:
    """What the day's chart shows: from its per-minute summaries when its samples all carry
    the offset in force when it began (`minute_day_curve`, the same picture from ~1,440 rows
    instead of ~25,000 points; the samples, read as columns, only tell the offsets and the
    edges of 4–5 minute holes), else from the samples (a day with an offset change, or one
    whose first or last minute it shares with another day's sample)."""
    aggregates = store.day_aggregates(account.key, day, day + _ONE_DAY)
    stats = stats_from_aggregates(
        aggregates, store.dailies(account.key, start=day, end=day + _ONE_DAY), since=day, until=day
    )
    provider = store.dailies(account.key, start=day, end=day + _ONE_DAY, kind=DailyKind.ZONES)
    resting = None
    if stats:
        resting = stats[0].resting_provider or stats[0].resting_estimate
    zones, _ = zones_for_day(provider[0].zones if provider else (), resting, max_hr)
    title = f"Heart rate on {day.isoformat()} · {account.display_name or account.key}"
    if not aggregates:
        return _from_samples(store, account, day, zones, title)
    day_aggregate = aggregates[0]
    (first_s, offset_min), (last_s, _) = day_aggregate.first, day_aggregate.last
    # The sample before the day as the samples' chart sees it: within the day before.
    previous = day_aggregate.previous
    if previous is not None and previous[0] < _around(account, day).start_s:
        previous = None
    span = timeline.lived_day_window(
        day, day_aggregate.first, day_aggregate.last, previous=previous, zone_name=account.time_zone
    )
    minutes_window = Window(first_s - first_s % 60, last_s - last_s % 60 + 60)
    columns = store.sample_columns(account.key, minutes_window)  # one SELECT into numpy
    if (
        timeline.day_start_s(day) - span.start_s != offset_min * 60
        or not len(columns)
        or bool((columns.offsets_min != offset_min).any())
    ):
        return _from_samples(store, account, day, zones, title)
    instants = columns.instants_s

    def seconds_between(a_s: int, b_s: int) -> int:
        """From the last sample of the minute starting at `a_s` to the first of `b_s`'s."""
        last = instants[int(instants.searchsorted(a_s + 60)) - 1]
        return int(instants[int(instants.searchsorted(b_s))] - last)

    minutes = store.minute_aggregates(account.key, minutes_window)
    breaks = minute_breaks(minutes.start_s, seconds_between)
    return minute_day_curve(minutes, breaks, day, zones, span=span, title=title)


def _from_samples(
    store: Store, account: Account, day: dt.date, zones: Sequence[Zone], title: str
) -> DayCurve:
    """The day's chart from every sample of it."""
    samples, previous = day_and_previous(store, account, day)
    if not samples:
        return day_curve(samples, day, zones, title=title)
    first, last = samples[0], samples[-1]
    before = None if previous is None else (previous.instant_s, previous.offset_min)
    span = timeline.lived_day_window(
        day,
        (first.instant_s, first.offset_min),
        (last.instant_s, last.offset_min),
        previous=before,
        zone_name=account.time_zone,
    )
    start_offset_min = (timeline.day_start_s(day) - span.start_s) // 60
    return day_curve(samples, day, zones, title=title, span=span, start_offset_min=start_offset_min)


__all__ = ["day_and_previous", "day_chart"]
