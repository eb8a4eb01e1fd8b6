"""Heart-rate zones and heartkeep's own resting-heart-rate estimate.

Zones are the four Google Health zones, LIGHT, MODERATE, VIGOROUS and PEAK.  Their bounds come
from the provider's zones for the day when the store has them (Google's Karvonen-based
`daily-heart-rate-zones`); otherwise heartkeep computes the same kind of bounds by the Karvonen
formula from the day's resting heart rate and a maximum heart rate (default 190 bpm, i.e.
220 − 30 years; `--max-hr` changes it):

    LIGHT ≥ 40 %, MODERATE ≥ 60 %, VIGOROUS ≥ 70 %, PEAK ≥ 85 % of the heart-rate reserve,
    bound = resting + fraction × (max − resting), rounded to whole bpm.

A sample belongs to the highest zone whose lower bound it reaches, so zones never overlap or
leave holes whatever the provider's upper bounds say; time below LIGHT is in no zone.

Resting-HR estimate: the mean of the lowest 10 % of the day's per-minute mean heart rates, when
at least four hours of minutes have a reading (None otherwise).  On a worn day that is the
settled heart rate of sleep and quiet rest, close to what Fitbit reports, and it needs nothing
but the samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

# The estimate is part of a day's aggregate, which the store keeps: it lives there.
from heartkeep.aggregates import resting_estimate
from heartkeep.analysis.max_hr import DEFAULT_MAX_HR, MAX_HR_RANGE, check_max_hr
from heartkeep.model import Zone

ZONE_NAMES = ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")
RESERVE_FRACTIONS = (0.40, 0.60, 0.70, 0.85)
DEFAULT_RESTING_HR = 60


def karvonen_zones(resting_bpm: float, max_hr: int = DEFAULT_MAX_HR) -> tuple[Zone, ...]:
    """The four zones from resting and maximum heart rate (heart-rate reserve fractions)."""
    reserve = max(max_hr - resting_bpm, 1.0)
    lows = [round(resting_bpm + fraction * reserve) for fraction in RESERVE_FRACTIONS]
    highs = [*lows[1:], max_hr]
    return tuple(
        Zone(name, low, high) for name, low, high in zip(ZONE_NAMES, lows, highs, strict=True)
    )


def provider_bounds(zones: Sequence[Zone]) -> tuple[Zone, ...] | None:
    """The provider's four zones if it gave all four with real bounds, else None.

    Legacy Fitbit zones (Fat Burn/Cardio/Peak) and Takeout zone minutes (no bounds) do not map
    onto the four zones, so they are not used as bounds.
    """
    by_name = {zone.name.upper(): zone for zone in zones if zone.max_bpm > 0}
    if not all(name in by_name for name in ZONE_NAMES):
        return None
    return tuple(Zone(name, by_name[name].min_bpm, by_name[name].max_bpm) for name in ZONE_NAMES)


def zone_minutes(
    seconds_by_bpm: npt.NDArray[np.float64], zones: Sequence[Zone]
) -> dict[str, float]:
    """Minutes per zone from a histogram of seconds spent at each whole bpm (index = bpm)."""
    cumulative = np.concatenate([[0.0], np.cumsum(seconds_by_bpm)])
    top = len(seconds_by_bpm)
    lows = [min(max(zone.min_bpm, 0), top) for zone in zones]
    minutes: dict[str, float] = {}
    for index, zone in enumerate(zones):
        high = lows[index + 1] if index + 1 < len(zones) else top
        high = max(high, lows[index])
        minutes[zone.name] = float(cumulative[high] - cumulative[lows[index]]) / 60.0
    return minutes


def zones_for_day(
    provider_zones: Sequence[Zone],
    resting_bpm: float | None,
    max_hr: int = DEFAULT_MAX_HR,
) -> tuple[tuple[Zone, ...], str]:
    """The day's zone bounds and where they came from (`provider` or `karvonen`)."""
    given = provider_bounds(provider_zones)
    if given is not None:
        return given, "provider"
    resting = DEFAULT_RESTING_HR if resting_bpm is None else resting_bpm
    return karvonen_zones(resting, max_hr), "karvonen"


def zone_table(minutes: Mapping[str, float]) -> tuple[float, ...]:
    """Minutes in the four zones in their fixed order (0 for a missing name)."""
    return tuple(minutes.get(name, 0.0) for name in ZONE_NAMES)


__all__ = [
    "DEFAULT_MAX_HR",
    "MAX_HR_RANGE",
    "ZONE_NAMES",
    "check_max_hr",
    "karvonen_zones",
    "provider_bounds",
    "resting_estimate",
    "zone_minutes",
    "zone_table",
    "zones_for_day",
]
