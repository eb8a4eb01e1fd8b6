"""Google Health pages read as numpy columns (a study's workers): exactly what the per-point parse
reads, in the same order, with the same errors — whatever stamp forms a page mixes."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.errors import ProviderError
from heartkeep.model import Sample, SampleColumns
from heartkeep.providers.google_health import COLUMNS_FROM
from heartkeep.providers.google_heart_rate import parse_heart_rate_columns, parse_heart_rate_page


def _body(points: list[dict]) -> bytes:
    return orjson.dumps({"dataPoints": points, "nextPageToken": "next"})


def _point(stamp: str, bpm: object, offset_s: int | None = None) -> dict:
    sample_time: dict = {"physicalTime": stamp}
    if offset_s is not None:
        sample_time["utcOffset"] = f"{offset_s}s"
    return {
        "dataSource": {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT"},
        "heartRate": {"sampleTime": sample_time, "beatsPerMinute": bpm},
    }


def _stamp(instant_s: int, fraction_us: int, zone_min: int | None) -> str:
    """An RFC 3339 text of the instant: `Z` (zone None) or a numeric offset, maybe a fraction."""
    zone = dt.timezone(dt.timedelta(minutes=zone_min or 0))
    moment = dt.datetime.fromtimestamp(instant_s, dt.UTC).astimezone(zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction_us:
        text += f".{fraction_us:06d}".rstrip("0")
    return text + ("Z" if zone_min is None else moment.strftime("%z")[:3] + ":00")


points = st.lists(
    st.tuples(
        st.integers(-2_000_000_000, 4_000_000_000),
        st.integers(-5, 400) | st.integers(2**62, 2**64 - 1),
        st.sampled_from([None, 0, -18_000, 3_600, 19_800, 45_900]),
        st.sampled_from([0, 0, 0, 0, 1, 998_943]),
        st.sampled_from([None, None, None, None, 540, -300]),
        st.booleans(),
    ),
    max_size=60,
)


@given(points)
def test_columns_hold_what_the_per_point_parse_reads(rows) -> None:
    body = _body(
        [_point(_stamp(i, f, z), str(b) if as_text else b, o) for i, b, o, f, z, as_text in rows]
    )
    samples, token = parse_heart_rate_page(body)
    columns, column_token = parse_heart_rate_columns(body)
    assert token == column_token == "next"
    assert list(columns) == samples
    if all(b < 2**63 and z is None for _, b, _, _, z, _ in rows):
        # stamps with a numeric offset or values beyond int64 come back as the list instead
        assert isinstance(columns, SampleColumns)


def test_a_plain_page_is_read_as_columns_newest_first() -> None:
    body = _body(
        [
            _point("2026-09-25T10:05:00Z", "62", 7200),
            _point("2026-09-25T10:04:60Z", 61, 7200),  # a leap second, as the per-point parse
            _point("2024-02-29T23:59:59Z", "60", 7200),
        ]
    )
    columns, _ = parse_heart_rate_columns(body)
    assert isinstance(columns, SampleColumns)
    instant = int(dt.datetime(2026, 9, 25, 10, 5, tzinfo=dt.UTC).timestamp())
    leap_day = int(dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=dt.UTC).timestamp())
    assert list(columns) == [
        Sample(instant, 62, 120),
        Sample(instant, 61, 120),
        Sample(leap_day, 60, 120),
    ]


def test_an_empty_last_page_is_empty_columns() -> None:
    columns, token = parse_heart_rate_columns(b"{}")
    assert (len(columns), token) == (0, "")


@pytest.mark.parametrize(
    "stamp",
    ["2026-02-30T10:04:57Z", "2026-09-25T24:00:00Z", "2026-09-25T10:61:00Z", "2026-09-25 10:04:5Z"],
)
def test_an_impossible_stamp_is_the_same_error_as_point_by_point(stamp: str) -> None:
    body = _body([_point("2026-09-25T10:04:57Z", "60"), _point(stamp, "61")])
    with pytest.raises(ProviderError) as by_point:
        parse_heart_rate_page(body)
    with pytest.raises(ProviderError) as by_column:
        parse_heart_rate_columns(body)
    assert str(by_column.value) == str(by_point.value)


def _plain_page(count: int) -> bytes:
    start = int(dt.datetime(2026, 9, 25, tzinfo=dt.UTC).timestamp())
    stamps = [
        dt.datetime.fromtimestamp(start - 3 * i, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in range(count)
    ]
    return _body([_point(stamp, str(60 + i % 90), 7_200) for i, stamp in enumerate(stamps)])


@pytest.mark.parametrize("count", [0, 1, 999, 1_000, 2_500])
def test_a_personal_sync_reads_large_pages_as_columns_and_small_ones_as_samples(count) -> None:
    """What a personal sync asks for (`smallest=COLUMNS_FROM`): a backfill's large page comes
    as columns, an hourly sync's small one (or an empty one) as the list, with the same
    samples either way."""
    body = _plain_page(count)
    samples, _ = parse_heart_rate_page(body)
    read, token = parse_heart_rate_columns(body, smallest=COLUMNS_FROM)
    assert token == "next"
    assert isinstance(read, SampleColumns) == (count >= COLUMNS_FROM)
    assert list(read) == samples
