"""The sandbox's synthetic physiology behaves like a real person wearing a real watch.

Every property is checked from the public API (`UserSpec`, `demo_user`, `Physiology`), and the
daily values are recomputed here independently, in plain Python, from the samples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartkeep.sandbox.physiology import Physiology, UserSpec, demo_user

CLOCK_S = int(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp())
TODAY = dt.date(2026, 11, 20)
DAY_S = 86_400
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def demo() -> Physiology:
    """One demo user shared by the module, so its day cache makes the tests fast."""
    return Physiology(demo_user(CLOCK_S))


def recent_days(count: int = 14) -> list[dt.date]:
    return [TODAY - dt.timedelta(days=k) for k in range(count, 0, -1)]


def day_samples(phys: Physiology, day: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return phys.samples(*phys.local_day_bounds(day))


def local_hours(instants: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return ((instants + offsets) % DAY_S) / 3600.0


# ----------------------------------------------------------------------------- determinism


def digest(arrays: tuple[np.ndarray, ...]) -> str:
    return hashlib.sha256(b"".join(a.astype("<i8").tobytes() for a in arrays)).hexdigest()


FRESH_PROCESS = """
import hashlib, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from heartkeep.sandbox.physiology import Physiology, demo_user
clock_s, *starts = map(int, sys.argv[1:])
phys = Physiology(demo_user(clock_s))
for start in starts:
    arrays = phys.samples(start, start + 86400)
    print(start, hashlib.sha256(b"".join(a.astype("<i8").tobytes() for a in arrays)).hexdigest())
"""


def test_a_fresh_process_reading_days_in_reverse_order_gets_identical_samples(
    demo: Physiology,
) -> None:
    """Nothing depends on process state, hash seeds, caches or the order days are asked for."""
    starts = [CLOCK_S - k * DAY_S for k in range(1, 5)]
    here = {start: digest(demo.samples(start, start + DAY_S)) for start in starts}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(CLOCK_S), *map(str, reversed(starts))],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    there = dict(line.split() for line in result.stdout.splitlines())
    assert {int(k): v for k, v in there.items()} == here


def test_different_seeds_give_different_people() -> None:
    spec = demo_user(CLOCK_S)
    other = dataclasses.replace(spec, seed=spec.seed + 1)
    a = Physiology(spec).samples(CLOCK_S - DAY_S, CLOCK_S)
    b = Physiology(other).samples(CLOCK_S - DAY_S, CLOCK_S)
    assert a[0].size != b[0].size or not np.array_equal(a[1], b[1])


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=3 * DAY_S),
    length=st.integers(min_value=0, max_value=2 * DAY_S),
)
def test_any_window_is_the_slice_of_a_larger_window(
    demo: Physiology, start: int, length: int
) -> None:
    base = CLOCK_S - 5 * DAY_S
    whole = demo.samples(base, base + 5 * DAY_S)
    lo, hi = base + start, base + start + length
    part = demo.samples(lo, hi)
    keep = (whole[0] >= lo) & (whole[0] < hi)
    for a, b in zip(part, whole, strict=True):
        np.testing.assert_array_equal(a, b[keep])


def test_empty_and_reversed_windows_give_empty_arrays(demo: Physiology) -> None:
    for window in [(CLOCK_S, CLOCK_S), (CLOCK_S, CLOCK_S - 10)]:
        instants, bpm, offsets = demo.samples(*window)
        assert instants.size == bpm.size == offsets.size == 0
        assert instants.dtype == bpm.dtype == offsets.dtype == np.int64


# ----------------------------------------------------------------------------- ranges


def test_bpm_in_range_and_instants_strictly_increasing_over_a_fortnight(
    demo: Physiology,
) -> None:
    instants, bpm, offsets = demo.samples(CLOCK_S - 14 * DAY_S, CLOCK_S)
    assert instants.size > 14 * 15_000
    assert bpm.min() >= 30
    assert bpm.max() <= 220
    assert np.all(np.diff(instants) > 0)
    assert set(offsets.tolist()) <= {3600, 7200}


def test_sampling_intervals_are_mostly_one_to_fifteen_seconds(demo: Physiology) -> None:
    instants, _, _ = demo.samples(CLOCK_S - 7 * DAY_S, CLOCK_S)
    intervals = np.diff(instants)
    assert np.mean(intervals <= 15) > 0.995
    assert np.mean(intervals == 1) > 0.2  # dense while exercising and often at rest
    assert np.mean(intervals >= 5) > 0.2  # but irregular, not a fixed rate


def test_worn_days_have_twenty_to_thirty_thousand_samples(demo: Physiology) -> None:
    counts = [demo.daily_sample_count(day) for day in recent_days()]
    assert all(15_000 <= c <= 30_000 for c in counts), counts
    assert sum(20_000 <= c <= 30_000 for c in counts) >= 10


def test_daily_sample_count_matches_the_samples_of_the_local_day(demo: Physiology) -> None:
    day = TODAY - dt.timedelta(days=3)
    instants, _, offsets = day_samples(demo, day)
    assert demo.daily_sample_count(day) == instants.size
    local_days = (instants + offsets) // DAY_S
    assert set(local_days.tolist()) == {(day - dt.date(1970, 1, 1)).days}


# ----------------------------------------------------------------------------- behaviour


def test_sleep_is_lower_and_steadier_than_the_day(demo: Physiology) -> None:
    for day in recent_days(7):
        instants, bpm, offsets = day_samples(demo, day)
        hours = local_hours(instants, offsets)
        night = bpm[(hours >= 2) & (hours < 5)]
        daytime = bpm[(hours >= 10) & (hours < 20)]
        assert night.size > 1000
        assert daytime.size > 1000
        assert np.median(night) + 10 < np.median(daytime)
        assert np.std(night) < np.std(daytime) / 2


def test_exercise_ramps_up_over_minutes_without_jumps(demo: Physiology) -> None:
    max_hr = 220 - demo.spec.age
    vigorous_days = 0
    for day in recent_days():
        instants, bpm, _ = day_samples(demo, day)
        one_second = np.diff(instants) == 1
        assert np.abs(np.diff(bpm))[one_second].max() <= 15
        resting = demo.resting_hr(day)
        assert resting is not None
        vigorous = resting + 0.6 * (max_hr - resting)
        moderate = resting + 0.4 * (max_hr - resting)
        hard = np.flatnonzero(bpm >= vigorous)
        if hard.size == 0:
            continue
        vigorous_days += 1
        first_hard = hard[0]
        easy_before = np.flatnonzero(bpm[:first_hard] < moderate)
        assert easy_before.size > 0
        climb_s = instants[first_hard] - instants[easy_before[-1]]
        assert climb_s >= 60, f"{day}: from moderate to vigorous in {climb_s} s"
    assert vigorous_days >= 3  # workouts are a regular part of the demo user's fortnight


def test_non_wear_gaps_of_minutes_and_hours_appear(demo: Physiology) -> None:
    instants, _, _ = demo.samples(CLOCK_S - 14 * DAY_S, CLOCK_S)
    gaps_min = np.diff(instants) / 60
    assert np.any((gaps_min >= 1) & (gaps_min < 15))  # loose band
    assert np.any((gaps_min >= 15) & (gaps_min < 120))  # charging


def test_a_year_has_whole_days_off_the_wrist_but_the_last_fortnight_is_worn(
    demo: Physiology,
) -> None:
    counts = {day: demo.daily_sample_count(day) for day in recent_days(365)}
    empty = [day for day, count in counts.items() if count == 0]
    assert 2 <= len(empty) <= 30
    assert all(counts[day] > 15_000 for day in recent_days(14))
    for day in empty:
        assert demo.resting_hr(day) is None
        assert demo.zones(day) == []


def test_no_samples_before_member_since() -> None:
    spec = demo_user(CLOCK_S)
    phys = Physiology(spec)
    since_start, _ = phys.local_day_bounds(spec.member_since)
    instants, _, offsets = phys.samples(since_start - 3 * DAY_S, since_start + 2 * DAY_S)
    assert instants.size > 0
    assert instants.min() >= since_start
    first_local = dt.date(1970, 1, 1) + dt.timedelta(days=int((instants[0] + offsets[0]) // DAY_S))
    assert first_local == spec.member_since
    assert phys.daily_sample_count(spec.member_since - dt.timedelta(days=1)) == 0


# ----------------------------------------------------------------------------- time zones


def test_spring_forward_day_is_23_hours_and_offset_switches_at_one_utc() -> None:
    phys = Physiology(demo_user(CLOCK_S))
    start, end = phys.local_day_bounds(dt.date(2026, 3, 29))
    assert (end - start) == 23 * 3600
    switch = int(dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC).timestamp())
    assert phys.offset_s_at(switch - 1) == 3600
    assert phys.offset_s_at(switch) == 7200
    instants, _, offsets = phys.samples(start, end)
    np.testing.assert_array_equal(offsets, np.where(instants < switch, 3600, 7200))
    assert offsets.min() == 3600
    assert offsets.max() == 7200


def test_fall_back_day_is_25_hours_and_offset_switches_at_one_utc() -> None:
    phys = Physiology(demo_user(CLOCK_S))
    start, end = phys.local_day_bounds(dt.date(2026, 10, 25))
    assert (end - start) == 25 * 3600
    switch = int(dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC).timestamp())
    instants, _, offsets = phys.samples(start, end)
    np.testing.assert_array_equal(offsets, np.where(instants < switch, 7200, 3600))
    assert phys.local_date_of(end - 1) == dt.date(2026, 10, 25)
    assert phys.local_date_of(end) == dt.date(2026, 10, 26)


def test_travel_changes_zone_offsets_and_local_days(demo: Physiology) -> None:
    spec = demo.spec
    (away_day, away_zone), (home_day, home_zone) = spec.travel
    assert away_zone == "America/New_York"
    assert home_zone == spec.time_zone
    assert TODAY - dt.timedelta(days=365) < away_day < home_day < TODAY - dt.timedelta(days=14)
    away_start, away_end = demo.local_day_bounds(away_day)
    assert away_end - away_start > DAY_S  # flying west lengthens the day
    home_start, home_end = demo.local_day_bounds(home_day)
    assert home_end - home_start < DAY_S  # flying east shortens it
    mid_trip = demo.local_day_bounds(away_day + dt.timedelta(days=3))[0] + 12 * 3600
    assert demo.zone_at(mid_trip) == "America/New_York"
    assert demo.offset_s_at(mid_trip) == -4 * 3600
    instants, _, offsets = demo.samples(away_start - DAY_S, away_end + DAY_S)
    assert {-4 * 3600, 2 * 3600} <= set(offsets.tolist())
    local_days = (instants + offsets) // DAY_S
    assert np.all(np.diff(local_days) >= 0)  # local dates never run backwards


@settings(max_examples=200, deadline=None)
@given(instant=st.integers(min_value=1_735_689_600, max_value=1_798_761_599))
def test_offsets_follow_the_zone_rules_at_every_instant(demo: Physiology, instant: int) -> None:
    phys = demo
    zone = ZoneInfo(phys.zone_at(instant))
    expected = dt.datetime.fromtimestamp(instant, dt.UTC).astimezone(zone).utcoffset()
    assert expected is not None
    assert phys.offset_s_at(instant) == expected.total_seconds()
    local = dt.datetime.fromtimestamp(instant, dt.UTC).astimezone(zone).date()
    assert phys.local_date_of(instant) == local


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)))
def test_local_day_bounds_hold_exactly_the_instants_of_that_date(
    demo: Physiology, day: dt.date
) -> None:
    phys = demo
    start, end = phys.local_day_bounds(day)
    assert phys.local_date_of(start) == day
    assert phys.local_date_of(start - 1) == day - dt.timedelta(days=1)
    assert phys.local_date_of(end - 1) == day
    assert phys.local_date_of(end) == day + dt.timedelta(days=1)


def test_sample_offsets_equal_the_offset_at_each_instant(demo: Physiology) -> None:
    instants, _, offsets = demo.samples(*demo.local_day_bounds(dt.date(2026, 3, 29)))
    for i in range(0, instants.size, 97):
        assert offsets[i] == demo.offset_s_at(int(instants[i]))


# ----------------------------------------------------------------------------- dailies


def independent_weights(instants: list[int], day_end: int) -> list[int]:
    """Each sample counts until the next one (or the day's end), at most 30 s."""
    following = [*instants[1:], day_end]
    return [min(b - a, 30) for a, b in zip(instants, following, strict=True)]


def independent_resting_hr(instants: list[int], bpm: list[int], day_end: int) -> int | None:
    """The lowest sustained hour: mean of the six lowest well-worn 10-minute bins."""
    if not instants:
        return None
    weights = independent_weights(instants, day_end)
    if sum(weights) < 6 * 3600:
        return None
    wear: dict[int, int] = {}
    beats: dict[int, int] = {}
    for t, b, w in zip(instants, bpm, weights, strict=True):
        key = (t - instants[0]) // 600
        wear[key] = wear.get(key, 0) + w
        beats[key] = beats.get(key, 0) + w * b
    means = sorted(beats[k] / wear[k] for k in wear if wear[k] >= 480)
    if len(means) < 6:
        return None
    return round(sum(means[:6]) / 6)


def test_resting_hr_is_the_lowest_sustained_hour_of_the_samples(demo: Physiology) -> None:
    for day in recent_days(5):
        start, end = demo.local_day_bounds(day)
        instants, bpm, _ = demo.samples(start, end)
        expected = independent_resting_hr(instants.tolist(), bpm.tolist(), end)
        assert expected is not None
        assert demo.resting_hr(day) == expected
        assert 40 <= expected <= 80
        assert expected < np.median(bpm)


def test_resting_hr_is_none_without_enough_wear() -> None:
    spec = demo_user(CLOCK_S)
    phys = Physiology(spec)
    assert phys.resting_hr(spec.member_since - dt.timedelta(days=1)) is None
    assert phys.zones(spec.member_since - dt.timedelta(days=1)) == []


def test_zones_use_karvonen_thresholds_and_minutes_from_the_samples(demo: Physiology) -> None:
    max_hr = 220 - demo.spec.age
    for day in recent_days(4):
        start, end = demo.local_day_bounds(day)
        instants, bpm, _ = demo.samples(start, end)
        resting = demo.resting_hr(day)
        assert resting is not None
        zones = demo.zones(day)
        assert [z[0] for z in zones] == ["LIGHT", "MODERATE", "VIGOROUS", "PEAK"]
        reserve = max_hr - resting
        expected_mins = [resting + round(f * reserve) for f in (0.30, 0.40, 0.60, 0.85)]
        assert [z[1] for z in zones] == expected_mins
        assert [z[2] for z in zones] == [*(m - 1 for m in expected_mins[1:]), max_hr]
        weights = independent_weights(instants.tolist(), end)
        for name, lo, hi, minutes in zones:
            top = 10_000 if name == "PEAK" else hi
            seconds = sum(w for b, w in zip(bpm.tolist(), weights, strict=True) if lo <= b <= top)
            assert minutes == pytest.approx(seconds / 60)
        assert sum(z[3] for z in zones) < (end - start) / 60


def test_half_hour_dst_and_southern_hemisphere_users_get_zoneinfo_offsets() -> None:
    """Lord Howe Island moves its clocks by 30 minutes, in April: offsets still come out exact."""
    spec = UserSpec(
        health_user_id="222",
        legacy_user_id="LHI001",
        display_name="Island User",
        time_zone="Australia/Lord_Howe",
        member_since=dt.date(2025, 1, 1),
        seed=7,
    )
    phys = Physiology(spec)
    start, end = phys.local_day_bounds(dt.date(2026, 4, 5))
    assert end - start == 24 * 3600 + 1800
    instants, bpm, offsets = phys.samples(start, end)
    zone = ZoneInfo("Australia/Lord_Howe")
    expected = [
        dt.datetime.fromtimestamp(int(t), dt.UTC).astimezone(zone).utcoffset().total_seconds()
        for t in instants[::50]
    ]
    np.testing.assert_array_equal(offsets[::50], expected)
    assert set(offsets.tolist()) == {39600, 37800}
    hours = local_hours(instants, offsets)
    assert np.median(bpm[(hours >= 2) & (hours < 5)]) < np.median(bpm[(hours >= 10) & (hours < 20)])


def test_resting_hr_method_says_whether_the_night_was_worn(demo: Physiology) -> None:
    methods = {day: demo.resting_hr_method(day) for day in recent_days(200)}
    awake_only = [day for day, method in methods.items() if method == "ONLY_WITH_AWAKE_DATA"]
    assert awake_only  # now and then the watch stays on the nightstand
    assert sum(method == "WITH_SLEEP" for method in methods.values()) > 180
    for day in awake_only:
        instants, _, offsets = day_samples(demo, day)
        hours = local_hours(instants, offsets)
        assert not np.any((hours >= 1) & (hours < 5))
    for day, method in methods.items():
        assert (method is None) == (demo.resting_hr(day) is None)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../etc/passwd", ""])
def test_unknown_time_zones_are_refused_with_a_clear_message(zone: str) -> None:
    spec = dataclasses.replace(demo_user(CLOCK_S), time_zone=zone)
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        Physiology(spec)


def test_days_long_before_membership_are_empty_and_cheap() -> None:
    phys = Physiology(demo_user(CLOCK_S))
    instants, bpm, offsets = phys.samples(0, CLOCK_S - 500 * DAY_S)  # 1970 to before joining
    assert instants.size == bpm.size == offsets.size == 0


ZONES = ["Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney", "UTC"]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=-(2**70), max_value=2**70),
    zone=st.sampled_from(ZONES),
    age=st.integers(min_value=16, max_value=90),
    day_offset=st.integers(min_value=0, max_value=700),
)
def test_any_user_on_any_day_stays_in_range(
    seed: int, zone: str, age: int, day_offset: int
) -> None:
    spec = UserSpec(
        health_user_id="333",
        legacy_user_id="ANY001",
        display_name="Anyone",
        time_zone=zone,
        member_since=dt.date(2025, 1, 1),
        seed=seed,
        age=age,
    )
    phys = Physiology(spec)
    day = dt.date(2025, 1, 2) + dt.timedelta(days=day_offset)
    start, end = phys.local_day_bounds(day)
    instants, bpm, offsets = phys.samples(start, end)
    assert np.all(np.diff(instants) > 0)
    if instants.size:
        assert bpm.min() >= 30
        assert bpm.max() <= 220
        assert bpm.max() <= 220 - age + 8  # exercise stays near the age-predicted maximum
        assert offsets[0] == phys.offset_s_at(int(instants[0]))
        assert offsets[-1] == phys.offset_s_at(int(instants[-1]))
    zones = phys.zones(day)
    assert (zones == []) == (instants.size == 0)
    assert all(lo <= hi for _, lo, hi, _ in zones)


@settings(max_examples=8, deadline=None)
@given(clock=st.datetimes(min_value=dt.datetime(2022, 1, 1), max_value=dt.datetime(2035, 1, 1)))
def test_demo_user_always_has_a_worn_fortnight_and_a_trip_inside_the_year(
    clock: dt.datetime,
) -> None:
    clock_s = int(clock.replace(tzinfo=dt.UTC).timestamp())
    spec = demo_user(clock_s)
    today = clock.date()
    assert spec.member_since == today - dt.timedelta(days=400)
    for travel_day, _ in spec.travel:
        assert today - dt.timedelta(days=365) < travel_day < today - dt.timedelta(days=14)
    phys = Physiology(spec)
    counts = [phys.daily_sample_count(today - dt.timedelta(days=k)) for k in range(1, 15)]
    assert min(counts) > 15_000


def test_the_docs_example_prints_what_docs_sandbox_md_shows() -> None:
    """docs/sandbox.md shows real output; this keeps it real."""
    docs = (Path(__file__).parents[2] / "docs" / "sandbox.md").read_text(encoding="utf-8")
    section = docs.split("## Synthetic physiology", 1)[1].split("\n## ", 1)[0]
    block = section.split("$ .venv/bin/python - <<'EOF'\n", 1)[1].split("\n```", 1)[0]
    script, shown = block.split("\nEOF\n", 1)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == shown.strip()


def test_heart_rate_does_not_jump_when_the_local_clock_does(demo: Physiology) -> None:
    """DST and a six-hour travel switch move the local clock at once; the heart follows slowly."""
    changes = [*(day for day, _ in demo.spec.travel), dt.date(2026, 3, 29), dt.date(2026, 10, 25)]
    for day in changes:
        start, end = demo.local_day_bounds(day)
        instants, bpm, offsets = demo.samples(start - 6 * 3600, end)  # flying east: at the start
        switch = np.flatnonzero(np.diff(offsets) != 0)
        assert switch.size == 1
        close = np.diff(instants) <= 15
        assert np.abs(np.diff(bpm))[close].max() <= 20, day
        k = int(switch[0])
        around = np.abs(instants - instants[k]) <= 60
        assert bpm[around].max() - bpm[around].min() <= 25, day


def test_threads_sharing_one_user_see_the_same_data() -> None:
    """The emulator serves requests from several threads against one shared Physiology."""
    spec = dataclasses.replace(demo_user(CLOCK_S), seed=424242)
    shared = Physiology(spec)
    windows = [(CLOCK_S - k * 20_000, CLOCK_S - k * 20_000 + 50_000) for k in range(24)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = list(pool.map(lambda w: digest(shared.samples(*w)), windows * 2))
    assert digests[:24] == digests[24:]
    fresh = [digest(Physiology(spec).samples(*w)) for w in windows]
    assert digests[:24] == fresh
