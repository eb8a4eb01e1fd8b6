"""Parsing Google Health heart-rate points: the hot path, checked against an independent encoder.

The encoder here follows the reference's proto3-JSON rules (int64 as strings, RFC 3339 `Z`
times with optional fractions, `"Ns"` durations, zero values omitted) without sharing code with
the provider or the sandbox.
"""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.errors import ProviderError
from heartkeep.model import Sample
from heartkeep.providers.google_heart_rate import parse_heart_rate_page


def parse_heart_rate_points(points: list[dict]) -> list[Sample]:
    body = orjson.dumps({"dataPoints": points, "nextPageToken": "next"})
    samples, token = parse_heart_rate_page(body)
    assert token == "next"
    return samples


def _point(instant_s: int, bpm: int, offset_min: int, fraction_us: int = 0) -> dict:
    stamp = dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction_us:
        stamp += f".{fraction_us:06d}".rstrip("0")
    sample_time: dict = {"physicalTime": stamp + "Z"}
    if offset_min:
        sample_time["utcOffset"] = f"{offset_min * 60}s"
    return {
        "dataSource": {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT"},
        "heartRate": {"sampleTime": sample_time, "beatsPerMinute": str(bpm)},
    }


samples = st.lists(
    st.tuples(
        st.integers(946_684_800, 2_147_483_000),
        st.integers(25, 240),
        st.sampled_from([-600, -300, -240, 0, 60, 120, 330, 345, 765]),
        st.sampled_from([0, 0, 0, 1, 500_000, 998_943]),
    ),
    max_size=200,
)


@given(samples)
def test_points_parse_to_the_samples_they_encode(rows) -> None:
    points = [_point(i, b, o, f) for i, b, o, f in rows]
    assert parse_heart_rate_points(points) == [Sample(i, b, o) for i, b, o, _ in rows]


def test_offsets_in_other_forms_and_points_of_other_types() -> None:
    points = [
        {
            "heartRate": {
                "sampleTime": {"physicalTime": "2026-09-25T19:04:59+09:00", "utcOffset": "32400s"},
                "beatsPerMinute": "63",
            }
        },
        {"steps": {"count": "12"}},
        {
            "heartRate": {
                "sampleTime": {"physicalTime": "2026-09-25T10:04:57Z"},
                "beatsPerMinute": "61",
            }
        },
    ]
    instant = int(dt.datetime(2026, 9, 25, 10, 4, 59, tzinfo=dt.UTC).timestamp())
    assert parse_heart_rate_points(points) == [Sample(instant, 63, 540), Sample(instant - 2, 61, 0)]


@pytest.mark.parametrize(
    "broken",
    [
        {"heartRate": {"sampleTime": {"physicalTime": "yesterday"}, "beatsPerMinute": "60"}},
        {"heartRate": {"sampleTime": {"physicalTime": "2026-09-25T10:04:57Z"}}},
        {"heartRate": {"beatsPerMinute": "60"}},
        {
            "heartRate": {
                "sampleTime": {"physicalTime": "2026-09-25T10:04:57Z", "utcOffset": "7201s"},
                "beatsPerMinute": "60",
            }
        },
    ],
)
def test_a_malformed_point_is_an_error_not_a_silent_gap(broken: dict) -> None:
    with pytest.raises(ProviderError, match="unexpected heart-rate"):
        parse_heart_rate_points([_point(1_790_000_000, 60, 60), broken])


def test_a_last_page_may_be_an_empty_object() -> None:
    assert parse_heart_rate_page(b"{}") == ([], "")


def test_bpm_as_json_number_is_accepted_too() -> None:
    point = {
        "heartRate": {"sampleTime": {"physicalTime": "2026-09-25T10:04:57Z"}, "beatsPerMinute": 61}
    }
    body = orjson.dumps({"dataPoints": [point]})
    assert parse_heart_rate_page(body)[0][0].bpm == 61
