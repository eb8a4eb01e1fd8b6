"""`heartkeep forget ACCOUNT`: one account's stored heart rate deleted, after asking, and only it.

Two sandbox accounts are synced into one database; forgetting one leaves the other's rows
untouched, compacts the file, and a later sync of the forgotten account starts from scratch and
ends with exactly the provider's data.  Without a terminal `--yes` is required (exit 2), and a
running sync makes it exit 75 with nothing deleted.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.cli import forget as forget_module
from heartkeep.sync.lock import sync_lock

OTHER = "5550001112223334445"


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def two_accounts(world_factory, small_user) -> tuple[Any, str]:
    world = world_factory(
        users=(small_user(2), small_user(2, user_id=OTHER, legacy_id="OTHER1", seed=11))
    )
    other = world.login_as(OTHER)
    report = world.sync()
    assert report.exit_code == 0
    return world, other


def rows(world: Any, account_key: str) -> dict[str, int]:
    with sqlite3.connect(world.settings.database) as db:
        found = db.execute("SELECT id FROM account WHERE key = ?", (account_key,)).fetchone()
        if found is None:
            return {}
        return {
            table: db.execute(
                f"SELECT count(*) FROM {table} WHERE account_id = ?",  # noqa: S608
                found,
            ).fetchone()[0]
            for table in ("heart_rate", "daily", "sync_state", "sync_run")
        }


def test_forget_deletes_one_account_and_a_later_sync_starts_over(two_accounts) -> None:
    world, other = two_accounts
    before_other = rows(world, other)
    before = rows(world, world.account_key)
    assert before["heart_rate"] > 10_000
    assert before["daily"] > 0

    result = run("forget", world.account_key, "--yes", "--json")
    assert result.exit_code == 0, result.output
    deleted = orjson.loads(result.stdout)["deleted"]
    assert deleted["samples"] == before["heart_rate"]
    assert deleted["dailies"] == before["daily"]
    assert deleted["sync_states"] == before["sync_state"]
    assert rows(world, world.account_key) == {}
    assert rows(world, other) == before_other
    with sqlite3.connect(world.settings.database) as db:
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # compacted

    assert world.sync().exit_code == 0
    assert world.stored(world.history()) == world.truth(world.history())


def test_forget_prints_counts_and_what_happens_to_the_tokens(two_accounts) -> None:
    world, _other = two_accounts
    result = run("forget", world.account_key, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Forgot {world.account_key}: deleted " in result.stdout
    assert "heartkeep auth logout" in result.stdout


def test_without_a_terminal_forget_needs_yes(two_accounts) -> None:
    world, _other = two_accounts
    before = rows(world, world.account_key)
    result = run("forget", world.account_key)
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert rows(world, world.account_key) == before


def test_on_a_terminal_forget_asks_and_no_keeps_everything(
    two_accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, _other = two_accounts
    monkeypatch.setattr(forget_module, "stdin_is_terminal", lambda: True)
    before = rows(world, world.account_key)
    declined = run("forget", world.account_key, input="n\n")
    assert declined.exit_code == 0, declined.output
    assert f"Delete {before['heart_rate']:,} heart-rate samples" in declined.output
    assert "Nothing was deleted" in declined.output
    assert rows(world, world.account_key) == before
    accepted = run("forget", world.account_key, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert rows(world, world.account_key) == {}


def test_forget_waits_for_no_sync_and_deletes_nothing_meanwhile(two_accounts) -> None:
    world, _other = two_accounts
    before = rows(world, world.account_key)
    with sync_lock(world.settings.data_dir):
        result = run("forget", world.account_key, "--yes")
    assert result.exit_code == 75, result.output
    assert "another heartkeep sync is already running" in result.output
    assert rows(world, world.account_key) == before


def test_forgetting_an_unknown_account_says_what_is_stored(two_accounts) -> None:
    _world, other = two_accounts
    result = run("forget", "google-health:nobody", "--yes")
    assert result.exit_code == 10
    assert "nothing is stored for google-health:nobody" in result.output
    assert other in result.output
    assert "Traceback" not in result.output
