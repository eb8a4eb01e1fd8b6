"""When a sandbox user's watch is off the wrist: the gaps in their data, deterministic per day.

Real data has holes of every size, and a client that fills or hides them is wrong, so the
emulator makes them on purpose: a few loose-band minutes most days, charging for half an hour or
so, an occasional night or afternoon without the watch, and rare runs of whole days off the wrist.
Everything is drawn from an RNG seeded by (seed, local date ordinal, purpose), so whether a date
is worn can be asked without generating any samples (the demo user's seed is chosen that way).
Times are local epoch seconds (UTC instant + offset): people take watches off by the local clock.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import numpy.typing as npt

_DAY_S = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_EPISODE_START_P = 0.01
_EPISODE_MAX_DAYS = 4
_PURPOSE_GAPS, _PURPOSE_EPISODE, _PURPOSE_FIRST_DAY = 3, 4, 5


class WearSchedule:
    """Which local moments a user's watch is worn: member since, off-wrist days and daily gaps."""

    def __init__(self, seed: int, member_since: dt.date) -> None:
        self._seed = seed % (1 << 63)
        first_hour = np.random.default_rng([self._seed, _PURPOSE_FIRST_DAY]).uniform(9.0, 17.0)
        member_day = member_since.toordinal() - _EPOCH_ORDINAL
        # The first sample arrives during the day the watch was set up, not at midnight.
        self.first_worn_l = member_day * _DAY_S + int(first_hour * 3600)
        self._episode = lru_cache(maxsize=512)(self._episode_uncached)
        self._gaps = lru_cache(maxsize=512)(self._gaps_uncached)

    def _episode_uncached(self, ordinal: int) -> int:
        """Length in days of an off-wrist episode starting on this date (0: none starts)."""
        rng = np.random.default_rng([self._seed, ordinal, _PURPOSE_EPISODE])
        if rng.random() >= _EPISODE_START_P:
            return 0
        return int(rng.integers(1, _EPISODE_MAX_DAYS + 1))

    def off_wrist_day(self, day: dt.date) -> bool:
        """True if the watch is off the wrist the whole local day (no sample at all)."""
        ordinal = day.toordinal()
        return any(self._episode(ordinal - k) > k for k in range(_EPISODE_MAX_DAYS))

    def _gaps_uncached(self, ordinal: int) -> tuple[tuple[float, float], ...]:
        """Non-wear spans starting on this local date, in seconds from its local midnight."""
        rng = np.random.default_rng([self._seed, ordinal, _PURPOSE_GAPS])
        gaps: list[tuple[float, float]] = []
        if rng.random() < 0.75:  # charging, while awake
            start = rng.uniform(7.5, 22.0) * 3600
            gaps.append((start, start + rng.uniform(20.0, 75.0) * 60))
        for _ in range(int(rng.poisson(2.5))):  # loose band, a few minutes
            start = rng.uniform(7.0, 23.0) * 3600
            gaps.append((start, start + rng.uniform(60.0, 600.0)))
        if rng.random() < 0.05:  # left at home for an afternoon
            start = rng.uniform(8.0, 18.0) * 3600
            gaps.append((start, start + rng.uniform(2.0, 9.0) * 3600))
        if rng.random() < 0.06:  # not worn to bed
            start = rng.uniform(21.5, 23.5) * 3600
            gaps.append((start, start + rng.uniform(7.5, 9.5) * 3600))
        return tuple(gaps)

    def hours_off(self, day: dt.date) -> float:
        """Hours of non-wear that begin on local date `day` (24 for a whole day off the wrist)."""
        if self.off_wrist_day(day):
            return 24.0
        return sum(end - start for start, end in self._gaps(day.toordinal())) / 3600

    def gaps_l(self, local_day: int) -> list[tuple[float, float]]:
        """Non-wear spans (absolute local seconds) of local day number `local_day` since 1970."""
        base = float(local_day * _DAY_S)
        spans = [(base + a, base + b) for a, b in self._gaps(local_day + _EPOCH_ORDINAL)]
        if self.off_wrist_day(dt.date.fromordinal(local_day + _EPOCH_ORDINAL)):
            spans.append((base, base + _DAY_S))
        return spans

    def worn(self, local: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """For each local time (absolute local seconds), whether the watch is on the wrist."""
        mask = local >= self.first_worn_l
        if local.size == 0:
            return mask
        first = int(local.min() // _DAY_S)
        last = int(local.max() // _DAY_S)
        # A gap may run past midnight (a night or a long afternoon), so look one day back.
        for day in range(first - 1, last + 1):
            for start, end in self.gaps_l(day):
                mask &= ~((local >= start) & (local < end))
        return mask
