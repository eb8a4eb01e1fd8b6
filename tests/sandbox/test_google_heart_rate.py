"""Heart-rate and daily data-point listings: filters, paging, order, visibility, encoding.

All over loopback HTTP against a started sandbox; ground truth comes from the sandbox's own
`state.ground_truth_samples`, never from heartkeep's client code.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from discovery_schema import validate, validate_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_tokens import HEALTH, api, grant

from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.server import SandboxServer

HR = "/v4/users/me/dataTypes/heart-rate/dataPoints"
RHR = "/v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints"
ZONES = "/v4/users/me/dataTypes/daily-heart-rate-zones/dataPoints"
START = int(TEST_START_S)  # 2026-11-20T12:00:00Z


def stamp(instant_s: int) -> str:
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def physical(start_s: int, end_s: int) -> str:
    return (
        f'heart_rate.sample_time.physical_time >= "{stamp(start_s)}" AND '
        f'heart_rate.sample_time.physical_time < "{stamp(end_s)}"'
    )


def as_tuple(point: dict[str, Any]) -> tuple[int, int, int]:
    sample = point["heartRate"]
    instant = int(dt.datetime.fromisoformat(sample["sampleTime"]["physicalTime"]).timestamp())
    offset = int(sample["sampleTime"]["utcOffset"].removesuffix("s"))
    return instant, int(sample["beatsPerMinute"]), offset


def walk(client, path: str, params: dict[str, Any], schema: str = "ListDataPointsResponse"):
    """Every page of a listing: (points in served order, pages)."""
    points: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        query = dict(params)
        if token:
            query["pageToken"] = token
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        validate(page, schema)
        pages.append(page)
        points.extend(page.get("dataPoints", []))
        token = page.get("nextPageToken")
        if not token:
            return points, pages


def test_paging_serves_every_sample_once_newest_first(sandbox, client, user_id) -> None:
    lo, hi = START - 8 * 3600, START
    points, pages = walk(client, HR, {"filter": physical(lo, hi), "pageSize": 2000})
    served = [as_tuple(p) for p in points]
    truth = sandbox.state.ground_truth_samples(user_id, lo, hi)
    assert len(truth) > 5000
    assert served == truth[::-1]
    assert len(pages) == math.ceil(len(truth) / 2000)
    assert all(len(page["dataPoints"]) == 2000 for page in pages[:-1])
    assert "nextPageToken" not in pages[-1]


def test_points_have_googles_exact_shape(client) -> None:
    page = client.get(HR, params={"pageSize": 3}).json()
    point = page["dataPoints"][0]
    assert set(point) == {"dataSource", "heartRate"}  # no `name` on heart-rate samples
    assert point["dataSource"]["recordingMethod"] == "PASSIVELY_MEASURED"
    sample_time = point["heartRate"]["sampleTime"]
    assert sample_time["physicalTime"].endswith("Z")
    assert sample_time["utcOffset"] == "3600s"
    assert isinstance(point["heartRate"]["beatsPerMinute"], str)
    assert set(sample_time["civilTime"]) == {"date", "time"}


def test_documented_page_sizes(sandbox_factory) -> None:
    server = sandbox_factory(page_size_mode="documented")
    with api(server, grant(server)["access_token"]) as client:
        assert len(client.get(HR).json()["dataPoints"]) == 1440
        assert len(client.get(HR, params={"pageSize": 20000}).json()["dataPoints"]) == 10000
        assert len(client.get(HR, params={"page_size": 7}).json()["dataPoints"]) == 7
        assert len(client.get(HR, params={"pageSize": 0}).json()["dataPoints"]) == 1440


def test_observed_page_sizes_are_the_default(sandbox_factory) -> None:
    server = sandbox_factory()
    with api(server, grant(server)["access_token"]) as http:
        assert len(http.get(HR).json()["dataPoints"]) == 50
        assert len(http.get(HR, params={"pageSize": 10000}).json()["dataPoints"]) == 5000
        assert len(http.get(HR, params={"pageSize": 300}).json()["dataPoints"]) == 300


@pytest.mark.parametrize("size", ["-1", "many"])
def test_a_bad_page_size_is_400(client, size: str) -> None:
    response = client.get(HR, params={"pageSize": size})
    assert response.status_code == 400
    validate_error(response.json())


def test_an_empty_window_is_an_empty_object(client) -> None:
    before = client.get(HR, params={"filter": physical(START - 600 * 86400, START - 599 * 86400)})
    assert before.json() == {}
    future = client.get(HR, params={"filter": physical(START, START + 86400)})
    assert future.json() == {}


def test_empty_pages_that_carry_a_token_lose_nothing(sandbox_factory) -> None:
    server = sandbox_factory(empty_page_every=2)
    user_id = next(iter(server.state.users))
    lo, hi = START - 3 * 3600, START
    with api(server, grant(server)["access_token"]) as http:
        points, pages = walk(http, HR, {"filter": physical(lo, hi), "pageSize": 1000})
    assert [as_tuple(p) for p in points] == server.state.ground_truth_samples(user_id, lo, hi)[::-1]
    empty = [page for page in pages if "dataPoints" not in page]
    assert empty
    assert all("nextPageToken" in page for page in empty)


def test_data_appears_only_once_the_device_has_synced(sandbox, client, user_id) -> None:
    lo, hi = START - 3600, START + 3600
    window = {"filter": physical(lo, hi), "pageSize": 10000}
    served = [as_tuple(p) for p in walk(client, HR, window)[0]]
    assert max(s[0] for s in served) <= START - 900  # 15 minutes of sync lag
    sandbox.state.set_last_sync(user_id, START - 1800)
    earlier = [as_tuple(p) for p in walk(client, HR, window)[0]]
    assert max(s[0] for s in earlier) <= START - 1800
    assert earlier == sandbox.state.ground_truth_samples(user_id, lo, hi)[::-1]
    # Late-arriving data: the device syncs again and the same query sees more.
    sandbox.state.set_last_sync(user_id, None)
    sandbox.state.clock.advance(1800)
    later = [as_tuple(p) for p in walk(client, HR, window)[0]]
    assert len(later) > len(served) > len(earlier)
    assert later[-len(earlier) :] == earlier


def test_a_page_token_only_continues_its_own_query(sandbox, client) -> None:
    first = client.get(HR, params={"filter": physical(START - 7200, START), "pageSize": 10}).json()
    token = first["nextPageToken"]
    ok = client.get(HR, params={"filter": physical(START - 7200, START), "pageToken": token})
    assert ok.status_code == 200  # a different page size is fine
    for params in (
        {"filter": physical(START - 3600, START), "pageToken": token},
        {"pageToken": token},
        {"filter": physical(START - 7200, START), "pageToken": token[:-3] + "xyz"},
        {"filter": physical(START - 7200, START), "pageToken": "garbage!"},
    ):
        response = client.get(HR, params=params)
        assert response.status_code == 400, params
        body = response.json()
        validate_error(body)
        assert body["error"]["status"] == "INVALID_ARGUMENT"


def test_civil_time_filters_use_each_samples_own_offset(sandbox, client, user_id) -> None:
    """A day in New York (the demo user's trip): civil bounds are New York wall-clock times."""
    day = dt.date(2026, 5, 11)
    lo_s, hi_s = START - 195 * 86400, START - 191 * 86400
    civil = (
        f'heart_rate.sample_time.civil_time >= "{day}T06:00:00" AND '
        f'heart_rate.sample_time.civil_time < "{day}T09:00:00"'
    )
    served = [as_tuple(p) for p in walk(client, HR, {"filter": civil, "pageSize": 10000})[0]]
    truth = [
        s
        for s in sandbox.state.ground_truth_samples(user_id, lo_s, hi_s)
        if f"{day}T06:00:00" <= _local(s) < f"{day}T09:00:00"
    ]
    assert served == truth[::-1]
    assert len(served) > 1000
    assert {s[2] for s in served} == {-4 * 3600}


def test_civil_day_filter_on_the_dst_day_covers_25_hours(sandbox, client, user_id) -> None:
    filter_ = (
        'heart_rate.sample_time.civil_time >= "2026-10-25" AND '
        'heart_rate.sample_time.civil_time < "2026-10-26"'
    )
    served = [as_tuple(p) for p in walk(client, HR, {"filter": filter_, "pageSize": 10000})[0]]
    truth = [
        s
        for s in sandbox.state.ground_truth_samples(user_id, 1_792_800_000, 1_793_100_000)
        if _local(s).startswith("2026-10-25")
    ]
    assert served == truth[::-1]
    assert {s[2] for s in served} == {7200, 3600}
    assert served[0][0] - served[-1][0] > 24 * 3600


def _local(sample: tuple[int, int, int]) -> str:
    moment = dt.datetime.fromtimestamp(sample[0] + sample[2], dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_timestamps_with_offsets_are_accepted(sandbox, client, user_id) -> None:
    filter_ = (
        'heart_rate.sample_time.physical_time >= "2026-11-20T10:00:00+01:00" AND '
        'heart_rate.sample_time.physical_time < "2026-11-20T11:00:00+01:00"'
    )
    served = [as_tuple(p) for p in walk(client, HR, {"filter": filter_, "pageSize": 10000})[0]]
    truth = sandbox.state.ground_truth_samples(user_id, START - 3 * 3600, START - 2 * 3600)
    assert served == truth[::-1]


@pytest.mark.parametrize(
    ("filter_", "reasons", "columns"),
    [
        ('sleep.interval.end_time >= "2026-11-01T00:00:00Z"', "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH", [1]),  # noqa: E501
        ('heartbeat.time >= "2026-11-01T00:00:00Z"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION", [1]),  # noqa: E501
        ('heart_rate.interval.start_time >= "2026-11-01T00:00:00Z"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER", [1]),  # noqa: E501
        ('heart_rate.sample_time.physical_time > "2026-11-01T00:00:00Z"', "INVALID_DATA_POINT_FILTER_SYNTAX", [38]),  # noqa: E501
        ('heart_rate.sample_time.physical_time >= "2026-11-01T00:00:00Z" OR heart_rate.sample_time.physical_time < "2026-11-02T00:00:00Z"', "INVALID_DATA_POINT_FILTER_SYNTAX", [64]),  # noqa: E501
        ('heart_rate.sample_time.physical_time >= 2026', "INVALID_DATA_POINT_FILTER_SYNTAX", [41]),
        ('heart_rate.sample_time.physical_time >=', "INVALID_DATA_POINT_FILTER_MISSING_TOKEN", [1]),
        ('heart_rate.sample_time.physical_time >= "2026-11-01"', "INVALID_FILTER_FORMAT", [41]),
        ('heart_rate.sample_time.civil_time >= "2026-11-01T00:00:00Z"', "INVALID_FILTER_FORMAT", [38]),  # noqa: E501
        ('steps.interval.start_time >= "2026-11-01T00:00:00Z" AND heart_rate.date < "2026-11-02"', "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH,INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER", [1, 57]),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_filters_are_400_with_reasons_per_term(
    client, filter_: str, reasons: str, columns: list[int]
) -> None:
    response = client.get(HR, params={"filter": filter_})
    assert response.status_code == 400
    body = response.json()
    validate_error(body)
    info, bad = body["error"]["details"]
    assert info["reason"] == "INVALID_DATA_POINT_FILTER"
    assert info["metadata"]["detailedReasons"] == reasons
    assert body["error"]["message"] == f"Invalid data point filter: {reasons}."
    found = [v["description"] for v in bad["fieldViolations"]]
    for description, column in zip(found, columns, strict=True):
        assert description.endswith(f"(at line 1, column {column})")


def test_reconcile_serves_the_same_samples_without_a_source(sandbox, client, user_id) -> None:
    lo, hi = START - 3600, START
    points, _ = walk(
        client,
        HR + ":reconcile",
        {"filter": physical(lo, hi), "pageSize": 1000},
        "ReconcileDataPointsResponse",
    )
    assert all(set(p) == {"heartRate"} for p in points)
    assert [as_tuple(p) for p in points] == sandbox.state.ground_truth_samples(user_id, lo, hi)[
        ::-1
    ]


def test_data_source_families(client) -> None:
    window = {"filter": physical(START - 600, START)}
    everything = client.get(HR, params=window).json()
    for family in ("all-sources", "google-wearables", "google-sources"):
        params = {**window, "dataSourceFamily": f"users/me/dataSourceFamilies/{family}"}
        assert client.get(HR, params=params).json() == everything
    own = {**window, "dataSourceFamily": "users/me/dataSourceFamilies/self-sources"}
    assert client.get(HR, params=own).json() == {}
    bad = client.get(HR, params={**window, "dataSourceFamily": "users/me/families/mine"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["reason"] == "INVALID_DATA_POINT_DATA_SOURCE_FAMILY"


def test_daily_resting_heart_rate_newest_first_with_date_filter(sandbox, client, user_id) -> None:
    filter_ = (
        'daily_resting_heart_rate.date >= "2026-11-01" AND '
        'daily_resting_heart_rate.date < "2026-11-25"'
    )
    points, pages = walk(client, RHR, {"filter": filter_, "pageSize": 5})
    days = [dt.date(**p["dailyRestingHeartRate"]["date"]) for p in points]
    assert days == sorted(days, reverse=True)
    assert days[0] == dt.date(2026, 11, 19)  # the 20th is not over yet
    assert days[-1] >= dt.date(2026, 11, 1)
    assert len(pages) == math.ceil(len(points) / 5)
    physiology = sandbox.state.physiology[user_id]
    for point, day in zip(points, days, strict=True):
        assert point["dailyRestingHeartRate"]["beatsPerMinute"] == str(physiology.resting_hr(day))
        assert point["dataSource"] == {"recordingMethod": "DERIVED", "platform": "FITBIT"}


def test_daily_zones_match_the_physiology(sandbox, client, user_id) -> None:
    filter_ = (
        'daily_heart_rate_zones.date >= "2026-11-17" AND daily_heart_rate_zones.date < "2026-11-19"'
    )
    points, _ = walk(client, ZONES, {"filter": filter_})
    assert [p["dailyHeartRateZones"]["date"]["day"] for p in points] == [18, 17]
    physiology = sandbox.state.physiology[user_id]
    zones = points[0]["dailyHeartRateZones"]["heartRateZones"]
    expected = physiology.zones(dt.date(2026, 11, 18))
    served = [
        (z["heartRateZoneType"], int(z["minBeatsPerMinute"]), int(z["maxBeatsPerMinute"]))
        for z in zones
    ]
    assert served == [(name, low, high) for name, low, high, _ in expected]


def test_daily_types_filter_by_date_only(client) -> None:
    response = client.get(
        RHR,
        params={"filter": 'daily_resting_heart_rate.interval.start_time >= "2026-11-01T00:00:00Z"'},
    )
    assert response.status_code == 400
    reasons = response.json()["error"]["details"][0]["metadata"]["detailedReasons"]
    assert reasons == "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"


def test_daily_listings_can_have_empty_pages_too(sandbox_factory) -> None:
    server = sandbox_factory(empty_page_every=2)
    filter_ = (
        'daily_resting_heart_rate.date >= "2026-11-01" AND '
        'daily_resting_heart_rate.date < "2026-11-20"'
    )
    with api(server, grant(server)["access_token"]) as http:
        points, pages = walk(http, RHR, {"filter": filter_, "pageSize": 4})
    days = [p["dailyRestingHeartRate"]["date"]["day"] for p in points]
    assert days == sorted(set(days), reverse=True)
    assert any("dataPoints" not in page for page in pages)


def test_getting_a_heart_rate_point_by_name_is_a_json_404(client) -> None:
    response = client.get(HR + "/8808518358174752984")
    assert response.status_code == 404
    body = response.json()
    validate_error(body)
    assert body["error"]["details"][0]["reason"] == "RESOURCE_NOT_FOUND"


def test_a_walk_across_a_travel_day_keeps_every_offset(sandbox, client, user_id) -> None:
    lo, hi = 1_777_831_200, 1_777_896_000  # 2026-05-03T18:00Z .. 2026-05-04T12:00Z
    served = [
        as_tuple(p) for p in walk(client, HR, {"filter": physical(lo, hi), "pageSize": 10000})[0]
    ]
    assert served == sandbox.state.ground_truth_samples(user_id, lo, hi)[::-1]
    assert {s[2] for s in served} == {7200, -4 * 3600}  # Berlin summer time, then New York


@pytest.fixture(scope="module")
def shared_sandbox():
    """One sandbox for many hypothesis examples (hypothesis reruns the test body, not fixtures)."""
    with SandboxServer(
        SandboxConfig(start_s=TEST_START_S, per_user_per_second=0, empty_page_every=0)
    ) as server:
        user = next(iter(server.state.users))
        token = server.state.issue_tokens(user, (HEALTH,))["access_token"]
        with api(server, token) as http:
            yield server, http, user


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.integers(min_value=START - 3 * 86400, max_value=START),
    length=st.integers(min_value=0, max_value=3 * 3600),
    page_size=st.integers(min_value=1, max_value=4000),
)
def test_any_window_and_page_size_walks_to_the_ground_truth(
    shared_sandbox, start: int, length: int, page_size: int
) -> None:
    server, http, user = shared_sandbox
    truth = server.state.ground_truth_samples(user, start, start + length)
    if len(truth) / page_size > 60:  # keep each example quick
        page_size = len(truth) // 60 + 1
    points, pages = walk(
        http, HR, {"filter": physical(start, start + length), "pageSize": page_size}
    )
    assert [as_tuple(p) for p in points] == truth[::-1]
    assert len(pages) == max(1, math.ceil(len(truth) / page_size))
