"""The dashboard's data, read from the store and shaped for the page: compact and columnar.

A day of one-second samples is 86,400 rows; one JSON object per sample would be ~3 MB.  Here a
series is columns: `bpm` as a plain list of integers and the times as the first instant plus
run-length-encoded deltas (`dt` = [delta, count, delta, count, …]), which a worn day compresses
to a handful of pairs — about 3.3 bytes per sample, 290 KB for a full day before gzip.  The page
expands the times and breaks the line wherever two samples are more than `GAP_S` apart.

Zoomed-out ranges read minute buckets (min/mean/max: a spike never vanishes in a band) or whole
days, so what a response costs follows what the screen can show, not the length of history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.analysis.daily import DayStats, stats_from_aggregates
from heartkeep.analysis.zones import DEFAULT_MAX_HR, zones_for_day
from heartkeep.model import Account, DailyKind, Window
from heartkeep.store import Store

GAP_S = 120  # wider than this between two samples is a gap, drawn as one
SAMPLES_UP_TO_S = 8 * 3600  # ranges up to this read every sample
MINUTES_UP_TO_S = 120 * 86_400  # then buckets of whole minutes; longer ranges read whole days
MAX_BUCKETS = 12_000  # a week in one-minute buckets; longer spans get wider ones
_ONE_DAY = dt.timedelta(days=1)

IntArray = npt.NDArray[np.int64]


def encode_times(instants: IntArray) -> dict[str, Any]:
    """First instant and run-length-encoded deltas: `{"t0": s, "dt": [d, n, d, n, …]}`."""
    if instants.size == 0:
        return {"t0": None, "dt": []}
    deltas = np.diff(instants)
    runs: list[int] = []
    if deltas.size:
        edges = np.flatnonzero(np.diff(deltas)) + 1
        starts = np.concatenate(([0], edges))
        counts = np.diff(np.concatenate((starts, [deltas.size])))
        pairs = np.empty(starts.size * 2, dtype=np.int64)
        pairs[0::2] = deltas[starts]
        pairs[1::2] = counts
        runs = pairs.tolist()
    return {"t0": int(instants[0]), "dt": runs}


def offset_changes(instants: IntArray, offsets: IntArray) -> list[list[int]]:
    """[[instant, offset_min], …] where the reported UTC offset changes (first sample first)."""
    if instants.size == 0:
        return []
    where = np.concatenate(([0], np.flatnonzero(np.diff(offsets)) + 1))
    return [[int(instants[i]), int(offsets[i])] for i in where]


def _stats_json(stats: DayStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "samples": stats.samples,
        "coverage": round(stats.coverage, 4),
        "wear_s": stats.wear_s,
        "day_length_s": stats.day_length_s,
        "min_bpm": stats.min_bpm,
        "mean_bpm": None if stats.mean_bpm is None else round(stats.mean_bpm, 1),
        "max_bpm": stats.max_bpm,
        "resting_bpm": stats.resting_provider or stats.resting_estimate,
        "resting_source": "provider" if stats.resting_provider else "estimate",
        "zone_minutes": {name: round(minutes, 1) for name, minutes in stats.zone_minutes},
    }


def day(
    store: Store, account: Account, day: dt.date, max_hr: int = DEFAULT_MAX_HR
) -> dict[str, Any]:
    """Every sample of the local `day` with its true span (23 h, 25 h, a travel day's length),
    the zone bounds to shade and the day's numbers.

    The span and the numbers come from the store's day aggregate (its first and last samples,
    and the one before it, as the watch stamped them), so a day lived far from the account's
    zone (a flight across the date line: the day may start 22 hours away from the zone's
    midnight) keeps both edges, and the numbers cost no pass over the samples.  Then one
    SELECT reads the day's samples, from its first to its last, straight into columns."""
    aggregates = store.day_aggregates(account.key, day, day + _ONE_DAY)
    dailies = store.dailies(account.key, start=day, end=day + _ONE_DAY)
    stats_list = stats_from_aggregates(
        aggregates, dailies, since=day, until=day, max_hr=max_hr, zone_name=account.time_zone
    )
    stats = stats_list[0] if stats_list else None
    if aggregates:
        lived = aggregates[0]
        span = timeline.lived_day_window(
            day, lived.first, lived.last, previous=lived.previous, zone_name=account.time_zone
        )
        columns = store.sample_columns(account.key, Window(lived.first[0], lived.last[0] + 1))
        # a flight west can give the next day's first minutes back to this one: keep only
        # the samples whose own offset puts them on this local day
        local = (columns.instants_s + columns.offsets_min * 60) // 86_400
        columns = columns.where(local == (day - dt.date(1970, 1, 1)).days)
    else:
        span = timeline.local_day_window(day, account.time_zone)
        columns = store.sample_columns(account.key, Window(span.start_s, span.start_s))
    provider = [d for d in dailies if d.kind is DailyKind.ZONES]
    resting = None if stats is None else stats.resting_provider or stats.resting_estimate
    zones, zone_source = zones_for_day(provider[0].zones if provider else (), resting, max_hr)
    zone_offset = timeline.zone_offset_min(account.time_zone, span.start_s)
    offsets = offset_changes(columns.instants_s, columns.offsets_min)
    return {
        "account": account.key,
        "day": day.isoformat(),
        "start_s": span.start_s,
        "end_s": span.end_s,
        "length_s": span.end_s - span.start_s,
        "offsets": offsets or [[span.start_s, zone_offset]],
        **encode_times(columns.instants_s),
        "bpm": columns.bpm,
        "gap_s": GAP_S,
        "zones": [{"name": z.name, "min_bpm": z.min_bpm} for z in zones],
        "zone_source": zone_source,
        "stats": _stats_json(stats),
    }


def resolution_for(span_s: int) -> str:
    """What a range of `span_s` seconds is drawn from: samples, minutes or days."""
    if span_s <= SAMPLES_UP_TO_S:
        return "samples"
    return "minutes" if span_s <= MINUTES_UP_TO_S else "days"


def bucket_for(span_s: int) -> int:
    """Seconds per bucket for a span drawn from the minute aggregates: whole minutes, at most
    `MAX_BUCKETS` of them (a week: 1 minute; a month: 4; four months: 15)."""
    return max(60, -(-span_s // (MAX_BUCKETS * 60)) * 60)


def span(
    store: Store, account: Account, start_s: int, end_s: int, max_hr: int = DEFAULT_MAX_HR
) -> dict[str, Any]:
    """[start_s, end_s) at the resolution its length calls for.

    samples: `t0`/`dt`/`bpm`; minutes: `t0`/`dt` (bucket starts, `bucket_s` apart at most)
    with `min`/`mean`/`max`; days: `t` (each local day's first instant) with `min`/`mean`/`max`
    and `resting`.  `gap_s`: a longer step between two points is a gap, drawn as one.
    """
    resolution = resolution_for(end_s - start_s)
    out: dict[str, Any] = {"account": account.key, "start_s": start_s, "end_s": end_s}
    out["resolution"] = resolution
    if resolution == "days":
        return out | _days(store, account, start_s, end_s, max_hr)
    if resolution == "samples":
        columns = store.sample_columns(account.key, Window(start_s, end_s))
        return out | encode_times(columns.instants_s) | {"bpm": columns.bpm, "gap_s": GAP_S}
    bucket_s = bucket_for(end_s - start_s)
    buckets = store.minute_aggregates(account.key, Window(start_s, end_s), bucket_s=bucket_s)
    return (
        out
        | encode_times(buckets.start_s)
        | {
            "bucket_s": bucket_s,
            # contiguous copies: orjson writes numpy arrays directly, C order only
            "min": np.ascontiguousarray(buckets.min_bpm),
            "mean": np.round(buckets.mean_bpm, 1),
            "max": np.ascontiguousarray(buckets.max_bpm),
            "gap_s": bucket_s + GAP_S,
        }
    )


def local_bound(account: Account, text: str, *, end: bool) -> int:
    """A bound of a range in the account's zone, as the page sends it: a date (a whole day:
    its start, or with `end` its end, so `to` is inclusive) or a local date and time
    `YYYY-MM-DDTHH:MM[:SS]` (that instant).  Raises ValueError for anything else."""
    if "T" not in text:
        day = timeline.local_day_window(dt.date.fromisoformat(text), account.time_zone)
        return day.end_s if end else day.start_s
    wall = dt.datetime.fromisoformat(text)
    if wall.tzinfo is not None or len(text) > 19:
        raise ValueError(text)
    return timeline.local_to_instant(wall, account.time_zone)


def day_stats(
    store: Store, account: Account, first: dt.date, last: dt.date, max_hr: int = DEFAULT_MAX_HR
) -> list[DayStats]:
    """Per-day statistics of the local days [first, last], from the store's day aggregates:
    O(days), no sample read (a year's overview in milliseconds, not a pass over 8 M rows)."""
    end = last + _ONE_DAY
    return stats_from_aggregates(
        store.day_aggregates(account.key, first, end),
        store.dailies(account.key, start=first, end=end),
        since=first,
        until=last,
        max_hr=max_hr,
        zone_name=account.time_zone,
    )


def days_window(account: Account, first: dt.date, last: dt.date) -> Window:
    """The UTC span of the local days [first, last] in the account's zone."""
    return Window(
        timeline.local_day_window(first, account.time_zone).start_s,
        timeline.local_day_window(last, account.time_zone).end_s,
    )


def local_day_of(instant_s: int, account: Account) -> dt.date:
    return timeline.local_date(instant_s, timeline.zone_offset_min(account.time_zone, instant_s))


def _days(store: Store, account: Account, start_s: int, end_s: int, max_hr: int) -> dict[str, Any]:
    first, last = local_day_of(start_s, account), local_day_of(max(start_s, end_s - 1), account)
    rows = [s for s in day_stats(store, account, first, last, max_hr) if s.samples]
    return {
        "t": [timeline.local_day_window(s.day, account.time_zone).start_s for s in rows],
        "min": [s.min_bpm for s in rows],
        "mean": [None if s.mean_bpm is None else round(s.mean_bpm, 1) for s in rows],
        "max": [s.max_bpm for s in rows],
        "resting": [s.resting_provider or s.resting_estimate for s in rows],
        "gap_s": 2 * 86_400,
    }
