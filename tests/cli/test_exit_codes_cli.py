"""The exit-code table is one table, and every code in it is one a person can really meet.

README's table is the generated one verbatim; then, for each documented status, a command run
as a person would (in process, against a sandbox on loopback where a provider is involved)
ends with exactly that status and a message — in JSON too under `--json`.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.cli import app
from heartkeep.cli.docgen import exit_code_table
from heartkeep.clock import SystemClock
from heartkeep.errors import EXIT_CODES
from heartkeep.sync.lock import sync_lock

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def wall_world(cli_world):
    return cli_world(2)


def test_readme_shows_the_exit_code_table_of_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    assert exit_code_table() in readme
    reference = (ROOT / "docs" / "cli.md").read_text()
    assert "## Exit codes" in reference
    assert exit_code_table() in reference
    assert "## JSON errors" in reference


def test_every_exit_code_has_a_case_below() -> None:
    assert {row.status for row in EXIT_CODES} == set(CASES_BY_CODE)


def _usage(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run("stats", "--since", "the day before")


def _config(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run("auth", "login", "--client-file", str(tmp_path), "--no-browser")


def _import_format(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    broken = tmp_path / "takeout.zip"
    broken.write_bytes(b"this is not a zip archive")
    return run("import", "takeout", str(broken), "--time-zone", "Europe/Berlin")


def _store(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run("demo", "--dir", "/proc/heartkeep-demo", "--days", "1")


def _no_data(home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run("stats")


CASES_BY_CODE = {
    0: "test_a_successful_command_exits_0",
    1: "test_a_bug_is_one_line_and_exit_1_and_verbose_shows_the_traceback",
    2: _usage,
    3: _config,
    4: "test_revoked_access_exits_4",
    5: "test_a_refusing_provider_exits_5",
    6: "test_a_stopped_provider_exits_6",
    7: "test_a_quota_storm_exits_7",
    8: _import_format,
    9: _store,
    10: _no_data,
    11: "tests/cli/test_doctor_cli.py::test_warnings_say_what_to_do_and_exit_11",
    12: "tests/cli/test_doctor_cli.py::test_a_damaged_database_is_a_problem_exit_12",
    75: "test_another_sync_running_exits_75_also_as_json",
    130: "test_ctrl_c_exits_130_with_one_line",
}
OFFLINE = {code: case for code, case in CASES_BY_CODE.items() if callable(case)}


@pytest.mark.parametrize("code", sorted(OFFLINE))
def test_offline_failures_exit_with_their_code_in_text_and_json(
    code: int, home: Path, tmp_path: Path
) -> None:
    case = OFFLINE[code]
    result = case(home, tmp_path)  # type: ignore[operator]
    assert result.exit_code == code, result.output
    assert result.stderr.strip()
    assert "Traceback" not in result.output
    # The same failure under --json: exactly one JSON document on stdout, nothing on stderr.
    as_json = CliRunner().invoke(app, [*_argv(case, home, tmp_path), "--json"])
    if "--json" not in _options_of(as_json):
        return
    assert as_json.exit_code == code, as_json.output
    error = orjson.loads(as_json.stdout)["error"]
    assert error["exit_code"] == code
    assert error["code"]
    assert error["code"] == error["code"].lower()
    assert error["message"]


def _argv(case, home: Path, tmp_path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[list[str]] = []
    original = CliRunner.invoke

    def record(self, cli, args=None, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(args or []))
        return original(self, cli, args, **kwargs)

    CliRunner.invoke = record  # type: ignore[method-assign]
    try:
        case(home, tmp_path)
    finally:
        CliRunner.invoke = original  # type: ignore[method-assign]
    return seen[-1]


def _options_of(result) -> str:  # type: ignore[no-untyped-def]
    # A command without --json rejects the flag itself (exit 2): nothing more to check there.
    return "" if result.exit_code == 2 and "--json" in result.output else "--json"


def test_a_successful_command_exits_0(home: Path) -> None:
    assert run("--version").exit_code == 0


def test_a_bug_is_one_line_and_exit_1_and_verbose_shows_the_traceback(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an invariant broke")

    monkeypatch.setattr(api, "status", broken)
    quiet = run("status")
    assert quiet.exit_code == 1
    assert "an invariant broke" in quiet.stderr
    assert "--verbose" in quiet.stderr
    assert "Traceback" not in quiet.output
    loud = run("status", "--verbose")
    assert loud.exit_code == 1
    assert "Traceback" in loud.stderr
    as_json = run("status", "--json")
    assert orjson.loads(as_json.stdout)["error"]["code"] == "internal_error"


def test_ctrl_c_exits_130_with_one_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "daily_report", interrupted)
    result = run("stats")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert "run the command again" in result.stderr
    assert "Traceback" not in result.output
    assert orjson.loads(run("stats", "--json").stdout)["error"]["code"] == "interrupted"


def test_revoked_access_exits_4(wall_world) -> None:
    wall_world.state.revoke_all_tokens(wall_world.user_id)
    result = run("sync")
    assert result.exit_code == 4, result.output
    assert "heartkeep auth login" in result.stderr


def test_a_refusing_provider_exits_5(sandbox_factory, home: Path) -> None:
    # The legacy Fitbit API after its shutdown answers 410 Gone before any browser is needed.
    server = sandbox_factory(fitbit_shutdown=True)
    result = run("auth", "login", "--provider", "fitbit", "--sandbox", server.url, "--no-browser")
    assert result.exit_code == 5, result.output
    assert "heartkeep auth login --provider google" in result.stderr


def test_a_stopped_provider_exits_6(wall_world) -> None:
    wall_world.server.stop()
    result = run("sync")
    assert result.exit_code == 6, result.output
    assert "again later" in result.stderr


def test_a_quota_storm_exits_7(wall_world, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI waits on the system clock; the test's clock does not make the person wait.
    monkeypatch.setattr(SystemClock, "sleep", lambda self, seconds: None)
    wall_world.server.state.faults.schedule("rate_limit", count=10_000)
    result = run("sync")
    assert result.exit_code == 7, result.output
    assert "quota" in result.stderr


def test_another_sync_running_exits_75_also_as_json(wall_world) -> None:
    with sync_lock(wall_world.settings.data_dir):
        text = run("sync")
        as_json = run("sync", "--json")
    assert text.exit_code == 75
    assert "already running" in text.stderr
    assert as_json.exit_code == 75
    assert as_json.stderr == ""
    error = orjson.loads(as_json.stdout)["error"]
    assert error["code"] == "already_running"
    assert error["exit_code"] == 75
