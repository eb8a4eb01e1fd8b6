"""Quota and retry policy in isolation, on a fake clock (the transport tests use the sandbox)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.clock import FakeClock
from heartkeep.sync.quota import QuotaPolicy, RequestBudget
from heartkeep.sync.retry import RetryPolicy, parse_retry_after_s


def test_google_budget_spaces_requests_evenly_at_the_unverified_rate_less_a_reserve() -> None:
    # 2.5 a second documented for unverified apps, 2 % kept for the user's other requests
    clock = FakeClock(1_000.0)
    budget = RequestBudget(QuotaPolicy.google_health(), clock)
    assert budget.wait_needed_s() == 0
    budget.record_sent()
    gap = 1 / (2.5 * 0.98)
    assert budget.wait_needed_s() == pytest.approx(gap)
    for _ in range(1000):
        clock.sleep(budget.wait_needed_s())
        budget.record_sent()
    assert clock.now_s() - 1_000.0 == pytest.approx(1000 * gap)


def test_a_verified_app_is_paced_twice_as_fast() -> None:
    unverified = QuotaPolicy.google_health("unverified").rate_per_s
    verified = QuotaPolicy.google_health("verified").rate_per_s
    assert unverified is not None
    assert verified is not None
    assert verified == pytest.approx(2 * unverified)
    assert verified * 60 <= 300


@given(st.lists(st.booleans(), min_size=1, max_size=300))
def test_aimd_halves_on_429_recovers_on_success_and_stays_within_floor_and_ceiling(
    outcomes: list[bool],
) -> None:
    policy = QuotaPolicy.google_health()
    assert policy.rate_per_s is not None
    budget = RequestBudget(policy, FakeClock(0.0))
    for refused in outcomes:
        before = budget.rate_per_s
        assert before is not None
        if refused:
            budget.on_rate_limited()
            assert budget.rate_per_s == max(policy.min_rate_per_s, before / 2)
        else:
            budget.on_success()
            assert budget.rate_per_s >= before
        assert policy.min_rate_per_s <= budget.rate_per_s <= policy.rate_per_s


def test_after_a_429_the_pace_comes_back_slowly() -> None:
    policy = QuotaPolicy.google_health()
    budget = RequestBudget(policy, FakeClock(0.0))
    budget.on_rate_limited()
    assert budget.rate_per_s == pytest.approx(policy.rate_per_s / 2)  # type: ignore[operator]
    for _ in range(10):
        budget.on_success()
    assert budget.rate_per_s < policy.rate_per_s  # type: ignore[operator]
    for _ in range(50):
        budget.on_success()
    assert budget.rate_per_s == policy.rate_per_s


@given(st.lists(st.floats(0, 30), min_size=1, max_size=400))
def test_a_sliding_budget_never_exceeds_its_limit_in_any_window(gaps: list[float]) -> None:
    clock = FakeClock(0.0)
    policy = QuotaPolicy(limit=20, window_s=60.0)
    budget = RequestBudget(policy, clock)
    sent: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        clock.sleep(budget.wait_needed_s())
        budget.record_sent()
        sent.append(clock.now_s())
    # any fixed minute (as servers count) and any sliding 60 s window hold at most 20
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60.0) <= 20
    for minute in {int(t // 60) for t in sent}:
        assert sum(1 for t in sent if int(t // 60) == minute) <= 20


def test_fitbit_headers_hold_requests_until_the_announced_reset() -> None:
    clock = FakeClock(0.0)
    budget = RequestBudget(QuotaPolicy.fitbit_legacy(), clock)
    budget.record_sent()
    budget.observe_headers({"Fitbit-Rate-Limit-Remaining": "3", "Fitbit-Rate-Limit-Reset": "900"})
    assert budget.wait_needed_s() == 0
    budget.observe_headers({"Fitbit-Rate-Limit-Remaining": "0", "Fitbit-Rate-Limit-Reset": "900"})
    assert budget.wait_needed() == (901.0, "headers")


def test_fitbit_local_budget_spreads_a_backfill_over_hours() -> None:
    clock = FakeClock(0.0)
    budget = RequestBudget(QuotaPolicy.fitbit_legacy(), clock)
    for _ in range(150):
        budget.record_sent()
    assert budget.wait_needed() == (3600.0, "budget")


def test_google_policy_ignores_fitbit_headers() -> None:
    budget = RequestBudget(QuotaPolicy.google_health(), FakeClock(0.0))
    budget.observe_headers({"Fitbit-Rate-Limit-Remaining": "0", "Fitbit-Rate-Limit-Reset": "900"})
    assert budget.wait_needed_s() == 0


@given(st.integers(1, 50), st.integers(0, 2**32))
def test_backoff_grows_but_stays_bounded_and_jittered(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=60.0)
    wait = policy.backoff_s(attempt, random.Random(seed))
    ceiling = min(60.0, 2.0 ** (attempt - 1))
    assert ceiling / 2 <= wait <= ceiling


@given(st.floats(0, 10_000), st.integers(0, 2**32))
def test_retry_after_is_honoured_but_capped_never_to_the_top_of_the_hour(
    retry_after: float, seed: int
) -> None:
    policy = RetryPolicy(retry_after_cap_s=120.0)
    wait = policy.rate_limit_wait_s(retry_after, 1, random.Random(seed))
    assert min(retry_after, 120.0) <= wait <= 120.0 * 1.1 + 0.5


def test_a_429_without_retry_after_still_waits_a_little() -> None:
    assert RetryPolicy().rate_limit_wait_s(None, 1, random.Random(1)) >= 5.0


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert parse_retry_after_s("17", 0.0) == 17.0
    assert parse_retry_after_s("Fri, 20 Nov 2026 12:01:00 GMT", 1_795_176_000.0) == 60.0
    assert parse_retry_after_s("soon", 0.0) is None
    assert parse_retry_after_s(None, 0.0) is None
