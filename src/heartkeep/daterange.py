"""Date ranges as people type them (`--since`, `--until`): parse, check, clip — one rule for all.

Every command that takes a range (`sync`, `stats`, `export`, `report`, `plot`) goes through
here, so they agree on what is wrong and say it the same way:

- a day that is not `YYYY-MM-DD` is a usage error naming the option and the text;
- a reversed range (`--since` after `--until`) is a usage error naming both dates *as typed*
  (not the widened or shifted days a command computes from them);
- a range starting in the future is a usage error (there is nothing to fetch or show); one that
  only ends in the future is clipped, with a note saying so.

"The future" starts after the latest date anywhere on Earth (UTC+14): whatever zone an account
lives in, its today is never refused, and the machine's own time zone does not matter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from heartkeep.errors import UsageError

# The zone furthest ahead of UTC (Kiribati, UTC+14): no place has a later date.
_LATEST_OFFSET = dt.timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive local days [since, until], either open; `note` says what was clipped, if any."""

    since: dt.date | None
    until: dt.date | None
    note: str | None = None


def parse_day(text: str | None, option: str) -> dt.date | None:
    """`YYYY-MM-DD` → date (None stays None); `UsageError` (exit 2) naming the option otherwise."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date like 2026-11-20") from None


def latest_date(now_s: float) -> dt.date:
    """The latest calendar date anywhere at `now_s`: days after it have begun nowhere."""
    return (dt.datetime.fromtimestamp(now_s, dt.UTC) + _LATEST_OFFSET).date()


def check_order(
    since: dt.date | None,
    until: dt.date | None,
    *,
    since_text: str | None = None,
    until_text: str | None = None,
) -> None:
    """Raise `UsageError` when `until` is before `since`, naming the dates as the person typed
    them (`since_text`/`until_text`, default the dates themselves)."""
    if since is not None and until is not None and until < since:
        typed_since = since_text or since.isoformat()
        typed_until = until_text or until.isoformat()
        raise UsageError(
            f"--until {typed_until} is before --since {typed_since}",
            hint="Both days are inclusive; swap them, or leave one out for an open range.",
        )


def parse_range(
    since_text: str | None, until_text: str | None, *, now_s: float | None = None
) -> DateRange:
    """Parse and check `--since`/`--until`; with `now_s`, refuse a range that starts in the
    future and clip one that ends there (`note` then says so).  Raises `UsageError` (exit 2)."""
    since = parse_day(since_text, "--since")
    until = parse_day(until_text, "--until")
    check_order(since, until, since_text=since_text, until_text=until_text)
    if now_s is None:
        return DateRange(since, until)
    last = latest_date(now_s)
    if since is not None and since > last:
        raise UsageError(
            f"--since {since_text} is in the future: there is nothing to show or fetch yet",
            hint="Pick a day up to today, or leave --since out.",
        )
    if until is not None and until > last:
        return DateRange(
            since, last, note=f"--until {until_text} is in the future: stopping at today"
        )
    return DateRange(since, until)


__all__ = ["DateRange", "check_order", "latest_date", "parse_day", "parse_range"]
