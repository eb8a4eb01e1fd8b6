"""`heartkeep sync`, `watch` and `status` as a person (or cron) runs them, then the DB read back.

The CLI runs on the system clock, so these worlds use a sandbox on wall time too, with the wall
clock pinned to a fixed instant (ticking) so that what the synthetic user wore "today" never
depends on the hour the suite runs at.
"""

from __future__ import annotations

import sqlite3

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.cli.sync import parse_interval_s
from heartkeep.sync.lock import sync_lock


@pytest.fixture
def wall_world(cli_world):
    return cli_world(3)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_sync_json_summarises_each_account_and_fills_the_database(wall_world) -> None:
    result = run("sync", "--json")
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    (account,) = summary["accounts"]
    assert account["account"] == wall_world.account_key
    assert account["status"] == "ok"
    assert account["samples_added"] > 50_000
    assert {"requests", "rate_limit_waits", "seconds"} <= set(account)
    with sqlite3.connect(wall_world.settings.database) as db:
        (count,) = db.execute("SELECT count(*) FROM heart_rate").fetchone()
    assert count == account["samples_added"]


def test_sync_without_a_terminal_prints_one_quiet_line_per_account(wall_world) -> None:
    result = run("sync")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{wall_world.account_key}: +")
    assert "requests" in lines[0]
    again = run("sync")  # wall time moves on: at most the last seconds are new
    added = int(again.stdout.split(": +", 1)[1].split(" ", 1)[0].replace(",", ""))
    assert added < 100


def test_status_reports_freshness_and_coverage(wall_world) -> None:
    run("sync")
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    (entry,) = orjson.loads(result.stdout)["accounts"]
    assert entry["account"] == wall_world.account_key
    assert entry["last_success"] is not None
    assert entry["newest_sample_age_s"] < 3600
    # three days of a mostly worn watch, counted from where the history starts (not over 7)
    assert 0.6 < entry["coverage_7d"] <= 1.0
    assert entry["history_from"] is not None
    assert entry["warnings"] == []
    table = run("status")
    assert wall_world.account_key in table.stdout


def test_status_warns_when_the_series_stopped(wall_world) -> None:
    now = wall_world.clock.now_s()
    wall_world.state.set_last_sync(wall_world.user_id, now - 30 * 3600)
    run("sync")
    result = run("status")
    assert "no heart rate since" in result.stderr
    assert "is the watch worn" in result.stderr


def test_an_overlapping_sync_exits_75_without_touching_anything(wall_world) -> None:
    with sync_lock(wall_world.settings.data_dir):
        result = run("sync")
    assert result.exit_code == 75
    assert "already running" in result.stderr


def test_sync_with_nothing_connected_says_how_to_connect(home) -> None:
    result = run("sync")
    assert result.exit_code == 10
    assert "heartkeep auth login" in result.stderr


def test_a_revoked_account_exits_4_and_says_to_log_in_again(wall_world) -> None:
    wall_world.state.revoke_all_tokens(wall_world.user_id)
    result = run("sync")
    assert result.exit_code == 4
    assert "heartkeep auth login" in result.stderr


def test_sync_help_documents_the_exit_codes() -> None:
    text = run("sync", "--help").stdout
    for code in ("0 every account synced", "4 ", "6 ", "7 ", "10 ", "75 "):
        assert code in text


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h", 3600), ("900", 900), ("90s", 90), ("1.5h", 5400)]
)
def test_watch_intervals_read_like_a_person_writes_them(text: str, seconds: float) -> None:
    assert parse_interval_s(text) == seconds


def test_watch_refuses_intervals_under_a_minute_or_nonsense() -> None:
    assert run("watch", "--interval", "10s").exit_code == 2
    assert run("watch", "--interval", "soon").exit_code == 2


def test_the_progress_bar_counts_samples_days_requests_and_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from heartkeep.cli import render
    from heartkeep.cli.sync_progress import SyncBars, sync_progress
    from heartkeep.model import Window
    from heartkeep.sync import (
        AccountFinished,
        JobStarted,
        PageCommitted,
        RateLimitWait,
        RequestSent,
    )

    screen = Console(file=io.StringIO(), force_terminal=True, width=200)
    monkeypatch.setattr(render, "err_console", screen)
    # render's output mode is module state that an earlier in-process command (`--json`,
    # `--quiet`) on this worker may have left behind: this test is about the bars.
    monkeypatch.setattr(render, "_json", False)
    monkeypatch.setattr(render, "_verbosity", render.NORMAL)
    with sync_progress(interactive=True) as handler:  # real columns, fake terminal
        assert isinstance(handler, SyncBars)
        progress = handler.progress
        handler(RequestSent("GET", "/v4/users/me/identity", 200, 1))
        screen.print(progress.get_renderable())  # drawable before any job has started
    bars = SyncBars(progress)
    key = "google-health:1"
    job = Window(0, 4 * 86_400)
    progress.remove_task(progress.tasks[0].id)
    bars(JobStarted(key, "heart-rate", job, "backfill"))
    for top in (4, 3):
        bars(RequestSent("GET", "/v4/…/dataPoints", 200, 1))
        covers = Window((top - 1) * 86_400, top * 86_400)
        bars(PageCommitted(key, "heart-rate", covers, job, covers.start_s, 25_000, 24_000, 0))
    bars(RateLimitWait("budget", 12.0))
    screen.print(progress.get_renderable())
    assert "2.0/4.0 days" in screen.file.getvalue()
    (task,) = progress.tasks
    assert task.description == key
    assert (task.completed, task.total) == (2.0, 4.0)
    assert task.fields == {"samples": 48_000, "requests": 2, "waits": 1}
    bars(AccountFinished(key, "ok", 48_000, 3))
    assert progress.tasks[0].description == f"{key} done"
    assert progress.tasks[0].finished


def test_since_and_until_refill_a_hole_of_whole_local_days(wall_world) -> None:
    run("sync")
    with sqlite3.connect(wall_world.settings.database) as db:
        (day,) = db.execute(
            "SELECT local_date FROM heart_rate_readable GROUP BY local_date "
            "ORDER BY local_date LIMIT 1 OFFSET 1"
        ).fetchone()
        db.execute(
            "DELETE FROM heart_rate WHERE instant IN "
            "(SELECT instant FROM heart_rate_readable WHERE local_date = ?)",
            (day,),
        )
    result = run("sync", "--since", day, "--until", day, "--json")
    assert result.exit_code == 0, result.output
    (account,) = orjson.loads(result.stdout)["accounts"]
    assert account["samples_added"] > 10_000
    assert account["days_fetched"] == pytest.approx(1.0)  # exactly that local day
    with sqlite3.connect(wall_world.settings.database) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM heart_rate_readable WHERE local_date = ?", (day,)
        ).fetchone()
    assert count == account["samples_added"]


def test_bad_dates_are_usage_errors() -> None:
    result = run("sync", "--since", "yesterday")
    assert result.exit_code == 2
    assert "2026-11-20" in result.output
