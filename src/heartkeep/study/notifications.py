"""Parse a Google Health webhook notification into plain data.

The body carries metadata, never values [reference §12; 3P K-FITVIBE, K-AP]:

    {"data": {"version": "1", "healthUserId": "…", "operation": "UPSERT" | "DELETE",
              "dataType": "heart-rate", "clientProvidedSubscriptionName": "…" (optional),
              "intervals": [{"physicalTimeInterval": {"startTime": RFC 3339, "endTime": …},
                             "civilDateTimeInterval": …, "civilIso8601TimeInterval": …}]}}

Only the physical interval is used: it is UTC and needs no time zone to turn into the store's
integer instants (start floored, end rounded up, so a sync of the interval covers every
fractional second of it).  A notification without a usable physical interval is refused
(`NotificationError`) rather than guessed at; the civil forms are derivable from it.  Unknown
extra fields are ignored, so a field Google adds later does not break the endpoint.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson

Operation = Literal["UPSERT", "DELETE"]
OPERATIONS: tuple[Operation, ...] = ("UPSERT", "DELETE")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_DATA_TYPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_MAX_INTERVALS = 10_000


class NotificationError(ValueError):
    """The body is not a notification we can act on; the message says what is wrong."""


@dataclass(frozen=True, order=True)
class Interval:
    """UTC epoch seconds, `[start_s, end_s)`."""

    start_s: int
    end_s: int

    def hull(self, other: Interval) -> Interval:
        """The smallest interval covering both."""
        return Interval(min(self.start_s, other.start_s), max(self.end_s, other.end_s))


@dataclass(frozen=True)
class Notification:
    """One data-change notification: whose data, which type, what happened, when."""

    health_user_id: str
    data_type: str
    operation: Operation
    intervals: tuple[Interval, ...]
    subscription_name: str | None = None

    def span(self) -> Interval:
        """One interval covering all of the notification's intervals."""
        span = self.intervals[0]
        for interval in self.intervals[1:]:
            span = span.hull(interval)
        return span


def _instant(raw: object, where: str) -> Decimal:
    """The instant exactly, as epoch seconds: Python's datetime keeps 6 fractional digits,
    and an end 100 ns past a whole second must still round up to the next one."""
    if not isinstance(raw, str) or not _RFC3339.match(raw):
        raise NotificationError(f"{where} is not an RFC 3339 timestamp with a zone")
    text = raw.upper().replace("Z", "+00:00")
    whole, dot, rest = text.partition(".")
    fraction = Decimal(0)
    if dot:  # the fraction apart, the zone after it kept
        digits = re.match(r"\d+", rest)
        assert digits is not None
        fraction = Decimal("0." + digits.group())
        text = whole + rest[digits.end() :]
    try:
        seconds = dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise NotificationError(f"{where} is not a valid date and time") from None
    return Decimal(int(seconds)) + fraction


def _interval(raw: object, index: int) -> Interval:
    physical = raw.get("physicalTimeInterval") if isinstance(raw, dict) else None
    if not isinstance(physical, dict):
        raise NotificationError(f"intervals[{index}] has no physicalTimeInterval")
    start = _instant(physical.get("startTime"), f"intervals[{index}].startTime")
    end = _instant(physical.get("endTime"), f"intervals[{index}].endTime")
    if end < start:
        raise NotificationError(f"intervals[{index}] ends before it starts")
    return Interval(math.floor(start), math.ceil(end))


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise NotificationError(f"data.{name} is missing or not a string")
    return value


def parse_notification(body: bytes) -> Notification:
    """The notification in `body` (the raw request bytes); raises NotificationError."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise NotificationError("the body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise NotificationError("the body has no 'data' object")
    user = _text(data, "healthUserId")
    data_type = _text(data, "dataType")
    if not _DATA_TYPE.match(data_type):
        raise NotificationError("data.dataType is not a kebab-case data type")
    operation = data.get("operation")
    if operation not in OPERATIONS:
        raise NotificationError("data.operation is neither UPSERT nor DELETE")
    raw_intervals = data.get("intervals")
    if not isinstance(raw_intervals, list) or not raw_intervals:
        raise NotificationError("data.intervals is missing or empty")
    if len(raw_intervals) > _MAX_INTERVALS:
        raise NotificationError("data.intervals is implausibly long")
    intervals = tuple(_interval(raw, i) for i, raw in enumerate(raw_intervals))
    name = data.get("clientProvidedSubscriptionName")
    return Notification(
        user,
        data_type,
        "UPSERT" if operation == "UPSERT" else "DELETE",
        intervals,
        name if isinstance(name, str) and name else None,
    )


def is_verification(body: bytes) -> bool:
    """Whether `body` is the endpoint-verification probe `{"type": "verification"}`."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("type") == "verification"
