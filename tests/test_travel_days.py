"""Travel days: a flight west makes a 30-hour local day, a flight east an 18-hour one.

The legacy Fitbit API (and saved copies of its responses) gives wall-clock times only, so on a
westward travel day the wall clock runs back by the zone difference: heartkeep reads that jump
as a change of zone and keeps every sample, with the offset the jump implies, and says so.  The
Google Health API reports an offset with every sample: its travel days stay exact as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep import api, timeline
from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Sample
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
    local = dataclasses.replace(settings, sandbox_url=server.url, http_timeout_s=30.0)
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
    read = timeline.infer_zone_changes(naive, np.full(naive.size, offset_after_min, np.int64))
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
