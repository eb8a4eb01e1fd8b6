"""Google's per-user quota as a personal user meets it: a sync against the sandbox over loopback,
both sides on one SimClock, the sandbox enforcing the app class's rate without `Retry-After`."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from heartkeep import api

HR_PATH = "/dataTypes/heart-rate/dataPoints"


def statuses(world) -> list[int]:
    return [entry.status for entry in world.state.request_log]


def test_an_unverified_backfill_is_paced_under_the_quota_and_meets_no_429(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(8),))
    world.state.request_log.clear()
    window = world.history()
    started = world.clock.now_s()
    truth = world.truth(window)  # what the API serves when the sync starts
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    assert world.stored(window) == truth
    sent = statuses(world)
    assert 429 not in sent
    # Evenly spaced at 2.5 requests/s less a 2 % reserve: the quota-bound time, not much more.
    elapsed = world.clock.now_s() - started
    assert (len(sent) - 1) / 2.5 <= elapsed <= 1.05 * len(sent) / 2.5


def test_a_client_assuming_too_much_adapts_to_429s_and_still_gets_everything(
    world_factory, small_user
) -> None:
    """The app is unverified but heartkeep is told it is verified: 429s arrive (without
    Retry-After); the pace halves and the backfill completes, exact, without a 429 storm."""
    world = world_factory(users=(small_user(8),))
    world.settings = replace(world.settings, app_class="verified")
    world.state.request_log.clear()
    window = world.history()
    truth = world.truth(window)  # what the API serves when the sync starts
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    assert world.stored(window) == truth
    sent = statuses(world)
    refused = sent.count(429)
    assert refused >= 1
    assert refused <= 0.2 * len(sent)


def test_a_verified_app_is_paced_twice_as_fast_as_an_unverified_one(
    world_factory, small_user
) -> None:
    def seconds_per_request(app_class: str) -> float:
        world = world_factory(users=(small_user(8),), app_class=app_class)
        world.settings = replace(world.settings, app_class=app_class)
        world.state.request_log.clear()
        started = world.clock.now_s()
        assert world.sync().exit_code == 0
        sent = statuses(world)
        assert 429 not in sent
        return (world.clock.now_s() - started) / (len(sent) - 1)

    unverified = seconds_per_request("unverified")
    verified = seconds_per_request("verified")
    assert unverified == pytest.approx(1 / (2.5 * 0.98), rel=0.01)
    assert verified == pytest.approx(1 / (5.0 * 0.98), rel=0.01)


def test_the_quota_assumption_says_which_class_and_where_it_came_from(settings) -> None:
    default = api.quota_assumption(settings)
    assert (default.app_class, default.rate_per_s, default.source) == ("unverified", 2.5, "default")
    chosen = api.quota_assumption(api.load_settings({"app_class": "verified"}))
    assert (chosen.app_class, chosen.rate_per_s, chosen.source) == (
        "verified",
        5.0,
        "command line",
    )
