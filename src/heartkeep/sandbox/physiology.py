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
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heartkeep.sandbox.dailies import resting_hr_from_samples, zones_from_samples
from heartkeep.sandbox.noise import value_noise
from heartkeep.sandbox.residence import Residence
from heartkeep.sandbox.wear import WearSchedule

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DAY_S = 86_400
BPM_MIN = 30
BPM_MAX = 220
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAY_CACHE_SIZE = 64

# Sampling intervals outside exercise: a watch reports every 1–15 s, most often every few seconds.
_INTERVALS_S = np.arange(1, 16, dtype=np.int64)
_INTERVAL_P = np.array(
    [0.30] + [0.125] * 4 + [0.03] * 5 + [0.01] * 5,
    dtype=np.float64,
)
_INTERVAL_CDF = np.cumsum(_INTERVAL_P / _INTERVAL_P.sum())

# Value-noise channels, so each component of the signal draws independent numbers.
_CH_REST, _CH_WALK, _CH_BURST, _CH_JITTER, _CH_SLEEP = 1, 2, 3, 4, 5


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


@dataclass(frozen=True, slots=True)
class _Bout:
    """One exercise session (absolute local seconds): ramps up, holds, recovers."""

    start_l: float
    warmup_s: float
    duration_s: float
    cooldown_tau_s: float
    peak_bpm: float
    swing_bpm: float
    swing_period_s: float

    @property
    def end_l(self) -> float:
        """When the effect of the bout has faded (six recovery time constants after it stops)."""
        return self.start_l + self.duration_s + 6 * self.cooldown_tau_s


@dataclass(frozen=True, slots=True)
class _DayPlan:
    """The behaviour of one local day, in absolute local seconds (local epoch seconds)."""

    wake_l: float
    bed_l: float
    bouts: tuple[_Bout, ...]


def demo_user(clock_start_s: float) -> UserSpec:
    """The default demo user for a sandbox whose clock starts at `clock_start_s`.

    Lives in Europe/Berlin, member for 400 days, and spent ten days in New York between 200 and
    190 days before the start (a westward and an eastward offset change inside the last year but
    well clear of the last 14 days).  The seed is the first one from a fixed base whose last 14
    days are fully worn and whose last year has a few whole days off the wrist, so the demo looks
    good and the gap handling still has something to show.
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
        recent_off = any(wear.off_wrist_day(start_day - dt.timedelta(days=k)) for k in range(0, 16))
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

    Thread-safe: generation is pure, and the day cache (an LRU of the last 64 UTC days) is guarded
    by a lock; the other caches are plain dicts whose worst race repeats a pure computation.
    """

    def __init__(self, spec: UserSpec) -> None:
        self.spec = spec
        self._seed = spec.seed % (1 << 63)
        self._residence = Residence(spec.time_zone, spec.travel)
        self._wear = WearSchedule(self._seed, spec.member_since)
        self._lock = threading.Lock()
        self._days: OrderedDict[int, tuple[IntArray, IntArray, IntArray]] = OrderedDict()
        self._plans: dict[int, _DayPlan] = {}
        self._resting: dict[dt.date, int | None] = {}
        traits = np.random.default_rng([self._seed, 0, 0])
        # A person's resting level and habits: fixed for the user, drawn once from the seed.
        self._rest_bpm = float(traits.uniform(52.0, 66.0))
        self._awake_lift_bpm = float(traits.uniform(14.0, 22.0))
        self._chronotype_s = float(traits.normal(0.0, 1800.0))
        self._exercise_p = float(traits.uniform(0.45, 0.7))
        self._max_hr = 220 - spec.age

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
        if day not in self._resting:
            start_s, end_s = self.local_day_bounds(day)
            instants, bpm, _ = self.samples(start_s, end_s)
            self._resting[day] = resting_hr_from_samples(instants, bpm, end_s)
        return self._resting[day]

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
        with self._lock:
            cached = self._days.get(day_index)
            if cached is not None:
                self._days.move_to_end(day_index)
                return cached
        generated = self._generate(day_index)
        for array in generated:
            array.flags.writeable = False  # shared by every caller of this day
        with self._lock:
            self._days[day_index] = generated
            if len(self._days) > _DAY_CACHE_SIZE:
                self._days.popitem(last=False)
        return generated

    def _plan(self, local_day: int) -> _DayPlan:
        """Wake, bed and exercise of local day number `local_day` (days since 1970-01-01)."""
        plan = self._plans.get(local_day)
        if plan is not None:
            return plan
        rng = np.random.default_rng([self._seed, local_day + _EPOCH_ORDINAL, 2])
        base = float(local_day * DAY_S)
        weekend = dt.date.fromordinal(local_day + _EPOCH_ORDINAL).weekday() >= 5
        late = 3600.0 if weekend else 0.0
        wake = 6.6 * 3600 + late + self._chronotype_s + rng.normal(0.0, 1500.0)
        bed = 23.0 * 3600 + late * 0.75 + self._chronotype_s + rng.normal(0.0, 1800.0)
        bouts: list[_Bout] = []
        if rng.random() < self._exercise_p:
            count = 1 if rng.random() < 0.85 else 2
            slots = [wake + rng.uniform(1200.0, 3600.0), rng.uniform(17.0, 19.5) * 3600]
            if count == 1:
                slots = [slots[0]] if rng.random() < 0.35 else [slots[1]]
            for start in slots:
                effort = rng.uniform(0.55, 0.92)
                peak = self._rest_bpm + effort * (self._max_hr - self._rest_bpm)
                intervals = rng.random() < 0.3
                bouts.append(
                    _Bout(
                        start_l=base + start,
                        warmup_s=rng.uniform(300.0, 720.0),
                        duration_s=rng.uniform(1200.0, 4800.0),
                        cooldown_tau_s=rng.uniform(90.0, 240.0),
                        peak_bpm=min(peak, self._max_hr - 4.0),
                        swing_bpm=rng.uniform(8.0, 16.0) if intervals else 0.0,
                        swing_period_s=rng.uniform(180.0, 360.0),
                    )
                )
        plan = _DayPlan(wake_l=base + wake, bed_l=base + bed, bouts=tuple(bouts))
        self._plans[local_day] = plan
        return plan

    def _instants(self, day_index: int, rng: np.random.Generator) -> IntArray:
        """Sampling instants of one UTC day before non-wear: irregular, dense while exercising."""
        day_start = day_index * DAY_S
        # Enough draws for the slowest plausible sampling, cut at the day's end.
        draws = rng.random(40_000)
        steps = _INTERVALS_S[np.searchsorted(_INTERVAL_CDF, draws, side="right").clip(0, 14)]
        first = int(rng.integers(0, 5))
        sparse = day_start + first + np.concatenate(([0], np.cumsum(steps[:-1])))
        sparse = sparse[sparse < day_start + DAY_S]
        offsets = self._residence.offsets_s(sparse)
        local = sparse + offsets
        in_bout = np.zeros(sparse.size, dtype=bool)
        dense_parts: list[IntArray] = []
        lo_off = int(offsets.min()) if offsets.size else 0
        hi_off = int(offsets.max()) if offsets.size else 0
        for bout in self._bouts_near(day_index):
            in_bout |= (local >= bout.start_l) & (local < bout.end_l)
            first_s = max(day_start, int(bout.start_l) - hi_off)
            last_s = min(day_start + DAY_S, int(bout.end_l) - lo_off + 1)
            if last_s <= first_s:
                continue
            dense_steps = np.where(rng.random(last_s - first_s) < 0.85, 1, 2)
            dense = first_s + np.concatenate(([0], np.cumsum(dense_steps[:-1])))
            dense = dense[dense < last_s]
            dense_local = dense + self._residence.offsets_s(dense)
            keep = (dense_local >= bout.start_l) & (dense_local < bout.end_l)
            dense_parts.append(dense[keep])
        merged = np.sort(np.concatenate([sparse[~in_bout], *dense_parts]).astype(np.int64))
        if len(dense_parts) > 1:  # two bouts' dense windows may overlap
            merged = merged[np.concatenate(([True], np.diff(merged) > 0))]
        return merged

    def _bouts_near(self, day_index: int) -> list[_Bout]:
        # A UTC day overlaps at most three local days for offsets within ±24 h.
        return [b for k in (day_index - 1, day_index, day_index + 1) for b in self._plan(k).bouts]

    def _generate(self, day_index: int) -> tuple[IntArray, IntArray, IntArray]:
        rng = np.random.default_rng([self._seed, day_index + _EPOCH_ORDINAL, 1])
        instants = self._instants(day_index, rng)
        offsets = self._residence.offsets_s(instants)
        local = (instants + offsets).astype(np.float64)
        worn = self._wear.worn(local)
        instants, offsets, local = instants[worn], offsets[worn], local[worn]
        bpm = self._heart_rate(instants, local, rng)
        return instants, bpm, offsets.astype(np.int64)

    def _heart_rate(
        self, instants: IntArray, local: FloatArray, rng: np.random.Generator
    ) -> IntArray:
        t = instants.astype(np.float64)
        seed = self._seed
        # Resting level drifts a few bpm from day to day (knots at local noon).
        rest = self._rest_bpm + 3.0 * value_noise(seed, _CH_REST, local / DAY_S - 0.5)
        asleep = self._sleep_depth(local)
        tod_h = (local % DAY_S) / 3600.0
        circadian = 4.0 * np.sin(2 * np.pi * (tod_h - 10.0) / 24.0)
        walks = np.maximum(value_noise(seed, _CH_WALK, t / 900.0), 0.0) ** 1.5 * 38.0
        bursts = np.maximum(value_noise(seed, _CH_BURST, t / 90.0) - 0.45, 0.0) * 30.0
        wiggle = value_noise(seed, _CH_JITTER, t / 20.0)
        awake_hr = rest + self._awake_lift_bpm + circadian + walks + bursts + 2.5 * wiggle
        cycle = np.sin(2 * np.pi * t / 5400.0 + 3.0 * value_noise(seed, _CH_SLEEP, t / 7200.0))
        sleep_hr = rest - 3.0 + 2.0 * cycle + 0.8 * wiggle
        hr = asleep * sleep_hr + (1.0 - asleep) * awake_hr
        for bout in self._bouts_for(local):
            hr = self._apply_bout(hr, local, bout)
        jitter = rng.normal(0.0, 1.0, size=hr.size) * (1.2 - 0.7 * asleep)
        return np.clip(np.rint(hr + jitter), BPM_MIN, BPM_MAX).astype(np.int64)

    def _bouts_for(self, local: FloatArray) -> list[_Bout]:
        if local.size == 0:
            return []
        first = int(local.min() // DAY_S)
        last = int(local.max() // DAY_S)
        return [b for k in range(first - 1, last + 1) for b in self._plan(k).bouts]

    def _sleep_depth(self, local: FloatArray) -> FloatArray:
        """0 awake … 1 asleep, with ~10-minute transitions at bedtime and waking."""
        depth = np.zeros(local.size, dtype=np.float64)
        if local.size == 0:
            return depth
        first = int(local.min() // DAY_S)
        last = int(local.max() // DAY_S)
        for k in range(first, last + 2):
            bed = self._plan(k - 1).bed_l
            wake = self._plan(k).wake_l
            falling = 1.0 / (1.0 + np.exp(-(local - bed) / 300.0))
            waking = 1.0 / (1.0 + np.exp(-(wake - local) / 300.0))
            depth = np.maximum(depth, falling * waking)
        return depth

    @staticmethod
    def _apply_bout(hr: FloatArray, local: FloatArray, bout: _Bout) -> FloatArray:
        """Blend towards the bout's target: smooth warm-up, hold, exponential recovery."""
        into = local - bout.start_l
        active = (into >= 0) & (local < bout.end_l)
        if not active.any():
            return hr
        x = into[active]
        ramp = np.clip(x / bout.warmup_s, 0.0, 1.0)
        ramp = ramp * ramp * (3.0 - 2.0 * ramp)
        after = np.maximum(x - bout.duration_s, 0.0)
        weight = ramp * np.exp(-after / bout.cooldown_tau_s)
        swing = bout.swing_bpm * np.sin(2 * np.pi * x / bout.swing_period_s)
        target = bout.peak_bpm + swing * ramp
        out = hr.copy()
        out[active] = hr[active] + weight * (target - hr[active]).clip(min=0.0)
        return out
