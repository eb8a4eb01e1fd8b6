"""`heartkeep import takeout` of an archive damaged in transit, from the command line: exit 8
naming the file inside and what to do, never exit 1, and nothing imported.

A zip whose central directory is intact but one member's compressed bytes are damaged (a bit
flipped on a flaky disk or download) made zlib raise its own error, which used to end as "a bug
in heartkeep" (exit 1).  `lzma` members (zip method 14) fail the same way with their own error.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import load_settings

FOLDER = "Takeout/Fitbit/Global Export Data"


def day_of_samples(day: int) -> bytes:
    """A day's heart rate as the export writes it: enough varied text to compress in blocks."""
    return json.dumps(
        [
            {
                "dateTime": f"06/{day:02d}/26 {m // 60:02d}:{m % 60:02d}:00",
                "value": {"bpm": 50 + (m * 7919) % 120, "confidence": 2},
            }
            for m in range(1440)
        ]
    ).encode()


def damaged_zip(tmp_path: Path, compression: int) -> Path:
    """Three days, the second one's compressed bytes flipped in the middle."""
    path = tmp_path / "takeout.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for day in (1, 2, 3):
            archive.writestr(
                f"{FOLDER}/heart_rate-2026-06-{day:02d}.json",
                day_of_samples(day),
                compress_type=compression,
            )
        second = archive.getinfo(f"{FOLDER}/heart_rate-2026-06-02.json")
    data = bytearray(path.read_bytes())
    start = second.header_offset + 30 + len(second.filename.encode())
    for offset in range(start + 200, start + 200 + 64):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA], ids=["deflate", "lzma"]
)
def test_a_zip_with_damaged_compressed_data_is_exit_8_and_imports_nothing(
    home: Path, tmp_path: Path, compression: int
) -> None:
    archive = damaged_zip(tmp_path, compression)
    result = CliRunner().invoke(
        app, ["import", "takeout", str(archive), "--time-zone", "Europe/Berlin"]
    )
    assert result.exit_code == 8, result.output
    assert "Traceback" not in result.output
    assert "heart_rate-2026-06-02.json" in result.output
    assert "bug" not in result.output
    assert "damaged" in result.output or "cannot read" in result.output
    assert not Path(load_settings().database).exists(), "a failed first import left a database"
