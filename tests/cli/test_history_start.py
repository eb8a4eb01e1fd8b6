"""A first `sync --since D` sets where the account's history starts: the sync says so, `status`
shows "history from D" (text and --json) and counts coverage from there, not over 30 days."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app


@pytest.fixture
def wall_world(cli_world):
    """A sandbox user with ten days of history, on the pinned wall clock (2026-11-20T12:00Z)."""
    return cli_world(10)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_first_sync_since_sets_the_history_start_and_status_counts_from_there(wall_world):
    first = run("sync", "--since", "2026-11-17")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().endswith(", history from 2026-11-17")

    again = run("sync", "--json")
    (account,) = orjson.loads(again.stdout)["accounts"]
    assert account["history_from"] is None  # only the first run starts the history

    (entry,) = orjson.loads(run("status", "--json").stdout)["accounts"]
    assert entry["history_from"] == "2026-11-17"
    # 3.5 days of a mostly worn watch: measured over those days, not over 7 or 30
    assert entry["coverage_30d"] > 0.6
    assert entry["coverage_30d"] == pytest.approx(entry["coverage_7d"], abs=0.01)
    table = run("status")
    assert f"{wall_world.account_key}: history from 2026-11-17" in table.stdout


def test_without_since_the_history_starts_at_the_membership_day(wall_world):
    joined = wall_world.state.users[wall_world.user_id].member_since
    assert joined == dt.date(2026, 11, 10)
    first = run("sync")
    assert first.stdout.strip().endswith(f", history from {joined}")
    (entry,) = orjson.loads(run("status", "--json").stdout)["accounts"]
    assert entry["history_from"] == joined.isoformat()
