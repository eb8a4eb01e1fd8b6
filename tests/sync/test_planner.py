"""The planner decides which spans a run fetches; these are its promises, checked as properties."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from heartkeep.model import Window
from heartkeep.store import StreamState
from heartkeep.sync.planner import (
    DAY_S,
    local_midnight_s,
    merge_coverage,
    plan_dailies,
    plan_samples,
    today_in,
)

NOW = 1_795_176_000  # 2026-11-20T12:00:00Z
START = NOW - 400 * DAY_S


def test_first_run_is_one_backfill_from_the_first_start_to_now() -> None:
    jobs = plan_samples(StreamState(), now_s=NOW, first_start_s=START, trailing_days=3)
    assert [(j.kind, j.fetch) for j in jobs] == [("backfill", Window(START, NOW))]


def test_later_runs_refetch_the_trailing_days_back_from_where_the_last_one_ended() -> None:
    state = StreamState(covered_from_s=START, complete_until_s=NOW - 3600)
    jobs = plan_samples(state, now_s=NOW, first_start_s=START, trailing_days=3)
    assert [(j.kind, j.fetch) for j in jobs] == [
        ("incremental", Window(NOW - 3600 - 3 * DAY_S, NOW))
    ]


def test_an_interrupted_job_resumes_below_its_frontier_including_the_boundary_instant() -> None:
    state = StreamState(job_lo_s=START, job_hi_s=NOW - 100, job_frontier_s=NOW - 5000)
    jobs = plan_samples(state, now_s=NOW, first_start_s=START, trailing_days=3)
    assert jobs[0].kind == "resume"
    assert jobs[0].fetch == Window(START, NOW - 5000 + 1)
    assert jobs[0].bounds == Window(START, NOW - 100)
    # and then the usual trailing window after the resumed job's end
    assert jobs[1].fetch == Window(NOW - 100 - 3 * DAY_S, NOW)


def test_a_job_killed_before_its_first_page_resumes_whole() -> None:
    state = StreamState(job_lo_s=START, job_hi_s=NOW - 100)
    jobs = plan_samples(state, now_s=NOW, first_start_s=START, trailing_days=3)
    assert jobs[0].fetch == Window(START, NOW - 100)


def test_since_and_until_repair_exactly_that_range() -> None:
    state = StreamState(covered_from_s=START, complete_until_s=NOW)
    jobs = plan_samples(
        state,
        now_s=NOW,
        first_start_s=START,
        trailing_days=3,
        since_s=START + DAY_S,
        until_s=START + 5 * DAY_S,
    )
    assert [(j.kind, j.fetch) for j in jobs] == [
        ("repair", Window(START + DAY_S, START + 5 * DAY_S))
    ]


def test_a_distant_repair_does_not_make_the_gap_before_it_complete() -> None:
    state = StreamState(covered_from_s=NOW - 10 * DAY_S, complete_until_s=NOW)
    assert merge_coverage(state, Window(START, START + DAY_S)) == (NOW - 10 * DAY_S, NOW)
    assert merge_coverage(state, Window(START, NOW - 10 * DAY_S)) == (START, NOW)


@given(
    covered_from=st.integers(START, NOW),
    length=st.integers(0, 400 * DAY_S),
    trailing=st.integers(0, 30),
    later_s=st.integers(0, 60 * DAY_S),
)
def test_incremental_runs_never_leave_a_gap_after_the_complete_span(
    covered_from: int, length: int, trailing: int, later_s: int
) -> None:
    complete_until = min(NOW, covered_from + length)
    now = complete_until + later_s
    state = StreamState(covered_from_s=covered_from, complete_until_s=complete_until)
    jobs = plan_samples(state, now_s=now, first_start_s=START, trailing_days=trailing)
    if now <= max(covered_from, complete_until - trailing * DAY_S):
        assert jobs == []  # nothing new to ask for
        return
    (job,) = jobs
    assert job.fetch.start_s <= complete_until  # no hole between old and new data
    assert job.fetch.start_s >= covered_from
    assert job.fetch.end_s == now
    assert merge_coverage(state, job.bounds) == (covered_from, now)


@given(
    lo=st.integers(START, NOW - 1),
    size=st.integers(1, 400 * DAY_S),
    frontier_share=st.floats(0, 1),
)
def test_resume_fetches_everything_below_the_frontier(
    lo: int, size: int, frontier_share: float
) -> None:
    hi = lo + size
    frontier = lo + int((hi - lo) * frontier_share)
    state = StreamState(job_lo_s=lo, job_hi_s=hi, job_frontier_s=frontier)
    resume = plan_samples(state, now_s=hi + 10, first_start_s=START, trailing_days=3)[0]
    assert resume.fetch.start_s == lo
    assert resume.fetch.end_s == min(hi, frontier + 1)  # the boundary instant is re-read


def test_local_midnight_follows_the_zone_on_dst_days() -> None:
    # 2026-03-29 is the spring-forward day in Berlin: midnight is still +01:00
    assert local_midnight_s(dt.date(2026, 3, 29), "Europe/Berlin") == int(
        dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC).timestamp()
    )
    # 12:00Z is already the next day in Auckland
    assert today_in("Pacific/Auckland", NOW) == dt.date(2026, 11, 21)


def test_dailies_first_run_backfills_then_refetches_trailing_days() -> None:
    today = dt.date(2026, 11, 20)
    first = plan_dailies(
        StreamState(), today=today, first_day=dt.date(2025, 10, 1), trailing_days=3
    )
    assert first is not None
    assert (first.start, first.end) == (dt.date(2025, 10, 1), dt.date(2026, 11, 21))
    done = StreamState(
        covered_from_s=int(dt.datetime(2025, 10, 1, tzinfo=dt.UTC).timestamp()),
        complete_until_s=int(dt.datetime(2026, 11, 21, tzinfo=dt.UTC).timestamp()),
    )
    later = plan_dailies(
        done, today=dt.date(2026, 11, 22), first_day=dt.date(2025, 10, 1), trailing_days=3
    )
    assert later is not None
    assert (later.start, later.end) == (dt.date(2026, 11, 18), dt.date(2026, 11, 23))


def test_a_repair_reaching_into_the_future_stops_at_now() -> None:
    state = StreamState(covered_from_s=START, complete_until_s=NOW - DAY_S)
    (job,) = plan_samples(
        state,
        now_s=NOW,
        first_start_s=START,
        trailing_days=3,
        since_s=NOW - 2 * DAY_S,
        until_s=NOW + 5 * DAY_S,
    )
    assert job.fetch == Window(NOW - 2 * DAY_S, NOW)
    later = plan_dailies(
        StreamState(),
        today=dt.date(2026, 11, 20),
        first_day=dt.date(2026, 1, 1),
        trailing_days=3,
        since=dt.date(2026, 11, 1),
        until=dt.date(2027, 1, 1),
    )
    assert later is not None
    assert later.end == dt.date(2026, 11, 21)
