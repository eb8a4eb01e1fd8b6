"""Date ranges as people type them (`--since`, `--until`): parse, check, clip — one rule for all.

Every command that takes a range (`sync`, `stats`, `export`, `report`, `plot`) goes through
here, so they agree on what is wrong and say it the same way:

- a day that is not `YYYY-MM-DD` is a usage error naming the option and the text;
- a reversed range (`--since` after `--until`) is a usage error naming both dates *as typed*
  (not the widened or shifted days a command computes from them);
- a range starting in the future is a usage error (there is nothing to fetch or show); one that
  only ends in the future is clipped, with a note saying so.

`export` also takes a local date and time (`YYYY-MM-DDTHH:MM[:SS]`, in the account's zone) at
either end (`parse_range(..., times=True)`): a day stays a whole day (`--until` inclusive), a
time is an instant (`--until` a time is where the range stops, exclusive), so the range a
dashboard shows can be exported exactly.  Only the account's zone turns a wall time into an
instant, so that happens where the account is known (`api.export`).

"The future" starts after the latest date anywhere on Earth (UTC+14): whatever zone an account
lives in, its today is never refused, and the machine's own time zone does not matter.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from heartkeep.errors import UsageError

# The zone furthest ahead of UTC (Kiribati, UTC+14): no place has a later date.
_LATEST_OFFSET = dt.timedelta(hours=14)


class DateRange(msgspec.Struct, frozen=True):
    """Inclusive local days [since, until], either open; `note` says what was clipped, if any.
    With `times`, either end may be a naive `datetime`: a local wall time, `until` exclusive."""

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


def parse_moment(text: str | None, option: str) -> dt.date | None:
    """`YYYY-MM-DD` → date, `YYYY-MM-DDTHH:MM[:SS]` (or a space for the T) → a naive
    `datetime`, a local wall time (None stays None); `UsageError` naming the option otherwise.
    A time with a zone or an offset is refused: the account's zone is what times are read in."""
    if text is None:
        return None
    cleaned = text.strip()
    if len(cleaned) <= 10:
        return parse_day(cleaned, option)
    try:
        wall = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        wall = None
    if wall is None or wall.tzinfo is not None or len(cleaned) > 19 or wall.microsecond:
        raise UsageError(
            f"{option} {text!r} is not a date like 2026-11-20 "
            "or a local time like 2026-11-20T14:30",
            hint="A time is read in the account's own zone: leave out any offset or Z.",
        )
    return wall


def _day(bound: dt.date) -> dt.date:
    """The local day a bound falls on (a `datetime` is a `date` too, but never compares as one)."""
    return bound.date() if isinstance(bound, dt.datetime) else bound


def _first_instant(bound: dt.date) -> dt.datetime:
    """Where a bound starts, as a wall time: a day at its midnight, a time itself."""
    if isinstance(bound, dt.datetime):
        return bound
    return dt.datetime.combine(bound, dt.time())


def _end_instant(bound: dt.date) -> dt.datetime:
    """Where an `until` stops, as a wall time: after its whole day, or the time itself."""
    if isinstance(bound, dt.datetime):
        return bound
    return dt.datetime.combine(bound + dt.timedelta(days=1), dt.time())


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
    if since is None or until is None:
        return
    if _end_instant(until) > _first_instant(since):
        return
    typed_since = since_text or since.isoformat()
    typed_until = until_text or until.isoformat()
    if isinstance(since, dt.datetime) or isinstance(until, dt.datetime):
        raise UsageError(
            f"--until {typed_until} is not after --since {typed_since}",
            hint="A time at --until is where the range stops (a day is included whole); "
            "swap them, or leave one out for an open range.",
        )
    raise UsageError(
        f"--until {typed_until} is before --since {typed_since}",
        hint="Both days are inclusive; swap them, or leave one out for an open range.",
    )


def parse_range(
    since_text: str | None,
    until_text: str | None,
    *,
    now_s: float | None = None,
    times: bool = False,
) -> DateRange:
    """Parse and check `--since`/`--until`; with `now_s`, refuse a range that starts in the
    future and clip one that ends there (`note` then says so); with `times`, either end may be
    a local date and time (`parse_moment`).  Raises `UsageError` (exit 2)."""
    parse = parse_moment if times else parse_day
    since = parse(since_text, "--since")
    until = parse(until_text, "--until")
    check_order(since, until, since_text=since_text, until_text=until_text)
    if now_s is None:
        return DateRange(since, until)
    last = latest_date(now_s)
    if since is not None and _day(since) > last:
        raise UsageError(
            f"--since {since_text} is in the future: there is nothing to show or fetch yet",
            hint="Pick a day up to today, or leave --since out.",
        )
    if until is not None and _day(until) > last:
        return DateRange(
            since, last, note=f"--until {until_text} is in the future: stopping at today"
        )
    return DateRange(since, until)


__all__ = [
    "DateRange",
    "check_order",
    "latest_date",
    "parse_day",
    "parse_moment",
    "parse_range",
]
