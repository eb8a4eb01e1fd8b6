"""Samples at the ends of the calendar: a file that carries a time on 9999-12-31 (or a sample
no local day can hold) ends the import in exit 9 with a message saying which time and why,
never a traceback, and nothing of the import is kept — whatever the zone the file is read in."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import load_settings
from heartkeep.model import Sample, Source
from heartkeep.store import open_store

FOLDER = "Takeout/Google Health/Physical Activity_GoogleData"
HEADER = "timestamp,beats per minute,data source"


def csv_day(day: str, hours: range) -> str:
    rows = [f"{day}T{h:02d}:{m:02d}:00Z,{60 + m}.0,Pixel Watch" for h in hours for m in range(60)]
    return "\n".join([HEADER, *rows]) + "\n"


def archive(tmp_path: Path, name: str, days: dict[str, str]) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as out:
        for day, text in days.items():
            out.writestr(f"{FOLDER}/heart_rate_{day}.csv", text)
    return path


def import_takeout(path: Path, zone: str):
    return CliRunner().invoke(app, ["import", "takeout", str(path), "--time-zone", zone])


def stored() -> tuple[int, int]:
    with sqlite3.connect(load_settings().database) as db:
        (samples,) = db.execute("SELECT count(*) FROM heart_rate").fetchone()
        (imports,) = db.execute("SELECT count(*) FROM import_run").fetchone()
    return samples, imports


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_a_time_on_the_last_day_of_9999_ends_the_import_with_exit_9(
    home: Path, tmp_path: Path, zone: str
) -> None:
    good = archive(tmp_path, "good.zip", {"2026-09-01": csv_day("2026-09-01", range(8, 10))})
    first = import_takeout(good, zone)
    assert first.exit_code == 0, first.output
    before = stored()
    assert before == (120, 1)

    bad = archive(
        tmp_path,
        "far.zip",
        {
            "2026-09-02": csv_day("2026-09-02", range(8, 10)),
            "9999-12-31": csv_day("9999-12-31", range(23, 24)),
        },
    )
    result = import_takeout(bad, zone)
    assert result.exit_code == 9, result.output
    assert "Traceback" not in result.output
    assert "9999-12-31T23:" in result.output
    assert "outside the dates heartkeep can keep" in result.output
    assert stored() == before  # the good day of the same archive is not kept either


def test_a_first_import_with_such_a_time_leaves_no_database(home: Path, tmp_path: Path) -> None:
    bad = archive(tmp_path, "far.zip", {"9999-12-31": csv_day("9999-12-31", range(12, 13))})
    result = import_takeout(bad, "Europe/Berlin")
    assert result.exit_code == 9, result.output
    assert "Traceback" not in result.output
    assert not Path(load_settings().database).exists()


@pytest.mark.parametrize(
    ("sample", "words"),
    [
        # 9999-12-31T00:00Z: its next local day is in the year 10000
        (Sample(253_402_214_400, 70, 0), "9999-12-31T00:00Z is outside the dates"),
        (Sample(300_000_000_000, 70, 0), "300000000000 s from 1970 (UTC) is outside the dates"),
        # 0001-01-01T00:00Z: the day before it is in the year 0
        (Sample(-62_135_596_800, 70, 0), "0001-01-01T00:00Z is outside the dates"),
        (Sample(1_790_200_800, 70, 10**10), "UTC offset of 10000000000 minutes, more than a day"),
        (Sample(1_790_200_800, 70, -1441), "UTC offset of -1441 minutes, more than a day"),
    ],
)
def test_write_samples_refuses_a_sample_no_day_can_hold(
    tmp_path: Path, sample: Sample, words: str
) -> None:
    from heartkeep.errors import StoreError

    with open_store(str(tmp_path / "hk.sqlite")) as store:
        good = [Sample(1_790_200_800 + i, 60, 120) for i in range(100)]
        store.write_samples("google-health:me", good, Source.GOOGLE_HEALTH)
        with pytest.raises(StoreError, match=re.escape(words)):
            store.write_samples("google-health:me", [*good, sample], Source.GOOGLE_HEALTH)
        assert store.sample_count("google-health:me") == 100
        assert store.dirty_day_count("google-health:me") > 0  # the first write's, unrefreshed
        store.refresh_aggregates("google-health:me")
        assert store.aggregate_problems("google-health:me", full=True) == []
