"""Quiet under cron, clear on a terminal: the shared options every command takes, and what a
scheduled `heartkeep sync` prints with and without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from command_tree import LEAVES, command_at
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.cli.options import NO_STORE


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_every_command_takes_the_shared_options(path: tuple[str, ...]) -> None:
    options = {opt for param in command_at(path).params for opt in param.opts}
    assert {"--quiet", "-q", "--verbose", "-v"} <= options
    if path[0] not in NO_STORE:
        assert "--database" in options


@pytest.fixture
def wall_world(cli_world):
    return cli_world(2)


def test_a_scheduled_sync_prints_one_line_per_account_and_nothing_on_stderr(wall_world) -> None:
    verbose = run("sync", "--verbose")
    assert verbose.exit_code == 0, verbose.output
    assert "fetching heart-rate" in verbose.stderr  # progress lines, asked for
    assert "waiting 0 s" not in verbose.stderr
    plain = run("sync")
    assert plain.exit_code == 0, plain.output
    assert len(plain.stdout.strip().splitlines()) == 1
    assert plain.stderr == ""
    quiet = run("sync", "-q")
    assert quiet.exit_code == 0
    assert quiet.stdout == ""
    assert quiet.stderr == ""


def test_quiet_and_verbose_together_is_a_usage_error(home: Path) -> None:
    result = run("stats", "-q", "-v")
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_database_option_points_every_reader_at_that_file(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    for argv in (("stats",), ("status",), ("export", "-f", "csv", "-o", str(tmp_path / "x.csv"))):
        result = run(*argv, "--database", str(elsewhere))
        assert result.exit_code in (0, 9, 10), result.output
        assert "Traceback" not in result.output
    assert not (home / "data" / "heartkeep.sqlite").exists()  # the default was never opened


@pytest.mark.parametrize("args", [["status", "--json"], ["status", "-q"], ["status", "-v"]])
def test_an_in_process_command_leaves_the_output_mode_as_it_found_it(
    args: list[str], home: Path
) -> None:
    """`render` keeps the output mode in module state; a `--json` or `--quiet` run through
    `CliRunner` must not leak into what the same process prints next."""
    from heartkeep.cli import render

    assert run(*args).exit_code == 0
    assert (render.json_mode(), render.verbosity()) == (False, render.NORMAL)


def test_a_command_starts_from_the_default_output_mode(home: Path) -> None:
    """State left behind by an earlier caller (here set by hand) does not change how the next
    command answers: its failure is the plain line, not a JSON document."""
    from heartkeep.cli import render

    render.set_verbosity(render.QUIET)
    render.set_json(True)
    result = run("sync")
    assert result.exit_code == 10
    assert "error: no account is connected yet" in result.output
    assert (render.json_mode(), render.verbosity()) == (False, render.NORMAL)


def test_a_piped_table_stays_plain_after_an_earlier_command_made_a_console(wall_world) -> None:
    """A console an earlier command in the same process made (a progress bar's) is not this
    command's: off a terminal its table is plain columns, not Rich's box (the study demo's
    table was boxed in a full run, after other tests had run on the same worker)."""
    from heartkeep.cli import render

    assert run("sync").exit_code == 0
    render.console.print("an earlier command's output")  # makes the stdout console
    result = run("status")
    assert result.exit_code == 0, result.output
    assert "│" not in result.stdout
    assert any(line.startswith("google-health:") for line in result.stdout.splitlines())
