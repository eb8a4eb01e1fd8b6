"""Which spans to fetch this run: pure functions from sync state and the clock to jobs.

Heart rate (instants, UTC seconds):
- an interrupted job resumes first: [job_lo, frontier + 1) — the boundary instant is read again
  on purpose (another point may share it; the upsert makes the re-read harmless);
- first run: [first start, now), the first start being `--since` (local midnight in the
  account's zone) or the profile's membership start (the first instant of that date anywhere:
  the person may have joined in another zone than today's);
- later runs: from `trailing_days` before the end of the complete span up to now, because
  watches sync late and providers revise recent days;
- `--since/--until` (gap repair): exactly that span, whatever the state says.

Dailies (local dates) follow the same rules on dates: one listing per run.

A finished job extends the complete span only where it touches or overlaps it, so a repair of a
distant range never pretends the days between are complete.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from heartkeep.model import Window
from heartkeep.store.protocol import StreamState
from heartkeep.timeline import date_of_s, day_start_s, local_date, local_day_window, zone_offset_min

HEART_RATE = "heart-rate"
DAILIES = "dailies"
DAY_S = 86_400
# Without a membership date or --since, a first run reaches back this far.
DEFAULT_HISTORY_DAYS = 365

JobKind = Literal["backfill", "resume", "incremental", "repair"]


class SampleJob(msgspec.Struct, frozen=True):
    """Fetch `fetch` newest first; the job recorded in the state spans `bounds`."""

    kind: JobKind
    fetch: Window
    bounds: Window


class DailyJob(msgspec.Struct, frozen=True):
    """Fetch dailies for local days in [start, end)."""

    kind: JobKind
    start: dt.date
    end: dt.date


def merge_coverage(state: StreamState, done: Window) -> tuple[int, int] | None:
    """The complete span after `done` finishes: the union when they touch, else unchanged."""
    lo, hi = state.covered_from_s, state.complete_until_s
    if lo is None or hi is None:
        return done.start_s, done.end_s
    if done.start_s <= hi and done.end_s >= lo:
        return min(lo, done.start_s), max(hi, done.end_s)
    return lo, hi


# The earliest UTC offset in use (UTC+14, the Line Islands): a date begins there first.
EARLIEST_OFFSET_S = 14 * 3600


def earliest_start_s(day: dt.date) -> int:
    """The first instant at which it is `day` somewhere on Earth.

    The membership start is a local date in the zone the person lived in when they joined,
    which the API does not say; midnight in today's zone would skip up to 26 hours of a
    history that began after a move west (found with a flight from Kiritimati to Los Angeles).
    Starting at the date's earliest instant costs at most one empty page.
    """
    return day_start_s(day) - EARLIEST_OFFSET_S


def local_midnight_s(day: dt.date, zone_name: str) -> int:
    """The instant a local date starts in `zone_name` (DST-aware)."""
    return local_day_window(day, zone_name).start_s


def today_in(zone_name: str, now_s: int) -> dt.date:
    """The local date at `now_s` under the zone's current offset."""
    return local_date(now_s, zone_offset_min(zone_name, now_s))


def plan_samples(
    state: StreamState,
    *,
    now_s: int,
    first_start_s: int,
    trailing_days: int,
    since_s: int | None = None,
    until_s: int | None = None,
) -> list[SampleJob]:
    """The heart-rate jobs of one run, in the order to run them."""
    jobs: list[SampleJob] = []
    covered = (
        None
        if state.covered_from_s is None or state.complete_until_s is None
        else (state.covered_from_s, state.complete_until_s)
    )
    if state.job_lo_s is not None and state.job_hi_s is not None:
        bounds = Window(state.job_lo_s, state.job_hi_s)
        top = bounds.end_s if state.job_frontier_s is None else state.job_frontier_s + 1
        top = max(bounds.start_s, min(bounds.end_s, top))
        jobs.append(SampleJob("resume", Window(bounds.start_s, top), bounds))
        covered = merge_coverage(state, bounds)
    if since_s is not None or until_s is not None:
        lo = since_s if since_s is not None else (covered[0] if covered else first_start_s)
        # never past now: a span recorded complete into the future would hide data that
        # arrives later from every following run
        hi = now_s if until_s is None else min(until_s, now_s)
        if hi > lo:
            window = Window(lo, hi)
            # a first run given --since is that history's backfill, not a repair of it
            jobs.append(SampleJob("backfill" if covered is None else "repair", window, window))
        return jobs
    if covered is None:
        if now_s > first_start_s:
            window = Window(first_start_s, now_s)
            jobs.append(SampleJob("backfill", window, window))
        return jobs
    lo = max(covered[0], covered[1] - trailing_days * DAY_S)
    if now_s > lo:
        window = Window(lo, now_s)
        jobs.append(SampleJob("incremental", window, window))
    return jobs


def plan_dailies(
    state: StreamState,
    *,
    today: dt.date,
    first_day: dt.date,
    trailing_days: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> DailyJob | None:
    """The one dailies listing of a run (days are local; `until` exclusive), or None."""
    end = today + dt.timedelta(days=1)
    if since is not None or until is not None:
        covered_from = date_of_s(state.covered_from_s) if state.covered_from_s is not None else None
        start = since or covered_from or first_day
        stop = min(until, end) if until else end
        return DailyJob("repair", start, stop) if stop > start else None
    if state.complete_until_s is None:
        return DailyJob("backfill", first_day, end) if end > first_day else None
    complete = date_of_s(state.complete_until_s)
    covered_from = date_of_s(state.covered_from_s) if state.covered_from_s is not None else complete
    start = max(covered_from, complete - dt.timedelta(days=trailing_days))
    return DailyJob("incremental", start, end) if end > start else None


def day_key_s(day: dt.date) -> int:
    """How daily streams store a date in `StreamState`: midnight UTC of that date."""
    return day_start_s(day)
