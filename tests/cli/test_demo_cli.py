"""`heartkeep demo`: the whole job on the built-in sandbox, then the database read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from heartkeep.cli import app


def test_demo_syncs_recent_days_into_sqlite_and_writes_a_report(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    first = CliRunner().invoke(app, ["demo", "--dir", str(target), "--days", "2"])
    assert first.exit_code == 0, first.output
    assert "Daily summary" in first.output
    assert "fetching heart-rate (backfill)" in first.output  # plain progress lines off a terminal
    database = target / "data" / "heartkeep.sqlite"
    with sqlite3.connect(database) as db:
        (samples,) = db.execute("SELECT count(*) FROM heart_rate").fetchone()
        (days,) = db.execute(
            "SELECT count(DISTINCT local_date) FROM heart_rate_readable"
        ).fetchone()
    assert samples > 10_000
    assert days >= 2
    report = (target / "report.html").read_text()
    assert "<svg" in report or "data:image/png;base64" in report

    again = CliRunner().invoke(app, ["demo", "--dir", str(target), "--days", "2"])
    assert again.exit_code == 0, again.output
    assert "what is new since the last run" in again.output
    with sqlite3.connect(database) as db:
        (after,) = db.execute("SELECT count(*) FROM heart_rate").fetchone()
    assert after >= samples  # an incremental run never loses what the first one stored
