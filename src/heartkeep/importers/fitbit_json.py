"""Saved raw legacy Fitbit Web API responses (curl output, python-fitbit dumps) → samples.

An intraday response (`activities-heart` + `activities-heart-intraday.dataset` of
`{"time": "HH:MM:SS", "value": 64}`) carries wall-clock times without a date or an offset.

* The date comes from `activities-heart[0].dateTime`; if that is missing or `"today"`, from a
  `YYYY-MM-DD` in the file name; else from the caller's `default_date` (`--date`).
* Wall times are local to the account's IANA zone and become instants by that zone's rules at
  that moment (DST-correct).  In the repeated hour after a fall-back change, the dataset is in
  time order, so the first pass through the hour is read as summer time and, once the clock is
  seen stepping backwards, the rest as winter time.  A wall time skipped by a spring-forward
  change cannot come from a device; if one appears it is read with the offset in force before
  the gap (PEP 495), which is what the device's clock would have shown.
* A flight west shows as the wall clock jumping back by hours within one file: each backward
  jump the zone's rules do not explain is read as a change of zone by the jump rounded to 15
  minutes, the day's last stretch keeping the zone's reading (`timeline.infer_zone_changes`,
  shared with the legacy provider); the count rides on `FileDone`.
* A response fetched with `?timezone=UTC` has UTC times: pass `times_utc=True`.

The daily part of the response (resting heart rate, the day's zones with their bounds and
minutes) is imported as dailies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import BATCH_SIZE, FileDone, ImportItem
from heartkeep.model import Daily, DailyKind, Sample, Zone

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _load(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ImportFormatError(f"cannot read the file ({error})", path=str(path)) from error
    except orjson.JSONDecodeError as error:
        raise ImportFormatError(f"not valid JSON ({error})", path=str(path)) from error
    if not isinstance(data, dict) or "activities-heart-intraday" not in data:
        raise ImportFormatError(
            "not a Fitbit intraday heart-rate response (no 'activities-heart-intraday')",
            path=str(path),
        )
    return data


def response_date(
    data: dict[str, Any], path: Path, default_date: dt.date | None
) -> tuple[dt.date, dict[str, Any] | None]:
    """The day a response covers and its `activities-heart[0]` summary (if any).

    Raises `ImportFormatError` when neither the response, the file name nor `default_date`
    gives a date.
    """
    summary: dict[str, Any] | None = None
    days = data.get("activities-heart")
    if isinstance(days, list) and days and isinstance(days[0], dict):
        summary = days[0]
        stamp = summary.get("dateTime")
        if isinstance(stamp, str) and stamp != "today":
            try:
                return dt.date.fromisoformat(stamp), summary
            except ValueError as error:
                raise ImportFormatError(
                    f"activities-heart dateTime {stamp!r} is not a date", path=str(path)
                ) from error
    match = _DATE_IN_NAME.search(path.name)
    if match:
        try:
            return dt.date.fromisoformat(match.group(1)), summary
        except ValueError:
            pass
    if default_date is not None:
        return default_date, summary
    raise ImportFormatError(
        "the response does not say which day it covers: name the file with its date "
        "(heart-2024-03-31.json) or pass --date",
        path=str(path),
    )


def _dailies(summary: dict[str, Any] | None, day: dt.date, path: Path) -> Iterator[Daily]:
    if summary is None:
        return
    value = summary.get("value")
    if not isinstance(value, dict):
        return  # the old documented shape put a string here; it carries no daily values
    try:
        resting = value.get("restingHeartRate")
        if resting is not None and float(resting) > 0:
            yield Daily(day, DailyKind.RESTING_HR, value=float(resting))
        raw_zones = value.get("customHeartRateZones") or value.get("heartRateZones") or []
        zones = tuple(
            Zone(
                str(zone["name"]),
                int(zone["min"]),
                int(zone["max"]),
                float(zone["minutes"]) if zone.get("minutes") is not None else None,
            )
            for zone in raw_zones
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ImportFormatError(
            f"unreadable daily summary ({error})", path=str(path), record="activities-heart[0]"
        ) from error
    if zones:
        yield Daily(day, DailyKind.ZONES, zones=zones)


def _parse_time(text: Any) -> int:
    if not isinstance(text, str) or len(text) != 8 or text[2] != ":" or text[5] != ":":
        raise ValueError(f"time {text!r} is not HH:MM:SS")
    hours, minutes, seconds = int(text[0:2]), int(text[3:5]), int(text[6:8])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"no such time of day: {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def local_times_to_samples(
    day: dt.date, clock_s: Sequence[int], bpms: Sequence[int], zone_name: str
) -> list[Sample]:
    """Seconds after local midnight on `day` → samples, DST-correct (see the module docstring).

    The fold switches to the second pass through a repeated hour the first time the wall
    clock steps backwards, and stays there for the rest of the day.
    """
    midnight = dt.datetime.combine(day, dt.time())
    samples: list[Sample] = []
    fold = 0
    previous = -1
    cached_block = -1
    block_base = 0
    block_offset = 0
    for seconds, bpm in zip(clock_s, bpms, strict=True):
        if seconds < previous and fold == 0:
            fold = 1
            cached_block = -1
        previous = seconds
        # Every zone changes its offset on a quarter hour, so one zone lookup per 15-minute
        # block of wall time is exact and keeps a 1-second day fast.
        block = seconds // 900
        if block != cached_block:
            wall = midnight + dt.timedelta(seconds=block * 900)
            block_base = timeline.local_to_instant(wall, zone_name, fold=fold)
            block_offset = timeline.zone_offset_min(zone_name, block_base)
            cached_block = block
        samples.append(Sample(block_base + seconds % 900, bpm, block_offset))
    return samples


def _across_zone_changes(samples: list[Sample]) -> tuple[list[Sample], int, int]:
    """The file's samples re-read across the zone changes its wall clock shows (if any)."""
    instants = np.fromiter((s.instant_s for s in samples), np.int64, len(samples))
    offsets = np.fromiter((s.offset_min for s in samples), np.int64, len(samples))
    read = timeline.infer_zone_changes(instants, offsets)
    if read.zone_changes == 0:
        return samples, 0, 0
    rows = zip(
        read.instants_s.tolist(), (s.bpm for s in samples), read.offsets_min.tolist(), strict=True
    )
    return [Sample(i, b, o) for i, b, o in rows], read.zone_changes, read.samples_reoffset


def read_files(
    paths: Sequence[Path],
    zone_name: str,
    *,
    default_date: dt.date | None = None,
    times_utc: bool = False,
) -> Iterator[ImportItem]:
    """Stream each file's samples (in batches) and dailies, then a `FileDone` per file."""
    for path in paths:
        data = _load(path)
        day, summary = response_date(data, path, default_date)
        intraday = data["activities-heart-intraday"]
        dataset = intraday.get("dataset") if isinstance(intraday, dict) else None
        if not isinstance(dataset, list):
            raise ImportFormatError("activities-heart-intraday has no dataset list", path=str(path))
        clock_s: list[int] = []
        bpms: list[int] = []
        for index, point in enumerate(dataset, start=1):
            try:
                seconds = _parse_time(point["time"])
                bpm = point["value"]
                if isinstance(bpm, bool) or not isinstance(bpm, int | float):
                    raise TypeError(f"value is {bpm!r}")
            except (KeyError, TypeError, ValueError) as error:
                reason = f"missing {error.args[0]!r}" if isinstance(error, KeyError) else error
                raise ImportFormatError(
                    f"not an intraday point ({reason})", path=str(path), record=index
                ) from error
            if bpm > 0:
                clock_s.append(seconds)
                bpms.append(round(bpm))
        if times_utc:
            base = timeline.day_start_s(day)
            samples = [
                Sample(base + s, b, timeline.zone_offset_min(zone_name, base + s))
                for s, b in zip(clock_s, bpms, strict=True)
            ]
        else:
            samples = local_times_to_samples(day, clock_s, bpms, zone_name)
        samples, changes, reoffset = _across_zone_changes(samples)
        for start in range(0, len(samples), BATCH_SIZE):
            yield samples[start : start + BATCH_SIZE]
        yield from _dailies(summary, day, path)
        yield FileDone(str(path), zone_changes_inferred=changes, samples_reoffset=reoffset)


__all__ = ["local_times_to_samples", "read_files", "response_date"]
