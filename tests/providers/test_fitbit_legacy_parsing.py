"""The legacy Fitbit provider's pure parts: responses as Fitbit sends them → samples and dailies.

Recorded shapes come from reference/fitbit-web-api.md §4 (the documented 1sec example, missing
resting HR, zones without minutes, the old string-valued shape).  DST handling is checked as a
property: whatever the wall clock of a DST day shows, the instants come out strictly in the
order the device recorded them and match the zone's rules.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartkeep import http_client, timeline
from heartkeep.errors import (
    ProviderError,
    ProviderGone,
    RateLimited,
    ReauthorizationNeeded,
    ScopeMissing,
    TransientError,
)
from heartkeep.model import DailyKind, Sample
from heartkeep.providers.fitbit_legacy import (
    error_for,
    local_clock_to_instants,
    parse_dailies,
    parse_intraday,
)

DOC_EXAMPLE = {
    "activities-heart": [
        {
            "dateTime": "2019-01-01",
            "value": {
                "customHeartRateZones": [],
                "heartRateZones": [
                    {
                        "caloriesOut": 126.18,
                        "max": 94,
                        "min": 30,
                        "minutes": 67,
                        "name": "Out of Range",
                    },
                    {"caloriesOut": 27.21, "max": 131, "min": 94, "minutes": 5, "name": "Fat Burn"},
                    {"caloriesOut": 0, "max": 159, "min": 131, "minutes": 0, "name": "Cardio"},
                    {"caloriesOut": 0, "max": 220, "min": 159, "minutes": 0, "name": "Peak"},
                ],
                "restingHeartRate": 68,
            },
        }
    ],
    "activities-heart-intraday": {
        "dataset": [
            {"time": "00:00:00", "value": 64},
            {"time": "00:00:10", "value": 63},
            {"time": "00:00:20", "value": 64},
            {"time": "00:00:45", "value": 65},
        ],
        "datasetInterval": 1,
        "datasetType": "second",
    },
}


def _clock(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def test_documented_example_becomes_samples_in_the_users_zone_and_its_dailies() -> None:
    samples, dailies = parse_intraday(DOC_EXAMPLE, dt.date(2019, 1, 1), "Asia/Tokyo")
    midnight = int(dt.datetime(2019, 1, 1, tzinfo=timeline.zone("Asia/Tokyo")).timestamp())
    assert samples == [
        Sample(midnight, 64, 540),
        Sample(midnight + 10, 63, 540),
        Sample(midnight + 20, 64, 540),
        Sample(midnight + 45, 65, 540),
    ]
    resting = [d for d in dailies if d.kind is DailyKind.RESTING_HR]
    zones = [d for d in dailies if d.kind is DailyKind.ZONES]
    assert resting[0].value == 68.0
    assert [z.name for z in zones[0].zones] == ["Out of Range", "Fat Burn", "Cardio", "Peak"]
    assert zones[0].zones[0].minutes == 67.0


def test_a_day_without_wear_has_no_resting_hr_and_its_minuteless_zones_are_skipped() -> None:
    body = {
        "activities-heart": [
            {
                "dateTime": "2024-03-02",
                "value": {
                    "customHeartRateZones": [],
                    "heartRateZones": [{"max": 94, "min": 30, "name": "Out of Range"}],
                },
            }
        ],
        "activities-heart-intraday": {"dataset": [], "datasetInterval": 1, "datasetType": "second"},
    }
    samples, dailies = parse_intraday(body, dt.date(2024, 3, 2), "Europe/Berlin")
    assert samples == []
    assert dailies == []


def test_the_old_string_valued_shape_yields_no_dailies() -> None:
    body = {"activities-heart": [{"dateTime": "today", "value": "64.2"}]}
    assert parse_dailies(body, dt.date(2024, 3, 2)) == []


def test_missing_intraday_key_means_no_permission_not_an_empty_day() -> None:
    body = {"activities-heart": DOC_EXAMPLE["activities-heart"]}
    with pytest.raises(ProviderError, match="no intraday access"):
        parse_intraday(body, dt.date(2019, 1, 1), "UTC")


def test_a_malformed_time_is_a_provider_error() -> None:
    body = {"activities-heart-intraday": {"dataset": [{"time": "25:00:00", "value": 60}]}}
    with pytest.raises(ProviderError, match="unreadable heart-rate point"):
        parse_intraday(body, dt.date(2019, 1, 1), "UTC")


def test_spring_forward_day_has_23_hours_and_times_after_the_gap_use_summer_time() -> None:
    day = dt.date(2026, 3, 29)  # Europe/Berlin: 02:00 CET → 03:00 CEST
    clock = np.array([_clock(t) for t in ("01:59:59", "03:00:00", "23:59:59")], dtype=np.int64)
    instants, offsets = local_clock_to_instants(day, clock, "Europe/Berlin")
    assert offsets.tolist() == [60, 120, 120]
    assert instants[1] - instants[0] == 1  # the skipped hour does not exist
    span = timeline.local_day_window(day, "Europe/Berlin")
    assert span.seconds == 23 * 3600
    assert span.start_s <= instants.min()
    assert instants.max() < span.end_s


def test_fall_back_hour_is_read_twice_in_order_thanks_to_the_backwards_step() -> None:
    day = dt.date(2026, 10, 25)  # Europe/Berlin: 03:00 CEST → 02:00 CET
    times = ["01:59:50", "02:30:00", "02:59:59", "02:00:05", "02:30:00", "03:00:00"]
    clock = np.array([_clock(t) for t in times], dtype=np.int64)
    instants, offsets = local_clock_to_instants(day, clock, "Europe/Berlin")
    assert offsets.tolist() == [120, 120, 120, 60, 60, 60]
    assert np.all(np.diff(instants) > 0)
    assert instants[4] - instants[1] == 3600  # the same wall time, one hour apart


def test_fall_back_without_a_second_pass_reads_the_repeated_hour_as_the_first() -> None:
    day = dt.date(2026, 11, 1)  # America/New_York falls back at 02:00 EDT
    clock = np.array([_clock("01:30:00"), _clock("04:00:00")], dtype=np.int64)
    _, offsets = local_clock_to_instants(day, clock, "America/New_York")
    assert offsets.tolist() == [-240, -300]


@settings(max_examples=60, deadline=None)
@given(
    zone_name=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    day=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2027, 12, 31)),
    gaps=st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=200),
)
def test_any_recorded_day_round_trips_through_wall_times(
    zone_name: str, day: dt.date, gaps: list[int]
) -> None:
    """Instants a device records on a local day → the API's wall times → the same instants."""
    span = timeline.local_day_window(day, zone_name)
    truth = span.start_s + np.cumsum(np.array(gaps, dtype=np.int64)) - 1
    truth = truth[truth < span.end_s]
    offsets_min = np.array([timeline.zone_offset_min(zone_name, int(t)) for t in truth])
    midnight = (day.toordinal() - dt.date(1970, 1, 1).toordinal()) * 86_400
    wall = truth + offsets_min * 60 - midnight
    # A second pass through a repeated hour is recognisable only by its backwards step; a day
    # whose samples skip the first pass is documented as ambiguous (read as the first pass).
    second_pass = [
        dt.datetime.fromtimestamp(int(t), timeline.zone(zone_name)).fold == 1 for t in truth
    ]
    instants, offsets = local_clock_to_instants(day, wall.astype(np.int64), zone_name)
    if not any(second_pass) or bool((np.diff(wall) < 0).any()):
        assert instants.tolist() == truth.tolist()
        assert offsets.tolist() == offsets_min.tolist()


def _response(
    status: int, body: bytes, headers: dict[str, str] | None = None
) -> http_client.Response:
    return http_client.Response(status, content=body, headers=headers or {})


def test_410_becomes_the_migration_message() -> None:
    error = error_for(_response(410, b""))
    assert isinstance(error, ProviderGone)
    text = str(error)
    assert "2026-11-02" in text
    assert "heartkeep auth login --provider google" in text
    assert "heartkeep import takeout PATH" in text
    assert "do not carry over" in text


def test_401_messages_never_echo_the_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDVjVUS0gifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    body = (
        b'{"errors":[{"errorType":"invalid_token","message":"Access token invalid: '
        + token.encode()
        + b'. Visit https://dev.fitbit.com/docs/oauth2 for more information."}],"success":false}'
    )
    error = error_for(_response(401, body))
    assert isinstance(error, ReauthorizationNeeded)
    assert error.provider_code == "invalid_token"
    assert token not in str(error)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (403, b'{"errors":[{"errorType":"insufficient_scope","message":"no"}]}', ScopeMissing),
        (429, b'{"errors":[{"errorType":"system","message":"Too Many Requests"}]}', RateLimited),
        (503, b"", TransientError),
        (400, b'{"errors":[{"errorType":"validation","message":"bad date"}]}', ProviderError),
    ],
)
def test_refusals_map_onto_the_error_tree(status: int, body: bytes, kind: type) -> None:
    assert isinstance(error_for(_response(status, body, {"Retry-After": "60"})), kind)
