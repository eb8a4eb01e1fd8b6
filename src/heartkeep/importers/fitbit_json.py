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

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import BATCH_SIZE, FileDone, ImportItem, fitbit_intraday, jsontext
from heartkeep.importers.limits import LimitExceeded, check_json_tokens, read_capped
from heartkeep.importers.takeout_common import zone_offsets
from heartkeep.model import Daily, DailyKind, Sample, SampleColumns, Zone

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _read(path: Path) -> bytearray:
    """A saved file's bytes, within the size cap, refused beyond the JSON value limit."""
    try:
        raw = read_capped(path)
        check_json_tokens(raw)
    except OSError as error:
        raise ImportFormatError(f"cannot read the file ({error})", path=str(path)) from error
    except LimitExceeded as error:
        raise ImportFormatError(str(error), path=str(path)) from error
    return raw


def _load(path: Path, raw: bytearray) -> dict[str, Any]:
    """The response in a saved file, whatever its encoding (see `jsontext`)."""
    try:
        data = jsontext.load_json(raw)
    except (jsontext.TextError, LimitExceeded) as error:
        raise ImportFormatError(str(error), path=str(path)) from error
    if not isinstance(data, dict) or "activities-heart-intraday" not in data:
        raise ImportFormatError(
            "not a Fitbit intraday heart-rate response: expected an object with "
            f"'activities-heart-intraday', found {jsontext.kind_of(data)}",
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


def _dailies(entries: Any, day: dt.date, path: Path) -> Iterator[Daily]:
    """Resting HR and zones from `activities-heart`, in either layout the API has used.

    Today's layout has one entry for the day, with both nested in a `value` object.  The older
    one (still in saved responses and forum copies) has one entry per requested time window,
    `heartRateZones` beside `dateTime` and a string `value` such as `"55.44"`; that string is
    not documented as the resting heart rate, so only the zones are read, their minutes summed
    over the windows.  Numbers written as strings are accepted in both.  Entries dated another
    day than `day` are not this file's.
    """
    if not isinstance(entries, list):
        return
    resting: float | None = None
    windows: list[tuple[Zone, ...]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("dateTime") not in (
            None,
            "today",
            day.isoformat(),
        ):
            continue
        value = entry.get("value")
        holder: dict[str, Any] = value if isinstance(value, dict) else entry
        try:
            found = holder.get("restingHeartRate") if isinstance(value, dict) else None
            if found is not None and resting is None and _number(found) > 0:
                resting = _number(found)
            raw_zones = holder.get("customHeartRateZones") or holder.get("heartRateZones") or []
            zones = tuple(
                Zone(
                    str(zone["name"]),
                    round(_number(zone["min"])),
                    round(_number(zone["max"])),
                    _number(zone["minutes"]) if zone.get("minutes") is not None else None,
                )
                for zone in raw_zones
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ImportFormatError(
                f"unreadable daily summary ({error})",
                path=str(path),
                record=f"activities-heart[{index}]",
            ) from error
        if zones:
            windows.append(zones)
    if resting is not None:
        yield Daily(day, DailyKind.RESTING_HR, value=resting)
    if windows:
        yield Daily(day, DailyKind.ZONES, zones=_summed(windows))


def _summed(windows: list[tuple[Zone, ...]]) -> tuple[Zone, ...]:
    """One day's zones from the zones of its time windows: bounds of the first, minutes added."""
    if len(windows) == 1:
        return windows[0]
    order: dict[str, Zone] = {}
    for zones in windows:
        for zone in zones:
            seen = order.get(zone.name)
            if seen is None:
                order[zone.name] = zone
            elif zone.minutes is not None:
                total = (seen.minutes or 0.0) + zone.minutes
                order[zone.name] = Zone(seen.name, seen.min_bpm, seen.max_bpm, total)
    return tuple(order.values())


def _number(value: Any) -> float:
    """A JSON number, or a number written as a string (`"55.44"`); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} is not a finite number")
    return number


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


def _across_zone_changes(
    samples: list[Sample], clock_s: list[int] | None
) -> tuple[list[Sample], int, int]:
    """The file's samples re-read across the zone changes its wall clock shows (if any)."""
    instants = np.fromiter((s.instant_s for s in samples), np.int64, len(samples))
    offsets = np.fromiter((s.offset_min for s in samples), np.int64, len(samples))
    wall = None if clock_s is None else np.asarray(clock_s, dtype=np.int64)
    read = timeline.infer_zone_changes(instants, offsets, wall)
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
    """Stream each file's samples and dailies, then a `FileDone` per file.

    A well-formed response is read as columns (`fitbit_intraday`); anything else point by
    point, which names the first bad point.
    """
    for path in paths:
        raw = _read(path)
        fast = fitbit_intraday.decode(raw)
        if fast is None:
            yield from _read_points(path, _load(path, raw), zone_name, default_date, times_utc)
            continue
        summary = {"activities-heart": fast.summary}
        day, _ = response_date(summary, path, default_date)
        if times_utc:
            instants = timeline.day_start_s(day) + fast.clock_s
            offsets = zone_offsets(instants, zone_name)
        else:
            instants, offsets = fitbit_intraday.local_times_to_columns(day, fast.clock_s, zone_name)
        read = timeline.infer_zone_changes(instants, offsets, None if times_utc else fast.clock_s)
        yield SampleColumns(read.instants_s, fast.bpm, read.offsets_min)
        yield from _dailies(fast.summary, day, path)
        yield FileDone(
            str(path),
            zone_changes_inferred=read.zone_changes,
            samples_reoffset=read.samples_reoffset,
        )


def _read_points(
    path: Path,
    data: dict[str, Any],
    zone_name: str,
    default_date: dt.date | None,
    times_utc: bool,
) -> Iterator[ImportItem]:
    """One file point by point: the reference reader, with the exact point and reason for the
    first bad one."""
    day, _ = response_date(data, path, default_date)
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
        if bpm != 0:  # 0 is no reading; other implausible values are counted by load()
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
    samples, changes, reoffset = _across_zone_changes(samples, None if times_utc else clock_s)
    for start in range(0, len(samples), BATCH_SIZE):
        yield samples[start : start + BATCH_SIZE]
    yield from _dailies(data.get("activities-heart"), day, path)
    yield FileDone(str(path), zone_changes_inferred=changes, samples_reoffset=reoffset)


__all__ = ["local_times_to_samples", "read_files", "response_date"]
