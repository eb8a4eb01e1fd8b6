"""Pure time functions: UTC instants, reported offsets, local days and DST edges.

The rule (DESIGN invariant 4): an instant is UTC epoch seconds; the local day of a sample is
derived from the offset *reported with that sample*, never from today's time zone.  Only where a
source gives no offset (legacy Fitbit local times, Takeout JSON day files) do we apply the zone's
rules for that instant, and those helpers are here too, with their ambiguity handled explicitly.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from heartkeep.model import Window

if TYPE_CHECKING:  # numpy loads only where a day's clock jumps are inferred, not at start-up
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]

UTC = dt.UTC
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DURATION = re.compile(r"^(-?\d+)(?:\.(\d+))?s$")
ZONE_JUMP_MIN_S = 450
"""The smallest backward step of a day's wall clock read as a change of zone (7.5 minutes): half
the 15-minute grid every zone's offset sits on, so the jump rounds to at least a quarter hour."""
_QUARTER_HOUR_S = 900


def parse_rfc3339_s(text: str) -> int:
    """RFC 3339 timestamp → UTC epoch seconds, fractions floored.

    Accepts `Z` or a numeric offset, with or without fractional seconds, as Google serves them
    (`2026-09-25T10:04:59Z`, `2026-09-26T08:33:37.998943Z`, `2026-09-25T19:04:59+09:00`).
    """
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return int(stamp.timestamp() // 1)


def format_rfc3339(instant_s: int) -> str:
    """UTC epoch seconds → `YYYY-MM-DDTHH:MM:SSZ`."""
    return dt.datetime.fromtimestamp(instant_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration_s(text: str) -> int:
    """Google duration (`"7200s"`, `"-18000s"`, `"0.5s"`) → whole seconds (fractions floored)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return int(match.group(1))


def offset_min_from_seconds(offset_s: int) -> int:
    """A reported offset in seconds → minutes, refusing offsets that are not whole minutes."""
    minutes, rest = divmod(offset_s, 60)
    if rest:
        raise ValueError(f"UTC offset of {offset_s} s is not a whole number of minutes")
    return minutes


def local_date(instant_s: int, offset_min: int) -> dt.date:
    """The local calendar day an instant falls on, under the offset reported with it."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + (instant_s + offset_min * 60) // 86_400)


def local_datetime(instant_s: int, offset_min: int) -> dt.datetime:
    """The aware local wall time of an instant under its reported offset."""
    zone = dt.timezone(dt.timedelta(minutes=offset_min))
    return dt.datetime.fromtimestamp(instant_s, zone)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# Instants whose local time `datetime` can hold in every zone (UTC-12 to UTC+14 and a margin):
# 0001-01-02T00:00Z to 9999-12-31T00:00Z.
_FIRST_LOCAL_S = -62_135_510_400
_LAST_LOCAL_S = 253_402_214_400


def zone_offset_min(zone_name: str, instant_s: int) -> int:
    """The offset a zone's rules give at an instant, in minutes east of UTC.

    Outside 0001-01-02 .. 9999-12-31 UTC the local time may not fit in a `datetime`: there the
    offset at the nearer end stands in (the store refuses such a sample with a message anyway,
    since its local day cannot be numbered), so an importer never fails with an overflow."""
    clamped = min(max(instant_s, _FIRST_LOCAL_S), _LAST_LOCAL_S)
    offset = dt.datetime.fromtimestamp(clamped, zone(zone_name)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def local_day_window(day: dt.date, zone_name: str) -> Window:
    """The UTC span of a local day in a zone: 23 or 25 hours long on DST change days."""
    tz = zone(zone_name)
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return Window(int(start.timestamp()), int(end.timestamp()))


def lived_day_window(
    day: dt.date,
    first: tuple[int, int],
    last: tuple[int, int],
    *,
    previous: tuple[int, int] | None = None,
    zone_name: str | None = None,
) -> Window:
    """The UTC span of a local day as it was lived, from the offsets in force at its two ends.

    `first` and `last` are the day's first and last samples and `previous` the sample just
    before the day, each as (instant_s, offset_min).  The day ends at its next midnight under
    the last sample's offset.  It starts at its midnight under the offset in force when that
    midnight came: the previous sample's, if its midnight falls between the two samples (a
    flight east: the clock jumped forward and the day is short, 18 hours from New York to
    Berlin), else the first sample's (a flight west: the day's own first hours carry the old
    offset, and the day is long, 30 hours).  The length is therefore 24 h plus the offset at the
    start minus the offset at the end: 23 h and 25 h on DST change days.

    With `zone_name`, a day whose samples all agree with the zone's rules gets the zone's span
    (so a fall-back day is 25 h even when the watch was off across the change).
    """
    ends = [first, last] if previous is None else [previous, first, last]
    if zone_name is not None and all(
        zone_offset_min(zone_name, instant) == offset for instant, offset in ends
    ):
        return local_day_window(day, zone_name)
    midnight = day_start_s(day)
    start_offset_min = first[1]
    if previous is not None and previous[0] < midnight - previous[1] * 60 <= first[0]:
        start_offset_min = previous[1]
    start_s = midnight - start_offset_min * 60
    return Window(start_s, max(start_s + 1, midnight + 86_400 - last[1] * 60))


def local_to_instant(wall: dt.datetime, zone_name: str, *, fold: int = 0) -> int:
    """A naive local wall time in a zone → UTC epoch seconds.

    In the repeated hour after a fall-back change, `fold=0` picks the first occurrence (summer
    time) and `fold=1` the second; a wall time inside a spring-forward gap does not exist and is
    read with the offset in force before the gap (PEP 495 semantics), which callers that care
    can detect with `wall_time_exists`.
    """
    if wall.tzinfo is not None:
        raise ValueError("expected a naive wall time")
    return int(wall.replace(tzinfo=zone(zone_name), fold=fold).timestamp())


def wall_time_exists(wall: dt.datetime, zone_name: str) -> bool:
    """False for wall times skipped by a spring-forward change."""
    instant = local_to_instant(wall, zone_name)
    back = dt.datetime.fromtimestamp(instant, zone(zone_name)).replace(tzinfo=None)
    return back == wall


def day_start_s(day: dt.date) -> int:
    """Midnight UTC of a date, as epoch seconds."""
    return (day.toordinal() - _EPOCH_ORDINAL) * 86_400


def date_of_s(instant_s: int) -> dt.date:
    """The UTC date of an instant."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + instant_s // 86_400)


class ZoneChanges(NamedTuple):
    """A day's series re-read across the zone changes its wall clock betrays."""

    instants_s: IntArray
    offsets_min: IntArray
    zone_changes: int
    """How many backward jumps of the wall clock were read as a change of zone."""
    samples_reoffset: int
    """How many samples got an offset other than the one the zone's rules gave."""


def infer_zone_changes(
    instants_s: IntArray, offsets_min: IntArray, wall_s: IntArray | None = None
) -> ZoneChanges:
    """Re-read a day of wall-clock samples whose clock jumps backwards as a trip across zones.

    `instants_s`/`offsets_min` are one local day's samples *in the order the source listed them*
    (time order), already read under one zone's rules.  A source that gives only wall times
    (the legacy Fitbit API, saved copies of its responses) shows a flight west as the wall clock
    stepping back: read under one zone, the instants then jump backwards and the repeated hours
    land on instants already taken.  Each backward jump of at least `ZONE_JUMP_MIN_S` is taken
    as a change of zone by the jump rounded to 15 minutes (the time that really passed across
    the jump is small against it).  The *last* stretch of the day keeps the zone's reading —
    the zone is the profile's current one, where the latest trip ended — and every earlier
    stretch gets the offset larger by the jumps after it, and its instants earlier by as much.

    Smaller backward steps are left alone, and so is a DST fall-back (already read by the
    zone's rules before this runs).  With `wall_s` (the samples' wall-clock seconds as the
    source gave them), a jump counts only where the wall clock itself steps back: wall times
    inside a spring-forward gap, read with the offset before it, step the *instants* back
    while the clock ran forward, and are no trip.  Returns new arrays; the inputs are kept.
    """
    import numpy as np

    instants = np.asarray(instants_s, dtype=np.int64)
    offsets = np.asarray(offsets_min, dtype=np.int64)
    if instants.size < 2:
        return ZoneChanges(instants.copy(), offsets.copy(), 0, 0)
    back_s = instants[:-1] - instants[1:]
    stepped_back = back_s >= ZONE_JUMP_MIN_S
    if wall_s is not None:
        wall = np.asarray(wall_s, dtype=np.int64)
        stepped_back &= wall[:-1] - wall[1:] >= ZONE_JUMP_MIN_S
    jumps = np.flatnonzero(stepped_back)
    if jumps.size == 0:
        return ZoneChanges(instants.copy(), offsets.copy(), 0, 0)
    shift_at = np.zeros(instants.size, dtype=np.int64)
    shift_at[jumps] = (back_s[jumps] + _QUARTER_HOUR_S // 2) // _QUARTER_HOUR_S * _QUARTER_HOUR_S
    # A sample is moved by every jump that comes after it: a cumulative sum from the end.
    shift_s = np.cumsum(shift_at[::-1])[::-1]
    return ZoneChanges(
        instants - shift_s,
        offsets + shift_s // 60,
        int(jumps.size),
        int(np.count_nonzero(shift_s)),
    )
