"""504 DEADLINE_EXCEEDED on big pages: the backfill asks for smaller pages and stays exact.

The sandbox's `deadline_above_points` fault times out every heart-rate page that would hold more
points than that; heartkeep halves `pageSize` after two 504s on the same page and grows it back
after a run of successes.  Over HTTP on loopback, both sides on one SimClock.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from heartkeep.providers.paging import PageSizer

HR_PATH = "/dataTypes/heart-rate/dataPoints"


def test_a_backfill_whose_big_pages_time_out_completes_with_exact_data(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(12),), deadline_above_points=1_500)
    world.state.request_log.clear()
    window = world.history()
    truth = world.truth(window)
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    assert world.stored(window) == truth
    pages = [entry for entry in world.state.request_log if HR_PATH in entry.path]
    timeouts = sum(1 for entry in pages if entry.status == 504)
    served = sum(1 for entry in pages if entry.status == 200)
    assert timeouts >= 2
    # Once shrunk, pages hold 1,250 points (10,000 halved three times), grown back now and then;
    # one page in 20 comes back empty (with a token), as observed live.
    assert served <= math.ceil(len(truth) / 1_250) * 21 / 20 + 3
    assert timeouts <= served


def test_a_page_that_times_out_even_at_the_smallest_size_ends_in_exit_6_with_advice(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(3),), deadline_above_points=100)
    report = world.sync()
    (account,) = report.accounts
    assert account.exit_code == 6
    assert "HTTP 504" in (account.error or "")
    assert "kept failing" in (account.error or "")


@given(st.lists(st.booleans(), max_size=400))
def test_the_page_size_stays_between_its_bounds_halves_on_timeouts_and_grows_back(
    outcomes: list[bool],
) -> None:
    sizer = PageSizer(largest=10_000, smallest=250)
    for timed_out in outcomes:
        before = sizer.size
        if timed_out and sizer.can_shrink:
            sizer.shrink()
            assert sizer.size == max(250, before // 2)
        else:
            sizer.succeeded()
            assert sizer.size in (before, min(10_000, before * 2))
        assert 250 <= sizer.size <= 10_000


def test_a_size_that_keeps_timing_out_is_probed_ever_more_rarely() -> None:
    sizer = PageSizer(largest=10_000, smallest=250, grow_after=20)
    sizer.shrink()
    waits = []
    for _ in range(4):
        successes = 0
        while sizer.size < 10_000:
            sizer.succeeded()
            successes += 1
        waits.append(successes)
        sizer.shrink()  # the grown size times out again at once
    assert waits == [20, 40, 80, 160]
