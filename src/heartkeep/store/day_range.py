"""Which samples can have day aggregates: offsets within a day of UTC, days within the calendar.

Why a module of its own: the store keeps a summary per local day (`hr_day`), numbered the way
`datetime.date` numbers days, and finds the days a write may change from the UTC day of each
sample, one day either side.  Both hold only for samples whose UTC offset is within a day
(real offsets are within -12 h .. +14 h, local mean time of the 19th century within 16 h) and
whose days lie within 0001-01-01 .. 9999-12-31.  A write that breaks either is refused whole
with a `StoreError` (exit 9) that names the sample, raised inside the writer's transaction.
"""

from __future__ import annotations

import datetime as dt

from heartkeep.aggregates import ordinal_of_day
from heartkeep.errors import StoreError

MAX_OFFSET_MIN = 1440
# The days `datetime.date` can number, as day ordinals from 1970 (`aggregates.ordinal_of_day`).
FIRST_ORDINAL = ordinal_of_day(dt.date.min)
LAST_ORDINAL = ordinal_of_day(dt.date.max)


def check_offsets(offsets_min: tuple[int, int]) -> None:
    """Refuse a write whose (lowest, highest) UTC offsets are more than a day from UTC."""
    if offsets_min[0] >= -MAX_OFFSET_MIN and offsets_min[1] <= MAX_OFFSET_MIN:
        return
    raise StoreError(
        f"a heart-rate sample has a UTC offset of {max(offsets_min, key=abs)} minutes, more "
        "than a day; nothing was written",
        hint="Its UTC offset is wrong: check the file or source it came from.",
    )


def check_days(first: int, last: int, instant_s: int) -> None:
    """Refuse a write whose days (ordinals `first` .. `last`, those its samples may fall on)
    reach past what `datetime.date` numbers; `instant_s` is the sample named in the message."""
    if first >= FIRST_ORDINAL and last <= LAST_ORDINAL:
        return
    try:
        when = dt.datetime.fromtimestamp(instant_s, dt.UTC)
        moment = f"{when.date().isoformat()}T{when:%H:%M}Z"  # glibc's %Y leaves 0001 unpadded
    except (OverflowError, ValueError, OSError):
        moment = f"{instant_s} s from 1970 (UTC)"
    raise StoreError(
        f"a heart-rate sample at {moment} is outside the dates heartkeep can keep (from "
        "0001-01-02 to before 9999-12-31 UTC); nothing was written",
        hint="Its timestamp is wrong: check the file or source it came from.",
    )


__all__ = ["FIRST_ORDINAL", "LAST_ORDINAL", "MAX_OFFSET_MIN", "check_days", "check_offsets"]
