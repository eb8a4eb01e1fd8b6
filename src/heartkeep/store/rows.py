"""Rows to model values and back, for `sqlite.py`: kept apart so the store class stays readable.

Zones are stored as one JSON array per day (a handful of small objects; a table of their own
would cost more than it saves), everything else maps column for column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from heartkeep.model import Account, Daily, DailyKind, Window, Zone

MIN_INSTANT = -(2**62)
MAX_INSTANT = 2**62


def bounds(window: Window | None) -> tuple[int, int]:
    if window is None:
        return MIN_INSTANT, MAX_INSTANT
    return window.start_s, window.end_s


def account_from_row(row: Sequence[Any]) -> Account:
    provider, user_id, display_name, time_zone, member_since = row
    return Account(
        provider=provider,
        user_id=user_id,
        display_name=display_name,
        time_zone=time_zone,
        member_since=dt.date.fromisoformat(member_since) if member_since else None,
    )


def zones_json(zones: Sequence[Zone]) -> str:
    return orjson.dumps(
        [
            {"name": z.name, "min_bpm": z.min_bpm, "max_bpm": z.max_bpm, "minutes": z.minutes}
            for z in zones
        ]
    ).decode()


def daily_from_row(row: Sequence[Any]) -> Daily:
    day, kind, value, zones = row
    parsed: tuple[Zone, ...] = ()
    if zones:
        parsed = tuple(
            Zone(
                name=z["name"],
                min_bpm=int(z["min_bpm"]),
                max_bpm=int(z["max_bpm"]),
                minutes=None if z.get("minutes") is None else float(z["minutes"]),
            )
            for z in orjson.loads(zones)
        )
    return Daily(day=dt.date.fromisoformat(day), kind=DailyKind(kind), value=value, zones=parsed)
