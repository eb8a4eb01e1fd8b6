"""Archives made to hurt: oversized entries, zip bombs, endless lines, `..` names.  From the
command line, each ends in exit 8 with a message naming the file and the limit, and a failed
first import leaves no database behind.  (Peak memory per case: bench/bench_hostile_import.py.)"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import load_settings
from heartkeep.importers import limits

runner = CliRunner()
FOLDER = "Takeout/Fitbit/Global Export Data"
GOOD_DAY = json.dumps(
    [
        {"dateTime": f"06/01/26 10:{m:02d}:00", "value": {"bpm": 60, "confidence": 2}}
        for m in range(5)
    ]
)


def import_takeout(*paths: Path):
    return runner.invoke(
        app, ["import", "takeout", *map(str, paths), "--time-zone", "Europe/Berlin"]
    )


def zip_with(
    tmp_path: Path, name: str, content: bytes, compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    path = tmp_path / "takeout.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{FOLDER}/heart_rate-2026-06-01.json", GOOD_DAY)
        archive.writestr(name, content, compress_type=compression)
    return path


def database() -> Path:
    return Path(load_settings().database)


def refused(result, *words: str) -> None:
    assert result.exit_code == 8, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output
    assert not database().exists(), "a failed first import left a database behind"


def test_a_csv_field_over_128_kb_is_refused_by_line(home: Path, tmp_path: Path):
    csv_text = "timestamp,beats per minute\n2026-06-01T10:00:00Z," + "9" * 200_000 + "\n"
    archive = zip_with(tmp_path, f"{FOLDER}/heart_rate_2026-06-01.csv", csv_text.encode())
    refused(import_takeout(archive), "heart_rate_2026-06-01.csv", "line 2 is 200,021 bytes long")


def test_a_csv_with_more_lines_than_a_day_has_is_refused(home: Path, tmp_path: Path):
    csv_text = "timestamp,beats per minute\n" + "x\n" * limits.MAX_CSV_LINES
    archive = zip_with(tmp_path, f"{FOLDER}/heart_rate_2026-06-01.csv", csv_text.encode())
    refused(import_takeout(archive), "lines, more than the 150,000")


def test_a_zip_bomb_entry_is_refused_before_it_is_inflated(home: Path, tmp_path: Path):
    bomb = b"[" + b" " * (8 * 1024 * 1024) + b"]"
    archive = zip_with(tmp_path, f"{FOLDER}/heart_rate-2026-06-02.json", bomb)
    refused(import_takeout(archive), "heart_rate-2026-06-02.json", "zip bomb")


def test_json_with_more_values_than_a_day_has_is_refused(home: Path, tmp_path: Path):
    many = b"[" + b"0," * limits.MAX_JSON_TOKENS + b"0]"
    archive = zip_with(tmp_path, f"{FOLDER}/heart_rate-2026-06-02.json", many, zipfile.ZIP_STORED)
    refused(import_takeout(archive), "JSON values, more than the 600,000")


def test_an_entry_larger_than_a_day_file_is_refused_unread(home: Path, tmp_path: Path):
    big = tmp_path / "export" / "heart_rate-2026-06-02.json"
    big.parent.mkdir()
    with big.open("wb") as handle:
        handle.truncate(limits.MAX_ENTRY_BYTES + 1)  # sparse: cheap to make, costly to read
    refused(import_takeout(big.parent), "heart_rate-2026-06-02.json", "larger than the 20 MB")


def test_an_oversized_tar_member_is_refused(home: Path, tmp_path: Path):
    path = tmp_path / "export.tgz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(f"{FOLDER}/heart_rate_2026-06-01.csv")
        info.size = limits.MAX_ENTRY_BYTES + 10
        archive.addfile(info, io.BytesIO(b"\n" * info.size))
    refused(import_takeout(path), "larger than the 20 MB")


@pytest.mark.parametrize(
    "name", ["../heart_rate-2026-06-02.json", "/etc/heart_rate-2026-06-02.json", "a/../../x.txt"]
)
def test_member_names_pointing_outside_the_archive_are_refused(
    home: Path, tmp_path: Path, name: str
):
    archive = zip_with(tmp_path, name, b"[]")
    refused(import_takeout(archive), "points outside the archive")


def test_a_failed_import_keeps_a_database_that_existed_before(home: Path, tmp_path: Path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "heart_rate-2026-06-01.json").write_text(GOOD_DAY)
    assert import_takeout(good).exit_code == 0
    archive = zip_with(tmp_path, f"{FOLDER}/heart_rate_2026-06-01.csv", b"x" * 5000)
    result = import_takeout(archive)
    assert result.exit_code == 8
    assert database().exists()
    status = runner.invoke(app, ["export", "-f", "csv", "-o", str(tmp_path / "out.csv")])
    assert "Wrote 5 samples" in status.output
