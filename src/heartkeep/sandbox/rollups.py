"""`dataPoints:rollUp` (physical-time windows) and `:dailyRollUp` (civil days) for heart rate.

rollUp: `range` closed-open, `windowSize` ≥ 1 s, the last window truncated at the range end,
windows without samples left out, at most 14 days for heart rate.  dailyRollUp: a civil range in
the user's own offsets (each sample's local date decides its day), `windowSizeDays` default 1,
page size default and maximum 14 for heart rate (90 for other types).  Both are newest first —
observed for dailyRollUp; for rollUp Google leaves it open and the sandbox follows the API's
general rule.  `daily-resting-heart-rate` rolls up into `restingHeartRatePersonalRange` (the
lowest and highest daily resting rate of each window).  Values are doubles, as in
`HeartRateRollupValue`.  Page tokens are bound to the whole request except `pageToken`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import orjson

from heartkeep.sandbox.catalog import DAILY_RESTING_HEART_RATE, HEART_RATE, DataType
from heartkeep.sandbox.listing import MAX_EAST_S, MAX_WEST_S, last_complete_day
from heartkeep.sandbox.pagetokens import PageTokens
from heartkeep.sandbox.rpc import ApiError, invalid_argument
from heartkeep.sandbox.state import SandboxState
from heartkeep.sandbox.wire import civil_date_json, parse_duration, parse_timestamp, timestamp

DAY_S = 86_400
SHORT_LIMIT_TYPES = frozenset(
    {"heart-rate", "calories-in-heart-rate-zone", "active-minutes", "total-calories"}
)
ROLLUP_TYPES = frozenset(
    {
        "heart-rate",
        "time-in-heart-rate-zone",
        "calories-in-heart-rate-zone",
        "active-zone-minutes",
        "active-minutes",
        "total-calories",
        "steps",
        "distance",
        "floors",
        "altitude",
        "active-energy-burned",
        "activity-level",
        "sedentary-period",
        "swim-lengths-data",
        "weight",
        "body-fat",
        "blood-glucose",
        "core-body-temperature",
        "hydration-log",
        "nutrition-log",
        "run-vo2-max",
    }
)
DAILY_ONLY_ROLLUP_TYPES = frozenset({"daily-resting-heart-rate", "daily-heart-rate-variability"})
# A JSON string, or a number: enough to find numbers outside strings.
_STRING_OR_NUMBER = re.compile(rb'"(?:[^"\\]|\\.)*"|-?\d+')


def _bad(message: str, field: str, reason: str = "INVALID_ARGUMENT") -> ApiError:
    return invalid_argument(message, reason, [(field, message)])


def _load(body: bytes, allowed: frozenset[str]) -> dict[str, Any]:
    """Parse a request body as Google does: strict JSON, unknown fields rejected."""
    if any(
        m.group().lstrip(b"-").startswith(b"0") and len(m.group().lstrip(b"-")) > 1
        for m in _STRING_OR_NUMBER.finditer(body)
        if not m.group().startswith(b'"')
    ):
        raise _bad(
            "Invalid JSON payload received. Octal/hex numbers are not valid JSON values.", "body"
        )
    try:
        payload = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as failure:
        raise _bad(f"Invalid JSON payload received. {failure}", "body") from None
    if not isinstance(payload, dict):
        raise _bad("Invalid JSON payload received. Expected an object.", "body")
    for name in payload:
        if name not in allowed:
            raise _bad(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.', name
            )
    return payload


def _page_size(payload: dict[str, Any], default: int, cap: int) -> int:
    raw = payload.get("pageSize", 0)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise _bad(f"Invalid value at 'page_size' (TYPE_INT32), {raw!r}", "page_size")
    return default if raw == 0 else min(raw, cap)


def _query_key(kind: str, user_id: str, data_type: DataType, payload: dict[str, Any]) -> str:
    rest = {k: v for k, v in payload.items() if k != "pageToken"}
    return (
        f"{kind}|{user_id}|{data_type.path_id}|"
        + orjson.dumps(rest, option=orjson.OPT_SORT_KEYS).decode()
    )


def _stats(values: np.ndarray[Any, Any]) -> dict[str, float]:
    return {
        "beatsPerMinuteAvg": round(float(values.mean()), 3),
        "beatsPerMinuteMin": float(values.min()),
        "beatsPerMinuteMax": float(values.max()),
    }


# --- rollUp -----------------------------------------------------------------------------------


def roll_up(
    state: SandboxState, tokens: PageTokens, user_id: str, data_type: DataType, body: bytes
) -> dict[str, Any]:
    """A `RollUpDataPointsResponse` for one request body."""
    payload = _load(
        body, frozenset({"range", "windowSize", "pageSize", "pageToken", "dataSourceFamily"})
    )
    if data_type.path_id not in ROLLUP_TYPES:
        raise _bad(f"Data type {data_type.path_id} does not support roll-ups.", "parent")
    span = payload.get("range")
    if not isinstance(span, dict) or "startTime" not in span or "endTime" not in span:
        raise _bad("range with startTime and endTime is required.", "range")
    try:
        start_s = parse_timestamp(str(span["startTime"]))
        end_s = parse_timestamp(str(span["endTime"]))
    except ValueError as failure:
        raise _bad(f"Invalid value at 'range': {failure}", "range") from None
    if end_s <= start_s:
        raise _bad("range.endTime must be after range.startTime.", "range")
    limit_days = 14 if data_type.path_id in SHORT_LIMIT_TYPES else 90
    if end_s - start_s > limit_days * DAY_S:
        raise _bad(
            f"The roll-up range must not exceed {limit_days} days for {data_type.path_id}.",
            "range",
            "INVALID_ROLLUP_QUERY_DURATION",
        )
    if "windowSize" not in payload:
        raise _bad("windowSize is required.", "window_size")
    try:
        window = parse_duration(str(payload["windowSize"]))
    except ValueError as failure:
        raise _bad(f"Invalid value at 'window_size': {failure}", "window_size") from None
    if window < 1 or not window.is_integer():
        raise _bad("windowSize must be a whole number of seconds, at least 1s.", "window_size")
    window_s = int(window)
    page_size = _page_size(payload, 1440, 10000)
    key = _query_key("rollUp", user_id, data_type, payload)
    position = tokens.decode(str(payload["pageToken"]), key) if payload.get("pageToken") else {}
    if data_type != HEART_RATE:
        return {}
    instants, bpm, _ = state.visible_samples(user_id, start_s, end_s)
    if instants.size == 0:
        return {}
    buckets = (instants - start_s) // window_s
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    keys = buckets[starts].tolist()
    # Newest window first; the token holds the index of the last window served.
    order = list(range(len(keys) - 1, -1, -1))
    if "w" in position:
        order = [i for i in order if keys[i] < int(position["w"])]
    chosen = order[:page_size]
    bounds = [*starts.tolist(), int(instants.size)]
    points = []
    for i in chosen:
        window_start = start_s + keys[i] * window_s
        window_end = min(end_s, window_start + window_s)
        values = bpm[bounds[i] : bounds[i + 1]]
        points.append(
            {
                "startTime": timestamp(window_start),
                "endTime": timestamp(window_end),
                "heartRate": _stats(values),
            }
        )
    result: dict[str, Any] = {}
    if points:
        result["rollupDataPoints"] = points
    if len(order) > len(chosen):
        result["nextPageToken"] = tokens.encode(key, {"w": keys[chosen[-1]]})
    return result


# --- dailyRollUp ------------------------------------------------------------------------------


def _civil_day(value: Any, field: str) -> dt.date:
    if not isinstance(value, dict) or not isinstance(value.get("date"), dict):
        raise _bad(f"{field} must be a CivilDateTime with a date.", field)
    date = value["date"]
    try:
        day = dt.date(int(date["year"]), int(date["month"]), int(date["day"]))
    except (KeyError, TypeError, ValueError):
        raise _bad(f"{field}.date is not a valid date.", field) from None
    time = value.get("time") or {}
    if not isinstance(time, dict) or any(
        time.get(k) for k in ("hours", "minutes", "seconds", "nanos")
    ):
        raise _bad(f"{field} must be aligned to the start of a day.", field)
    return day


def daily_roll_up(
    state: SandboxState, tokens: PageTokens, user_id: str, data_type: DataType, body: bytes
) -> dict[str, Any]:
    """A `DailyRollUpDataPointsResponse` for one request body."""
    payload = _load(
        body, frozenset({"range", "windowSizeDays", "pageSize", "pageToken", "dataSourceFamily"})
    )
    if data_type.path_id not in ROLLUP_TYPES | DAILY_ONLY_ROLLUP_TYPES:
        raise _bad(f"Data type {data_type.path_id} does not support roll-ups.", "parent")
    span = payload.get("range")
    if not isinstance(span, dict):
        raise _bad("range with start and end is required.", "range")
    first = _civil_day(span.get("start"), "range.start")
    end = _civil_day(span.get("end"), "range.end")
    if end <= first:
        raise _bad("range.end must be after range.start.", "range")
    limit_days = 14 if data_type.path_id in SHORT_LIMIT_TYPES else 90
    if (end - first).days > limit_days:
        raise _bad(
            f"The roll-up range must not exceed {limit_days} days for {data_type.path_id}.",
            "range",
            "INVALID_ROLLUP_QUERY_DURATION",
        )
    size_days = payload.get("windowSizeDays", 1) or 1
    if not isinstance(size_days, int) or isinstance(size_days, bool) or size_days < 1:
        raise _bad("windowSizeDays must be a positive integer.", "window_size_days")
    cap = 14 if data_type.path_id in SHORT_LIMIT_TYPES else 90
    page_size = _page_size(payload, cap, cap)
    key = _query_key("dailyRollUp", user_id, data_type, payload)
    position = tokens.decode(str(payload["pageToken"]), key) if payload.get("pageToken") else {}
    windows: list[tuple[dt.date, dt.date]] = []
    cursor = first
    while cursor < end:
        windows.append((cursor, min(end, cursor + dt.timedelta(days=size_days))))
        cursor += dt.timedelta(days=size_days)
    windows.reverse()
    if data_type == HEART_RATE:
        values = _daily_heart_rate(state, user_id, first, end, windows)
    elif data_type == DAILY_RESTING_HEART_RATE:
        values = _daily_resting(state, user_id, windows)
    else:
        values = [None] * len(windows)
    filled = [(w, v) for w, v in zip(windows, values, strict=True) if v is not None]
    if "d" in position:
        filled = [(w, v) for w, v in filled if w[0].toordinal() < int(position["d"])]
    chosen = filled[:page_size]
    result: dict[str, Any] = {}
    if chosen:
        result["rollupDataPoints"] = [
            {"civilStartTime": civil_date_json(lo), "civilEndTime": civil_date_json(hi), **value}
            for (lo, hi), value in chosen
        ]
    if len(filled) > len(chosen):
        result["nextPageToken"] = tokens.encode(key, {"d": chosen[-1][0][0].toordinal()})
    return result


def _daily_heart_rate(
    state: SandboxState,
    user_id: str,
    first: dt.date,
    end: dt.date,
    windows: list[tuple[dt.date, dt.date]],
) -> list[dict[str, Any] | None]:
    epoch = dt.date(1970, 1, 1)
    lo_s = (first - epoch).days * DAY_S - MAX_EAST_S
    hi_s = (end - epoch).days * DAY_S + MAX_WEST_S
    instants, bpm, offsets = state.visible_samples(user_id, lo_s, hi_s)
    local_days = (instants + offsets) // DAY_S
    out: list[dict[str, Any] | None] = []
    for lo, hi in windows:
        mask = (local_days >= (lo - epoch).days) & (local_days < (hi - epoch).days)
        values = bpm[mask]
        out.append({"heartRate": _stats(values)} if values.size else None)
    return out


def _daily_resting(
    state: SandboxState, user_id: str, windows: list[tuple[dt.date, dt.date]]
) -> list[dict[str, Any] | None]:
    physiology = state.physiology[user_id]
    last = last_complete_day(state, user_id)
    member_since = state.users[user_id].member_since
    out: list[dict[str, Any] | None] = []
    for lo, hi in windows:
        rates = []
        day = lo
        while day < hi:
            if member_since <= day <= last:
                resting = physiology.resting_hr(day)
                if resting is not None:
                    rates.append(resting)
            day += dt.timedelta(days=1)
        if rates:
            out.append(
                {
                    "restingHeartRatePersonalRange": {
                        "beatsPerMinuteMin": float(min(rates)),
                        "beatsPerMinuteMax": float(max(rates)),
                    }
                }
            )
        else:
            out.append(None)
    return out
