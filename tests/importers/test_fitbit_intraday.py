"""The fast intraday reader (`fitbit_intraday`) answers what the point-by-point reader answers.

The point-by-point reader in `fitbit_json.py` is the reference (every other test of saved
responses was written against it).  The fast reader may decline a file, but whatever it
accepts must come out exactly as the reference reads it, errors included.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from heartkeep.errors import ImportFormatError
from heartkeep.importers import FileDone, fitbit_intraday
from heartkeep.importers.fitbit_json import (
    _load,
    _parse_time,
    _read_points,
    local_times_to_samples,
    read_files,
)
from heartkeep.model import Daily, Sample, SampleColumns
from heartkeep.plausibility import keep_plausible

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# Spring forward and fall back in Berlin and New York, Lord Howe's half-hour change, a plain day.
DAYS = [
    dt.date(2026, 3, 29),
    dt.date(2026, 10, 25),
    dt.date(2026, 3, 8),
    dt.date(2026, 11, 1),
    dt.date(2026, 4, 5),
    dt.date(2026, 6, 1),
]


def clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@given(st.lists(st.integers(0, 86_399), max_size=40))
def test_valid_times_parse_as_the_reference_parses_them(seconds: list[int]) -> None:
    parsed = fitbit_intraday.parse_times([clock(s) for s in seconds])
    assert parsed is not None
    assert parsed.tolist() == seconds


near_times = st.one_of(
    st.integers(0, 86_399).map(clock),
    st.tuples(
        st.integers(0, 86_399).map(clock), st.integers(0, 7), st.sampled_from(list("09 :+-_é"))
    ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]),
    st.sampled_from(["24:00:00", "23:60:00", "23:59:60", " 1:00:00", "+1:00:00", "1_:00:00"]),
    st.text(max_size=10),
)


@given(st.lists(near_times, min_size=1, max_size=8))
@example(["00:00:0", "000:00:00"])  # lengths that add up: rows would shift
def test_times_parse_as_the_reference_or_not_at_all(texts: list[str]) -> None:
    parsed = fitbit_intraday.parse_times(texts)
    try:
        expected = [_parse_time(text) for text in texts]
    except ValueError:
        assert parsed is None
    else:
        assert parsed is None or parsed.tolist() == expected


@hsettings(max_examples=200, deadline=None)
@given(
    day=st.sampled_from(DAYS),
    zone=st.sampled_from(ZONES),
    # Wall times mostly forward with steps back: a repeated hour, or a flight west.
    steps=st.lists(st.integers(-9000, 4000), max_size=60),
    start=st.integers(0, 86_399),
)
def test_wall_times_become_the_instants_the_reference_gives(day, zone, steps, start) -> None:
    seconds, now = [], start
    for step in steps:
        now = min(86_399, max(0, now + step))
        seconds.append(now)
    instants, offsets = fitbit_intraday.local_times_to_columns(
        day, np.array(seconds, dtype=np.int64), zone
    )
    expected = local_times_to_samples(day, seconds, [60] * len(seconds), zone)
    assert list(zip(instants.tolist(), offsets.tolist(), strict=True)) == [
        (s.instant_s, s.offset_min) for s in expected
    ]


def reference(path: Path, zone: str, times_utc: bool) -> Any:
    """What the point-by-point reader makes of the file: samples, dailies, file marks."""
    try:
        raw = bytearray(path.read_bytes())
        items = list(_read_points(path, _load(path, raw), zone, None, times_utc))
    except ImportFormatError as error:
        return str(error)
    return _summary(items)


def fast(path: Path, zone: str, times_utc: bool) -> Any:
    try:
        items = list(read_files([path], zone, times_utc=times_utc))
    except ImportFormatError as error:
        return str(error)
    return _summary(items)


def _summary(items: list[Any]) -> Any:
    samples = [s for item in items if not isinstance(item, Daily | FileDone) for s in item]
    kept, rejected = keep_plausible(samples)
    others = [item for item in items if isinstance(item, Daily | FileDone)]
    return list(kept), rejected, others


values = st.one_of(
    st.integers(-5, 400),
    st.floats(-1, 400, allow_nan=False),
    st.sampled_from([0, 0.0, 0.4, 2.5, 19.5, 300.5, 10**30, 1e300]),
)
points = st.lists(
    st.one_of(
        st.tuples(st.integers(0, 86_399), st.integers(20, 300)).map(
            lambda t: {"time": clock(t[0]), "value": t[1]}
        ),
        st.tuples(near_times, values).map(lambda t: {"time": t[0], "value": t[1]}),
        st.sampled_from(
            [{"time": "00:00:01"}, {"value": 60}, {"time": "00:00:01", "value": True}, 60, None]
        ),
    ),
    max_size=30,
)


@hsettings(max_examples=150, deadline=None)
@given(
    dataset=points,
    day=st.sampled_from([*DAYS, None]),
    zone=st.sampled_from(ZONES),
    times_utc=st.booleans(),
    ordered=st.booleans(),
    resting=st.one_of(st.none(), st.integers(40, 80), st.just("55.5"), st.just([1])),
)
def test_a_response_reads_as_the_point_by_point_reader_reads_it(
    tmp_path_factory, dataset, day, zone, times_utc, ordered, resting
) -> None:
    if ordered:
        dataset = sorted(dataset, key=lambda p: str(p.get("time")) if isinstance(p, dict) else "")
    summary: dict[str, Any] = {"heartRateZones": [{"name": "Peak", "min": 159, "max": 220}]}
    if resting is not None:
        summary["restingHeartRate"] = resting
    response = {
        "activities-heart": [] if day is None else [{"dateTime": str(day), "value": summary}],
        "activities-heart-intraday": {"dataset": dataset, "datasetInterval": 1},
    }
    path = tmp_path_factory.mktemp("saved") / "heart.json"
    path.write_text(json.dumps(response))
    assert fast(path, zone, times_utc) == reference(path, zone, times_utc)


def test_a_well_formed_response_takes_the_fast_path(tmp_path: Path) -> None:
    response = {
        "activities-heart": [{"dateTime": "2026-10-25", "value": {"restingHeartRate": 58}}],
        "activities-heart-intraday": {
            "dataset": [{"time": clock(s), "value": 60} for s in range(0, 86_400, 30)],
        },
    }
    path = tmp_path / "heart.json"
    path.write_text(json.dumps(response))
    items = list(read_files([path], "Europe/Berlin"))
    assert isinstance(items[0], SampleColumns)
    assert list(items[0]) == [
        s for item in _read_points(path, response, "Europe/Berlin", None, False)
        if not isinstance(item, Daily | FileDone) for s in item
    ]  # fmt: skip
    assert all(isinstance(sample, Sample) for sample in items[0])


@pytest.mark.parametrize("text", ["[]", '{"activities-heart-intraday": []}', "{", ""])
def test_other_shapes_are_left_to_the_reference_reader(text: str) -> None:
    assert fitbit_intraday.decode(text.encode()) is None
