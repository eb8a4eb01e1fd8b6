"""The provider's daily values, computed from a day's samples the way a client could check them.

Resting heart rate is the mean of the lowest sustained hour of the local day (the six lowest
10-minute bins with at least 8 minutes of wear); a day with under 6 hours of wear or fewer than six
such bins has none, as a watch reports none.  Zones are Karvonen thresholds (fractions of the
heart-rate reserve above resting) with the minutes spent in each.

Time weighting: each sample stands for the time until the next sample of the day, capped at
`SAMPLE_WEIGHT_CAP_S` so a non-wear gap counts as nothing beyond the cap; the last sample stands
for the time to the end of the day, under the same cap.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_WEIGHT_CAP_S = 30
MIN_WEAR_S = 6 * 3600
BIN_S = 600
MIN_BIN_WEAR_S = 480
RESTING_BINS = 6

# (zone, fraction of heart-rate reserve where it starts); each ends where the next starts.
ZONE_STARTS: tuple[tuple[str, float], ...] = (
    ("LIGHT", 0.30),
    ("MODERATE", 0.40),
    ("VIGOROUS", 0.60),
    ("PEAK", 0.85),
)


def sample_weights_s(instants: npt.NDArray[np.int64], day_end_s: int) -> npt.NDArray[np.int64]:
    """Seconds each sample stands for: gap to the next one (or the day's end), capped."""
    following = np.append(instants[1:], day_end_s)
    return np.minimum(following - instants, SAMPLE_WEIGHT_CAP_S).astype(np.int64)


def resting_hr_from_samples(
    instants: npt.NDArray[np.int64], bpm: npt.NDArray[np.int64], day_end_s: int
) -> int | None:
    """Resting HR of one local day from its samples (ascending), or None without enough wear."""
    if instants.size == 0:
        return None
    weights = sample_weights_s(instants, day_end_s)
    if int(weights.sum()) < MIN_WEAR_S:
        return None
    bins = (instants - instants[0]) // BIN_S
    n_bins = int(bins[-1]) + 1
    wear = np.bincount(bins, weights=weights, minlength=n_bins)
    weighted = np.bincount(bins, weights=weights * bpm, minlength=n_bins)
    valid = wear >= MIN_BIN_WEAR_S
    if int(valid.sum()) < RESTING_BINS:
        return None
    means = np.sort(weighted[valid] / wear[valid])
    return round(float(means[:RESTING_BINS].mean()))


def zone_bounds(resting_bpm: int, max_bpm: int) -> list[tuple[str, int, int]]:
    """(zone, min_bpm, max_bpm) by Karvonen: min = resting + fraction × (max - resting)."""
    reserve = max_bpm - resting_bpm
    mins = [resting_bpm + round(fraction * reserve) for _, fraction in ZONE_STARTS]
    maxes = [m - 1 for m in mins[1:]] + [max_bpm]
    return [(name, lo, hi) for (name, _), lo, hi in zip(ZONE_STARTS, mins, maxes, strict=True)]


def zones_from_samples(
    instants: npt.NDArray[np.int64],
    bpm: npt.NDArray[np.int64],
    day_end_s: int,
    resting_bpm: int,
    max_bpm: int,
) -> list[tuple[str, int, int, float]]:
    """Zones of one local day with minutes in each; PEAK also counts anything above max_bpm."""
    weights = sample_weights_s(instants, day_end_s) if instants.size else instants
    result: list[tuple[str, int, int, float]] = []
    for name, lo, hi in zone_bounds(resting_bpm, max_bpm):
        upper = hi if name != "PEAK" else np.iinfo(np.int64).max
        inside = (bpm >= lo) & (bpm <= upper)
        result.append((name, lo, hi, float(weights[inside].sum()) / 60.0))
    return result
