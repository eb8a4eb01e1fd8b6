"""Legacy Fitbit wall-clock times → UTC instants, DST-exact, with travel read from the clock.

The legacy API gives each day's heart rate as `HH:mm:ss` wall times in the profile's zone, in
time order, without a date or an offset.  This module turns one day of them into instants and
offsets under the zone's rules (`local_clock_to_instants`); the provider then re-reads any
backward jump of the wall clock that the rules do not explain as a trip across zones
(`timeline.infer_zone_changes`, shared with the importer of saved responses).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from heartkeep import timeline

IntArray = npt.NDArray[np.int64]
DAY_S = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1)
def clock_seconds() -> dict[str, int]:
    """`HH:mm:ss` → seconds after midnight, for every second of a day.

    A dictionary lookup is several times faster than slicing and converting 25,000 strings a
    day, and it rejects any malformed time by its absence.
    """
    return {f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}": s for s in range(DAY_S)}


def local_clock_to_instants(
    day: dt.date, clock_s: IntArray, zone_name: str
) -> tuple[IntArray, IntArray]:
    """Seconds after local midnight of `day`, in the API's (time) order → (instants, offsets_min).

    DST rules as in the module docstring: the first backwards step of the wall clock inside a
    fall-back day marks the second pass through the repeated hour; without one, a repeated
    wall time is read as its first occurrence.  A wall time inside a spring-forward gap (which
    no device produces) is read with the offset before the gap.
    """
    midnight_local = (day.toordinal() - _EPOCH_ORDINAL) * DAY_S
    span = timeline.local_day_window(day, zone_name)
    offsets_s = sorted(
        {
            timeline.zone_offset_min(zone_name, instant) * 60
            for instant in range(span.start_s, span.end_s, 3600)
        }
        | {timeline.zone_offset_min(zone_name, span.end_s - 1) * 60}
    )
    before_s = timeline.zone_offset_min(zone_name, span.start_s) * 60
    after_s = timeline.zone_offset_min(zone_name, span.end_s - 1) * 60
    if len(offsets_s) == 1:
        instants = midnight_local + clock_s - before_s
        return instants.astype(np.int64), np.full(clock_s.shape, before_s // 60, dtype=np.int64)
    if len(offsets_s) > 2 or before_s == after_s:
        return _convert_slowly(day, clock_s, zone_name)
    change_s = _transition_instant(zone_name, span.start_s, span.end_s, before_s)
    old_rule_ends = change_s + before_s - midnight_local  # wall seconds where the old offset ends
    new_rule_starts = change_s + after_s - midnight_local  # wall seconds where the new one starts
    if after_s < before_s:
        steps_back = np.flatnonzero(np.diff(clock_s) < 0)
        if steps_back.size:
            switch = int(steps_back[0]) + 1
        else:
            switch = int(np.searchsorted(clock_s, old_rule_ends, side="left"))
    else:
        switch = int(np.searchsorted(clock_s, new_rule_starts, side="left"))
    offsets = np.where(np.arange(clock_s.size) < switch, before_s, after_s).astype(np.int64)
    instants = midnight_local + clock_s - offsets
    return instants.astype(np.int64), offsets // 60


def _transition_instant(zone_name: str, lo_s: int, hi_s: int, before_s: int) -> int:
    """The first instant in [lo_s, hi_s) whose offset is no longer `before_s` (bisection)."""
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if timeline.zone_offset_min(zone_name, mid) * 60 == before_s:
            lo_s = mid
        else:
            hi_s = mid
    return hi_s


def _convert_slowly(day: dt.date, clock_s: IntArray, zone_name: str) -> tuple[IntArray, IntArray]:
    """Per-sample conversion for days with more than one offset change (none in practice)."""
    midnight = dt.datetime.combine(day, dt.time())
    fold = 0
    previous = -1
    instants = np.empty(clock_s.size, dtype=np.int64)
    offsets = np.empty(clock_s.size, dtype=np.int64)
    for index, seconds in enumerate(clock_s.tolist()):
        if seconds < previous:
            fold = 1
        previous = seconds
        instant = timeline.local_to_instant(
            midnight + dt.timedelta(seconds=seconds), zone_name, fold=fold
        )
        instants[index] = instant
        offsets[index] = timeline.zone_offset_min(zone_name, instant)
    return instants, offsets
