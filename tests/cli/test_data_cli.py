"""The user's story on the command line: import an archive, look at stats, export it all."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import load_settings
from heartkeep.store import open_store

runner = CliRunner()
START = int(dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC).timestamp())  # Berlin local midnight


def make_archive(tmp_path: Path, *, broken: bool = False) -> Path:
    """Two local days (the second is the 25-hour fall-back day), one sample every 30 s."""
    path = tmp_path / "takeout-20261120T101010Z-001.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for day, start, hours in (
            (dt.date(2026, 10, 25), START, 25),
            (dt.date(2026, 10, 26), START + 25 * 3600, 24),
        ):
            records = [
                f'{{"dateTime" : "{dt.datetime.fromtimestamp(t, dt.UTC):%m/%d/%y %H:%M:%S}", '
                f'"value" : {{"bpm" : {55 + (t // 60) % 70}, "confidence" : 2}}}}'
                for t in range(start, start + hours * 3600, 30)
            ]
            archive.writestr(
                f"Takeout/Fitbit/Global Export Data/heart_rate-{day}.json",
                "[" + ",".join(records) + "]",
            )
        archive.writestr(
            "Takeout/Fitbit/Global Export Data/resting_heart_rate-2026-10-25.json",
            '[{"dateTime" : "10/25/26 00:00:00", '
            '"value" : {"date" : "10/25/26", "value" : 57.5, "error" : 3.1}}]',
        )
        if broken:
            archive.writestr(
                "Takeout/Fitbit/Global Export Data/heart_rate-2026-10-27.json",
                '[{"dateTime" : "10/27/26 00:00:00", "value" : {"bpm" : "high"}}]',
            )
    return path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_import_then_reimport_then_stats(home: Path, tmp_path: Path):
    archive = make_archive(tmp_path)
    result = invoke(
        "import", "takeout", str(archive), "--time-zone", "Europe/Berlin", "--name", "Jo Doe"
    )
    assert result.exit_code == 0, result.output
    assert "Imported 3 files into takeout:jo-doe: 5,880 samples read, 5,880 new" in result.output
    again = invoke("import", "takeout", str(archive))
    assert "0 new, 0 changed" in again.output

    with open_store(load_settings().database) as store:
        account = store.account("takeout:jo-doe")
        assert account is not None
        assert (account.display_name, account.time_zone) == ("Jo Doe", "Europe/Berlin")
        assert store.sample_count("takeout:jo-doe") == 5880

    table = invoke("stats")
    assert table.exit_code == 0, table.output
    assert "2026-10-25" in table.output
    assert "3,000" in table.output  # 25 hours of 30-second samples

    as_json = json.loads(invoke("stats", "--json").output)
    assert [d["day"] for d in as_json] == ["2026-10-25", "2026-10-26"]
    assert [d["samples"] for d in as_json] == [3000, 2880]
    assert as_json[0]["day_length_s"] == 25 * 3600
    assert as_json[0]["resting_provider"] == 57.5

    as_csv = invoke("stats", "--csv", "--since", "2026-10-26").output.splitlines()
    assert as_csv[0].startswith("day,samples,wear_s,day_length_s,coverage,min_bpm,mean_bpm")
    assert as_csv[1].startswith("2026-10-26,2880,")
    assert len(as_csv) == 2


def test_a_broken_archive_exits_8_naming_the_file_and_saves_nothing(home: Path, tmp_path: Path):
    result = invoke(
        "import",
        "takeout",
        str(make_archive(tmp_path, broken=True)),
        "--time-zone",
        "Europe/Berlin",
    )
    assert result.exit_code == 8
    assert "heart_rate-2026-10-27.json, record 1" in result.output
    with open_store(load_settings().database) as store:
        assert store.accounts() == []


def test_first_import_without_a_time_zone_explains_what_to_pass(home: Path, tmp_path: Path):
    result = invoke("import", "takeout", str(make_archive(tmp_path)))
    assert result.exit_code == 3
    assert "--time-zone" in result.output


def test_export_every_format(home: Path, tmp_path: Path):
    invoke("import", "takeout", str(make_archive(tmp_path)), "--time-zone", "Europe/Berlin")
    for fmt in ("csv", "parquet", "jsonl", "fhir", "omh"):
        out = tmp_path / f"hr.{fmt}"
        result = invoke("export", "--format", fmt, "--output", str(out), "--since", "2026-10-26")
        assert result.exit_code == 0, result.output
        assert f"Wrote 2,880 samples from takeout:me to {out} ({fmt}" in result.output
    assert pq.read_table(tmp_path / "hr.parquet").num_rows == 2880
    bundle = tmp_path / "bundle.json"
    invoke("export", "-f", "fhir", "-o", str(bundle), "--fhir-bundle", "--until", "2026-10-25")
    assert len(json.loads(bundle.read_text())["entry"]) == 3000


def test_export_errors_are_clear(home: Path, tmp_path: Path):
    result = invoke("export", "--format", "xml", "--output", str(tmp_path / "x.xml"))
    assert result.exit_code == 2  # the usage mistake first, before "no accounts yet"
    assert "unknown export format 'xml' (choose one of csv, parquet, jsonl, fhir, omh)" in (
        result.output
    )
    result = invoke("export", "--format", "csv", "--output", str(tmp_path / "x.csv"))
    assert result.exit_code == 10
    assert "no accounts yet" in result.output
    invoke("import", "takeout", str(make_archive(tmp_path)), "--time-zone", "Europe/Berlin")
    result = invoke("export", "--format", "xlsx", "--output", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert "unknown export format" in result.output
    assert not (tmp_path / "x.xlsx").exists()
    assert not (tmp_path / "x.xml").exists()
    result = invoke(
        "export", "--format", "csv", "--output", str(tmp_path / "x.csv"), "--since", "26/10/2026"
    )
    assert result.exit_code == 2


def test_import_fitbit_json_files(home: Path, tmp_path: Path):
    files = []
    for day in ("2024-03-30", "2024-03-31"):
        data = {
            "activities-heart": [
                {"dateTime": day, "value": {"restingHeartRate": 60, "heartRateZones": []}}
            ],
            "activities-heart-intraday": {
                "dataset": [
                    {"time": f"{h:02d}:{m:02d}:00", "value": 70}
                    for h in range(24)
                    for m in range(0, 60, 10)
                ],
                "datasetInterval": 1,
                "datasetType": "minute",
            },
        }
        path = tmp_path / f"heart-{day}.json"
        path.write_text(json.dumps(data))
        files.append(str(path))
    result = invoke("import", "fitbit-json", *files, "--time-zone", "Europe/London")
    assert result.exit_code == 0, result.output
    # 2024-03-31 is London's spring-forward day: 01:00–01:59 does not exist, yet the dataset
    # lists it; those wall times read with the pre-change offset land on 02:xx BST instants.
    assert "Imported 2 files into fitbit-json:me: 288 samples read, 282 new" in result.output
