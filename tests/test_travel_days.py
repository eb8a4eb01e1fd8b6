"""Travel days: a flight west makes a 30-hour local day, a flight east an 18-hour one.

The legacy Fitbit API (and saved copies of its responses) gives wall-clock times only, so on a
westward travel day the wall clock runs back by the zone difference: heartkeep reads that jump
as a change of zone and keeps every sample, with the offset the jump implies, and says so.  The
Google Health API reports an offset with every sample: its travel days stay exact as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep import api, timeline
from heartkeep.analysis.daily import daily_stats
from heartkeep.analysis.zones import karvonen_zones
from heartkeep.charts.day import day_figure
from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Sample, Window
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.store import open_store

START_DAY = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()  # 2026-11-20
WEST_DAY = START_DAY - dt.timedelta(days=3)  # Berlin → New York: 30 hours long
EAST_DAY = START_DAY - dt.timedelta(days=3)  # New York → Berlin: 18 hours long
runner = CliRunner()


def traveller(home: str, away: str, day: dt.date, legacy_id: str) -> UserSpec:
    """Someone who lived in `home` and flew to `away` (where they still are) on `day`."""
    return UserSpec(
        health_user_id="77" + "".join(str(ord(c) % 10) for c in legacy_id),
        legacy_user_id=legacy_id,
        display_name="Traveller",
        time_zone=home,
        member_since=START_DAY - dt.timedelta(days=10),
        seed=23,
        travel=((day, away),),
    )


def browser(url: str) -> bool:
    """The person's browser: the sandbox auto-approves and redirects to heartkeep's callback."""
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    httpx.get(consent.headers["location"], timeout=10)
    return True


def stored(settings: Settings, key: str) -> list[Sample]:
    with open_store(settings.database) as store:
        return [s for batch in store.iter_samples(key) for s in batch]


def truth_of_day(server: Any, spec: UserSpec, day: dt.date) -> list[Sample]:
    start_s, end_s = server.state.physiology[spec.health_user_id].local_day_bounds(day)
    rows = server.state.ground_truth_samples(spec.health_user_id, start_s, end_s)
    return [Sample(i, b, o // 60) for i, b, o in rows]


def sync_one_day(
    sandbox_factory: Any,
    settings: Settings,
    spec: UserSpec,
    day: dt.date,
    provider: str,
    *,
    days_before: int = 0,
) -> tuple[Any, Settings, str, api.SyncReport]:
    """Log in and sync `day` (and `days_before` days before it) as the account's zone sees it."""
    server = sandbox_factory(users=(spec,))
    local = msgspec.structs.replace(settings, sandbox_url=server.url, http_timeout_s=30.0)
    key = api.login(
        local, provider=provider, open_browser=browser, clock=server.state.clock, timeout_s=10
    ).account_key
    since = day - dt.timedelta(days=days_before)
    until = day + dt.timedelta(days=1)
    report = api.sync(local, clock=server.state.clock, since=since, until=until)
    assert report.accounts[0].ok, report.accounts[0].error
    return server, local, key, report


# --- the legacy provider, over HTTP against the sandbox's Fitbit API ---------------------------


def test_a_westward_travel_day_from_the_legacy_api_keeps_all_30_hours(
    sandbox_factory: Any, settings: Settings
) -> None:
    spec = traveller("Europe/Berlin", "America/New_York", WEST_DAY, "WEST30")
    server, local, key, report = sync_one_day(sandbox_factory, settings, spec, WEST_DAY, "fitbit")
    truth = truth_of_day(server, spec, WEST_DAY)
    assert (truth[-1].instant_s - truth[0].instant_s) > 29.9 * 3600
    assert {s.offset_min for s in truth} == {60, -300}
    assert stored(local, key) == truth  # every sample, each with its true offset
    (account,) = report.accounts
    assert account.zone_changes_inferred == 1
    assert account.samples_reoffset == sum(1 for s in truth if s.offset_min == 60)
    assert account.samples_added == len(truth)


def test_an_eastward_travel_day_from_the_legacy_api_is_exact_and_infers_nothing(
    sandbox_factory: Any, settings: Settings
) -> None:
    spec = traveller("America/New_York", "Europe/Berlin", EAST_DAY, "EAST18")
    server, local, key, report = sync_one_day(sandbox_factory, settings, spec, EAST_DAY, "fitbit")
    truth = truth_of_day(server, spec, EAST_DAY)
    assert (truth[-1].instant_s - truth[0].instant_s) < 18 * 3600
    assert stored(local, key) == truth
    assert report.accounts[0].zone_changes_inferred == 0


@pytest.mark.parametrize(
    ("home_zone", "away_zone"),
    [("Europe/Berlin", "America/New_York"), ("America/New_York", "Europe/Berlin")],
)
def test_google_travel_days_keep_their_reported_offsets(
    sandbox_factory: Any, settings: Settings, home_zone: str, away_zone: str
) -> None:
    spec = traveller(home_zone, away_zone, WEST_DAY, "GOOG01")
    # The day as the account's (new) zone sees it starts mid-trip: sync the day before too.
    server, local, key, report = sync_one_day(
        sandbox_factory, settings, spec, WEST_DAY, "google", days_before=1
    )
    truth = truth_of_day(server, spec, WEST_DAY)
    first_s, last_s = truth[0].instant_s, truth[-1].instant_s
    kept = [s for s in stored(local, key) if first_s <= s.instant_s <= last_s]
    assert kept == truth
    assert report.accounts[0].zone_changes_inferred == 0


# --- saved legacy responses: `heartkeep import fitbit-json` --------------------------------------


def saved_day(path: Path, day: dt.date, walls_s: list[int]) -> Path:
    dataset = [
        {"time": f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}", "value": 60 + t % 40}
        for t in walls_s
    ]
    body = {
        "activities-heart": [{"dateTime": day.isoformat(), "value": {"heartRateZones": []}}],
        "activities-heart-intraday": {"dataset": dataset, "datasetInterval": 1},
    }
    path.write_text(json.dumps(body))
    return path


def test_import_of_a_saved_30_hour_day_keeps_every_sample_and_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    """Berlin 00:00–06:00, then New York 00:00–24:00, saved with the profile in New York."""
    day = dt.date(2026, 1, 14)
    first = list(range(0, 6 * 3600, 5))
    second = list(range(2, 24 * 3600, 5))
    path = saved_day(tmp_path / "heart-2026-01-14.json", day, first + second)
    result = runner.invoke(
        app, ["import", "fitbit-json", str(path), "--time-zone", "America/New_York", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["samples_read"] == report["inserted"] == len(first) + len(second)
    assert report["zone_changes_inferred"] == 1
    assert report["samples_reoffset"] == len(first)
    rows = stored(settings, report["account"])
    berlin_midnight = int(dt.datetime(2026, 1, 13, 23, tzinfo=dt.UTC).timestamp())
    assert rows[0] == Sample(berlin_midnight, 60, 60)
    assert {s.offset_min for s in rows} == {60, -300}
    assert rows[-1].instant_s - rows[0].instant_s > 29.9 * 3600

    text = runner.invoke(
        app, ["import", "fitbit-json", str(path), "--time-zone", "America/New_York"]
    )
    assert text.exit_code == 0, text.output
    assert "read as a change of time zone" in text.output
    assert f"{len(first):,} samples stored with the inferred offset" in text.output


def test_import_of_a_saved_18_hour_day_stores_it_as_it_is(
    settings: Settings, tmp_path: Path
) -> None:
    """Arrived in Berlin: the day's wall clock starts at 06:00 and never runs back."""
    day = dt.date(2026, 1, 14)
    walls = list(range(6 * 3600, 24 * 3600, 5))
    path = saved_day(tmp_path / "heart-2026-01-14.json", day, walls)
    report = api.import_fitbit_json(settings, [path], time_zone="Europe/Berlin")
    assert report.inserted == len(walls)
    assert report.zone_changes_inferred == 0
    rows = stored(settings, report.account_key)
    assert {s.offset_min for s in rows} == {60}


# --- the jump detection itself ----------------------------------------------------------------


@given(
    zone_change_quarters=st.integers(min_value=1, max_value=4 * 26),
    first_len=st.integers(min_value=1, max_value=300),
    second_len=st.integers(min_value=1, max_value=300),
    step_s=st.integers(min_value=1, max_value=60),
    gap_s=st.integers(min_value=1, max_value=449),
    offset_after_min=st.sampled_from([-600, -300, 0, 60, 330, 545]),
)
def test_a_backward_jump_is_read_as_the_zone_change_that_caused_it(
    zone_change_quarters: int,
    first_len: int,
    second_len: int,
    step_s: int,
    gap_s: int,
    offset_after_min: int,
) -> None:
    """Truth: samples before the change in a zone `change` east of the later one.  Read under
    the later zone only, the clock runs back by (change − elapsed); the inference undoes it."""
    change_s = zone_change_quarters * 900
    start_s = 1_768_000_000
    true_instants = [start_s + i * step_s for i in range(first_len)]
    after_s = true_instants[-1] + gap_s
    true_instants += [after_s + i * step_s for i in range(second_len)]
    true_offsets = [offset_after_min + change_s // 60] * first_len + [offset_after_min] * second_len
    # Read under the later zone: the wall time of each sample, minus the later zone's offset.
    walls = [i + o * 60 for i, o in zip(true_instants, true_offsets, strict=True)]
    naive = np.array([w - offset_after_min * 60 for w in walls], dtype=np.int64)
    offsets = np.full(naive.size, offset_after_min, np.int64)
    read = timeline.infer_zone_changes(naive, offsets, np.array(walls, dtype=np.int64))
    assert read.instants_s.tolist() == true_instants
    assert read.offsets_min.tolist() == true_offsets
    assert read.zone_changes == 1
    assert read.samples_reoffset == first_len


@given(st.lists(st.integers(min_value=0, max_value=449), max_size=200))
def test_a_clock_that_never_runs_back_far_is_left_alone(steps_s: list[int]) -> None:
    instants = np.cumsum(np.array([1_700_000_000, *steps_s], dtype=np.int64))
    wobble = instants - np.arange(instants.size) % 3 * 100  # small backward steps, < 7.5 min
    offsets = np.full(instants.size, 60, dtype=np.int64)
    read = timeline.infer_zone_changes(wobble, offsets)
    assert read.zone_changes == 0
    assert read.samples_reoffset == 0
    assert read.instants_s.tolist() == wobble.tolist()


# --- day lengths: DST and travel days as lived -------------------------------------------------


def worn_all_day(day: dt.date, zone_name: str, step_s: int = 60) -> list[Sample]:
    """A sample every `step_s` through the local day, each with the zone's offset."""
    span = timeline.local_day_window(day, zone_name)
    return [
        Sample(t, 60 + t % 30, timeline.zone_offset_min(zone_name, t))
        for t in range(span.start_s, span.end_s, step_s)
    ]


@pytest.mark.parametrize(
    ("zone_name", "day", "hours"),
    [
        ("Europe/Berlin", dt.date(2026, 3, 29), 23),
        ("Europe/Berlin", dt.date(2026, 10, 25), 25),
        ("America/New_York", dt.date(2026, 3, 8), 23),
        ("America/New_York", dt.date(2026, 11, 1), 25),
        ("America/New_York", dt.date(2026, 11, 2), 24),
    ],
)
def test_dst_days_are_as_long_as_their_offsets_say(
    zone_name: str, day: dt.date, hours: int
) -> None:
    samples = worn_all_day(day, zone_name)
    first, last = samples[0], samples[-1]
    ends = (first.instant_s, first.offset_min), (last.instant_s, last.offset_min)
    assert timeline.lived_day_window(day, *ends).seconds == hours * 3600
    assert timeline.lived_day_window(day, *ends, zone_name=zone_name).seconds == hours * 3600
    (row,) = daily_stats([samples], zone_name=zone_name)
    assert row.day_length_s == hours * 3600
    assert row.coverage > 0.99


def test_a_day_begun_under_the_old_offset_is_short_and_one_ending_under_it_long() -> None:
    """New York → Berlin: the day starts at New York's midnight, as 06:00 in Berlin (18 h).
    Berlin → New York: it starts at Berlin's midnight and ends at New York's (30 h)."""
    day = dt.date(2026, 1, 14)
    ny_midnight = int(dt.datetime(2026, 1, 14, 5, tzinfo=dt.UTC).timestamp())
    east = timeline.lived_day_window(
        day,
        (ny_midnight + 4, 60),
        (ny_midnight + 18 * 3600 - 3, 60),
        previous=(ny_midnight - 2, -300),
    )
    assert east == Window(ny_midnight, ny_midnight + 18 * 3600)
    berlin_midnight = ny_midnight - 6 * 3600
    west = timeline.lived_day_window(
        day,
        (berlin_midnight + 1, 60),
        (berlin_midnight + 30 * 3600 - 1, -300),
        previous=(berlin_midnight - 1, 60),
    )
    assert west == Window(berlin_midnight, berlin_midnight + 30 * 3600)


@pytest.mark.parametrize(
    ("provider", "home_zone", "away_zone", "hours"),
    [
        ("google", "America/New_York", "Europe/Berlin", 18),
        ("google", "Europe/Berlin", "America/New_York", 30),
        ("fitbit", "Europe/Berlin", "America/New_York", 30),
    ],
)
def test_travel_days_count_18_and_30_hours_in_stats_coverage_report_and_chart(
    sandbox_factory: Any,
    settings: Settings,
    provider: str,
    home_zone: str,
    away_zone: str,
    hours: int,
) -> None:
    """(The legacy API cannot show an 18-hour day: its previous day arrives in the new zone's
    wall time, so nothing says the day began under another offset; docs/fitbit-legacy.md.)"""
    spec = traveller(home_zone, away_zone, WEST_DAY, f"TRIP{hours}")
    _, local, key, _ = sync_one_day(
        sandbox_factory, settings, spec, WEST_DAY, provider, days_before=1
    )
    rows = {row.day: row for row in api.daily_report(local, account=key)}
    row = rows[WEST_DAY]
    assert row.day_length_s == hours * 3600
    assert row.coverage == pytest.approx(row.wear_s / (hours * 3600), abs=1e-9)
    folder = Path(local.database).parent
    report = api.report(local, folder / "report.html", account=key)
    assert f"<td>{WEST_DAY.isoformat()}</td><td>{hours}</td>" in report.read_text()
    chart = api.plot_day(local, WEST_DAY, folder / "day.svg", account=key)
    assert 'id="offset-change' in chart.read_text()


# --- the day chart runs over the real local day -------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "day", "hours", "labels"),
    [
        (worn_all_day(dt.date(2026, 3, 29), "Europe/Berlin"), dt.date(2026, 3, 29), 23, ["03:00"]),
        (
            worn_all_day(dt.date(2026, 10, 25), "Europe/Berlin"),
            dt.date(2026, 10, 25),
            25,
            ["02:00"],
        ),
    ],
)
def test_the_day_chart_runs_over_the_hours_the_day_had(
    samples: list[Sample], day: dt.date, hours: int, labels: list[str]
) -> None:
    figure = day_figure(samples, day, karvonen_zones(60))
    axes = figure.axes[0]
    assert axes.get_xlim() == (0.0, float(hours))
    ticks = [tick.get_text() for tick in axes.get_xticklabels()]
    assert ticks[0] == "00:00"
    assert ticks[-1] == "24:00"
    assert all(label in ticks for label in labels)  # the wall time right after the change
    markers = [line for line in axes.get_lines() if line.get_gid() == "offset-change"]
    assert len(markers) == 1
    (curve_line,) = [line for line in axes.get_lines() if line.get_gid() == "heart-rate"]
    x = np.asarray(curve_line.get_xdata(), dtype=float)
    assert bool(np.all(np.diff(x) > 0))  # never drawn back over itself, never bridging a gap


@pytest.mark.parametrize(
    ("joined_in", "lives_in"),
    [("Pacific/Kiritimati", "America/Los_Angeles"), ("America/Los_Angeles", "Pacific/Kiritimati")],
)
def test_a_first_sync_keeps_the_first_hours_of_a_history_begun_in_another_zone(
    world_factory: Any, small_user: Any, joined_in: str, lives_in: str
) -> None:
    """The membership start is a date in the zone of the day one joined; midnight of that date
    in today's zone (22 hours later after a move west) skipped the history's first hours."""
    world = world_factory(users=(small_user(6, zone=joined_in, travel=((WEST_DAY, lives_in),)),))
    first_s = world.truth(world.history())[0].instant_s
    visible_s = world.visible_until()
    assert world.sync().exit_code == 0
    assert world.stored() == world.truth(Window(first_s, visible_s))
