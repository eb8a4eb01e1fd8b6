"""Daily statistics, checked against a plain re-implementation of their documented definitions."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from heartkeep import api
from heartkeep.analysis.daily import GAP_CAP_S, daily_stats
from heartkeep.analysis.zones import karvonen_zones, resting_estimate, zone_minutes
from heartkeep.model import Account, Daily, DailyKind, Sample, Source, Zone
from heartkeep.store import open_store


def local_day(sample: Sample) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(
        days=(sample.instant_s + sample.offset_min * 60) // 86_400
    )


def reference(samples: list[Sample], max_hr: int = 190, provider: dict | None = None) -> dict:
    """Straight from docs: weights, per-day sums, per-minute means, Karvonen bounds."""
    provider = provider or {}
    days: dict[dt.date, list[tuple[Sample, int]]] = defaultdict(list)
    for index, sample in enumerate(samples):
        nxt = samples[index + 1].instant_s if index + 1 < len(samples) else sample.instant_s
        days[local_day(sample)].append((sample, min(nxt - sample.instant_s, GAP_CAP_S)))
    out = {}
    for day, rows in days.items():
        bpms = [s.bpm for s, _ in rows]
        minutes: dict[int, list[int]] = defaultdict(list)
        for s, _ in rows:
            minutes[s.instant_s // 60].append(s.bpm)
        means = sorted(sum(v) / len(v) for v in minutes.values())
        estimate = None
        if len(means) >= 240:
            lowest = means[: math.ceil(len(means) * 0.10)]
            estimate = round(sum(lowest) / len(lowest), 1)
        resting = provider.get(day, estimate)
        r = 60 if resting is None else resting
        lows = [round(r + f * (max_hr - r)) for f in (0.40, 0.60, 0.70, 0.85)]
        zone = {name: 0.0 for name in ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")}
        for s, w in rows:
            for name, low in reversed(list(zip(zone, lows, strict=True))):
                if s.bpm >= low:
                    zone[name] += w / 60
                    break
        first, last = rows[0][0], rows[-1][0]
        midnight = (day - dt.date(1970, 1, 1)).days * 86_400
        length = (midnight + 86_400 - last.offset_min * 60) - (midnight - first.offset_min * 60)
        wear = sum(w for _, w in rows)
        out[day] = {
            "samples": len(rows),
            "wear_s": wear,
            "coverage": min(wear / length, 1.0),
            "min": min(bpms),
            "max": max(bpms),
            "mean": sum(bpms) / len(bpms),
            "estimate": estimate,
            "zones": zone,
            "length": length,
        }
    return out


def check(samples: list[Sample], batches: list[list[Sample]], **kwargs) -> None:
    got = {row.day: row for row in daily_stats(batches, **kwargs)}
    want = reference(samples)
    assert set(got) == set(want)
    for day, row in got.items():
        w = want[day]
        assert row.samples == w["samples"]
        assert row.wear_s == w["wear_s"]
        assert row.day_length_s == w["length"]
        assert row.coverage == pytest.approx(w["coverage"])
        assert (row.min_bpm, row.max_bpm) == (w["min"], w["max"])
        assert row.mean_bpm == pytest.approx(w["mean"])
        assert row.resting_estimate == w["estimate"]
        assert dict(row.zone_minutes) == pytest.approx(w["zones"])


samples_strategy = st.lists(
    st.tuples(st.integers(1, 900), st.integers(35, 200), st.sampled_from([60, 120, -300, 330])),
    min_size=1,
    max_size=400,
)


@hsettings(max_examples=60, deadline=None)
@given(steps=samples_strategy, cuts=st.lists(st.integers(1, 400), max_size=5))
def test_stats_match_the_documented_definitions_however_the_stream_is_batched(steps, cuts):
    instant = 1_790_000_000
    samples = []
    for gap, bpm, offset in steps:
        instant += gap
        samples.append(Sample(instant, bpm, offset))
    edges = sorted({0, len(samples), *(c for c in cuts if c < len(samples))})
    batches = [samples[a:b] for a, b in pairwise(edges)]
    check(samples, batches)


def test_a_full_day_yields_a_resting_estimate_and_zone_time():
    start = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()) - 120 * 60
    samples = [
        Sample(t, 55 + (t // 600) % 6 if (t - start) < 6 * 3600 else 90 + (t // 60) % 80, 120)
        for t in range(start, start + 86_400, 15)
    ]
    check(samples, [samples])
    (row,) = [r for r in daily_stats([samples]) if r.samples > 1000]
    assert row.resting_estimate is not None
    assert 55 <= row.resting_estimate <= 57
    assert sum(m for _, m in row.zone_minutes) > 60
    assert row.coverage == pytest.approx(1.0, abs=0.001)


def test_dst_days_are_23_and_25_hours_long():
    spring = int(dt.datetime(2026, 3, 28, 23, tzinfo=dt.UTC).timestamp())  # 00:00 CET
    samples = [
        Sample(t, 60, 60 if t < spring + 3600 else 120)
        for t in range(spring, spring + 23 * 3600, 60)
    ]
    (row,) = daily_stats([samples])
    assert row.day == dt.date(2026, 3, 29)
    assert row.day_length_s == 23 * 3600
    assert row.coverage == pytest.approx(1.0, abs=0.01)
    fall = int(dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC).timestamp())  # 00:00 CEST
    samples = [
        Sample(t, 60, 120 if t < fall + 3 * 3600 else 60) for t in range(fall, fall + 25 * 3600, 60)
    ]
    (row,) = daily_stats([samples])
    assert row.day_length_s == 25 * 3600


def test_non_wear_counts_only_the_capped_gap():
    base = 1_790_000_000 - 1_790_000_000 % 86_400 + 3600
    samples = [Sample(base, 60, 0), Sample(base + 30, 61, 0), Sample(base + 5 * 3600, 62, 0)]
    (row,) = daily_stats([samples])
    assert row.wear_s == 30 + GAP_CAP_S + 0


def test_provider_values_are_reported_and_used_for_zone_bounds():
    base = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
    samples = [Sample(base + i * 60, 100 + i % 60, 0) for i in range(600)]
    day = dt.date(2026, 6, 1)
    bounds = (
        Zone("LIGHT", 100, 120),
        Zone("MODERATE", 120, 140),
        Zone("VIGOROUS", 140, 150),
        Zone("PEAK", 150, 220),
    )
    dailies = [
        Daily(day, DailyKind.RESTING_HR, value=52.0),
        Daily(day, DailyKind.ZONES, zones=bounds),
    ]
    (row,) = daily_stats([samples], dailies)
    assert row.resting_provider == 52.0
    assert row.zone_source == "provider"
    minutes = dict(row.zone_minutes)
    assert minutes["LIGHT"] == pytest.approx(200)  # bpm 100..119, 10 per hour-cycle, 60 s each
    assert minutes["MODERATE"] == pytest.approx(200)
    assert minutes["VIGOROUS"] == pytest.approx(100)
    assert minutes["PEAK"] == pytest.approx(99)  # the last sample weighs nothing
    # Legacy Fitbit zones are not the four zones: heartkeep's own bounds are used instead.
    legacy = (Zone("Fat Burn", 94, 131), Zone("Cardio", 131, 159), Zone("Peak", 159, 220))
    (row,) = daily_stats([samples], [Daily(day, DailyKind.ZONES, zones=legacy)])
    assert row.zone_source == "karvonen"


def test_days_with_only_a_provider_value_are_listed():
    day = dt.date(2026, 6, 1)
    (row,) = daily_stats([], [Daily(day, DailyKind.RESTING_HR, value=58.0)])
    assert (row.day, row.samples, row.coverage, row.resting_provider) == (day, 0, 0.0, 58.0)


def test_since_and_until_are_inclusive():
    base = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
    samples = [Sample(base + h * 3600, 70, 0) for h in range(24 * 5)]
    rows = daily_stats([samples], since=dt.date(2026, 6, 2), until=dt.date(2026, 6, 3))
    assert [r.day for r in rows] == [dt.date(2026, 6, 2), dt.date(2026, 6, 3)]


def test_zone_helpers():
    zones = karvonen_zones(60, 190)
    assert [(z.name, z.min_bpm) for z in zones] == [
        ("LIGHT", 112),
        ("MODERATE", 138),
        ("VIGOROUS", 151),
        ("PEAK", 170),
    ]
    histogram = np.zeros(301)
    histogram[[100, 112, 140, 180]] = [60, 120, 60, 30]
    assert zone_minutes(histogram, zones) == {
        "LIGHT": 2.0,
        "MODERATE": 1.0,
        "VIGOROUS": 0.0,
        "PEAK": 0.5,
    }
    assert resting_estimate([60.0] * 239) is None
    assert resting_estimate([50.0] * 30 + [80.0] * 270) == 50.0


def test_stats_through_the_api_use_the_store(settings):
    account = Account("google-health", "1", "Jo", "Europe/Berlin")
    base = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())
    samples = [Sample(base + i * 30, 60 + i % 40, 120) for i in range(2 * 2880)]
    with open_store(settings.database) as store:
        store.upsert_account(account)
        store.write_samples(account.key, samples, Source.GOOGLE_HEALTH)
        store.write_dailies(
            account.key,
            [Daily(dt.date(2026, 6, 1), DailyKind.RESTING_HR, value=57.0)],
            Source.GOOGLE_HEALTH,
        )
    rows = api.daily_report(settings)
    assert [r.day for r in rows] == [dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3)]
    assert sum(r.samples for r in rows) == len(samples)
    assert rows[0].resting_provider == 57.0
    only = api.daily_report(settings, since=dt.date(2026, 6, 2), until=dt.date(2026, 6, 2))
    assert [r.day for r in only] == [dt.date(2026, 6, 2)]
    assert only[0] == rows[1]


def test_a_fall_back_day_worn_only_after_the_change_is_still_25_hours_long():
    """With the account's zone known, the day's length follows the zone's rules."""
    after = int(dt.datetime(2026, 10, 25, 6, tzinfo=dt.UTC).timestamp())  # 07:00 CET
    samples = [Sample(t, 60, 60) for t in range(after, after + 3600, 60)]
    (row,) = daily_stats([samples], zone_name="Europe/Berlin")
    assert row.day_length_s == 25 * 3600
    (row,) = daily_stats([samples])  # without a zone: from the samples' own offsets
    assert row.day_length_s == 24 * 3600
    # A traveller whose offsets disagree with the account's zone is measured by the offsets.
    (row,) = daily_stats([[Sample(after, 60, -300)]], zone_name="Europe/Berlin")
    assert row.day_length_s == 24 * 3600
