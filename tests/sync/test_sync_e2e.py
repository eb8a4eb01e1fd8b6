"""User stories of `heartkeep.api.sync` against the sandbox over loopback, on a shared SimClock.

The yardstick is always the sandbox's ground truth: after a sync the store holds exactly the
samples the API serves — no more, no fewer, each with the offset the API reported.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import pytest

from heartkeep import api
from heartkeep.errors import AlreadyRunning
from heartkeep.model import Window
from heartkeep.sync import PageCommitted
from heartkeep.sync.lock import sync_lock

DAY_S = 86_400
HR_PATH = "/dataTypes/heart-rate/dataPoints"


def heart_rate_requests(world) -> int:
    return world.state.requests_to(HR_PATH)


def test_first_sync_of_a_short_history_equals_ground_truth_and_needs_one_request_per_page(
    world_factory, small_user
) -> None:
    # Google's documented 10,000-point pages (the sandbox serves ~5,000 by default, as live)
    world = world_factory(users=(small_user(5),), page_size_mode="documented")
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    history = world.history()
    truth = world.truth(history)
    assert world.stored(history) == truth
    (account,) = report.accounts
    assert account.samples_added == len(truth)
    assert heart_rate_requests(world) <= math.ceil(len(truth) / 10_000) + 1
    with world.store() as store:
        stored_account = store.account(world.account_key)
    assert stored_account is not None
    assert stored_account.time_zone == "Europe/Berlin"  # from the settings endpoint


def test_a_second_run_adds_nothing_and_only_rereads_the_trailing_window(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(10),))
    world.freeze_devices()
    first = world.sync().accounts[0]
    before = heart_rate_requests(world)
    second = world.sync().accounts[0]
    assert second.ok
    assert (second.samples_added, second.samples_updated) == (0, 0)
    # three trailing days of ~25k samples a day in pages of ~5,000 (as served live): a handful
    # of pages, not the whole history
    assert heart_rate_requests(world) - before <= math.ceil(3 * 30_000 / 5_000) + 2
    assert second.samples_received < first.samples_received / 2
    assert world.stored(world.history()) == world.truth(world.history())


def test_late_arriving_data_in_the_trailing_window_is_picked_up(world_factory, small_user) -> None:
    world = world_factory(users=(small_user(4),))
    now = int(world.clock.now_s())
    world.state.set_last_sync(world.user_id, now - 6 * 3600)  # the phone has not synced lately
    world.sync()
    assert world.stored(Window(now - 6 * 3600 + 1, now + 1)) == []
    world.state.set_last_sync(world.user_id, None)  # the watch syncs; data appears late
    world.clock.advance(3600)
    report = world.sync()
    assert report.accounts[0].samples_added > 0
    assert world.stored(world.history()) == world.truth(world.history())


def test_a_sync_interrupted_mid_walk_resumes_without_loss_or_duplicates(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(6),), page_size_mode="observed")
    world.freeze_devices()
    commits = []

    class Killed(Exception):
        pass

    def kill_on_fourth_page(event) -> None:
        if isinstance(event, PageCommitted):
            commits.append(event)
            if len(commits) == 4:
                raise Killed

    with pytest.raises(Killed):
        api.sync(world.settings, clock=world.clock, on_event=kill_on_fourth_page)
    # what was committed is whole pages, consistent with the frontier
    frontier = commits[-1].frontier_s
    top = commits[0].covers.end_s
    assert world.stored(Window(frontier, top)) == world.truth(Window(frontier, top))
    with world.store() as store:
        state = store.stream_state(world.account_key, "heart-rate")
        assert state.job_frontier_s == frontier
        assert state.complete_until_s is None
    before = heart_rate_requests(world)
    report = world.sync()
    assert report.exit_code == 0
    history = world.history()
    truth = world.truth(history)
    assert world.stored(history) == truth
    with world.store() as store:
        assert store.sample_count(world.account_key) == len(truth)
    # the resumed run did not start over: it went on right below the frontier (re-reading the
    # boundary instant), then re-read the usual trailing window
    with world.store() as store:
        ledger = store.ledger(world.account_key, limit=1000)
    resumed_pages = [e for e in ledger if e.stream == "heart-rate"][: -len(commits)]
    assert resumed_pages[-1].end_s == frontier + 1
    full_walk = math.ceil(len(truth) / 5000)
    trailing = math.ceil(len(world.truth(Window(top - 3 * DAY_S, top))) / 5000)
    assert heart_rate_requests(world) - before <= full_walk - len(commits) + trailing + 2


def test_dst_and_travel_days_land_on_the_right_local_day(world_factory, small_user) -> None:
    # Berlin falls back on 2026-10-25 (a 25-hour day); the user flies to New York on 11-14 and
    # back on 11-17: each sample keeps the offset the API reported, local days follow from it.
    user = small_user(
        30,
        travel=(
            (dt.date(2026, 11, 14), "America/New_York"),
            (dt.date(2026, 11, 17), "Europe/Berlin"),
        ),
    )
    world = world_factory(users=(user,))
    world.sync()
    history = world.history()
    assert world.stored(history) == world.truth(history)
    with sqlite3.connect(world.settings.database) as db:
        offsets = dict(
            db.execute(
                "SELECT local_date, group_concat(DISTINCT utc_offset_min) FROM heart_rate_readable "
                "WHERE local_date IN ('2026-10-24','2026-10-26','2026-11-15') GROUP BY local_date"
            ).fetchall()
        )
        span_h = db.execute(
            "SELECT (max(instant) - min(instant)) / 3600.0 FROM heart_rate_readable "
            "WHERE local_date = '2026-10-25'"
        ).fetchone()[0]
        night = db.execute(
            "SELECT local_date, time_local FROM heart_rate_readable "
            "WHERE time_utc >= '2026-11-15T04:30:00Z' ORDER BY instant LIMIT 1"
        ).fetchone()
    assert offsets == {"2026-10-24": "120", "2026-10-26": "60", "2026-11-15": "-300"}
    assert span_h > 24.0  # the fall-back day holds 25 hours of local time
    # 04:30Z on 11-15 is still the evening of 11-14 in New York, not "today in Berlin"
    assert night[0] == "2026-11-14"
    assert night[1].endswith("-05:00")


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        ("rate_limit", 12),
        ("error_500", 3),
        ("error_503", 2),
        ("reset", 2),
        ("truncate", 2),
        ("expire_token", 1),
        ("latency", 1),
    ],
)
def test_faults_mid_sync_still_end_with_the_exact_ground_truth(
    world_factory, small_user, kind: str, count: int
) -> None:
    world = world_factory(users=(small_user(3),), page_size_mode="observed")
    if kind == "latency":
        world.use_timeout(0.3)  # the sandbox's scheduled latency (0.5 s) outlasts it
    world.state.faults.schedule(kind, count, after=3, path_contains=HR_PATH)
    started = int(world.clock.now_s())
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    window = Window(world.history().start_s, started - 900)
    assert world.stored(window) == world.truth(window)
    account = report.accounts[0]
    if kind != "expire_token":
        assert account.retries >= 1
    if kind == "rate_limit":
        assert account.rate_limit_waits >= 1


def test_a_revoked_grant_stops_that_account_cleanly_and_keeps_what_was_committed(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(4),), page_size_mode="observed")
    world.state.faults.schedule("revoke", 1, after=4, path_contains=HR_PATH)
    report = world.sync()
    (account,) = report.accounts
    assert not account.ok
    assert (account.exit_code, report.exit_code) == (4, 4)
    assert "heartkeep auth login" in (account.error or "")
    with world.store() as store:
        state = store.stream_state(world.account_key, "heart-rate")
        runs = store.runs(world.account_key)
    assert state.job_frontier_s is not None
    committed = Window(state.job_frontier_s, state.job_hi_s)
    assert world.stored() == world.truth(committed)
    assert runs[0].status == "failed"


def test_gap_repair_with_since_and_until_refetches_exactly_that_range(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(6),))
    world.freeze_devices()
    world.sync()
    with sqlite3.connect(world.settings.database) as db:
        db.execute(
            "DELETE FROM heart_rate WHERE instant >= ? AND instant < ?",
            (world.history().start_s, int(world.clock.now_s()) - 2 * DAY_S),
        )
    hole_end = int(world.clock.now_s()) - 2 * DAY_S
    start_day = dt.datetime.fromtimestamp(world.history().start_s, dt.UTC).date()
    until_day = dt.datetime.fromtimestamp(hole_end, dt.UTC).date() + dt.timedelta(days=1)
    report = world.sync(since=start_day, until=until_day)
    assert report.accounts[0].samples_added > 0
    assert world.stored(world.history()) == world.truth(world.history())


def test_an_overlapping_run_exits_with_already_running(world_factory, small_user) -> None:
    world = world_factory(users=(small_user(2),))
    with sync_lock(world.settings.data_dir), pytest.raises(AlreadyRunning) as caught:
        world.sync()
    assert caught.value.exit_code == 75
    assert world.stored() == []
    assert world.sync().exit_code == 0  # the lock is free again


def test_one_failing_account_does_not_stop_the_others(world_factory, small_user) -> None:
    first = small_user(2)
    second = small_user(2, user_id="7777000011112222333", legacy_id="SECOND", seed=11)
    world = world_factory(users=(first, second))
    other_key = world.login_as(second.health_user_id)
    world.state.revoke_all_tokens(first.health_user_id)
    report = world.sync()
    by_key = {r.account_key: r for r in report.accounts}
    assert not by_key[world.account_key].ok
    assert by_key[other_key].ok
    assert by_key[other_key].samples_added > 0
    assert report.exit_code == 4


@pytest.mark.parametrize(("kind", "exit_code"), [("error_503", 6), ("reset", 6), ("rate_limit", 7)])
def test_a_provider_that_stays_down_ends_the_run_cleanly_within_bounded_time(
    world_factory, small_user, kind: str, exit_code: int
) -> None:
    world = world_factory(users=(small_user(3),), page_size_mode="observed")
    world.state.faults.schedule(kind, 1000, after=3, path_contains=HR_PATH)
    started = world.clock.now_s()
    visible = world.visible_until()
    report = world.sync()
    (account,) = report.accounts
    assert not account.ok
    assert (account.exit_code, report.exit_code) == (exit_code, exit_code)
    assert "run `heartkeep sync` again later" in (account.error or "")
    assert world.clock.now_s() - started <= 15 * 60 + 60  # bounded total wait, no hour-long sleep
    with world.store() as store:
        state = store.stream_state(world.account_key, "heart-rate")
    # the three pages served before the outage are committed, with their cursor
    assert world.stored() == world.truth(Window(state.job_frontier_s, visible))
    assert len(world.stored()) == 3 * 5000


def test_empty_pages_that_still_carry_a_token_do_not_end_the_walk(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(4),), empty_page_every=3, page_size_mode="documented")
    report = world.sync()
    assert report.exit_code == 0
    history = world.history()
    truth = world.truth(history)
    assert world.stored(history) == truth
    full_pages = math.ceil(len(truth) / 10_000)
    # every third page was empty: the walk went on through each of them
    assert heart_rate_requests(world) >= full_pages + full_pages // 3
    assert heart_rate_requests(world) <= full_pages + full_pages // 2 + 2


def test_a_testing_app_whose_refresh_token_died_asks_for_a_new_login(
    world_factory, small_user
) -> None:
    world = world_factory(users=(small_user(2),), testing_app=True)
    assert world.sync().exit_code == 0
    world.clock.advance(8 * DAY_S)  # 'Testing' apps' refresh tokens die after 7 days
    report = world.sync()
    (account,) = report.accounts
    assert report.exit_code == 4
    assert "heartkeep auth login" in (account.error or "")
    with world.store() as store:
        assert store.sample_count(world.account_key) > 0  # what was synced stays


def test_a_watch_away_from_its_phone_longer_than_the_trailing_window_loses_nothing(
    world_factory, small_user
) -> None:
    """Five days without a device sync, a three-day trailing window: the late days still come."""
    world = world_factory(users=(small_user(8),))
    now = int(world.clock.now_s())
    world.state.set_last_sync(world.user_id, now - 5 * 86_400)  # the phone stayed at home
    world.sync()
    world.clock.advance(2 * 86_400)
    world.sync()  # still nothing new from the watch: two more days pass
    world.state.set_last_sync(world.user_id, None)  # back in range: five days arrive at once
    world.clock.advance(3600)
    report = world.sync()
    assert report.accounts[0].samples_added > 0
    assert world.stored(world.history()) == world.truth(world.history())
