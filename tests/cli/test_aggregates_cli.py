"""The summaries `stats` and the charts read, from the user's side: `doctor` notices a summary
that disagrees with its samples (exit 12, with the command that fixes it), and
`doctor --rebuild-aggregates` fixes it."""

from __future__ import annotations

import sqlite3

import orjson
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Sample, Source
from heartkeep.store import open_store

KEY = "takeout:me"
T0 = 1_790_200_800  # 2026-09-23T22:00:00Z


def doctor(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["doctor", "--json", "--offline", *args])
    return result.exit_code, orjson.loads(result.stdout)


def summary_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if "summar" in f["message"]]


def stats() -> list[dict]:
    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_doctor_flags_a_tampered_day_and_the_rebuild_mends_it(settings: Settings) -> None:
    with open_store(settings.database) as store:
        store.write_samples(
            KEY, [Sample(T0 + i * 2, 55 + i % 80, 120) for i in range(150_000)], Source.TAKEOUT
        )
        store.refresh_aggregates(KEY)
    before = stats()
    code, report = doctor()
    assert code != 12, report
    assert [f["level"] for f in summary_findings(report)] == ["ok"]

    with sqlite3.connect(settings.database) as db:
        (newest,) = db.execute("SELECT max(day) FROM hr_day").fetchone()
        db.execute("UPDATE hr_day SET wear_s = wear_s - 600 WHERE day = ?", (newest,))
    code, report = doctor()
    assert code == 12
    (problem,) = [f for f in summary_findings(report) if f["level"] == "problem"]
    assert f"{newest}: wear_s" in problem["message"]
    assert "heartkeep doctor --rebuild-aggregates" in problem["action"]

    code, report = doctor("--rebuild-aggregates", "--full")
    assert code != 12, report
    assert any("rebuilt from the samples" in f["message"] for f in report["findings"])
    assert stats() == before
    text = CliRunner().invoke(app, ["doctor", "--offline"])
    assert "summaries agree with the samples" in text.stdout


def test_a_rebuild_without_a_database_creates_none(settings: Settings) -> None:
    code, report = doctor("--rebuild-aggregates")
    assert code != 12, report
    assert any("nothing to rebuild" in f["message"] for f in report["findings"])
    assert not settings.database_path.exists()
