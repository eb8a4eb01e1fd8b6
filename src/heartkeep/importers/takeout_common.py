"""What the Takeout readers share: reading a member through the size cap, the Fitbit date
format, and the zone's offset at each instant of a column of instants.

Split from `takeout.py` (the JSON readers) and `takeout_csv.py` (the CSV readers) so each
stays one job; see `takeout.py` for the time semantics of every file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import IO

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers.archive import Member
from heartkeep.importers.limits import LimitExceeded, read_capped


def read_member(member: Member, handle: IO[bytes]) -> bytearray:
    """The member's bytes, read through the size cap (`limits`), never trusting its header."""
    try:
        return read_capped(handle)
    except LimitExceeded as error:
        raise ImportFormatError(str(error), path=member.name) from error


class OffsetCache:
    """Zone offsets by UTC hour: zone changes happen on whole hours (or half/quarter hours in
    a handful of zones, which the 15-minute key covers), and `ZoneInfo` lookups are the
    importer's hot path."""

    def __init__(self, zone_name: str) -> None:
        self.zone_name = zone_name
        self._cache: dict[int, int] = {}

    def __call__(self, instant_s: int) -> int:
        key = instant_s // 900
        offset = self._cache.get(key)
        if offset is None:
            offset = timeline.zone_offset_min(self.zone_name, key * 900)
            self._cache[key] = offset
        return offset


def parse_fitbit_datetime(text: str) -> dt.datetime:
    """`MM/DD/YY HH:MM:SS` (or `MM/DD/YY`) → naive datetime; ValueError when malformed.

    Two-digit years are 20YY: Fitbit data starts in 2008.
    """
    if len(text) == 17 and text[2] == "/" and text[5] == "/" and text[8] == " ":
        return dt.datetime(
            2000 + int(text[6:8]),
            int(text[0:2]),
            int(text[3:5]),
            int(text[9:11]),
            int(text[12:14]),
            int(text[15:17]),
        )
    if len(text) == 8 and text[2] == "/" and text[5] == "/":
        return dt.datetime(2000 + int(text[6:8]), int(text[0:2]), int(text[3:5]))
    raise ValueError(f"expected MM/DD/YY HH:MM:SS, got {text!r}")


def day_starts(
    keys: npt.NDArray[np.int64], to_date: Callable[[int], dt.date]
) -> npt.NDArray[np.int64] | None:
    """Midnight UTC (epoch seconds) of each row's date, given as an integer key that `to_date`
    turns into a date (raising ValueError for one that does not exist); None if any does not.

    A day file holds a date or two, in runs: each run's date is converted once (all distinct
    dates once, if the file jumps about)."""
    if not keys.size:
        return np.zeros(0, dtype=np.int64)
    changes = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    if changes.size < 64:
        firsts = np.concatenate([[0], changes])
        distinct, which = keys[firsts], None
    else:
        distinct, which = np.unique(keys, return_inverse=True)
    starts = np.empty(distinct.size, dtype=np.int64)
    for index, key in enumerate(distinct.tolist()):
        try:
            starts[index] = timeline.day_start_s(to_date(key))
        except ValueError:
            return None
    if which is None:
        lengths = np.diff(np.concatenate([firsts, [keys.size]]))
        return np.repeat(starts, lengths)
    found: npt.NDArray[np.int64] = starts[which.reshape(-1)]
    return found


def whole_bpm(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Rounded bpm, clipped into int32 so that `1e30` stays an (implausible, counted) number
    instead of wrapping around; `load()` rejects whatever is outside `plausibility`."""
    return np.clip(np.rint(values), -(2**31), 2**31 - 1).astype(np.int64)


def zone_offsets(instants: npt.NDArray[np.int64], zone_name: str) -> npt.NDArray[np.int64]:
    """The zone's offset at each instant, looked up once per 15-minute block (zones change
    offsets on quarter hours)."""
    blocks, inverse = np.unique(instants // 900, return_inverse=True)
    return np.array(
        [timeline.zone_offset_min(zone_name, int(block) * 900) for block in blocks],
        dtype=np.int64,
    )[inverse]


__all__ = [
    "OffsetCache",
    "day_starts",
    "parse_fitbit_datetime",
    "read_member",
    "whole_bpm",
    "zone_offsets",
]
