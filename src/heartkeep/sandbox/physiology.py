"""Deterministic synthetic heart rate for one sandbox user, computed on demand.

The emulator serves years of second-by-second heart rate for any number of users without a single
pre-generated file: every value is a pure function of the user's `UserSpec` and the instant.  Each
UTC day is generated alone (`heart_signal.py`, vectorised with numpy, a few milliseconds) from an
RNG seeded by (seed, day ordinal), and the slow parts of the signal (daily rhythm, walks, noise)
are hash-based value noise indexed by absolute time, so any window, read in any order, gives the
same numbers and days join without seams.  Local time drives behaviour (sleep at night, exercise
in the evening), so the user's time zone, its DST changes and any travel shape the data exactly
as a watch would.  This module is who the user is, the days cache, and the questions the
emulator asks: samples of a window, the provider's dailies, time and place.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from heartkeep.sandbox.dailies import (
    resting_hr_from_samples,
    sample_weights_s,
    zones_from_samples,
)
from heartkeep.sandbox.heart_signal import DAY_S, HeartSignal, IntArray
from heartkeep.sandbox.residence import Residence
from heartkeep.sandbox.wear import WearSchedule

_DAY_CACHE_SIZE = 128
_MIN_SLEEP_FOR_METHOD_S = 3600


class _DayCache:
    """Generated UTC days of every user, least recently used evicted first.

    One cache for all users, bounded in days (~0.55 MB each), so a run over thousands of users
    holds at most `_DAY_CACHE_SIZE` days however it walks them.  Private and locked.
    """

    def __init__(self, max_days: int) -> None:
        self._max_days = max_days
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple[UserSpec, int], tuple[IntArray, IntArray, IntArray]]
        self._days = OrderedDict()

    def get(self, key: tuple[UserSpec, int]) -> tuple[IntArray, IntArray, IntArray] | None:
        with self._lock:
            found = self._days.get(key)
            if found is not None:
                self._days.move_to_end(key)
            return found

    def put(self, key: tuple[UserSpec, int], day: tuple[IntArray, IntArray, IntArray]) -> None:
        with self._lock:
            self._days[key] = day
            self._days.move_to_end(key)
            while len(self._days) > self._max_days:
                self._days.popitem(last=False)


@dataclass(frozen=True, slots=True)
class UserSpec:
    """Who a sandbox user is; everything about their data follows from these fields.

    `member_since` is a local date: no sample exists before it.  `travel` lists (local date, IANA
    zone) changes: from that local date on the user lives in the new zone (see `Residence` for the
    exact switching instant).  `age` sets the maximum heart rate (220 - age) used by the zones.
    """

    health_user_id: str
    legacy_user_id: str
    display_name: str
    time_zone: str
    member_since: dt.date
    seed: int
    travel: tuple[tuple[dt.date, str], ...] = ()
    age: int = 38


_DAYS = _DayCache(_DAY_CACHE_SIZE)


def demo_user(clock_start_s: float) -> UserSpec:
    """The default demo user for a sandbox whose clock starts at `clock_start_s`.

    Lives in Europe/Berlin, member for 400 days, and spent ten days in New York between 200 and
    190 days before the start (a westward and an eastward offset change inside the last year but
    well clear of the last 14 days).  The seed is the first one from a fixed base whose last 14
    days are worn but for charging and a few loose-band minutes, and whose last year has a few
    whole days off the wrist, so the demo looks good and gap handling has something to show.
    """
    start_day = dt.datetime.fromtimestamp(clock_start_s, dt.UTC).date()
    member_since = start_day - dt.timedelta(days=400)
    travel = (
        (start_day - dt.timedelta(days=200), "America/New_York"),
        (start_day - dt.timedelta(days=190), "Europe/Berlin"),
    )
    seed = 20261120
    while True:
        wear = WearSchedule(seed, member_since)
        # Nothing beyond charging and loose-band minutes in the last fortnight (and the day
        # before it, whose night runs into it).
        recent_off = any(wear.hours_off(start_day - dt.timedelta(days=k)) > 1.5 for k in range(16))
        year_off = sum(wear.off_wrist_day(start_day - dt.timedelta(days=k)) for k in range(16, 366))
        if not recent_off and year_off >= 3:
            break
        seed += 1
    return UserSpec(
        health_user_id="111111256096816351",
        legacy_user_id="CV5TKH",
        display_name="Demo User",
        time_zone="Europe/Berlin",
        member_since=member_since,
        seed=seed,
        travel=travel,
    )


class Physiology:
    """Synthetic heart rate of one user: samples for any window, plus the provider's dailies.

    Thread-safe: generation is pure; generated days live in one locked LRU shared by every user
    (bounded in total, so memory stays flat however many users a test or a load run touches), and
    the small memos are `functools.lru_cache`s.
    """

    def __init__(self, spec: UserSpec) -> None:
        self.spec = spec
        self._seed = spec.seed % (1 << 63)
        self._residence = Residence(spec.time_zone, spec.travel)
        self._wear = WearSchedule(self._seed, spec.member_since)
        self._resting = functools.lru_cache(maxsize=4096)(self._compute_resting_hr)
        self._signal = HeartSignal(self._seed, self._residence, self._wear, age=spec.age)

    # ----------------------------------------------------------------- time and place

    def offset_s_at(self, instant_s: int) -> int:
        """The UTC offset (seconds east) the watch reports at `instant_s` (DST and travel aware)."""
        return self._residence.offset_s_at(instant_s)

    def zone_at(self, instant_s: int) -> str:
        """The IANA zone the user lives in at `instant_s`."""
        return self._residence.zone_at(instant_s)

    def local_date_of(self, instant_s: int) -> dt.date:
        """The user's local calendar date at `instant_s`."""
        return self._residence.local_date_of(instant_s)

    def local_day_bounds(self, day: dt.date) -> tuple[int, int]:
        """UTC [start, end) of the local day `day`: 23 or 25 hours on DST days, other on travel."""
        return self._residence.local_day_bounds(day)

    # ----------------------------------------------------------------- samples

    def samples(self, start_s: int, end_s: int) -> tuple[IntArray, IntArray, IntArray]:
        """(instant_s ascending, bpm, offset_s) of every sample in the UTC window [start_s, end_s).

        Deterministic: the same spec gives the same arrays for any window, and any sub-window is
        the slice of a bigger one.  Instants are integer seconds, strictly increasing.
        """
        start_s, end_s = int(start_s), int(end_s)
        if end_s <= start_s:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        parts: list[tuple[IntArray, IntArray, IntArray]] = []
        for day_index in range(start_s // DAY_S, (end_s - 1) // DAY_S + 1):
            instants, bpm, offsets = self._utc_day(day_index)
            lo = int(np.searchsorted(instants, start_s, side="left"))
            hi = int(np.searchsorted(instants, end_s, side="left"))
            if hi > lo:
                parts.append((instants[lo:hi], bpm[lo:hi], offsets[lo:hi]))
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        if len(parts) == 1:
            instants, bpm, offsets = parts[0]
            return instants.copy(), bpm.copy(), offsets.copy()
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def daily_sample_count(self, day: dt.date) -> int:
        """How many samples fall in the local day `day`."""
        start_s, end_s = self.local_day_bounds(day)
        return int(self.samples(start_s, end_s)[0].size)

    # ----------------------------------------------------------------- dailies

    def resting_hr(self, day: dt.date) -> int | None:
        """The provider's resting heart rate for local day `day`, or None without enough wear.

        Computed from that day's samples (see `dailies.resting_hr_from_samples`).
        """
        return self._resting(day)

    def _compute_resting_hr(self, day: dt.date) -> int | None:
        start_s, end_s = self.local_day_bounds(day)
        instants, bpm, _ = self.samples(start_s, end_s)
        return resting_hr_from_samples(instants, bpm, end_s)

    def resting_hr_method(self, day: dt.date) -> str | None:
        """How `resting_hr(day)` was computed, as Google's `calculationMethod` names it.

        "WITH_SLEEP" when the day's worn time includes at least an hour asleep, else
        "ONLY_WITH_AWAKE_DATA" (the watch was off for the night); None when there is no value.
        """
        if self.resting_hr(day) is None:
            return None
        start_s, end_s = self.local_day_bounds(day)
        instants, _, offsets = self.samples(start_s, end_s)
        depth, _ = self._signal.routine.sleep_depth((instants + offsets).astype(np.float64))
        asleep_s = int(sample_weights_s(instants, end_s)[depth > 0.5].sum())
        return "WITH_SLEEP" if asleep_s >= _MIN_SLEEP_FOR_METHOD_S else "ONLY_WITH_AWAKE_DATA"

    def zones(self, day: dt.date) -> list[tuple[str, int, int, float]]:
        """(LIGHT|MODERATE|VIGOROUS|PEAK, min_bpm, max_bpm, minutes in zone) for local day `day`.

        Karvonen thresholds from 220 - age and that day's resting HR (or, on a day without one,
        the latest of the previous week, else the user's usual level).  Empty on a day without
        any sample, as the provider serves no zones for a day it knows nothing about.
        """
        start_s, end_s = self.local_day_bounds(day)
        instants, bpm, _ = self.samples(start_s, end_s)
        if instants.size == 0:
            return []
        resting = self.resting_hr(day)
        back = 1
        while resting is None and back <= 7:
            resting = self.resting_hr(day - dt.timedelta(days=back))
            back += 1
        if resting is None:
            resting = round(self._signal.rest_bpm)
        return zones_from_samples(instants, bpm, end_s, resting, self._signal.max_hr)

    # ----------------------------------------------------------------- generation

    def _utc_day(self, day_index: int) -> tuple[IntArray, IntArray, IntArray]:
        key = (self.spec, day_index)
        cached = _DAYS.get(key)
        if cached is None:
            cached = self._signal.day(day_index)
            for array in cached:
                array.flags.writeable = False  # shared by every caller of this day
            _DAYS.put(key, cached)
        return cached
