"""Time handling: instants, offsets and local days (property-based where it matters)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from heartkeep import timeline

instants = st.integers(min_value=0, max_value=4_102_444_800)  # 1970 .. 2100
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60)


@given(instants)
def test_rfc3339_round_trip(instant_s: int) -> None:
    assert timeline.parse_rfc3339_s(timeline.format_rfc3339(instant_s)) == instant_s


def test_fractional_seconds_and_offsets_parse_to_the_same_instant() -> None:
    base = timeline.parse_rfc3339_s("2026-09-26T08:33:37Z")
    assert timeline.parse_rfc3339_s("2026-09-26T08:33:37.998943Z") == base
    assert timeline.parse_rfc3339_s("2026-09-26T17:33:37+09:00") == base


@given(instants, offsets)
def test_local_date_matches_datetime_arithmetic(instant_s: int, offset_min: int) -> None:
    expected = timeline.local_datetime(instant_s, offset_min).date()
    assert timeline.local_date(instant_s, offset_min) == expected


def test_dst_days_are_23_and_25_hours_long() -> None:
    spring = timeline.local_day_window(dt.date(2026, 3, 29), "Europe/Berlin")
    autumn = timeline.local_day_window(dt.date(2026, 10, 25), "Europe/Berlin")
    assert spring.seconds == 23 * 3600
    assert autumn.seconds == 25 * 3600


def test_fall_back_hour_reads_both_ways_and_spring_gap_does_not_exist() -> None:
    wall = dt.datetime(2026, 10, 25, 2, 30)
    first = timeline.local_to_instant(wall, "Europe/Berlin", fold=0)
    second = timeline.local_to_instant(wall, "Europe/Berlin", fold=1)
    assert second - first == 3600
    assert not timeline.wall_time_exists(dt.datetime(2026, 3, 29, 2, 30), "Europe/Berlin")
    assert timeline.wall_time_exists(wall, "Europe/Berlin")


@given(st.integers(min_value=-50_400, max_value=50_400).map(lambda s: s - s % 60))
def test_duration_parses_whole_seconds(offset_s: int) -> None:
    assert timeline.parse_duration_s(f"{offset_s}s") == offset_s
    assert timeline.offset_min_from_seconds(offset_s) * 60 == offset_s
