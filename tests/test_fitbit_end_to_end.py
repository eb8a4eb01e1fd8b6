"""The seed's flow, end to end, against the sandbox's legacy Fitbit emulator over loopback.

A person logs in with `--provider fitbit` (Basic client authentication, single-use refresh
tokens in the vault), syncs a year of second-by-second heart rate (one request per local day,
spread over hourly rate-limit windows without a single 429), and finds exactly the sandbox's
ground truth in the database — through DST changes, an access token expiring mid-sync, and
today's data arriving late.  After the 2026-11-02 shutdown the same commands explain the
migration.  Everything waits on the sandbox's simulated clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import httpx
import msgspec
import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.auth import connected_accounts
from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.errors import AuthorizationFailed
from heartkeep.model import DailyKind
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.store import open_store
from heartkeep.sync.events import PageCommitted

Rows = npt.NDArray[np.int64]

START_DAY = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()


def person(days: int, *, legacy_user_id: str = "YR2026", seed: int = 11) -> UserSpec:
    """A Berlin user who joined `days` days before the test clock (no trips: the legacy API's
    local times then map back exactly; see docs/fitbit-legacy.md for travel)."""
    return UserSpec(
        health_user_id=f"9{seed:05d}",
        legacy_user_id=legacy_user_id,
        display_name="Seed Flow",
        time_zone="Europe/Berlin",
        member_since=START_DAY - dt.timedelta(days=days),
        seed=seed,
    )


def browser(url: str) -> bool:
    """The person's browser: the sandbox auto-approves and redirects to heartkeep's callback."""
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    assert consent.headers["location"].endswith("#_=_")
    httpx.get(consent.headers["location"], timeout=10)
    return True


@pytest.fixture
def world(sandbox_factory: Any, settings: Settings) -> Any:
    """`world(days, **config)` → (server, settings, account key) after a Fitbit login."""

    def make(days: int, **config: Any) -> tuple[Any, Settings, str]:
        server = sandbox_factory(users=(person(days),), **config)
        local = msgspec.structs.replace(settings, sandbox_url=server.url, http_timeout_s=30.0)
        result = api.login(
            local, provider="fitbit", open_browser=browser, clock=server.state.clock, timeout_s=10
        )
        return server, local, result.account_key

    return make


def stored(settings: Settings, key: str) -> Rows:
    """Every stored sample as an n x 3 array of (instant_s, bpm, offset_s) rows, read as
    numpy columns: a backfill's million samples cost no `Sample` object each."""
    with open_store(settings.database) as store:
        columns = store.sample_columns(key)
    return np.column_stack([columns.instants_s, columns.bpm, columns.offsets_min * 60])


def truth(server: Any) -> Rows:
    """What the API serves now, from the local day of joining, as `stored` gives it."""
    state = server.state
    (health_id,) = state.users
    spec = state.users[health_id]
    start_s, _ = state.physiology[health_id].local_day_bounds(spec.member_since)
    return np.column_stack(state.visible_samples(health_id, start_s, int(state.now_s()) + 1))


def rows(samples: list[tuple[int, int, int]]) -> Rows:
    """(instant_s, bpm, offset_s) tuples as `stored` gives them."""
    return np.array(samples, dtype=np.int64).reshape(-1, 3)


def assert_same_rows(actual: Rows, expected: Rows) -> None:
    """Row for row equal, as two lists of tuples would be; a failure shows where they differ."""
    np.testing.assert_array_equal(actual, expected, strict=True)


def pin_last_sync(server: Any, seconds_ago: int) -> None:
    (health_id,) = server.state.users
    server.state.set_last_sync(health_id, server.state.now_s() - seconds_ago)


def test_a_backfill_is_the_ground_truth_one_request_a_day_and_never_a_429(world: Any) -> None:
    """30 days (back past the 2026-10-25 fall-back day) against a server allowing 12 calls an
    hour: heartkeep's own budget (150 an hour) never binds, so zero 429s proves it reads
    `Fitbit-Rate-Limit-Remaining/-Reset` and waits for the top of the hour.  (A full year at
    150 an hour: bench/bench_fitbit_backfill.py.)  Two resets need only ~33 requests at 12 an
    hour: 45 days at 20 an hour, and 100 days at 40 before that, proved the same at more cost."""
    server, settings, key = world(30, fitbit_per_user_per_hour=12)
    assert key == "fitbit-legacy:YR2026"
    pin_last_sync(server, 15 * 60)  # data visible up to a fixed instant, whatever the clock does
    started_s = server.state.now_s()

    report = api.sync(settings, clock=server.state.clock)

    (account,) = report.accounts
    assert account.ok, account.error
    assert_same_rows(stored(settings, key), truth(server))  # includes the 2026-10-25 fall-back day
    days = 31  # from the local day of joining through today
    assert server.state.requests_to("/activities/heart/") == days
    assert account.requests <= days + 5  # + profile and devices
    statuses = [status for _method, path, status in server.state.request_log if "/1/" in path]
    assert 429 not in statuses
    assert fitbit_sandbox(server.state).quota.rejected == 0
    # 12 calls an hour: the backfill waits out two resets, on the simulated clock.
    assert account.rate_limit_waits >= 2
    assert server.state.now_s() - started_s >= 2 * 3600 - 40 * 60
    # Each complete day's zones and resting HR came with its sample page.
    (health_id,) = server.state.users
    physiology = server.state.physiology[health_id]
    with open_store(settings.database) as store:
        resting = {d.day: d.value for d in store.dailies(key, kind=DailyKind.RESTING_HR)}
        zones = store.dailies(key, kind=DailyKind.ZONES)
    week_ago = START_DAY - dt.timedelta(days=7)
    assert resting[week_ago] == physiology.resting_hr(week_ago)
    assert len(zones) >= days - 6


def test_the_spring_forward_day_is_repaired_exactly(world: Any) -> None:
    server, settings, key = world(300)
    report = api.sync(
        settings,
        clock=server.state.clock,
        since=dt.date(2026, 3, 28),
        until=dt.date(2026, 3, 31),
    )
    assert report.accounts[0].ok, report.accounts[0].error
    assert server.state.requests_to("/activities/heart/") == 3
    (health_id,) = server.state.users
    physiology = server.state.physiology[health_id]
    start_s, _ = physiology.local_day_bounds(dt.date(2026, 3, 28))
    _, end_s = physiology.local_day_bounds(dt.date(2026, 3, 30))
    assert end_s - start_s == 3 * 86_400 - 3600  # the 23-hour day
    expected = server.state.ground_truth_samples(health_id, start_s, end_s)
    assert_same_rows(stored(settings, key), rows(expected))
    offsets = {offset for _i, _b, offset in expected}
    assert offsets == {3600, 7200}


def test_an_access_token_expiring_mid_sync_is_refreshed_once_and_nothing_is_lost(
    world: Any,
) -> None:
    server, settings, key = world(12)
    pin_last_sync(server, 15 * 60)
    auth = fitbit_sandbox(server.state).auth
    pages: list[PageCommitted] = []

    def expire_after_third_page(event: object) -> None:
        if isinstance(event, PageCommitted):
            pages.append(event)
            if len(pages) == 3:
                auth.expire_access_tokens()

    report = api.sync(settings, clock=server.state.clock, on_event=expire_after_third_page)

    assert report.accounts[0].ok, report.accounts[0].error
    assert_same_rows(stored(settings, key), truth(server))
    statuses = [status for _m, path, status in server.state.request_log if "/1/user/" in path]
    assert statuses.count(401) == 1  # expired_token, then the refreshed token is replayed
    assert sum(auth.refresh_spends.values()) == 1
    assert max(auth.refresh_spends.values()) == 1  # no refresh token was ever spent twice


def test_revoked_access_mid_sync_asks_for_a_new_login_and_keeps_what_was_saved(
    world: Any,
) -> None:
    server, settings, key = world(12)
    auth = fitbit_sandbox(server.state).auth
    pages: list[PageCommitted] = []

    def revoke_after_second_page(event: object) -> None:
        if isinstance(event, PageCommitted):
            pages.append(event)
            if len(pages) == 2:
                auth.revoke_all_tokens("YR2026")

    report = api.sync(settings, clock=server.state.clock, on_event=revoke_after_second_page)

    (account,) = report.accounts
    assert not account.ok
    assert account.exit_code == 4
    assert "heartkeep auth login" in (account.error or "")
    assert len(stored(settings, key)) == account.samples_added > 0


def test_today_is_read_again_until_the_device_has_synced_it(world: Any) -> None:
    server, settings, key = world(5)
    pin_last_sync(server, 5 * 3600)
    first = api.sync(settings, clock=server.state.clock)
    assert first.accounts[0].ok
    assert_same_rows(stored(settings, key), truth(server))
    server.state.clock.advance(3600)
    pin_last_sync(server, 60)  # the watch synced the afternoon
    second = api.sync(settings, clock=server.state.clock)
    assert second.accounts[0].ok
    assert second.accounts[0].samples_added > 0
    assert_same_rows(stored(settings, key), truth(server))


def test_after_the_shutdown_sync_gives_one_clear_migration_message(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, settings, _key = world(3)
    server.state.config = dataclasses.replace(server.state.config, fitbit_shutdown=True)
    report = api.sync(settings, clock=server.state.clock)
    (account,) = report.accounts
    assert account.exit_code == 5
    message = account.error or ""
    assert "2026-11-02" in message
    assert "do not carry over" in message
    assert "heartkeep auth login --provider google" in message
    assert "Takeout" in message

    monkeypatch.setenv("HEARTKEEP_SANDBOX_URL", server.url)
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 5
    assert "2026-11-02" in result.output
    assert "heartkeep auth login --provider google" in result.output


def test_days_the_tracker_has_not_synced_cost_no_request_and_arrive_later(world: Any) -> None:
    server, settings, key = world(10)
    pin_last_sync(server, 60 * 3600)  # the watch last synced two and a half days ago
    first = api.sync(settings, clock=server.state.clock)
    assert first.accounts[0].ok, first.accounts[0].error
    assert server.state.requests_to("/activities/heart/") == 11 - 2  # not the last two days
    assert_same_rows(stored(settings, key), truth(server))
    (health_id,) = server.state.users
    server.state.set_last_sync(health_id, None)  # it syncs again: data up to 15 minutes ago
    second = api.sync(settings, clock=server.state.clock, trailing_days=3)
    assert second.accounts[0].ok, second.accounts[0].error
    assert_same_rows(stored(settings, key), truth(server))


def test_server_errors_resets_and_cut_bodies_on_the_way_still_end_in_the_ground_truth(
    world: Any,
) -> None:
    server, settings, key = world(8)
    pin_last_sync(server, 15 * 60)
    faults = server.state.faults
    heart = "/activities/heart/"
    # Schedules fire in order: one good day, then 503, 503, reset, cut body, 500.
    faults.schedule("error_503", 2, after=1, path_contains=heart)
    faults.schedule("reset", 1, path_contains=heart)
    faults.schedule("truncate", 1, path_contains=heart)
    faults.schedule("error_500", 1, path_contains=heart)

    report = api.sync(settings, clock=server.state.clock)

    (account,) = report.accounts
    assert account.ok, account.error
    assert account.retries == len(faults.fired) == 5
    assert {kind for kind, _path in faults.fired} == {"error_503", "reset", "truncate", "error_500"}
    assert_same_rows(stored(settings, key), truth(server))


def test_a_trip_abroad_is_stored_shifted_by_the_zone_difference_as_documented(
    sandbox_factory: Any, settings: Settings
) -> None:
    """The legacy API gives local times of wherever the person was and only today's zone: days
    spent in New York are read as Berlin wall times (docs/fitbit-legacy.md, "Travel")."""
    away = START_DAY - dt.timedelta(days=40)
    home = dataclasses.replace(
        person(60),
        travel=((away, "America/New_York"), (away + dt.timedelta(days=10), "Europe/Berlin")),
    )
    server = sandbox_factory(users=(home,))
    local = msgspec.structs.replace(settings, sandbox_url=server.url)
    key = api.login(
        local, provider="fitbit", open_browser=browser, clock=server.state.clock
    ).account_key
    middle = away + dt.timedelta(days=5)
    report = api.sync(
        local, clock=server.state.clock, since=middle, until=middle + dt.timedelta(days=1)
    )
    assert report.accounts[0].ok, report.accounts[0].error
    physiology = server.state.physiology[home.health_user_id]
    start_s, end_s = physiology.local_day_bounds(middle)  # the New York day
    truth_there = server.state.ground_truth_samples(home.health_user_id, start_s, end_s)
    assert {offset for _i, _b, offset in truth_there} == {-4 * 3600}  # EDT
    berlin_s = 2 * 3600  # early October in Berlin: CEST
    expected = [(instant - 6 * 3600, bpm, berlin_s) for instant, bpm, _offset in truth_there]
    assert_same_rows(stored(local, key), rows(expected))


def test_a_fitbit_code_older_than_ten_minutes_is_explained_and_nothing_is_saved(
    sandbox: Any, settings: Settings
) -> None:
    """The seed's own pain: the person came back to the terminal too late."""

    def slow_browser(url: str) -> bool:
        consent = httpx.get(url, follow_redirects=False, timeout=10)
        sandbox.state.clock.advance(11 * 60)
        httpx.get(consent.headers["location"], timeout=10)
        return True

    local = msgspec.structs.replace(settings, sandbox_url=sandbox.url)
    with pytest.raises(AuthorizationFailed) as caught:
        api.login(local, provider="fitbit", open_browser=slow_browser, clock=sandbox.state.clock)
    assert "10 minutes" in str(caught.value)
    assert connected_accounts(local) == []


def test_logout_revokes_the_grant_at_fitbit_and_forgets_the_tokens(world: Any) -> None:
    server, settings, key = world(3)
    auth = fitbit_sandbox(server.state).auth
    assert len(auth.active_refresh_tokens("YR2026")) == 1
    assert api.logout(settings, key, clock=server.state.clock) == [key]
    assert auth.active_refresh_tokens("YR2026") == []
    assert connected_accounts(settings) == []


def test_an_app_without_intraday_access_is_told_so_instead_of_storing_empty_days(
    world: Any,
) -> None:
    server, settings, key = world(3)
    fitbit_sandbox(server.state).api.intraday_access = False
    report = api.sync(settings, clock=server.state.clock)
    (account,) = report.accounts
    assert account.exit_code == 5
    assert "no intraday access" in (account.error or "")
    assert "Personal" in (account.error or "")
    assert len(stored(settings, key)) == 0
