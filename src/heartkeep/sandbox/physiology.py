"""Deterministic synthetic heart rate for one sandbox user, computed on demand.

The emulator serves years of second-by-second heart rate for any number of users without a single
pre-generated file: every value is a pure function of the user's `UserSpec` and the instant.  Each
UTC day is generated alone (vectorised with numpy, a few milliseconds) from an RNG seeded by
(seed, day ordinal), and the slow parts of the signal (daily rhythm, walks, noise) are hash-based
value noise indexed by absolute time, so any window, read in any order, gives the same numbers and
days join without seams.  Local time drives behaviour (sleep at night, exercise in the evening), so
the user's time zone, its DST changes and any travel shape the data exactly as a watch would.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heartkeep.sandbox.dailies import (
    resting_hr_from_samples,
    sample_weights_s,
    zones_from_samples,
)
from heartkeep.sandbox.noise import value_noise
from heartkeep.sandbox.residence import Residence
from heartkeep.sandbox.routine import Routine
from heartkeep.sandbox.wear import WearSchedule

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DAY_S = 86_400
BPM_MIN = 30
BPM_MAX = 220
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAY_CACHE_SIZE = 128
# No zone is further than this from UTC; bounds the local span of a UTC day.
_MAX_OFFSET_S = 26 * 3600
_GRID_S = 10
# Half the span over which the signal cross-fades when the local clock jumps.
_BLEND_S = 900
_MIN_SLEEP_FOR_METHOD_S = 3600

# Sampling intervals outside exercise: a watch reports every 1–15 s, most often every few seconds.
_INTERVAL_WEIGHTS = (
    {1: 300}
    | dict.fromkeys(range(2, 6), 125)
    | dict.fromkeys(range(6, 11), 30)
    | dict.fromkeys(range(11, 16), 10)
)
# A lookup table (one entry per 1/1000 of probability) is the cheapest way to draw 25k of them.
_INTERVAL_TABLE = np.repeat(
    np.array(list(_INTERVAL_WEIGHTS), dtype=np.int64), list(_INTERVAL_WEIGHTS.values())
)
_INTERVAL_DRAWS = 32_000

# Value-noise channels, so each component of the signal draws independent numbers.
(_CH_REST, _CH_WALK, _CH_BURST, _CH_JITTER, _CH_SLEEP, _CH_POSTURE, _CH_AROUSAL, _CH_FITNESS) = (
    range(1, 9)
)


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
        traits = np.random.default_rng([self._seed, 0, 0])
        # A person's resting level and habits: fixed for the user, drawn once from the seed.
        self._rest_bpm = float(traits.uniform(52.0, 66.0))
        self._awake_lift_bpm = float(traits.uniform(14.0, 22.0))
        self._max_hr = 220 - spec.age
        # Everyday effort scales with the heart-rate reserve, so an older heart is not overdriven.
        reserve = self._max_hr - self._rest_bpm
        self._walk_bpm = 0.25 * reserve
        self._stairs_bpm = 0.12 * reserve
        self._routine = Routine(
            self._seed,
            rest_bpm=self._rest_bpm,
            max_bpm=self._max_hr,
            chronotype_s=float(traits.normal(0.0, 1800.0)),
            exercise_p=float(traits.uniform(0.45, 0.7)),
        )

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
        depth, _ = self._routine.sleep_depth((instants + offsets).astype(np.float64))
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
            resting = round(self._rest_bpm)
        return zones_from_samples(instants, bpm, end_s, resting, self._max_hr)

    # ----------------------------------------------------------------- generation

    def _utc_day(self, day_index: int) -> tuple[IntArray, IntArray, IntArray]:
        key = (self.spec, day_index)
        cached = _DAYS.get(key)
        if cached is None:
            cached = self._generate(day_index)
            for array in cached:
                array.flags.writeable = False  # shared by every caller of this day
            _DAYS.put(key, cached)
        return cached

    def _instants(self, day_index: int, rng: np.random.Generator) -> IntArray:
        """Sampling instants of one UTC day before non-wear: irregular, dense while exercising."""
        day_start = day_index * DAY_S
        first = int(rng.integers(0, 5))
        # 32k draws average ~125,000 s, so one batch nearly always covers the day.
        steps = _INTERVAL_TABLE[rng.integers(0, _INTERVAL_TABLE.size, _INTERVAL_DRAWS)]
        while first + int(steps.sum()) < DAY_S:
            more = _INTERVAL_TABLE[rng.integers(0, _INTERVAL_TABLE.size, _INTERVAL_DRAWS)]
            steps = np.concatenate((steps, more))
        sparse = day_start + first + np.concatenate(([0], np.cumsum(steps[:-1])))
        sparse = sparse[sparse < day_start + DAY_S]
        offsets = self._residence.offsets_s(sparse)
        local = sparse + offsets
        in_bout = np.zeros(sparse.size, dtype=bool)
        dense_parts: list[IntArray] = []
        lo_off = int(offsets.min()) if offsets.size else 0
        hi_off = int(offsets.max()) if offsets.size else 0
        day_local = np.array([day_start + lo_off, day_start + DAY_S + hi_off], dtype=np.float64)
        for bout in self._routine.bouts_near(day_local):
            in_bout |= (local >= bout.start_l) & (local < bout.dense_end_l)
            first_s = max(day_start, int(bout.start_l) - hi_off)
            last_s = min(day_start + DAY_S, int(bout.dense_end_l) - lo_off + 1)
            if last_s <= first_s:
                continue
            dense_steps = np.where(rng.random(last_s - first_s) < 0.85, 1, 2)
            dense = first_s + np.concatenate(([0], np.cumsum(dense_steps[:-1])))
            dense = dense[dense < last_s]
            dense_local = dense + self._residence.offsets_s(dense)
            keep = (dense_local >= bout.start_l) & (dense_local < bout.dense_end_l)
            dense_parts.append(dense[keep])
        merged = np.sort(np.concatenate([sparse[~in_bout], *dense_parts]).astype(np.int64))
        if len(dense_parts) > 1:  # two bouts' dense windows may overlap
            merged = merged[np.concatenate(([True], np.diff(merged) > 0))]
        return merged

    def _generate(self, day_index: int) -> tuple[IntArray, IntArray, IntArray]:
        if (day_index + 1) * DAY_S + _MAX_OFFSET_S <= self._wear.first_worn_l:
            empty = np.empty(0, dtype=np.int64)  # before membership: nothing to compute
            return empty, empty.copy(), empty.copy()
        rng = np.random.default_rng([self._seed, day_index + _EPOCH_ORDINAL, 1])
        instants = self._instants(day_index, rng)
        offsets = self._residence.offsets_s(instants)
        worn = self._wear.worn((instants + offsets).astype(np.float64))
        instants, offsets = instants[worn], offsets[worn]
        # The smooth signal is evaluated on a grid anchored to UTC and interpolated at the
        # samples: the cost no longer grows with sampling density, and any sample's value still
        # depends only on its instant.
        grid = np.arange(day_index * DAY_S, (day_index + 1) * DAY_S + 1, _GRID_S, dtype=np.int64)
        grid_local = (grid + self._residence.offsets_s(grid)).astype(np.float64)
        smooth, asleep = self._heart_rate(grid.astype(np.float64), grid_local)
        self._blend_clock_changes(grid, smooth, asleep)
        hr = np.interp(instants, grid, np.minimum(smooth, self._max_hr))
        calm = np.interp(instants, grid, asleep)
        jitter = rng.normal(0.0, 1.0, size=instants.size) * (1.2 - 0.7 * calm)
        bpm = np.clip(np.rint(hr + jitter), BPM_MIN, BPM_MAX).astype(np.int64)
        return instants, bpm, offsets.astype(np.int64)

    def _blend_clock_changes(self, grid: IntArray, smooth: FloatArray, asleep: FloatArray) -> None:
        """Cross-fade the signal over half an hour around each UTC offset change, in place.

        Behaviour follows the local clock, which jumps when DST starts or ends and when travel
        switches zones (six hours at once after a flight).  The body does not jump with it, so
        around a change the signal moves gradually from the old clock's values to the new one's.
        """
        lo, hi = int(grid[0]) - _BLEND_S, int(grid[-1]) + _BLEND_S + 1
        change_at, offsets = self._residence.changes_s(lo, hi)
        for i in range(1, len(change_at)):
            near = np.abs(grid - change_at[i]) < _BLEND_S
            if not near.any():
                continue
            t = grid[near].astype(np.float64)
            before_hr, before_asleep = self._heart_rate(t, t + offsets[i - 1])
            after_hr, after_asleep = self._heart_rate(t, t + offsets[i])
            weight = (t - (change_at[i] - _BLEND_S)) / (2.0 * _BLEND_S)
            smooth[near] = before_hr + weight * (after_hr - before_hr)
            asleep[near] = before_asleep + weight * (after_asleep - before_asleep)

    def _heart_rate(self, t: FloatArray, local: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(heart rate without jitter, sleep depth) at UTC instants `t` with local times `local`."""
        seed = self._seed
        # Resting level drifts a few bpm from day to day (knots at local noon) and wanders with
        # fitness over months (knots 60 days apart), so long-range trends have a shape.
        days = local / DAY_S
        rest = (
            self._rest_bpm
            + 3.0 * value_noise(seed, _CH_REST, days - 0.5)
            + 3.0 * value_noise(seed, _CH_FITNESS, days / 60.0)
        )
        asleep, since_bed = self._routine.sleep_depth(local)
        wiggle = value_noise(seed, _CH_JITTER, t / 20.0)

        tod_h = (local % DAY_S) / 3600.0
        circadian = 4.0 * np.sin(2 * np.pi * (tod_h - 10.0) / 24.0)
        posture = 6.0 * value_noise(seed, _CH_POSTURE, t / 1800.0)
        walking = np.clip((value_noise(seed, _CH_WALK, t / 600.0) - 0.25) / 0.75, 0.0, 1.0)
        stairs = np.maximum(value_noise(seed, _CH_BURST, t / 90.0) - 0.55, 0.0) / 0.45
        awake_hr = (
            rest
            + self._awake_lift_bpm
            + circadian
            + posture
            + self._walk_bpm * walking**1.2
            + self._stairs_bpm * stairs
            + 2.5 * wiggle
        )

        # Asleep: highest after falling asleep, ~90-minute cycles, brief arousals.
        settling = 4.0 * np.exp(-since_bed / 7200.0)
        cycle = np.sin(2 * np.pi * t / 5400.0 + 3.0 * value_noise(seed, _CH_SLEEP, t / 7200.0))
        arousal = np.maximum(value_noise(seed, _CH_AROUSAL, t / 150.0) - 0.8, 0.0) / 0.2
        sleep_hr = rest - 3.0 + settling + 1.5 * cycle + 12.0 * arousal + 0.8 * wiggle

        hr = asleep * sleep_hr + (1.0 - asleep) * awake_hr
        return self._routine.exercise(hr, local, t, rest), asleep
