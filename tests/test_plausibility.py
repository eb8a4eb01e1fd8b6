"""One rule for plausible heart rate (20–300 bpm): imports and sync reject and count what is
outside it, and every export format carries whatever the store holds without wrapping it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Account, Sample, Source
from heartkeep.plausibility import MAX_BPM, MIN_BPM, keep_plausible, plausible
from heartkeep.store import open_store

runner = CliRunner()
ZONE = "Europe/Berlin"
START = int(dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC).timestamp())
# What a file can say: 0 is "no reading" (skipped), the rest are readings, five implausible.
FILE_VALUES = [0, -5, 19, 20, 72, 300, 301, 70_000, 1e9]
STORED = [20, 72, 300]


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_the_rule_is_the_closed_range_20_to_300(bpm: int):
    assert plausible(bpm) == (MIN_BPM <= bpm <= MAX_BPM) == (20 <= bpm <= 300)
    kept, rejected = keep_plausible([Sample(START, bpm, 0)])
    assert (len(kept), rejected) == ((1, 0) if 20 <= bpm <= 300 else (0, 1))


def takeout(tmp_path: Path) -> Path:
    records = [
        {"dateTime": f"06/01/26 08:{i:02d}:00", "value": {"bpm": bpm, "confidence": 2}}
        for i, bpm in enumerate(FILE_VALUES)
    ]
    rows = "".join(f"2026-06-01T09:{i:02d}:00Z,{bpm}\n" for i, bpm in enumerate(FILE_VALUES))
    path = tmp_path / "takeout.zip"
    with zipfile.ZipFile(path, "w") as archive:
        folder = "Takeout/Fitbit/Global Export Data"
        archive.writestr(f"{folder}/heart_rate-2026-06-01.json", json.dumps(records))
        archive.writestr(
            f"{folder}/heart_rate_2026-06-01.csv", "timestamp,beats per minute\n" + rows
        )
    return path


def stored_bpm(settings: Settings, key: str) -> list[int]:
    with open_store(settings.database) as store:
        return [s.bpm for batch in store.iter_samples(key) for s in batch]


def test_takeout_rejects_and_counts_implausible_readings(home: Path, settings, tmp_path):
    result = runner.invoke(
        app, ["import", "takeout", str(takeout(tmp_path)), "--time-zone", ZONE, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["samples_implausible"] == 10  # five in the JSON, five in the CSV
    assert stored_bpm(settings, report["account"]) == STORED + STORED
    text = runner.invoke(app, ["import", "takeout", str(takeout(tmp_path))])
    assert "10 readings outside the plausible 20–300 bpm were not stored" in text.output


def test_saved_responses_reject_and_count_implausible_readings(settings: Settings, tmp_path):
    dataset = [{"time": f"08:{i:02d}:00", "value": bpm} for i, bpm in enumerate(FILE_VALUES)]
    path = tmp_path / "heart-2026-06-01.json"
    path.write_text(json.dumps({"activities-heart-intraday": {"dataset": dataset}}))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    assert report.samples_implausible == 5
    assert stored_bpm(settings, report.account_key) == STORED


def test_a_csv_value_beyond_any_integer_is_counted_not_a_traceback(settings, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "heart_rate_2026-06-01.csv").write_text(
        "timestamp,beats per minute\n2026-06-01T09:00:00Z,1e300\n2026-06-01T09:00:05Z,70\n"
    )
    report = api.import_takeout(settings, [folder], time_zone=ZONE)
    assert (report.samples_implausible, report.inserted) == (1, 1)


# Everything the store can hold, not only what the rule lets in: a store written by an older
# heartkeep may hold 1e9, and an export must carry it, not wrap it (-13824 in an int16).
EXTREMES = [MIN_BPM, MAX_BPM, 0, -5, 70_000, 1_000_000_000, 2**31, 2**62, -(2**62)]


@pytest.fixture
def extremes(settings: Settings) -> list[Sample]:
    account = Account("google-health", "4809", "Jo Doe", ZONE)
    samples = [Sample(START + 60 * i, bpm, 120) for i, bpm in enumerate(EXTREMES)]
    with open_store(settings.database) as store:
        store.upsert_account(account)
        store.write_samples(account.key, samples, Source.GOOGLE_HEALTH)
    return samples


def read_back(fmt: str, path: Path) -> list[int]:
    if fmt == "csv":
        with path.open(newline="") as handle:
            return [int(row["bpm"]) for row in csv.DictReader(handle)]
    if fmt == "parquet":
        return pq.read_table(path).column("bpm").to_pylist()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    if fmt == "jsonl":
        return [line["bpm"] for line in lines]
    if fmt == "fhir":
        return [int(line["valueQuantity"]["value"]) for line in lines]
    return [line["body"]["heart_rate"]["value"] for line in lines]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "fhir", "omh"])
def test_every_export_format_carries_the_extremes_the_store_holds(
    settings: Settings, extremes, tmp_path, fmt
):
    path = tmp_path / f"hr.{fmt}"
    report = api.export(settings, fmt, path)
    assert report.samples == len(EXTREMES)
    assert read_back(fmt, path) == EXTREMES


def test_sync_rejects_and_counts_what_the_api_serves_outside_the_rule(world_factory, small_user):
    every = 600  # the sandbox serves -5, 5, 301, 70000, 1e9 in turn at these instants
    world = world_factory(users=(small_user(3),), implausible_bpm_every_s=every)
    report = world.sync()
    assert report.exit_code == 0, report.as_json()
    history = world.history()
    truth = world.truth(history)
    spoiled = [s for s in truth if s.instant_s % every == 0]
    assert spoiled, "the test user has readings on the spoiled instants"
    assert world.stored(history) == [s for s in truth if s.instant_s % every != 0]
    (account,) = report.accounts
    assert account.samples_implausible == len(spoiled)
    assert report.as_json()["samples_implausible"] == len(spoiled)
    assert report.as_json()["accounts"][0]["samples_implausible"] == len(spoiled)
