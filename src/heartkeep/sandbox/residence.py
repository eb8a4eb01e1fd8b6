"""Where a sandbox user lives over time: IANA zone periods, UTC offsets and local days.

A watch stamps every sample with the UTC offset in force at that instant, so the emulator needs
the offset at any instant (DST-correct, from zoneinfo) and, for daily values, the UTC bounds of a
local calendar day.  Travel switches the zone at the *later* of the two local midnights of the
travel date (the old zone's and the new zone's): at that instant the local date is the travel date
on both sides, so local dates never run backwards and every local day is one closed-open UTC span
(longer when flying west, shorter when flying east).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

_DAY_S = 86_400
_EPOCH = dt.date(1970, 1, 1)
# Offsets are probed this often within a span and bisected to the second where they change.
_PROBE_S = 1800


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r} in the sandbox user spec") from exc


def _midnight_s(day: dt.date, zone: ZoneInfo) -> int:
    """UTC instant of local midnight starting `day` in `zone` (fold=0 if midnight is skipped)."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


class Residence:
    """The zone periods of one user: the home zone, then one period per travel change."""

    def __init__(self, time_zone: str, travel: tuple[tuple[dt.date, str], ...] = ()) -> None:
        zone = _zone(time_zone)
        self._starts: list[int] = []
        self._names: list[str] = [time_zone]
        self._zones: list[ZoneInfo] = [zone]
        for day, name in sorted(travel):
            new_zone = _zone(name)
            switch_s = max(_midnight_s(day, zone), _midnight_s(day, new_zone))
            if self._starts and switch_s <= self._starts[-1]:
                raise ValueError(f"travel changes must be on distinct, increasing dates: {day}")
            self._starts.append(switch_s)
            self._names.append(name)
            self._zones.append(new_zone)
            zone = new_zone
        # Bounded, thread-safe memos (lru_cache locks internally); a year is ~400 entries.
        self._bounds = functools.lru_cache(maxsize=4096)(self._compute_bounds)
        self._day_changes = functools.lru_cache(maxsize=1024)(self._compute_day_changes)

    @property
    def switches_s(self) -> tuple[int, ...]:
        """UTC instants at which travel changes the zone, ascending."""
        return tuple(self._starts)

    def _period(self, instant_s: int) -> int:
        return bisect.bisect_right(self._starts, instant_s)

    def zone_at(self, instant_s: int) -> str:
        """IANA name of the zone in force at `instant_s`."""
        return self._names[self._period(int(instant_s))]

    def offset_s_at(self, instant_s: int) -> int:
        """UTC offset in seconds east at `instant_s`."""
        zone = self._zones[self._period(int(instant_s))]
        offset = dt.datetime.fromtimestamp(int(instant_s), dt.UTC).astimezone(zone).utcoffset()
        assert offset is not None  # an aware datetime from zoneinfo always has one
        return int(offset.total_seconds())

    def local_date_of(self, instant_s: int) -> dt.date:
        """Local calendar date at `instant_s`."""
        local_s = int(instant_s) + self.offset_s_at(instant_s)
        return _EPOCH + dt.timedelta(days=local_s // _DAY_S)

    def local_day_bounds(self, day: dt.date) -> tuple[int, int]:
        """UTC [start, end) of local day `day`: first instants with local date ≥ day, ≥ day+1."""
        return self._bounds(day)

    def _compute_bounds(self, day: dt.date) -> tuple[int, int]:
        return self._first_instant_on(day), self._first_instant_on(day + dt.timedelta(days=1))

    def _first_instant_on(self, day: dt.date) -> int:
        # Local dates are monotonic in UTC (see the module docstring), so bisect on them; every
        # zone's offset is within ±26 h, which bounds the search.
        naive_s = (day - _EPOCH).days * _DAY_S
        lo, hi = naive_s - 27 * 3600, naive_s + 27 * 3600
        while lo < hi:
            mid = (lo + hi) // 2
            if self.local_date_of(mid) >= day:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def changes_s(self, start_s: int, end_s: int) -> tuple[list[int], list[int]]:
        """Offset in force at `start_s` and every change inside [start_s, end_s).

        Returns (instants, offsets): offsets[i] applies from instants[i] until the next instant.
        DST changes are found by probing every half hour and bisecting to the second.
        """
        probes = sorted(
            {*range(start_s, end_s, _PROBE_S), end_s - 1}
            | {s for s in self._starts if start_s < s < end_s}
        )
        instants = [start_s]
        offsets = [self.offset_s_at(start_s)]
        for left, right in itertools.pairwise(probes):
            if self.offset_s_at(right) == self.offset_s_at(left):
                continue
            lo, hi = left + 1, right
            before = self.offset_s_at(left)
            while lo < hi:
                mid = (lo + hi) // 2
                if self.offset_s_at(mid) == before:
                    lo = mid + 1
                else:
                    hi = mid
            instants.append(lo)
            offsets.append(self.offset_s_at(lo))
        return instants, offsets

    def _compute_day_changes(
        self, day_index: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        instants, offsets = self.changes_s(day_index * _DAY_S, (day_index + 1) * _DAY_S)
        return np.asarray(instants, dtype=np.int64), np.asarray(offsets, dtype=np.int64)

    def offsets_s(self, instants: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """UTC offset (seconds east) at each instant of an ascending array."""
        result = np.empty(instants.size, dtype=np.int64)
        if instants.size == 0:
            return result
        days = instants // _DAY_S
        for day_index in range(int(days[0]), int(days[-1]) + 1):
            lo, hi = np.searchsorted(days, [day_index, day_index + 1])
            if hi > lo:
                change_at, offsets = self._day_changes(day_index)
                index = np.searchsorted(change_at, instants[lo:hi], side="right") - 1
                result[lo:hi] = offsets[index]
        return result
