"""Saved legacy Fitbit intraday JSON: dates from response, name or option; DST-correct times."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.errors import ImportFormatError
from heartkeep.importers.fitbit_json import local_times_to_samples
from heartkeep.model import DailyKind, Sample
from heartkeep.store import open_store

ZONE = "Europe/Berlin"


def response(day: str | None, dataset: list[dict], *, resting: int | None = 61) -> dict:
    summary: dict = {
        "customHeartRateZones": [],
        "heartRateZones": [
            {"caloriesOut": 1.0, "max": 94, "min": 30, "minutes": 1300, "name": "Out of Range"},
            {"caloriesOut": 1.0, "max": 131, "min": 94, "minutes": 100, "name": "Fat Burn"},
            {"caloriesOut": 0, "max": 159, "min": 131, "minutes": 30, "name": "Cardio"},
            {"caloriesOut": 0, "max": 220, "min": 159, "name": "Peak"},
        ],
    }
    if resting is not None:
        summary["restingHeartRate"] = resting
    heart = [{"dateTime": day, "value": summary}] if day is not None else []
    return {
        "activities-heart": heart,
        "activities-heart-intraday": {
            "dataset": dataset,
            "datasetInterval": 1,
            "datasetType": "second",
        },
    }


def every(step_s: int, start: str = "00:00:00", end: str = "24:00:00") -> list[dict]:
    def secs(text: str) -> int:
        h, m, s = map(int, text.split(":"))
        return h * 3600 + m * 60 + s

    return [
        {"time": f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}", "value": 60 + t % 50}
        for t in range(secs(start), secs(end), step_s)
    ]


def save(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def stored(settings: Settings, key: str) -> list[Sample]:
    with open_store(settings.database) as store:
        return [s for batch in store.iter_samples(key) for s in batch]


def test_an_ordinary_day_becomes_instants_with_the_zone_offset(settings: Settings, tmp_path):
    path = save(tmp_path, "heart.json", response("2026-06-01", every(600)))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    rows = stored(settings, report.account_key)
    assert report.account_key == "fitbit-json:me"
    assert len(rows) == 144
    assert rows[0] == Sample(int(dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC).timestamp()), 60, 120)
    with open_store(settings.database) as store:
        resting = store.dailies(report.account_key, kind=DailyKind.RESTING_HR)
        zones = store.dailies(report.account_key, kind=DailyKind.ZONES)
    assert [(d.day, d.value) for d in resting] == [(dt.date(2026, 6, 1), 61.0)]
    assert [(z.name, z.min_bpm, z.max_bpm, z.minutes) for z in zones[0].zones][-1] == (
        "Peak",
        159,
        220,
        None,
    )


def test_spring_forward_day_has_23_hours_and_no_gap_in_instants(settings: Settings, tmp_path):
    # The device never shows 02:00–02:59 on 2026-03-29 in Berlin.
    dataset = every(60, "00:00:00", "02:00:00") + every(60, "03:00:00", "24:00:00")
    path = save(tmp_path, "heart.json", response("2026-03-29", dataset))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    rows = stored(settings, report.account_key)
    assert len(rows) == 23 * 60
    steps = {b.instant_s - a.instant_s for a, b in pairwise(rows)}
    assert steps == {60}
    assert {r.offset_min for r in rows[:120]} == {60}
    assert {r.offset_min for r in rows[120:]} == {120}


def test_fall_back_day_reads_the_repeated_hour_twice(settings: Settings, tmp_path):
    # 02:00–02:59 happens twice on 2026-10-25 in Berlin; the dataset lists it twice, in order.
    dataset = every(60, "00:00:00", "03:00:00") + every(60, "02:00:00", "24:00:00")
    path = save(tmp_path, "heart.json", response("2026-10-25", dataset))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    rows = stored(settings, report.account_key)
    assert report.inserted == len(rows) == 25 * 60
    steps = {b.instant_s - a.instant_s for a, b in pairwise(rows)}
    assert steps == {60}
    assert rows[0].offset_min == 120
    assert rows[-1].offset_min == 60
    assert sum(1 for r in rows if r.offset_min == 120) == 3 * 60


@pytest.mark.parametrize(
    ("name", "day_in_response", "option", "expected_day"),
    [
        ("heart.json", "2026-06-01", None, dt.date(2026, 6, 1)),
        ("heart.json", "today", dt.date(2026, 6, 3), dt.date(2026, 6, 3)),
        ("heart-2026-06-02.json", None, None, dt.date(2026, 6, 2)),
        ("heart-2026-06-02.json", "today", dt.date(2026, 6, 3), dt.date(2026, 6, 2)),
        ("dump.json", None, dt.date(2026, 6, 4), dt.date(2026, 6, 4)),
    ],
)
def test_the_day_comes_from_the_response_then_the_name_then_the_option(
    settings: Settings, tmp_path, name, day_in_response, option, expected_day
):
    path = save(tmp_path, name, response(day_in_response, every(3600)))
    report = api.import_fitbit_json(settings, [path], time_zone="UTC", date=option)
    rows = stored(settings, report.account_key)
    assert dt.datetime.fromtimestamp(rows[0].instant_s, dt.UTC).date() == expected_day


def test_a_file_without_any_date_asks_for_one(settings: Settings, tmp_path):
    path = save(tmp_path, "dump.json", response(None, every(3600)))
    with pytest.raises(ImportFormatError, match="--date"):
        api.import_fitbit_json(settings, [path], time_zone=ZONE)


def test_utc_responses_are_read_as_utc(settings: Settings, tmp_path):
    path = save(tmp_path, "heart.json", response("2026-06-01", every(3600)))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE, times_utc=True)
    rows = stored(settings, report.account_key)
    assert rows[0] == Sample(int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()), 60, 120)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"activities-heart": []}), "not a Fitbit intraday"),
        (
            json.dumps(
                response(
                    "2026-06-01",
                    [{"time": "10:00:00", "value": 60}, {"time": "10:61:00", "value": 60}],
                )
            ),
            "record 2",
        ),
        (json.dumps(response("2026-06-01", [{"time": "10:00:00"}])), "missing 'value'"),
    ],
    ids=["bad-json", "not-intraday", "bad-time", "no-value"],
)
def test_a_broken_file_among_good_ones_commits_nothing(
    settings: Settings, tmp_path, content, reason
):
    good = save(tmp_path, "heart-2026-06-01.json", response("2026-06-01", every(600)))
    bad = tmp_path / "heart-2026-06-02.json"
    bad.write_text(content)
    with pytest.raises(ImportFormatError) as caught:
        api.import_fitbit_json(settings, [good, bad], time_zone=ZONE)
    assert "heart-2026-06-02.json" in str(caught.value)
    assert reason in str(caught.value)
    with open_store(settings.database) as store:
        assert store.accounts() == []


def test_reimport_adds_nothing(settings: Settings, tmp_path):
    path = save(tmp_path, "heart.json", response("2026-06-01", every(60)))
    first = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    again = api.import_fitbit_json(settings, [path])
    assert first.inserted == 1440
    assert (again.inserted, again.updated) == (0, 0)


@hsettings(max_examples=40, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2035, 12, 31)),
    zone=st.sampled_from(
        [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "America/St_Johns",
            "Asia/Kathmandu",
        ]
    ),
    step=st.sampled_from([7, 60, 300]),
)
def test_local_times_map_back_to_the_same_wall_clock(day, zone, step):
    """Every reading's instant shows the same wall time in the zone, and instants increase."""
    clock = list(range(0, 86_400, step))
    tz = ZoneInfo(zone)
    midnight = dt.datetime.combine(day, dt.time())
    existing = [
        s
        for s in clock
        if (midnight + dt.timedelta(seconds=s))
        .replace(tzinfo=tz)
        .astimezone(dt.UTC)
        .astimezone(tz)
        .replace(tzinfo=None)
        == midnight + dt.timedelta(seconds=s)
    ]
    samples = local_times_to_samples(day, existing, [60] * len(existing), zone)
    for seconds, sample in zip(existing, samples, strict=True):
        local = dt.datetime.fromtimestamp(sample.instant_s, tz)
        assert local.replace(tzinfo=None) == midnight + dt.timedelta(seconds=seconds)
        assert sample.offset_min * 60 == local.utcoffset().total_seconds()
    assert all(a.instant_s < b.instant_s for a, b in pairwise(samples))
