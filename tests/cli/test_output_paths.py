"""Where `export`, `report` and `plot` write: `-` is standard output, a symlink or FIFO is
written through (never renamed over), a regular file is replaced atomically and new files are
private (0600).  The pipe tests run the real command in a shell, as a person would."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from heartkeep.config import Settings
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store

ACCOUNT = Account("google-health", "4809", "Jo Doe", "Europe/Berlin")
START = 1_792_800_000  # 2026-10-24T00:00Z
SAMPLES = [Sample(t, 50 + t % 90, 120) for t in range(START, START + 2 * 86_400, 20)]
HEADER = "instant_utc,local_time,utc_offset_min,bpm"

runner = CliRunner()


@pytest.fixture
def filled(settings: Settings) -> Settings:
    """Two days of samples (8,640, about 400 kB of CSV: more than a pipe holds)."""
    with open_store(settings.database) as store:
        store.upsert_account(ACCOUNT)
        store.write_samples(ACCOUNT.key, SAMPLES, Source.GOOGLE_HEALTH)
    return settings


def invoke(*args: str):
    from heartkeep.cli import app

    return runner.invoke(app, list(args))


def shell(command: str, *, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    """Run `command` in bash with pipefail, `heartkeep` meaning this interpreter's module."""
    heartkeep = f"{sys.executable} -m heartkeep"
    return subprocess.run(
        ["bash", "-c", "set -o pipefail; " + command.replace("heartkeep", heartkeep, 1)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )


def test_export_to_a_pipe_that_closes_early_prints_csv_and_ends_quietly(filled: Settings):
    done = shell("heartkeep export -f csv -o - | head -3")
    lines = done.stdout.decode().splitlines()
    assert lines[0] == HEADER
    assert lines[1].startswith("2026-10-24T00:00:00Z,2026-10-24T02:00:00,120,")
    assert len(lines) == 3
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""  # no traceback, no "Exception ignored"


def test_export_to_standard_output_is_the_whole_file_and_nothing_else(filled: Settings):
    result = invoke("export", "-f", "csv", "-o", "-")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 1 + len(SAMPLES)
    assert not Path("-").exists()


def test_parquet_and_png_stream_to_a_pipe(filled: Settings):
    parquet = shell("heartkeep export -f parquet -o - | cat")
    assert parquet.returncode == 0, parquet.stderr.decode()
    table = pq.read_table(pa.BufferReader(parquet.stdout))
    assert table.num_rows == len(SAMPLES)
    png = shell("heartkeep plot day 2026-10-24 -o - | cat")
    assert png.returncode == 0, png.stderr.decode()
    assert png.stdout.startswith(b"\x89PNG\r\n\x1a\n")
    html = invoke("report", "-o", "-")
    assert html.exit_code == 0, html.output
    assert html.stdout.startswith("<!DOCTYPE html>")


def test_a_symlink_is_written_through_and_stays_a_link(filled: Settings, tmp_path: Path):
    target = tmp_path / "x"
    link = tmp_path / "out.csv"
    link.symlink_to(target)  # ln -s /tmp/x out.csv: the link points at nothing yet
    result = invoke("export", "-f", "csv", "-o", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert target.read_text().splitlines()[0] == HEADER
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    target.write_text("an older export, longer than the new one\n" * 100_000)
    again = invoke("export", "-f", "jsonl", "-o", str(link), "--since", "2026-10-25")
    assert again.exit_code == 0, again.output
    assert link.is_symlink()
    berlin_day_2 = START + 86_400 - 2 * 3600  # 2026-10-25 starts at 22:00Z the day before
    expected = sum(1 for s in SAMPLES if s.instant_s >= berlin_day_2)
    assert len(target.read_text().splitlines()) == expected  # truncated, not appended


def test_report_and_plot_write_through_symlinks(filled: Settings, tmp_path: Path):
    for name, args in (("r.html", ["report"]), ("t.png", ["plot", "trend"])):
        target = tmp_path / f"real-{name}"
        link = tmp_path / name
        link.symlink_to(target)
        result = invoke(*args, "-o", str(link))
        assert result.exit_code == 0, result.output
        assert link.is_symlink()
        assert target.stat().st_size > 0


def test_a_fifo_is_written_through(filled: Settings, tmp_path: Path):
    fifo = tmp_path / "hr.fifo"
    os.mkfifo(fifo)
    received = io.BytesIO()

    def read() -> None:
        with fifo.open("rb") as handle:
            received.write(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    result = invoke("export", "-f", "csv", "-o", str(fifo))
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(received.getvalue().decode().splitlines()) == 1 + len(SAMPLES)


def test_new_files_are_private_and_a_replaced_file_keeps_its_mode(filled: Settings, tmp_path: Path):
    fresh = tmp_path / "new" / "hr.csv"
    assert invoke("export", "-f", "csv", "-o", str(fresh)).exit_code == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    shared = tmp_path / "shared.csv"
    shared.write_text("old\n")
    shared.chmod(0o644)
    inode = shared.stat().st_ino
    assert invoke("export", "-f", "csv", "-o", str(shared)).exit_code == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644
    assert shared.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "new", "shared.csv"]


def test_a_folder_as_output_is_exit_9_with_advice(filled: Settings, tmp_path: Path):
    result = invoke("export", "-f", "csv", "-o", str(tmp_path))
    assert result.exit_code == 9
    assert "cannot write" in result.output
    assert "Traceback" not in result.output
