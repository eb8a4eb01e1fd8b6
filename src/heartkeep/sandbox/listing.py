"""`dataPoints.list` and `:reconcile` pages: heart-rate samples and daily summaries, newest first.

Heart rate is walked backwards one UTC day at a time from the query's upper bound (or from where
the page token says the previous page stopped), binary-searching into each day's arrays, so a
page costs the same whether it is the first or the thousandth.  Instants are strictly
increasing, so "the last served instant" is a complete position.  Before answering, the walk
looks one sample further to decide whether a `nextPageToken` is due: the last page carries none.

With `deadline_above_points` set, a heart-rate page that would hold more points than that answers
504 DEADLINE_EXCEEDED instead (the same page asked with a smaller `pageSize` is served).

Daily types (resting heart rate, zones) are served for complete local days only (a day's values
are computed from the whole day), newest day first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from heartkeep.sandbox.catalog import DAILY_HEART_RATE_ZONES, DAILY_RESTING_HEART_RATE, DataType
from heartkeep.sandbox.faults import spoil_bpm
from heartkeep.sandbox.filters import TimeFilter
from heartkeep.sandbox.pagetokens import PageTokens
from heartkeep.sandbox.physiology import Physiology
from heartkeep.sandbox.rpc import deadline_exceeded
from heartkeep.sandbox.state import SampleArrays, SandboxState
from heartkeep.sandbox.wire import date_json, heart_rate_points_bytes

DAY_S = 86_400
# UTC offsets lie within [-12 h, +14 h]: the widest civil-to-physical slack a filter needs.
MAX_EAST_S = 14 * 3600
MAX_WEST_S = 12 * 3600

DAILY_SOURCE = {"recordingMethod": "DERIVED", "platform": "FITBIT"}


@dataclass(frozen=True)
class ListQuery:
    """Everything that identifies a listing across its pages (page size excepted)."""

    user_id: str
    data_type: DataType
    time_filter: TimeFilter
    family: str
    reconciled: bool

    def key(self) -> str:
        return "|".join(
            (
                "list",
                self.user_id,
                self.data_type.path_id,
                self.time_filter.key(),
                self.family,
                str(self.reconciled),
            )
        )


def list_page(
    state: SandboxState,
    tokens: PageTokens,
    query: ListQuery,
    page_size: int,
    page_token: str | None,
) -> bytes:
    """One page of a listing as a JSON body (`{}` for an empty final page)."""
    position: dict[str, Any] = tokens.decode(page_token, query.key()) if page_token else {}
    page_number = int(position.get("n", 1))
    if query.family.endswith("/self-sources"):
        return b"{}"  # the sandbox client has written nothing of its own
    if query.data_type.path_id == "heart-rate":
        return _heart_rate_page(state, tokens, query, page_size, position, page_number)
    if query.data_type in (DAILY_RESTING_HEART_RATE, DAILY_HEART_RATE_ZONES):
        return _daily_page(state, tokens, query, page_size, position, page_number)
    return b"{}"  # a valid type the synthetic user has no data of


def _body(points: str | bytes, next_token: str | None) -> bytes:
    """`{"dataPoints":[...],"nextPageToken":"..."}`, each part only when present."""
    parts: list[bytes] = []
    if points:
        joined = points.encode() if isinstance(points, str) else points
        parts.append(b'"dataPoints":[' + joined + b"]")
    if next_token:
        parts.append(f'"nextPageToken":"{next_token}"'.encode())
    return b"{" + b",".join(parts) + b"}"


# --- heart rate -------------------------------------------------------------------------------


def heart_rate_bounds(
    state: SandboxState, user_id: str, time_filter: TimeFilter
) -> tuple[int, int]:
    """The physical window [lo, hi) that can hold matching, visible samples."""
    physiology = state.physiology[user_id]
    lo = physiology.local_day_bounds(state.users[user_id].member_since)[0]
    hi = state.visible_end_s(user_id)
    if time_filter.physical_start_s is not None:
        lo = max(lo, time_filter.physical_start_s)
    if time_filter.physical_end_s is not None:
        hi = min(hi, time_filter.physical_end_s)
    if time_filter.civil_start_s is not None:
        lo = max(lo, time_filter.civil_start_s - MAX_EAST_S)
    if time_filter.civil_end_s is not None:
        hi = min(hi, time_filter.civil_end_s + MAX_WEST_S)
    return lo, hi


def newest_samples(
    state: SandboxState, user_id: str, time_filter: TimeFilter, lo: int, hi: int, want: int
) -> SampleArrays:
    """Up to `want` matching samples in [lo, hi), the newest ones, in ascending order."""
    chunks: list[SampleArrays] = []
    got = 0
    cursor = hi
    civil = time_filter.civil_start_s is not None or time_filter.civil_end_s is not None
    while cursor > lo and got < want:
        day_lo = max(lo, ((cursor - 1) // DAY_S) * DAY_S)
        instants, bpm, offsets = state.visible_samples(user_id, day_lo, cursor)
        if civil and instants.size:
            local = instants + offsets
            mask = np.ones(instants.size, dtype=bool)
            if time_filter.civil_start_s is not None:
                mask &= local >= time_filter.civil_start_s
            if time_filter.civil_end_s is not None:
                mask &= local < time_filter.civil_end_s
            instants, bpm, offsets = instants[mask], bpm[mask], offsets[mask]
        take = min(want - got, int(instants.size))
        if take:
            cut = instants.size - take
            chunks.append((instants[cut:], bpm[cut:], offsets[cut:]))
            got += take
        cursor = day_lo
    if not chunks:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    chunks.reverse()
    return (
        np.concatenate([c[0] for c in chunks]),
        np.concatenate([c[1] for c in chunks]),
        np.concatenate([c[2] for c in chunks]),
    )


def _heart_rate_page(
    state: SandboxState,
    tokens: PageTokens,
    query: ListQuery,
    page_size: int,
    position: dict[str, Any],
    page_number: int,
) -> bytes:
    lo, hi = heart_rate_bounds(state, query.user_id, query.time_filter)
    if "t" in position:
        hi = min(hi, int(position["t"]))
    every = state.config.empty_every()
    if every > 0 and page_number % every == 0:
        probe = newest_samples(state, query.user_id, query.time_filter, lo, hi, 1)
        if probe[0].size:
            token = tokens.encode(query.key(), {"t": hi, "n": page_number + 1})
            return _body("", token)
    instants, bpm, offsets = newest_samples(
        state, query.user_id, query.time_filter, lo, hi, page_size
    )
    if instants.size == 0:
        return b"{}"
    deadline = state.config.deadline_above_points
    if deadline > 0 and instants.size > deadline:
        raise deadline_exceeded()
    oldest = int(instants[0])
    more = newest_samples(state, query.user_id, query.time_filter, lo, oldest, 1)[0].size > 0
    next_token: str | None = None
    if more:
        next_token = tokens.encode(query.key(), {"t": oldest, "n": page_number + 1})
    bpm = spoil_bpm(instants, bpm, state.config.implausible_bpm_every_s)
    points = heart_rate_points_bytes(
        instants[::-1], bpm[::-1], offsets[::-1], reconciled=query.reconciled
    )
    return _body(points, next_token)


# --- daily summaries --------------------------------------------------------------------------


def last_complete_day(state: SandboxState, user_id: str) -> dt.date:
    """The newest local day whose every sample is visible (its values are final)."""
    physiology = state.physiology[user_id]
    visible_end = state.visible_end_s(user_id)
    day = physiology.local_date_of(visible_end - 1)
    if physiology.local_day_bounds(day)[1] <= visible_end:
        return day
    return day - dt.timedelta(days=1)


@lru_cache(maxsize=16384)
def _zones(physiology: Physiology, day: dt.date) -> list[tuple[str, int, int, float]]:
    """A day's zones, remembered: they cost a day of samples, and physiologies are shared."""
    return physiology.zones(day)


@lru_cache(maxsize=16384)
def _resting(physiology: Physiology, day: dt.date) -> tuple[int, str] | None:
    """A day's resting heart rate and how it was computed (`calculationMethod`), remembered."""
    resting = physiology.resting_hr(day)
    method = physiology.resting_hr_method(day)
    if resting is None or method is None:
        return None
    return resting, method


def daily_point(state: SandboxState, user_id: str, data_type: DataType, day: dt.date) -> Any:
    """The daily data point of `data_type` for local `day`, or None when there is none."""
    physiology = state.physiology[user_id]
    if data_type == DAILY_RESTING_HEART_RATE:
        resting = _resting(physiology, day)
        if resting is None:
            return None
        return {
            "dailyRestingHeartRate": {
                "date": date_json(day),
                "beatsPerMinute": str(resting[0]),
                "dailyRestingHeartRateMetadata": {"calculationMethod": resting[1]},
            }
        }
    zones = _zones(physiology, day)
    if not zones:
        return None
    return {
        "dailyHeartRateZones": {
            "date": date_json(day),
            "heartRateZones": [
                {
                    "heartRateZoneType": name,
                    "minBeatsPerMinute": str(low),
                    "maxBeatsPerMinute": str(high),
                }
                for name, low, high, _minutes in zones
            ],
        }
    }


def _daily_page(
    state: SandboxState,
    tokens: PageTokens,
    query: ListQuery,
    page_size: int,
    position: dict[str, Any],
    page_number: int,
) -> bytes:
    first = state.users[query.user_id].member_since
    end = last_complete_day(state, query.user_id) + dt.timedelta(days=1)
    time_filter = query.time_filter
    if time_filter.date_start is not None:
        first = max(first, time_filter.date_start)
    if time_filter.date_end is not None:
        end = min(end, time_filter.date_end)
    if "d" in position:
        end = min(end, dt.date.fromordinal(int(position["d"])))
    points: list[Any] = []
    day = end - dt.timedelta(days=1)
    oldest: dt.date | None = None
    more = False
    while day >= first:
        point = daily_point(state, query.user_id, query.data_type, day)
        if point is not None:
            if len(points) == page_size:
                more = True
                break
            if not query.reconciled:
                point = {"dataSource": DAILY_SOURCE, **point}
            points.append(point)
            oldest = day
        day -= dt.timedelta(days=1)
    every = state.config.empty_every()
    if points and every > 0 and page_number % every == 0:
        # An empty page that still carries a token, positioned where this one would start.
        resume = {"d": end.toordinal(), "n": page_number + 1}
        return _body("", tokens.encode(query.key(), resume))
    token = None
    if more and oldest is not None:
        token = tokens.encode(query.key(), {"d": oldest.toordinal(), "n": page_number + 1})
    body = ",".join(orjson.dumps(point).decode() for point in points)
    return _body(body, token)
