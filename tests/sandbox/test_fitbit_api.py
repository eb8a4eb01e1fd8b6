"""The sandbox's legacy Fitbit resource API serves reference §4–§7 shapes, limits and errors.

All over loopback HTTP against a started sandbox; the data are checked against the sandbox's
ground truth (the same person the Google side serves), converted to the local wall times the
legacy API speaks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitbit_session import login
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.physiology import UserSpec

HEART = "/1/user/-/activities/heart/date"


@pytest.fixture
def api(sandbox: Any) -> httpx.Client:
    with httpx.Client(base_url=sandbox.url) as http, login(http) as authorized:
        yield authorized


def demo_id(sandbox: Any) -> str:
    """The health user id of the sandbox's (first) user, whom the Fitbit login authorizes."""
    return next(iter(sandbox.state.users))


def local_truth(sandbox: Any, day: dt.date) -> list[tuple[str, int]]:
    """Ground truth of a local day as the legacy API must show it: (HH:mm:ss, bpm) in order."""
    start_s, end_s = sandbox.state.physiology[demo_id(sandbox)].local_day_bounds(day)
    truth = sandbox.state.ground_truth_samples(demo_id(sandbox), start_s, end_s)
    rows = []
    for instant, bpm, offset in truth:
        wall = dt.datetime.fromtimestamp(instant + offset, dt.UTC)
        rows.append((wall.strftime("%H:%M:%S"), bpm))
    return rows


def today(sandbox: Any) -> dt.date:
    return sandbox.state.physiology[demo_id(sandbox)].local_date_of(int(sandbox.state.now_s()))


def test_profile_carries_zone_offset_membership_and_encoded_id(
    sandbox: Any, api: httpx.Client
) -> None:
    user = api.get("/1/user/-/profile.json").json()["user"]
    spec = sandbox.state.users[demo_id(sandbox)]
    assert user["encodedId"] == spec.legacy_user_id
    assert user["timezone"] == "Europe/Berlin"
    assert user["offsetFromUTCMillis"] == 3_600_000  # November: CET
    assert user["memberSince"] == spec.member_since.isoformat()


def test_devices_report_the_last_sync_as_local_time_without_offset(
    sandbox: Any, api: httpx.Client
) -> None:
    devices = api.get("/1/user/-/devices.json").json()
    assert isinstance(devices, list)
    synced = sandbox.state.last_sync_s(demo_id(sandbox))
    local = dt.datetime.fromtimestamp(int(synced) + 3600, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000")
    assert devices[0]["lastSyncTime"] == local
    assert devices[0]["type"] == "TRACKER"


def test_intraday_1sec_day_is_the_ground_truth_in_local_wall_time(
    sandbox: Any, api: httpx.Client
) -> None:
    day = today(sandbox) - dt.timedelta(days=2)
    response = api.get(f"{HEART}/{day.isoformat()}/1d/1sec.json")
    assert response.status_code == 200
    body = response.json()
    intraday = body["activities-heart-intraday"]
    assert intraday["datasetInterval"] == 1
    assert intraday["datasetType"] == "second"
    assert [(p["time"], p["value"]) for p in intraday["dataset"]] == local_truth(sandbox, day)
    summary = body["activities-heart"][0]
    assert summary["dateTime"] == day.isoformat()
    physiology = sandbox.state.physiology[demo_id(sandbox)]
    assert summary["value"]["restingHeartRate"] == physiology.resting_hr(day)
    names = [zone["name"] for zone in summary["value"]["heartRateZones"]]
    assert names == ["Out of Range", "Fat Burn", "Cardio", "Peak"]
    assert summary["value"]["customHeartRateZones"] == []


@pytest.mark.parametrize(("detail", "interval"), [("1min", 1), ("5min", 5), ("15min", 15)])
def test_coarser_details_are_means_per_wall_clock_bucket(
    sandbox: Any, api: httpx.Client, detail: str, interval: int
) -> None:
    day = today(sandbox) - dt.timedelta(days=2)
    intraday = api.get(f"{HEART}/{day.isoformat()}/1d/{detail}.json").json()[
        "activities-heart-intraday"
    ]
    assert intraday["datasetInterval"] == interval
    assert intraday["datasetType"] == "minute"
    truth = local_truth(sandbox, day)
    first = intraday["dataset"][0]
    minute = first["time"][:5]
    bucket = [
        bpm
        for time, bpm in truth
        if (int(time[:2]) * 60 + int(time[3:5])) // interval
        == (int(minute[:2]) * 60 + int(minute[3:5])) // interval
    ]
    assert first["value"] == int(sum(bucket) / len(bucket) + 0.5)
    assert all(p["time"].endswith(":00") for p in intraday["dataset"])


def test_a_time_window_limits_the_dataset(sandbox: Any, api: httpx.Client) -> None:
    day = today(sandbox) - dt.timedelta(days=2)
    body = api.get(f"{HEART}/{day.isoformat()}/1d/1sec/time/08:00/08:30.json").json()
    times = [p["time"] for p in body["activities-heart-intraday"]["dataset"]]
    assert times
    assert times[0] >= "08:00:00"
    assert times[-1] <= "08:30:59"
    assert times == [t for t, _ in local_truth(sandbox, day) if "08:00:00" <= t <= "08:30:59"]


def test_an_interval_may_cross_midnight_but_not_exceed_24_hours(
    sandbox: Any, api: httpx.Client
) -> None:
    day = today(sandbox) - dt.timedelta(days=3)
    following = day + dt.timedelta(days=1)
    ok = api.get(f"{HEART}/{day.isoformat()}/{following.isoformat()}/1min/time/22:00/02:00.json")
    assert ok.status_code == 200
    body = ok.json()
    assert [s["dateTime"] for s in body["activities-heart"]] == [
        day.isoformat(),
        following.isoformat(),
    ]
    times = [p["time"] for p in body["activities-heart-intraday"]["dataset"]]
    assert times[0] >= "22:00:00"
    assert times[-1] <= "02:00:00"
    too_long = api.get(
        f"{HEART}/{day.isoformat()}/{following.isoformat()}/1min/time/08:00/08:01.json"
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["errorType"] == "request"
    assert "24 hours" in too_long.json()["errors"][0]["message"]


def test_today_is_partial_up_to_the_last_device_sync(sandbox: Any, api: httpx.Client) -> None:
    state = sandbox.state
    synced = int(state.now_s()) - 3 * 3600
    state.set_last_sync(demo_id(sandbox), synced)
    body = api.get(f"{HEART}/today/1d/1sec.json").json()
    summary = body["activities-heart"][0]
    assert summary["dateTime"] == today(sandbox).isoformat()
    assert "restingHeartRate" not in summary["value"]  # the day is not complete yet
    assert all("minutes" not in zone for zone in summary["value"]["heartRateZones"])
    last = body["activities-heart-intraday"]["dataset"][-1]["time"]
    limit = dt.datetime.fromtimestamp(synced + 3600, dt.UTC).strftime("%H:%M:%S")
    assert last <= limit


def test_timezone_utc_serves_the_utc_day_in_utc_times(sandbox: Any, api: httpx.Client) -> None:
    day = today(sandbox) - dt.timedelta(days=2)
    body = api.get(f"{HEART}/{day.isoformat()}/1d/1sec.json", params={"timezone": "UTC"}).json()
    start = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    truth = sandbox.state.ground_truth_samples(demo_id(sandbox), start, start + 86_400)
    expected = [
        (dt.datetime.fromtimestamp(i, dt.UTC).strftime("%H:%M:%S"), bpm) for i, bpm, _ in truth
    ]
    got = [(p["time"], p["value"]) for p in body["activities-heart-intraday"]["dataset"]]
    assert got == expected
    assert api.get(f"{HEART}/today/1d/1sec.json", params={"timezone": "CET"}).status_code == 400


def test_days_before_membership_have_an_empty_dataset(sandbox: Any, api: httpx.Client) -> None:
    spec = sandbox.state.users[demo_id(sandbox)]
    before = spec.member_since - dt.timedelta(days=1)
    body = api.get(f"{HEART}/{before.isoformat()}/1d/1sec.json").json()
    assert body["activities-heart-intraday"]["dataset"] == []
    assert "restingHeartRate" not in body["activities-heart"][0]["value"]


def test_daily_time_series_by_period_and_by_range(sandbox: Any, api: httpx.Client) -> None:
    end = today(sandbox) - dt.timedelta(days=1)
    week = api.get(f"{HEART}/{end.isoformat()}/7d.json").json()["activities-heart"]
    assert [e["dateTime"] for e in week] == [
        (end - dt.timedelta(days=6 - i)).isoformat() for i in range(7)
    ]
    start = end - dt.timedelta(days=29)
    month = api.get(f"{HEART}/{start.isoformat()}/{end.isoformat()}.json").json()
    assert len(month["activities-heart"]) == 30
    assert "activities-heart-intraday" not in month
    physiology = sandbox.state.physiology[demo_id(sandbox)]
    for entry in month["activities-heart"]:
        day = dt.date.fromisoformat(entry["dateTime"])
        assert entry["value"].get("restingHeartRate") == physiology.resting_hr(day)


@pytest.mark.parametrize(
    "path",
    [
        f"{HEART}/2026-11-01/max.json",
        f"{HEART}/2024-01-01/2026-01-01.json",
        f"{HEART}/2026-11-01/1d/2sec.json",
        f"{HEART}/2026-13-01/1d/1sec.json",
        f"{HEART}/2026-11-01/1d/1sec/time/25:00/26:00.json",
    ],
)
def test_invalid_requests_are_400_with_fitbits_error_body(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["errorType"] == "validation"


def test_unknown_paths_are_404_not_found(api: httpx.Client) -> None:
    response = api.get("/1/user/-/activities/steps/date/today/1d.json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["errorType"] == "not_found"


def test_a_missing_header_is_400_and_an_unknown_token_401_invalid_token(sandbox: Any) -> None:
    with httpx.Client(base_url=sandbox.url) as http:
        bare = http.get("/1/user/-/profile.json")
        assert bare.status_code == 400
        forged = http.get("/1/user/-/profile.json", headers={"Authorization": "Bearer forged"})
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["errorType"] == "invalid_token"


def test_the_default_budget_is_150_calls_an_hour(api: httpx.Client) -> None:
    response = api.get("/1/user/-/profile.json")
    assert response.headers["Fitbit-Rate-Limit-Limit"] == "150"
    assert response.headers["Fitbit-Rate-Limit-Remaining"] == "149"


def test_over_the_hourly_budget_429_until_the_top_of_the_hour(sandbox_factory: Any) -> None:
    """The same rule with a budget of 5 (configurable) keeps the test quick."""
    server = sandbox_factory(fitbit_per_user_per_hour=5)
    clock = server.state.clock
    hour = (int(clock.now_s()) // 3600 + 1) * 3600
    clock.set(hour + 600)  # 10 minutes into an hour
    with httpx.Client(base_url=server.url) as http, login(http) as api:
        for index in range(5):
            response = api.get("/1/user/-/profile.json")
            assert response.status_code == 200
            assert response.headers["Fitbit-Rate-Limit-Limit"] == "5"
            assert response.headers["Fitbit-Rate-Limit-Remaining"] == str(4 - index)
            assert response.headers["Fitbit-Rate-Limit-Reset"] == "3000"
        refused = api.get("/1/user/-/profile.json")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3000"
        assert refused.headers["Fitbit-Rate-Limit-Remaining"] == "0"
        assert refused.json() == {
            "errors": [{"errorType": "system", "fieldName": "n/a", "message": "Too Many Requests"}]
        }
        clock.set(hour + 3599)
        assert api.get("/1/user/-/profile.json").status_code == 429
        clock.set(hour + 3600)
        again = api.get("/1/user/-/profile.json")
        assert again.status_code == 200
        assert again.headers["Fitbit-Rate-Limit-Remaining"] == "4"
    assert fitbit_sandbox(server.state).quota.rejected == 2


def test_errors_after_authentication_carry_the_rate_limit_headers(api: httpx.Client) -> None:
    response = api.get(f"{HEART}/2026-11-01/max.json")
    assert response.status_code == 400
    assert "Fitbit-Rate-Limit-Remaining" in response.headers


def test_a_missing_scope_is_403_insufficient_scope(sandbox: Any) -> None:
    with httpx.Client(base_url=sandbox.url) as http, login(http, scope="profile") as api:
        response = api.get(f"{HEART}/today/1d/1sec.json")
        assert response.status_code == 403
        assert response.json()["errors"][0]["errorType"] == "insufficient_scope"


def test_dst_days_follow_the_wall_clock(sandbox_factory: Any) -> None:
    """Spring forward: no 02:xx times.  Fall back: the 02:xx hour appears twice, in order."""
    spec = UserSpec(
        health_user_id="4242",
        legacy_user_id="DST123",
        display_name="DST",
        time_zone="Europe/Berlin",
        member_since=dt.date(2025, 1, 1),
        seed=7,
    )
    server = sandbox_factory(users=(spec,))
    with httpx.Client(base_url=server.url) as http, login(http) as api:
        spring = api.get(f"{HEART}/2026-03-29/1d/1sec.json").json()
        times = [p["time"] for p in spring["activities-heart-intraday"]["dataset"]]
        assert times
        assert not [t for t in times if t.startswith("02:")]
        autumn = api.get(f"{HEART}/2026-10-25/1d/1sec.json").json()
        times = [p["time"] for p in autumn["activities-heart-intraday"]["dataset"]]
        steps_back = [i for i in range(1, len(times)) if times[i] < times[i - 1]]
        assert len(steps_back) == 1
        assert times[steps_back[0]].startswith("02:")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days_back=st.integers(min_value=0, max_value=12),
    detail=st.sampled_from(["1sec", "1min", "5min", "15min"]),
    window=st.one_of(
        st.none(),
        st.tuples(st.integers(0, 23 * 60 + 59), st.integers(0, 23 * 60 + 59)).map(sorted),
    ),
)
def test_any_day_detail_and_time_window_is_a_consistent_view_of_the_truth(
    sandbox: Any, api: httpx.Client, days_back: int, detail: str, window: list[int] | None
) -> None:
    day = today(sandbox) - dt.timedelta(days=days_back)
    path = f"{HEART}/{day.isoformat()}/1d/{detail}"
    lo, hi = "00:00:00", "23:59:59"
    if window is not None:
        first, last = (f"{m // 60:02d}:{m % 60:02d}" for m in window)
        path += f"/time/{first}/{last}"
        lo, hi = f"{first}:00", f"{last}:59"
    response = api.get(path + ".json")
    assert response.status_code == 200
    dataset = response.json()["activities-heart-intraday"]["dataset"]
    truth = [(t, bpm) for t, bpm in local_truth(sandbox, day) if lo <= t <= hi]
    if detail == "1sec":
        assert [(p["time"], p["value"]) for p in dataset] == truth
    else:
        width = {"1min": 1, "5min": 5, "15min": 15}[detail]
        buckets = sorted({(int(t[:2]) * 60 + int(t[3:5])) // width for t, _ in truth})
        assert [p["time"] for p in dataset] == [
            f"{b * width // 60:02d}:{b * width % 60:02d}:00" for b in buckets
        ]
        assert all(30 <= p["value"] <= 220 for p in dataset)


@pytest.mark.parametrize(
    ("kind", "error_type"), [("expire_token", "expired_token"), ("revoke", "invalid_token")]
)
def test_token_faults_reach_legacy_fitbit_tokens_too(
    sandbox: Any, api: httpx.Client, kind: str, error_type: str
) -> None:
    """The fault switches that spoil a token mid-sync work on the legacy API as on Google's."""
    sandbox.state.faults.schedule(kind, path_contains="/1/user/")
    first = api.get("/1/user/-/profile.json")  # the fault spoils the token this request carries
    assert first.status_code == 401
    assert first.json()["errors"][0]["errorType"] == error_type
