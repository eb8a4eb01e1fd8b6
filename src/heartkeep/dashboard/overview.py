"""The overview: per account, freshness (last sync, its age, a stopped series) and the year at
a glance — a coverage calendar, the resting-HR trend with 7- and 30-day rolling means, and time
in zones per week.  Pure shaping of `DayStats` and `AccountSyncStatus` into columns."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from heartkeep.analysis.daily import DayStats
from heartkeep.analysis.zones import ZONE_NAMES
from heartkeep.api import AccountSyncStatus
from heartkeep.model import Account

CALENDAR_DAYS = 371  # 53 weeks: a full year of calendar columns whatever weekday it ends on


def rolling_mean(values: Sequence[float | None], days: int) -> list[float | None]:
    """Mean of the known values in each trailing window of `days` (None where none is known)."""
    out: list[float | None] = []
    for i in range(len(values)):
        window = [v for v in values[max(0, i - days + 1) : i + 1] if v is not None]
        out.append(round(sum(window) / len(window), 1) if window else None)
    return out


def weekly_zones(stats: Sequence[DayStats]) -> dict[str, Any]:
    """Minutes in each zone per ISO week (weeks start on Monday), oldest first."""
    weeks: dict[dt.date, dict[str, float]] = {}
    for day in stats:
        monday = day.day - dt.timedelta(days=day.day.weekday())
        bucket = weeks.setdefault(monday, dict.fromkeys(ZONE_NAMES, 0.0))
        for name, minutes in day.zone_minutes:
            if name in bucket and not math.isnan(minutes):
                bucket[name] += minutes
    order = sorted(weeks)
    return {
        "weeks": [monday.isoformat() for monday in order],
        **{name: [round(weeks[m][name], 1) for m in order] for name in ZONE_NAMES},
    }


def account_overview(
    account: Account,
    status: AccountSyncStatus | None,
    stats: Sequence[DayStats],
    first: dt.date,
    last: dt.date,
    now_s: int,
) -> dict[str, Any]:
    """Everything the overview shows for one account, for the local days [first, last]."""
    by_day = {s.day: s for s in stats}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    resting: list[float | None] = []
    for day in days:
        found = by_day.get(day)
        resting.append(None if found is None else found.resting_provider or found.resting_estimate)
    fresh: dict[str, Any] = {}
    if status is not None:
        fresh = status.as_json()
        if status.last_success_s is not None:
            fresh["last_success_age_s"] = max(0, now_s - status.last_success_s)
    return {
        "account": account.key,
        "display_name": account.display_name,
        "time_zone": account.time_zone,
        "status": fresh,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "calendar": [None if day not in by_day else round(by_day[day].coverage, 3) for day in days],
        "resting": resting,
        "resting_7d": rolling_mean(resting, 7),
        "resting_30d": rolling_mean(resting, 30),
        "zones_weekly": weekly_zones(stats),
    }
