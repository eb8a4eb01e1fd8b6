"""The summaries `stats` and the charts read, from the user's side: `doctor` notices a summary
that disagrees with its samples (exit 12, with the command that fixes it), and
`doctor --rebuild-aggregates` fixes it."""

from __future__ import annotations

import datetime as dt
import sqlite3

import orjson
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.config import Settings
from heartkeep.model import Account, Sample, Source
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
    assert stats() != before  # the summaries are what stats reads

    code, report = doctor("--rebuild-aggregates", "--full")
    assert code != 12, report
    assert any("rebuilt from the samples" in f["message"] for f in report["findings"])
    assert stats() == before
    text = CliRunner().invoke(app, ["doctor", "--offline"])
    assert "summaries agree with the samples" in text.stdout


def test_stats_from_the_summaries_are_the_stats_of_the_samples(settings: Settings) -> None:
    """Any range, any --max-hr: `stats` (summaries) equals the computation over the samples,
    across a DST change (offset 120 → 60) and a day with a provider resting value."""
    from heartkeep.analysis.daily import daily_stats
    from heartkeep.api_outputs import daily_report
    from heartkeep.model import Daily, DailyKind

    change = 1_792_890_000  # 2026-10-25T01:00:00Z, Europe/Berlin falls back
    samples = [
        Sample(t, 50 + (t // 7) % 110, 120 if t < change else 60)
        for t in range(change - 3 * 86_400, change + 3 * 86_400, 4)
    ]
    with open_store(settings.database) as store:
        store.upsert_account(Account("takeout", "me", time_zone="Europe/Berlin"))
        store.write_samples(KEY, samples, Source.TAKEOUT)
        store.write_dailies(
            KEY, [Daily(dt.date(2026, 10, 24), DailyKind.RESTING_HR, 55.0)], Source.TAKEOUT
        )
        store.refresh_aggregates(KEY)
        everything = list(store.iter_samples(KEY))
        dailies = store.dailies(KEY)
    for since, until in [(None, None), (dt.date(2026, 10, 23), dt.date(2026, 10, 25))]:
        for max_hr in (160, 190):
            expected = daily_stats(
                everything, dailies, since=since, until=until, max_hr=max_hr,
                zone_name="Europe/Berlin",
            )  # fmt: skip
            got = daily_report(settings, since=since, until=until, max_hr=max_hr)
            assert got == expected
    assert any(row.day_length_s == 25 * 3600 for row in got)


def test_a_rebuild_without_a_database_creates_none(settings: Settings) -> None:
    code, report = doctor("--rebuild-aggregates")
    assert code != 12, report
    assert any("nothing to rebuild" in f["message"] for f in report["findings"])
    assert not settings.database_path.exists()
