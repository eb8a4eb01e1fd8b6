"""Focused checks of the sandbox's encoders and filter parser, where the logic is subtle.

Property tests (hypothesis) pin the proto3-JSON time encodings and the AIP-160 parser against
the standard library's own calendar arithmetic.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pytest
from discovery_schema import validate
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.sandbox.catalog import DAILY_RESTING_HEART_RATE, HEART_RATE
from heartkeep.sandbox.filters import parse_civil, parse_filter
from heartkeep.sandbox.rpc import ApiError
from heartkeep.sandbox.wire import (
    duration,
    heart_rate_points,
    parse_duration,
    parse_timestamp,
    timestamp,
)

INSTANTS = st.integers(min_value=946_684_800, max_value=4_102_444_800)  # 2000..2100
OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: q * 900)


@given(INSTANTS)
def test_timestamps_round_trip_in_utc_with_z(instant: int) -> None:
    text = timestamp(instant)
    assert text.endswith("Z")
    assert parse_timestamp(text) == instant
    assert dt.datetime.fromisoformat(text) == dt.datetime.fromtimestamp(instant, dt.UTC)


@given(INSTANTS, OFFSETS)
def test_timestamps_with_any_offset_mean_the_same_instant(instant: int, offset_s: int) -> None:
    zone = dt.timezone(dt.timedelta(seconds=offset_s))
    text = dt.datetime.fromtimestamp(instant, zone).isoformat()
    assert parse_timestamp(text) == instant


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_durations_are_whole_seconds_with_an_s(seconds: int) -> None:
    assert duration(seconds) == f"{seconds}s"
    assert parse_duration(duration(seconds)) == seconds


@pytest.mark.parametrize(
    "text", ["2026-11-20", "2026-11-20T12:00:00", "12:00", "2026-13-01T00:00:00Z"]
)
def test_non_rfc3339_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|month"):
        parse_timestamp(text)


@given(st.lists(st.tuples(INSTANTS, OFFSETS, st.integers(30, 220)), min_size=1, max_size=50))
def test_heart_rate_points_encode_civil_time_from_each_offset(
    rows: list[tuple[int, int, int]],
) -> None:
    instants = np.array([r[0] for r in rows], dtype=np.int64)
    offsets = np.array([r[1] for r in rows], dtype=np.int64)
    bpm = np.array([r[2] for r in rows], dtype=np.int64)
    body = orjson.loads("{" + f'"dataPoints":[{heart_rate_points(instants, bpm, offsets)}]' + "}")
    validate(body, "ListDataPointsResponse")
    for point, (instant, offset, beats) in zip(body["dataPoints"], rows, strict=True):
        sample = point["heartRate"]
        assert sample["beatsPerMinute"] == str(beats)
        assert sample["sampleTime"]["utcOffset"] == f"{offset}s"
        assert parse_timestamp(sample["sampleTime"]["physicalTime"]) == instant
        local = dt.datetime.fromtimestamp(instant, dt.timezone(dt.timedelta(seconds=offset)))
        civil = sample["sampleTime"]["civilTime"]
        assert civil["date"] == {"year": local.year, "month": local.month, "day": local.day}
        expected_time = {
            k: v
            for k, v in (
                ("hours", local.hour),
                ("minutes", local.minute),
                ("seconds", local.second),
            )
            if v
        }
        assert civil["time"] == expected_time


def test_local_midnight_is_an_empty_time_of_day() -> None:
    midnight_berlin = 1_795_129_200  # 2026-11-20T00:00:00+01:00
    body = heart_rate_points(
        np.array([midnight_berlin], dtype=np.int64),
        np.array([60], dtype=np.int64),
        np.array([3600], dtype=np.int64),
    )
    assert '"time":{}' in body
    assert '"physicalTime":"2026-11-19T23:00:00Z"' in body


@given(INSTANTS, INSTANTS)
def test_physical_filters_parse_to_closed_open_bounds(a: int, b: int) -> None:
    text = (
        f'heart_rate.sample_time.physical_time >= "{timestamp(a)}" AND '
        f'heart_rate.sample_time.physical_time < "{timestamp(b)}"'
    )
    parsed = parse_filter(text, HEART_RATE)
    assert (parsed.physical_start_s, parsed.physical_end_s) == (a, b)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_civil_literals_count_local_seconds(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    assert parse_civil(text) == int((moment - dt.datetime(1970, 1, 1)).total_seconds())
    assert parse_civil(text[:10]) == (moment.date() - dt.date(1970, 1, 1)).days * 86400


def test_repeated_bounds_intersect() -> None:
    parsed = parse_filter(
        'daily_resting_heart_rate.date >= "2026-11-01" AND daily_resting_heart_rate.date >= '
        '"2026-11-05" AND daily_resting_heart_rate.date < "2026-11-30" AND '
        'daily_resting_heart_rate.date < "2026-11-20"',
        DAILY_RESTING_HEART_RATE,
    )
    assert (parsed.date_start, parsed.date_end) == (dt.date(2026, 11, 5), dt.date(2026, 11, 20))


@given(st.text(max_size=60))
def test_the_filter_parser_never_crashes(text: str) -> None:
    try:
        parse_filter(text, HEART_RATE)
    except ApiError as failure:
        code = failure.code
    else:
        code = 200
    assert code in (200, 400)
