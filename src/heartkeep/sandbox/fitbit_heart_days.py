"""The bodies of the emulated legacy heart-rate API: one day's `activities-heart` entry (zones,
resting heart rate) and the `activities-heart-intraday` dataset at each detail level.

Apart from `fitbit_api` (routing, validation, scopes) because this is where the sandbox decides
what Fitbit's answers look like to the byte (reference §4–§5); see `fitbit_api`'s docstring for
the choices where Fitbit's behaviour is undocumented.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from heartkeep.sandbox.physiology import Physiology, UserSpec

IntArray = npt.NDArray[np.int64]
DAY_S = 86_400
DETAILS = {
    "1sec": (1, "second"),
    "1min": (1, "minute"),
    "5min": (5, "minute"),
    "15min": (15, "minute"),
}
# Google's four zone types map one to one onto Fitbit's four zone names.
_ZONE_NAMES = {
    "LIGHT": "Out of Range",
    "MODERATE": "Fat Burn",
    "VIGOROUS": "Cardio",
    "PEAK": "Peak",
}
_KCAL_PER_MIN = {"Out of Range": 1.31, "Fat Burn": 5.87, "Cardio": 9.46, "Peak": 12.2}


@dataclass(frozen=True, slots=True)
class LegacyUser:
    """A sandbox user as the legacy API sees them."""

    spec: UserSpec
    physiology: Physiology


@lru_cache(maxsize=1)
def _clock_strings() -> tuple[str, ...]:
    """`HH:mm:ss` for every second of a day, built once: formatting 30k times per call is hot."""
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY_S))


def day_summary(user: LegacyUser, day: dt.date, *, complete: bool) -> dict[str, Any]:
    """One `activities-heart` entry: zones and resting HR of a (local) day.  A day that is not
    `complete` (the device's last sync before its end) has neither resting HR nor minutes."""
    physiology = user.physiology
    zones = physiology.zones(day) if day >= user.spec.member_since else []
    value: dict[str, Any] = {"customHeartRateZones": [], "heartRateZones": []}
    if zones:
        # Fitbit's zones touch (one's max is the next one's min); the lowest starts at 30 and
        # the highest ends at 220.
        for index, (kind, min_bpm, _max_bpm, minutes) in enumerate(zones):
            name = _ZONE_NAMES.get(kind, kind.title())
            upper = int(zones[index + 1][1]) if index + 1 < len(zones) else 220
            zone: dict[str, Any] = {}
            if complete:
                whole = round(minutes)
                zone["caloriesOut"] = round(whole * _KCAL_PER_MIN.get(name, 1.0), 5)
            zone["max"] = upper
            zone["min"] = 30 if index == 0 else int(min_bpm)
            if complete:
                zone["minutes"] = round(minutes)
            zone["name"] = name
            value["heartRateZones"].append(zone)
    else:
        for name, min_bpm, max_bpm in _default_zones(user.spec.age):
            value["heartRateZones"].append({"max": max_bpm, "min": min_bpm, "name": name})
    resting = physiology.resting_hr(day) if complete and zones else None
    if resting is not None:
        value["restingHeartRate"] = int(resting)
    return {"dateTime": day.isoformat(), "value": value}


def intraday_dataset(local: IntArray, bpm: IntArray, detail: str) -> dict[str, Any]:
    """`activities-heart-intraday` for samples at local (or UTC) epoch seconds: `time` without
    date or offset, and bucket means at the coarser detail levels."""
    interval, unit = DETAILS[detail]
    if detail != "1sec":
        local, bpm = _buckets(local, bpm, interval * 60)
    clock = _clock_strings()
    dataset = [
        {"time": clock[t], "value": v}
        for t, v in zip((local % DAY_S).tolist(), bpm.tolist(), strict=True)
    ]
    return {"dataset": dataset, "datasetInterval": interval, "datasetType": unit}


def _buckets(local: IntArray, bpm: IntArray, width_s: int) -> tuple[IntArray, IntArray]:
    """Rounded means over consecutive runs of one wall-clock bucket (a repeated hour repeats)."""
    if local.size == 0:
        return local, bpm
    keys = local // width_s
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sums = np.add.reduceat(bpm, starts)
    counts = np.diff(np.append(starts, keys.size))
    means = np.floor(sums / counts + 0.5).astype(np.int64)
    return (keys[starts] * width_s).astype(np.int64), means


def _default_zones(age: int) -> list[tuple[str, int, int]]:
    """Fitbit's default zone bounds (50/70/85 % of heart-rate reserve at a resting 60)."""
    maximum = 220 - age
    reserve = maximum - 60
    fat, cardio, peak = (60 + round(reserve * f) for f in (0.5, 0.7, 0.85))
    return [
        ("Out of Range", 30, fat),
        ("Fat Burn", fat, cardio),
        ("Cardio", cardio, peak),
        ("Peak", peak, 220),
    ]
