"""Imports are recorded, re-imports correct rather than add, and one rule settles disagreements.

Every test goes through `heartkeep.api` or the CLI on real files in a temp dir, as a user would:
import, re-import with a corrected zone, list, undo; and the same conflicting sources in both
orders (on one command line and across runs) must leave the same store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Daily, DailyKind, Sample, Source
from heartkeep.store import open_store

runner = CliRunner()
DAY = "2026-06-01"


def legacy_day(path: Path, day: str, *, step_s: int = 60, bpm: int = 60) -> Path:
    """A saved legacy intraday response: one reading every `step_s` s of the local day."""
    dataset = [
        {"time": f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}", "value": bpm + t % 40}
        for t in range(0, 86_400, step_s)
    ]
    body = {
        "activities-heart": [{"dateTime": day, "value": {"heartRateZones": []}}],
        "activities-heart-intraday": {"dataset": dataset, "datasetInterval": 1},
    }
    path.write_text(json.dumps(body))
    return path


def stored(settings: Settings, key: str) -> list[Sample]:
    with open_store(settings.database) as store:
        return [s for batch in store.iter_samples(key) for s in batch]


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_reimport_with_a_corrected_zone_replaces_and_undo_removes(
    home: Path, settings: Settings, tmp_path: Path
) -> None:
    path = legacy_day(tmp_path / f"heart-{DAY}.json", DAY)
    cli("import", "fitbit-json", str(path), "--time-zone", "America/New_York")

    out = cli("import", "fitbit-json", str(path), "--time-zone", "Europe/Berlin")

    assert "0 new" in out
    assert "Same files as import 1" in out
    rows = stored(settings, "fitbit-json:me")
    assert len(rows) == 1440  # not 2,880: the wrong-zone rows are gone
    assert {row.offset_min for row in rows} == {120}
    berlin_midnight = dt.datetime(2026, 6, 1, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    assert rows[0].instant_s == int(berlin_midnight)

    listed = json.loads(cli("import", "list", "--json"))["imports"]
    assert [(i["id"], i["time_zone"], i["inserted"]) for i in listed] == [
        (2, "Europe/Berlin", 1440)
    ]
    (file,) = listed[0]["files"]
    assert file["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Europe/Berlin" in cli("import", "list")

    undone = cli("import", "undo", "2")
    assert "removed 1,440 samples" in undone
    assert stored(settings, "fitbit-json:me") == []
    assert json.loads(cli("import", "list", "--json"))["imports"] == []
    missing = runner.invoke(app, ["import", "undo", "2"])
    assert missing.exit_code == 10
    assert "import list" in missing.output
    beyond = runner.invoke(app, ["import", "undo", str(2**63)])  # more than a store's integer
    assert beyond.exit_code == 10
    assert f"there is no import {2**63}" in beyond.output


def test_an_hour_the_zone_skips_loses_no_reading_silently(home: Path, tmp_path: Path) -> None:
    """A device that never sprang forward, read in a zone that did: 02:xx would land on 03:xx.

    Every reading is either stored or counted: as a merge (warned about, in `status`) or as a
    sample stored with an inferred offset (the travel-day rule), never dropped without a word.
    """
    path = legacy_day(tmp_path / "heart-2026-03-29.json", "2026-03-29")

    result = runner.invoke(
        app, ["import", "fitbit-json", str(path), "--time-zone", "Europe/Berlin", "--json"]
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    status = json.loads(cli("status", "--json"))["accounts"][0]
    assert report["samples_read"] == 1440
    assert report["inserted"] + report["merged"] == 1440
    assert status["samples_merged"] == report["merged"]
    assert report["merged"] or report["samples_reoffset"]


def _takeout(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = folder / "Takeout/Fitbit/Global Export Data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


def _zones(minutes: dict[str, float]) -> str:
    return json.dumps([{"dateTime": "06/01/26 00:00:00", "value": {"valuesInZones": minutes}}])


def _json_day(bpm: int) -> str:
    return json.dumps([{"dateTime": "06/01/26 10:00:00", "value": {"bpm": bpm, "confidence": 2}}])


def _csv_day(bpm: int) -> str:
    return f"timestamp,beats per minute\n2026-06-01T10:00:00Z,{bpm}.0\n"


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """An older partial export and a fuller one of the same day; a JSON file and its CSV twin
    that disagree on one reading."""
    zones = "time_in_heart_rate_zones-2026-06-01.json"
    partial = {"BELOW_DEFAULT_ZONE_1": 1150.0, "IN_DEFAULT_ZONE_1": 63.0}
    fuller = {"BELOW_DEFAULT_ZONE_1": 1170.0, "IN_DEFAULT_ZONE_1": 63.0, "IN_DEFAULT_ZONE_2": 7.0}
    csv_dir = tmp_path / "csv/Takeout/Fitbit/Physical Activity_GoogleData"
    csv_dir.mkdir(parents=True)
    (csv_dir / "heart_rate_2026-06-01.csv").write_text(_csv_day(72))
    return {
        "partial": _takeout(tmp_path / "partial", {zones: _zones(partial)}),
        "fuller": _takeout(tmp_path / "fuller", {zones: _zones(fuller)}),
        "json": _takeout(tmp_path / "json", {"heart_rate-2026-06-01.json": _json_day(70)}),
        "csv": tmp_path / "csv",
    }


def _outcome(settings: Settings) -> tuple[float, list[Sample]]:
    with open_store(settings.database) as store:
        (daily,) = store.dailies("takeout:me", kind=DailyKind.ZONES)
        samples = [s for batch in store.iter_samples("takeout:me") for s in batch]
    return sum(zone.minutes or 0 for zone in daily.zones), samples


@pytest.mark.parametrize("order", ["forward", "reverse"])
@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_the_fuller_day_and_the_larger_reading_win_in_any_order(
    settings: Settings, sources: dict[str, Path], order: str, runs: str
) -> None:
    names = ["partial", "fuller", "json", "csv"]
    if order == "reverse":
        names.reverse()
    paths = [sources[name] for name in names]
    if runs == "one run":
        api.import_takeout(settings, paths, time_zone="UTC", name="me")
    else:
        for path in paths:
            api.import_takeout(settings, [path], time_zone="UTC", name="me")

    minutes, samples = _outcome(settings)

    assert minutes == 1240  # the fuller day (1,240 zone minutes), never the partial 1,213
    instant = int(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC).timestamp())
    assert samples == [Sample(instant, 72, 0)]  # the larger of the twins' readings


def test_synced_data_beats_an_archive_and_undo_restores_what_an_import_replaced(
    settings: Settings, sources: dict[str, Path], tmp_path: Path
) -> None:
    instant = int(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC).timestamp())
    first = api.import_takeout(settings, [sources["json"]], time_zone="UTC", name="me")
    second = api.import_takeout(settings, [sources["csv"]], time_zone="UTC", name="me")
    assert (second.replaced, second.inserted) == (1, 0)
    assert _outcome_samples(settings) == [Sample(instant, 72, 0)]

    api.undo_import(settings, second.import_id or 0)
    assert _outcome_samples(settings) == [Sample(instant, 70, 0)]  # the first import's value

    provider = replace(settings, database=str(tmp_path / "synced.sqlite"))
    with open_store(provider.database) as store:
        store.write_samples("takeout:me", [Sample(instant, 64, 120)], Source.GOOGLE_HEALTH)
        store.write_dailies(
            "takeout:me",
            [Daily(dt.date(2026, 6, 1), DailyKind.RESTING_HR, 51.0)],
            Source.GOOGLE_HEALTH,
        )
    report = api.import_takeout(provider, [sources["csv"], sources["json"]], account="takeout:me")
    assert report.kept == 2  # both twins' readings lost to the synced one
    assert report.inserted == 0
    assert _outcome_samples(provider) == [Sample(instant, 64, 120)]
    assert first.import_id == 1


def _outcome_samples(settings: Settings) -> list[Sample]:
    with open_store(settings.database) as store:
        return [s for batch in store.iter_samples("takeout:me") for s in batch]


def test_a_store_imported_into_before_provenance_upgrades_and_keeps_working(
    settings: Settings, sources: dict[str, Path]
) -> None:
    """A schema-3 file (as the previous heartkeep wrote it) with an imported sample: the
    upgrade keeps it, a later import may win over it, and undoing that import restores it."""
    import sqlite3

    from heartkeep.store.migrations import STEPS

    instant = int(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC).timestamp())
    Path(settings.database).parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(settings.database)
    for number, step in enumerate(STEPS[:3], start=1):
        for statement in step:
            old.execute(statement)
        old.execute(f"PRAGMA user_version = {number}")
    old.execute(
        "INSERT INTO account (id, key, provider, user_id, created_s) "
        "VALUES (0, 'takeout:me', 'takeout', 'me', 0)"
    )
    old.execute("INSERT INTO heart_rate VALUES (0, ?, 66, 0, 2)", (instant,))
    old.commit()
    old.close()

    report = api.import_takeout(settings, [sources["csv"]], account="takeout:me")

    assert report.replaced == 1
    with sqlite3.connect(settings.database) as check:
        assert check.execute(
            "SELECT bpm, source, import_id FROM heart_rate_readable"
        ).fetchall() == [(72, "takeout", report.import_id)]
    check.close()
    api.undo_import(settings, report.import_id or 0)
    assert _outcome_samples(settings) == [Sample(instant, 66, 0)]
