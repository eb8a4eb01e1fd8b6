"""Proto3-JSON encoding as Google's front end writes it, and fast heart-rate page bodies.

Rules copied from the real API: int64 values are JSON strings, timestamps are RFC 3339 in UTC
with `Z`, durations are decimal seconds with an `s` suffix, zero scalars are omitted (so civil
midnight is `"time": {}`).  A 10,000-point page is built as bytes from numpy arrays with one
format string per point, which keeps a page far below the 100 ms budget; everything else goes
through orjson.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import numpy.typing as npt

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(-?\d+)(\.\d{1,9})?s$")

HEART_RATE_SOURCE = (
    '{"dataSource":{"recordingMethod":"PASSIVELY_MEASURED",'
    '"device":{"displayName":"Charge 6"},"platform":"FITBIT"},'
)


def timestamp(instant_s: int | float) -> str:
    """RFC 3339 UTC with `Z`; fractional seconds only when present (as Google serves them)."""
    whole = int(instant_s // 1)
    text = dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    frac = instant_s - whole
    if frac:
        micros = round(frac * 1_000_000)
        return f"{text}.{micros:06d}".rstrip("0") + "Z"
    return text + "Z"


def parse_timestamp(text: str) -> int:
    """An RFC 3339 timestamp (any offset) → UTC epoch seconds, fractions truncated.

    Raises ValueError for anything that is not RFC 3339 with an explicit zone.
    """
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    zone = match.group(8)
    tz = dt.UTC
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    moment = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=tz)
    return int(moment.timestamp())


def duration(seconds: int | float) -> str:
    """A google-duration: `"7200s"`, `"0s"`, `"1.500s"` for fractions."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


def parse_duration(text: str) -> float:
    """`"3600s"` / `"1.5s"` → seconds.  Raises ValueError on anything else."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1) + (match.group(2) or ""))


def date_json(day: dt.date) -> dict[str, int]:
    """A google.type.Date."""
    return {"year": day.year, "month": day.month, "day": day.day}


def time_of_day_json(seconds_of_day: int) -> dict[str, int]:
    """A google.type.TimeOfDay with zero fields omitted (midnight is `{}`)."""
    out: dict[str, int] = {}
    hours, rest = divmod(seconds_of_day, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        out["hours"] = hours
    if minutes:
        out["minutes"] = minutes
    if seconds:
        out["seconds"] = seconds
    return out


def civil_json(local_s: int) -> dict[str, Any]:
    """A CivilDateTime for a local wall-clock instant given as seconds since the local epoch."""
    days, seconds_of_day = divmod(local_s, 86400)
    day = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    return {"date": date_json(day), "time": time_of_day_json(seconds_of_day)}


def civil_date_json(day: dt.date) -> dict[str, Any]:
    """A CivilDateTime at local midnight of `day`: `time` is present and empty."""
    return {"date": date_json(day), "time": {}}


# `{...}` TimeOfDay texts by second of the day, filled on first use (at most 86,400 entries).
_TIME_OF_DAY: dict[int, str] = {}
_DATES: dict[int, str] = {}
_EPOCH_DATE = dt.date(1970, 1, 1)


def _time_text(second_of_day: int) -> str:
    text = _TIME_OF_DAY.get(second_of_day)
    if text is None:
        parts = [f'"{k}":{v}' for k, v in time_of_day_json(second_of_day).items()]
        text = _TIME_OF_DAY[second_of_day] = "{" + ",".join(parts) + "}"
    return text


def _date_text(local_day: int) -> str:
    text = _DATES.get(local_day)
    if text is None:
        day = _EPOCH_DATE + dt.timedelta(days=local_day)
        text = _DATES[local_day] = f'{{"year":{day.year},"month":{day.month},"day":{day.day}}}'
    return text


def heart_rate_points(
    instants_s: npt.NDArray[np.int64],
    bpm: npt.NDArray[np.int64],
    offsets_s: npt.NDArray[np.int64],
    *,
    reconciled: bool = False,
) -> str:
    """The comma-joined JSON objects of heart-rate data points, in the order given.

    Each point is `{"dataSource": ..., "heartRate": {"sampleTime": {...}, "beatsPerMinute":
    "N"}}` — no `name` (heart-rate samples are not identifiable), bpm as an int64 string.
    Reconciled points (`:reconcile`) carry no `dataSource`, as `ReconciledDataPoint` has none.
    One f-string per point over plain lists, with the civil date and time-of-day texts looked
    up in small caches: the cheapest way CPython has to write 10,000 nested objects.
    """
    if len(instants_s) == 0:
        return ""
    stamps = np.datetime_as_string(instants_s.astype("datetime64[s]"), unit="s").tolist()
    local = instants_s + offsets_s
    local_days = local // 86400
    seconds_of_day = (local - local_days * 86400).tolist()
    days = local_days.tolist()
    times = _TIME_OF_DAY
    for second in set(seconds_of_day) - times.keys():
        _time_text(second)
    dates = _DATES
    for day in set(days) - dates.keys():
        _date_text(day)
    source = "{" if reconciled else HEART_RATE_SOURCE
    return ",".join(
        [
            f'{source}"heartRate":{{"sampleTime":{{"physicalTime":"{stamp}Z","utcOffset":'
            f'"{off}s","civilTime":{{"date":{dates[day]},"time":{times[sod]}}}}},'
            f'"beatsPerMinute":"{b}"}}}}'
            for stamp, off, day, sod, b in zip(
                stamps, offsets_s.tolist(), days, seconds_of_day, bpm.tolist(), strict=True
            )
        ]
    )
