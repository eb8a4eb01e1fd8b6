"""`heartkeep doctor` as a person runs it after connecting a (sandbox) account and syncing.

The CLI runs on the wall clock, pinned (as in test_sync_cli.py) so the sandbox's `Date` header
and the CLI agree; the schedule check finds a `crontab` placed on PATH, as a real one would be.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.cli import app
from heartkeep.clock import FakeClock


@pytest.fixture
def scheduled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `crontab` on PATH whose table runs heartkeep every 15 minutes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    crontab = bin_dir / "crontab"
    crontab.write_text("#!/bin/sh\necho '*/15 * * * * heartkeep sync'\n")
    crontab.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return crontab


def make_world(
    world_factory,
    small_user,
    monkeypatch,
    start_s: float,
    *,
    watch_silent_days: float = 0,
    **config,
):
    """Log in to a wall-time sandbox and sync once; `watch_silent_days`: the watch last synced
    to the phone that long ago, so the newest sample is that old."""
    world = world_factory(users=(small_user(6, start_s=start_s),), start_s=None, **config)
    monkeypatch.setenv("HEARTKEEP_SANDBOX_URL", world.server.url)
    if watch_silent_days:
        world.state.set_last_sync(world.user_id, world.clock.now_s() - watch_silent_days * 86_400)
    synced = CliRunner().invoke(app, ["sync"])
    assert synced.exit_code == 0, synced.output
    return world


def doctor(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["doctor", "--json", *args])
    return result.exit_code, orjson.loads(result.stdout)


def levels(report: dict, check: str) -> list[str]:
    return [f["level"] for f in report["findings"] if f["check"] == check]


def test_a_healthy_setup_exits_0(
    world_factory, small_user, monkeypatch, pinned_wall_clock, scheduled
) -> None:
    make_world(world_factory, small_user, monkeypatch, pinned_wall_clock)
    code, report = doctor("--full")
    assert code == 0, report
    assert report["status"] == "ok"
    checks = {f["check"] for f in report["findings"]}
    assert checks == {"paths", "accounts", "quota", "database", "sync", "schedule", "clock"}
    assert any("integrity_check ok" in f["message"] for f in report["findings"])
    table = CliRunner().invoke(app, ["doctor"])
    assert table.exit_code == 0
    assert "vault folder" in table.stdout


def test_warnings_say_what_to_do_and_exit_11(
    world_factory, small_user, monkeypatch, pinned_wall_clock, settings
) -> None:
    world = make_world(world_factory, small_user, monkeypatch, pinned_wall_clock)
    os.chmod(world.settings.data_dir, 0o755)  # noqa: S103 - the loose folder under test
    os.chmod(world.settings.database, 0o644)
    code, report = doctor("--offline")
    assert code == 11
    loose = [f for f in report["findings"] if f["check"] == "paths" and f["level"] == "warning"]
    assert {f["action"] for f in loose} == {
        f"chmod 700 {world.settings.data_dir}",
        f"chmod 600 {world.settings.database}",
    }
    assert levels(report, "schedule") == ["warning"]  # no crontab on PATH here
    assert "clock" not in {f["check"] for f in report["findings"]}  # --offline
    assert stat.S_IMODE(Path(world.settings.database).stat().st_mode) == 0o644  # left as it was


def test_the_testing_trap_and_a_stopped_series_are_named(
    world_factory, small_user, monkeypatch, pinned_wall_clock, scheduled
) -> None:
    make_world(
        world_factory,
        small_user,
        monkeypatch,
        pinned_wall_clock,
        watch_silent_days=4,
        testing_app=True,
    )
    code, report = doctor("--offline")
    assert code == 11, report
    (trap,) = [f for f in report["findings"] if "Testing" in f["message"]]
    assert trap["level"] == "warning"
    assert "publish the OAuth app" in trap["action"]
    (stopped,) = [f for f in report["findings"] if f["check"] == "series"]
    assert "although syncs succeed" in stopped["message"]
    assert "watch worn" in stopped["action"]


def test_a_damaged_database_is_a_problem_exit_12(
    world_factory, small_user, monkeypatch, pinned_wall_clock
) -> None:
    world = make_world(world_factory, small_user, monkeypatch, pinned_wall_clock)
    database = Path(world.settings.database)
    data = bytearray(database.read_bytes())
    pages = len(data) // 4096
    for number in range(pages // 4, 3 * pages // 4):
        data[number * 4096 : (number + 1) * 4096] = b"\xa5" * 4096
    database.write_bytes(bytes(data))
    code, report = doctor("--offline")
    assert code == 12
    (problem,) = [f for f in report["findings"] if f["check"] == "database"]
    assert problem["level"] == "problem"
    assert "is damaged" in problem["message"]
    assert ".recover" in problem["action"]


def test_a_clock_minutes_off_the_providers_is_a_problem(world_factory, small_user) -> None:
    world = world_factory(users=(small_user(1),))  # the sandbox runs on its simulated clock
    fast = FakeClock(world.clock.now_s() + 600)
    report = api.doctor(world.settings, clock=fast)
    (finding,) = report.of("clock")
    assert finding.level == "problem"
    assert "600 s ahead of" in finding.message or "601 s ahead of" in finding.message
    assert "time synchronisation" in finding.action
    in_step = api.doctor(world.settings, clock=world.clock).of("clock")
    assert [f.level for f in in_step] == ["ok"]


def test_the_quota_assumed_is_named_with_its_source(home, monkeypatch) -> None:
    from heartkeep.config import load_settings

    monkeypatch.setenv("HEARTKEEP_APP_CLASS", "verified")
    report = api.doctor(load_settings(), offline=True)
    (finding,) = report.of("quota")
    assert finding.level == "ok"
    assert "verified app" in finding.message
    assert "environment HEARTKEEP_APP_CLASS" in finding.message
