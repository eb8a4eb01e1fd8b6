"""A sandbox user's daily routine: when they sleep and when and how hard they exercise.

Behaviour follows the local clock, so each local date gets a plan (wake time, bedtime, exercise
bouts) drawn from an RNG seeded by (seed, local date ordinal): any date can be planned alone, in
any order, with the same result.  Times are absolute local seconds (UTC instant + UTC offset), so
a plan is independent of the zone the user happens to be in.  `Routine` also turns plans into the
two shapes the heart-rate model needs: a sleep depth (0 awake … 1 asleep) and exercise effects.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heartkeep.sandbox.noise import value_noise

FloatArray = npt.NDArray[np.float64]

_DAY_S = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_PURPOSE_PLAN = 2
_CH_EFFORT = 11
# Heart rate stays raised after exercise (excess post-exercise oxygen consumption): this long.
_AFTERGLOW_TAU_S = 1800.0
_AFTERGLOW_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class Bout:
    """One exercise session in absolute local seconds: warm-up, hold with drift, recovery.

    The watch samples every second or two from `start_l` to `dense_end_l` (while exercising and
    recovering), and the bout's afterglow lifts heart rate until `effect_end_l`.
    """

    start_l: float
    warmup_s: float
    duration_s: float
    recovery_tau_s: float
    peak_bpm: float
    drift_bpm: float
    swing_bpm: float
    swing_period_s: float

    @property
    def dense_end_l(self) -> float:
        return self.start_l + self.duration_s + 5 * self.recovery_tau_s

    @property
    def effect_end_l(self) -> float:
        return self.start_l + self.duration_s + 5 * _AFTERGLOW_TAU_S


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Wake time, bedtime and exercise of one local date (absolute local seconds)."""

    wake_l: float
    bed_l: float
    bouts: tuple[Bout, ...]


class Routine:
    """Plans of every local date of one user, and their effect on heart rate."""

    def __init__(
        self, seed: int, rest_bpm: float, max_bpm: int, chronotype_s: float, exercise_p: float
    ) -> None:
        self._seed = seed
        self._rest_bpm = rest_bpm
        self._max_bpm = max_bpm
        self._chronotype_s = chronotype_s
        self._exercise_p = exercise_p
        # Plans are tiny but users are many: keep a bounded, thread-safe memo per user.
        self._plans = functools.lru_cache(maxsize=2048)(self._draw_plan)

    def plan(self, local_day: int) -> DayPlan:
        """The plan of local day number `local_day` (days since 1970-01-01 on the local clock)."""
        return self._plans(local_day)

    def _draw_plan(self, local_day: int) -> DayPlan:
        rng = np.random.default_rng([self._seed, local_day + _EPOCH_ORDINAL, _PURPOSE_PLAN])
        base = float(local_day * _DAY_S)
        weekend = dt.date.fromordinal(local_day + _EPOCH_ORDINAL).weekday() >= 5
        late = 3600.0 if weekend else 0.0
        wake = 6.6 * 3600 + late + self._chronotype_s + rng.normal(0.0, 1500.0)
        bed = 23.0 * 3600 + late * 0.75 + self._chronotype_s + rng.normal(0.0, 1800.0)
        bouts: list[Bout] = []
        if rng.random() < self._exercise_p:
            morning = wake + rng.uniform(1200.0, 3600.0)
            evening = rng.uniform(17.0, 19.5) * 3600
            if rng.random() < 0.15:
                starts = [morning, evening]
            else:
                starts = [morning] if rng.random() < 0.35 else [evening]
            bouts = [self._draw_bout(rng, base + start) for start in starts]
        return DayPlan(wake_l=base + wake, bed_l=base + bed, bouts=tuple(bouts))

    def _draw_bout(self, rng: np.random.Generator, start_l: float) -> Bout:
        """A brisk walk, a steady run or ride, or an interval session."""
        kind = rng.choice(3, p=[0.3, 0.5, 0.2])
        if kind == 0:
            effort, duration, warmup = rng.uniform(0.30, 0.48), rng.uniform(1800, 5400), 240.0
            swing = 0.0
        elif kind == 1:
            effort, duration, warmup = rng.uniform(0.58, 0.88), rng.uniform(1500, 4800), 600.0
            swing = 0.0
        else:
            effort, duration, warmup = rng.uniform(0.62, 0.80), rng.uniform(1500, 3600), 720.0
            swing = rng.uniform(10.0, 18.0)
        reserve = self._max_bpm - self._rest_bpm
        return Bout(
            start_l=start_l,
            warmup_s=warmup * rng.uniform(0.8, 1.5),
            duration_s=float(duration),
            recovery_tau_s=rng.uniform(90.0, 240.0),
            peak_bpm=self._rest_bpm + effort * reserve,
            drift_bpm=rng.uniform(2.0, 10.0),
            swing_bpm=float(swing),
            swing_period_s=rng.uniform(120.0, 300.0),
        )

    def _days_of(self, local: FloatArray) -> range:
        return range(int(local.min() // _DAY_S) - 1, int(local.max() // _DAY_S) + 2)

    def bouts_near(self, local: FloatArray) -> list[Bout]:
        """Bouts of every local date that could touch the local times `local` (non-empty)."""
        return [b for k in self._days_of(local) for b in self.plan(k).bouts]

    def sleep_depth(self, local: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(depth 0 awake … 1 asleep, seconds since falling asleep) at each local time.

        Falling asleep and waking take about ten minutes (logistic, 5-minute scale).
        """
        depth = np.zeros(local.size, dtype=np.float64)
        since_bed = np.zeros(local.size, dtype=np.float64)
        if local.size == 0:
            return depth, since_bed
        for k in self._days_of(local):
            bed = self.plan(k - 1).bed_l
            wake = self.plan(k).wake_l
            near = (local > bed - 3600) & (local < wake + 3600)
            if not near.any():
                continue
            x = local[near]
            night = 1.0 / ((1.0 + np.exp(-(x - bed) / 300.0)) * (1.0 + np.exp((x - wake) / 300.0)))
            take = night > depth[near]
            depth[near] = np.where(take, night, depth[near])
            since_bed[near] = np.where(take, np.maximum(x - bed, 0.0), since_bed[near])
        return depth, since_bed

    def exercise(
        self, hr: FloatArray, local: FloatArray, instants: FloatArray, rest: FloatArray
    ) -> FloatArray:
        """Heart rate `hr` with every nearby bout applied: ramps, holds, recovery, afterglow."""
        if local.size == 0:
            return hr
        out = hr.copy()
        effort_noise = 4.0 * value_noise(self._seed, _CH_EFFORT, instants / 45.0)
        for bout in self.bouts_near(local):
            active = (local >= bout.start_l) & (local < bout.effect_end_l)
            if not active.any():
                continue
            x = local[active] - bout.start_l
            ramp = np.clip(x / bout.warmup_s, 0.0, 1.0)
            ramp = ramp * ramp * (3.0 - 2.0 * ramp)
            after = np.maximum(x - bout.duration_s, 0.0)
            held = np.minimum(x, bout.duration_s) / bout.duration_s
            swing = bout.swing_bpm * np.sin(2 * np.pi * x / bout.swing_period_s) * ramp
            target = bout.peak_bpm + bout.drift_bpm * held + swing + effort_noise[active]
            target = np.minimum(target, self._max_bpm - 2.0)
            base = out[active]
            lift = np.maximum(target - base, 0.0)
            fast = ramp * np.exp(-after / bout.recovery_tau_s)
            glow = (after > 0) * _AFTERGLOW_SHARE * (bout.peak_bpm - rest[active])
            glow = glow * np.exp(-after / _AFTERGLOW_TAU_S) * (1.0 - fast)
            out[active] = base + fast * lift + np.maximum(glow, 0.0)
        return out
