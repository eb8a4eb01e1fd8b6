"""`:rollUp` and `:dailyRollUp` for heart rate and resting heart rate, over loopback HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from discovery_schema import validate, validate_error
from sandbox_tokens import api, grant

from heartkeep.sandbox.config import TEST_START_S

POINTS = "/v4/users/me/dataTypes/{}/dataPoints"
ROLL = POINTS.format("heart-rate") + ":rollUp"
DAILY = POINTS.format("heart-rate") + ":dailyRollUp"
START = int(TEST_START_S)


def civil(day: dt.date) -> dict[str, object]:
    return {"date": {"year": day.year, "month": day.month, "day": day.day}}


def test_roll_up_windows_match_the_samples(sandbox, client, user_id) -> None:
    body = {
        "range": {"startTime": "2026-11-19T00:00:00Z", "endTime": "2026-11-19T05:30:00Z"},
        "windowSize": "3600s",
    }
    response = client.post(ROLL, json=body)
    assert response.status_code == 200
    result = response.json()
    validate(result, "RollUpDataPointsResponse")
    windows = result["rollupDataPoints"]
    assert [w["startTime"][11:16] for w in windows] == [
        "05:00",
        "04:00",
        "03:00",
        "02:00",
        "01:00",
        "00:00",
    ]
    assert windows[0]["endTime"] == "2026-11-19T05:30:00Z"  # the last window is truncated
    truth = sandbox.state.ground_truth_samples(user_id, 1_795_046_400, 1_795_046_400 + 3600)
    bpm = [s[1] for s in truth]
    assert windows[-1]["heartRate"] == {
        "beatsPerMinuteAvg": round(sum(bpm) / len(bpm), 3),
        "beatsPerMinuteMin": float(min(bpm)),
        "beatsPerMinuteMax": float(max(bpm)),
    }


def test_roll_up_pages_and_leaves_out_empty_windows(sandbox, client, user_id) -> None:
    body = {
        "range": {"startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T13:00:00Z"},
        "windowSize": "600s",
        "pageSize": 4,
    }
    windows = []
    while True:
        page = client.post(ROLL, json=body).json()
        validate(page, "RollUpDataPointsResponse")
        windows.extend(page["rollupDataPoints"])
        if "nextPageToken" not in page:
            break
        body["pageToken"] = page["nextPageToken"]
    # Data is visible up to 11:45 (15 minutes of sync lag): windows from 11:50 on are empty.
    starts = [w["startTime"][11:16] for w in windows]
    assert starts[0] == "11:40"
    assert starts[-1] == "10:00"
    assert len(starts) == len(set(starts)) == 11
    changed = {**body, "windowSize": "300s"}
    assert client.post(ROLL, json=changed).status_code == 400


def span(start: str, end: str) -> dict[str, str]:
    return {"startTime": f"2026-11-{start}Z", "endTime": f"2026-11-{end}Z"}


DAY = span("01T00:00:00", "02T00:00:00")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"range": span("01T00:00:00", "16T00:00:00"), "windowSize": "3600s"}, "INVALID_ROLLUP_QUERY_DURATION"),  # noqa: E501
        ({"range": DAY, "windowSize": "0.5s"}, "INVALID_ARGUMENT"),
        ({"range": DAY}, "INVALID_ARGUMENT"),
        ({"windowSize": "60s"}, "INVALID_ARGUMENT"),
        ({"range": span("02T00:00:00", "01T00:00:00"), "windowSize": "60s"}, "INVALID_ARGUMENT"),
        ({"range": {"startTime": "yesterday", "endTime": "2026-11-01T00:00:00Z"}, "windowSize": "60s"}, "INVALID_ARGUMENT"),  # noqa: E501
        ({"range": DAY, "windowSize": "60s", "colour": 1}, "INVALID_ARGUMENT"),
    ],
)  # fmt: skip
def test_bad_roll_up_requests_are_400(client, body, reason: str) -> None:
    response = client.post(ROLL, json=body)
    assert response.status_code == 400
    validate_error(response.json())
    assert response.json()["error"]["details"][0]["reason"] == reason


def test_json_with_leading_zeros_is_rejected_like_google_does(client) -> None:
    raw = b'{"range": {"start": {"date": {"year": 2026, "month": 09, "day": 1}}}}'
    response = client.post(DAILY, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "Octal/hex numbers are not valid JSON values" in response.json()["error"]["message"]


def test_daily_roll_up_groups_samples_by_their_own_local_day(sandbox, client, user_id) -> None:
    body = {"range": {"start": civil(dt.date(2026, 10, 24)), "end": civil(dt.date(2026, 10, 27))}}
    result = client.post(DAILY, json=body).json()
    validate(result, "DailyRollUpDataPointsResponse")
    days = [p["civilStartTime"]["date"]["day"] for p in result["rollupDataPoints"]]
    assert days == [26, 25, 24]
    first = result["rollupDataPoints"][0]
    assert first["civilStartTime"]["time"] == {}
    assert first["civilEndTime"]["date"] == {"year": 2026, "month": 10, "day": 27}
    truth = sandbox.state.ground_truth_samples(user_id, 1_792_800_000, 1_793_100_000)
    dst_day = [
        bpm
        for instant, bpm, offset in truth
        if dt.datetime.fromtimestamp(instant + offset, dt.UTC).date() == dt.date(2026, 10, 25)
    ]
    assert result["rollupDataPoints"][1]["heartRate"]["beatsPerMinuteMax"] == max(dst_day)
    assert result["rollupDataPoints"][1]["heartRate"]["beatsPerMinuteMin"] == min(dst_day)


def test_daily_roll_up_pages_fourteen_days_at_most(client) -> None:
    body = {
        "range": {"start": civil(dt.date(2026, 11, 6)), "end": civil(dt.date(2026, 11, 20))},
        "windowSizeDays": 2,
        "pageSize": 3,
    }
    first = client.post(DAILY, json=body).json()
    assert len(first["rollupDataPoints"]) == 3
    second = client.post(DAILY, json={**body, "pageToken": first["nextPageToken"]}).json()
    starts = [p["civilStartTime"]["date"]["day"] for p in first["rollupDataPoints"]]
    starts += [p["civilStartTime"]["date"]["day"] for p in second["rollupDataPoints"]]
    assert starts == [18, 16, 14, 12, 10, 8]
    too_long = {
        "range": {"start": civil(dt.date(2026, 11, 1)), "end": civil(dt.date(2026, 11, 20))}
    }
    response = client.post(DAILY, json=too_long)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["reason"] == "INVALID_ROLLUP_QUERY_DURATION"
    unaligned = {
        "range": {
            "start": {**civil(dt.date(2026, 11, 1)), "time": {"hours": 6}},
            "end": civil(dt.date(2026, 11, 2)),
        }
    }
    assert client.post(DAILY, json=unaligned).status_code == 400


def test_daily_roll_up_of_resting_heart_rate_gives_the_range(sandbox, client, user_id) -> None:
    body = {
        "range": {"start": civil(dt.date(2026, 11, 1)), "end": civil(dt.date(2026, 11, 22))},
        "windowSizeDays": 7,
    }
    result = client.post(POINTS.format("daily-resting-heart-rate") + ":dailyRollUp", json=body)
    assert result.status_code == 200
    validate(result.json(), "DailyRollUpDataPointsResponse")
    windows = result.json()["rollupDataPoints"]
    physiology = sandbox.state.physiology[user_id]
    rates = [physiology.resting_hr(dt.date(2026, 11, d)) for d in range(15, 20)]  # to the 19th
    assert windows[0]["restingHeartRatePersonalRange"] == {
        "beatsPerMinuteMin": float(min(r for r in rates if r)),
        "beatsPerMinuteMax": float(max(r for r in rates if r)),
    }


def test_roll_ups_need_the_types_scope_and_a_roll_up_type(sandbox, client) -> None:
    response = client.post(POINTS.format("daily-resting-heart-rate") + ":rollUp", json={})
    assert response.status_code == 400
    token = grant(
        sandbox, scopes=("https://www.googleapis.com/auth/googlehealth.settings.readonly",)
    )
    with api(sandbox, token["access_token"]) as other:
        assert other.post(ROLL, json={}).status_code == 403
