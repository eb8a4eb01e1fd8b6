"""One UTC day of a sandbox user's heart rate: when the watch samples, and what it reads.

Why a module of its own: `physiology.py` answers questions about a user (samples of a window,
the provider's dailies, time and place) from days it caches; making a day is the other job, and
the larger one — the sampling instants (sparse at rest, dense in exercise), the smooth signal
(resting level, daily rhythm, sleep cycles, walks, stairs, exercise) evaluated on a grid and
interpolated, the cross-fade where the local clock jumps, and the jitter.  Everything here is a
pure function of the seed and the instant: each day draws from an RNG seeded by (seed, day
ordinal), the slow parts from hash-based value noise indexed by absolute time, so days join
without seams and any window, read in any order, gives the same numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

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
# No zone is further than this from UTC; bounds the local span of a UTC day.
_MAX_OFFSET_S = 26 * 3600
_GRID_S = 10
# Half the span over which the signal cross-fades when the local clock jumps.
_BLEND_S = 900

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


class HeartSignal:
    """The heart of one user: traits drawn once from the seed, and any UTC day made on demand.

    `rest_bpm` (the usual resting level), `max_hr` (220 - age) and `routine` (sleep and
    exercise) are public because the provider's dailies are judged against them.  Thread-safe:
    nothing changes after construction but the parts' locked `lru_cache` memos.
    """

    def __init__(self, seed: int, residence: Residence, wear: WearSchedule, *, age: int) -> None:
        self._seed = seed
        self._residence = residence
        self._wear = wear
        traits = np.random.default_rng([seed, 0, 0])
        # A person's resting level and habits: fixed for the user, drawn once from the seed.
        self.rest_bpm = float(traits.uniform(52.0, 66.0))
        self._awake_lift_bpm = float(traits.uniform(14.0, 22.0))
        self.max_hr = 220 - age
        # Everyday effort scales with the heart-rate reserve, so an older heart is not overdriven.
        reserve = self.max_hr - self.rest_bpm
        self._walk_bpm = 0.25 * reserve
        self._stairs_bpm = 0.12 * reserve
        self.routine = Routine(
            seed,
            rest_bpm=self.rest_bpm,
            max_bpm=self.max_hr,
            chronotype_s=float(traits.normal(0.0, 1800.0)),
            exercise_p=float(traits.uniform(0.45, 0.7)),
        )

    def day(self, day_index: int) -> tuple[IntArray, IntArray, IntArray]:
        """(instant_s ascending, bpm, offset_s) of every sample worn in the UTC day `day_index`
        (days since 1970-01-01): a pure function of the seed, the residence and the wear."""
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
        hr = np.interp(instants, grid, np.minimum(smooth, self.max_hr))
        calm = np.interp(instants, grid, asleep)
        jitter = rng.normal(0.0, 1.0, size=instants.size) * (1.2 - 0.7 * calm)
        bpm = np.clip(np.rint(hr + jitter), BPM_MIN, BPM_MAX).astype(np.int64)
        return instants, bpm, offsets.astype(np.int64)

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
        for bout in self.routine.bouts_near(day_local):
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
            self.rest_bpm
            + 3.0 * value_noise(seed, _CH_REST, days - 0.5)
            + 3.0 * value_noise(seed, _CH_FITNESS, days / 60.0)
        )
        asleep, since_bed = self.routine.sleep_depth(local)
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
        return self.routine.exercise(hr, local, t, rest), asleep
