"""Proto3-JSON encoding as Google's front end writes it, and fast heart-rate page bodies.

Rules copied from the real API: int64 values are JSON strings, timestamps are RFC 3339 in UTC
with `Z`, durations are decimal seconds with an `s` suffix, zero scalars are omitted (so civil
midnight is `"time": {}`).  A 10,000-point page is built as bytes from numpy arrays by numpy
(`heart_rate_points_bytes`), with no Python step per point; everything else goes through
orjson.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
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
    """
    return heart_rate_points_bytes(instants_s, bpm, offsets_s, reconciled=reconciled).decode()


def heart_rate_points_bytes(
    instants_s: npt.NDArray[np.int64],
    bpm: npt.NDArray[np.int64],
    offsets_s: npt.NDArray[np.int64],
    *,
    reconciled: bool = False,
) -> bytes:
    """`heart_rate_points` as ASCII bytes, built by numpy without a Python step per point.

    Why: a study's bench has the sandbox serve hundreds of millions of points, and one
    f-string per point (about 3 µs) made the sandbox the largest CPU cost of the run.  Every
    point is the same template with six holes; each hole's texts are made once per distinct
    value (a page has a few offsets and dates, at most 86,400 times of day) as a fixed-width
    byte column padded with NULs, the columns and the template's constant parts are laid side
    by side in one byte matrix (a row per point), and the NULs are dropped: JSON text holds
    none, so what remains is exactly the points, each in its own row order.
    """
    count = len(instants_s)
    if count == 0:
        return b""
    utc_days = instants_s // 86400
    local = instants_s + offsets_s
    local_days = local // 86400
    holes = [
        _texts(utc_days, _utc_date_text),
        _clock_texts()[instants_s - utc_days * 86400],
        _texts(offsets_s, str),
        _texts(local_days, _date_text),
        _times_of_day()[local - local_days * 86400],
        _texts(bpm, str),
    ]
    constants = _TEMPLATE_RECONCILED if reconciled else _TEMPLATE
    parts: list[npt.NDArray[np.uint8]] = []
    for constant, hole in zip(constants, [*holes, None], strict=True):
        parts.append(
            np.broadcast_to(np.frombuffer(constant, dtype=np.uint8), (count, len(constant)))
        )
        if hole is not None:
            parts.append(hole.view(np.uint8).reshape(count, hole.dtype.itemsize))
    matrix = np.concatenate(parts, axis=1).ravel()
    body: bytes = matrix[matrix != 0].tobytes()
    return body[:-1]  # the last point's separating comma


def _utc_date_text(day: int) -> str:
    """`YYYY-MM-DD` of a day since 1970, as a stamp starts."""
    return (_EPOCH_DATE + dt.timedelta(days=day)).isoformat()


@lru_cache(maxsize=1)
def _clock_texts() -> npt.NDArray[np.bytes_]:
    """`THH:MM:SS` of every second of a day, as bytes: made once."""
    return np.array(
        [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}".encode() for s in range(86400)],
        dtype=np.bytes_,
    )


@lru_cache(maxsize=1)
def _times_of_day() -> npt.NDArray[np.bytes_]:
    """The TimeOfDay text of every second of a day, as bytes: made once (0.1 s), 3.5 MB."""
    return np.array([_time_text(second).encode() for second in range(86400)], dtype=np.bytes_)


def _texts(values: npt.NDArray[np.int64], text: Callable[[int], str]) -> npt.NDArray[np.bytes_]:
    """`text(v).encode()` of each value as a fixed-width byte column, each distinct value once."""
    distinct, where = np.unique(values, return_inverse=True)
    table = np.array([text(value).encode() for value in distinct.tolist()], dtype=np.bytes_)
    return table[where.reshape(-1)]


def _template(source: str) -> tuple[bytes, ...]:
    """The constant parts around a point's holes (stamp's date and time, offset, civil date and
    time, bpm), the last
    ending in the comma that separates points: the one-point f-string, cut at its holes."""
    holes = ("\x01", "\x02", "\x03", "\x04", "\x05", "\x06")
    point = (
        f'{source}"heartRate":{{"sampleTime":{{"physicalTime":"{holes[0]}{holes[1]}Z",'
        f'"utcOffset":"{holes[2]}s","civilTime":{{"date":{holes[3]},"time":{holes[4]}}}}},'
        f'"beatsPerMinute":"{holes[5]}"}}}}'
    )
    cut = [point]
    for hole in holes:
        cut[-1:] = cut[-1].split(hole)
    cut[-1] += ","
    return tuple(part.encode() for part in cut)


_TEMPLATE = _template(HEART_RATE_SOURCE)
_TEMPLATE_RECONCILED = _template("{")
