"""Whatever a person types, heartkeep answers with a documented exit code and a message — never
a traceback.

Every command of the tree (walked, so a new command is covered the day it lands) is run in
process with hypothesis-chosen hostile argv: bad and huge numbers, impossible and future dates,
paths that do not exist or are folders, unknown flags, unicode, empty strings.  The account is a
real one, logged in to a sandbox on loopback, so commands get past "nothing connected" to the
values themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from command_tree import LEAVES, command_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.errors import EXIT_CODES

DOCUMENTED = {row.status for row in EXIT_CODES}

# Commands whose happy path never returns (a server, a loop), waits for a person (a browser's
# consent) or takes long (a demo backfill; `study demo` runs a whole study with two worker
# processes, ~2 minutes an example, and tests/study/test_study_cli_run.py covers it): their
# examples always carry one unknown flag, so they end at the parser.
NEVER_RETURN = {
    ("sandbox", "serve"),
    ("watch",),
    ("demo",),
    ("study", "demo"),
    ("auth", "login"),
    ("dashboard",),
}


HOSTILE_VALUES = [
    "-1",
    "0",
    "80000",
    "99999999999999999999",
    "1e9",
    "nan",
    "2026-13-45",
    "2026-02-30",
    "2999-01-01",
    "yesterday",
    "/nonexistent/heartkeep/x",
    "/proc/heartkeep-x/y.csv",
    "{folder}",
    "",
    " ",
    "☃💓",
    "ж/ü.png",
    "--",
    "-",
]


def _options(path: tuple[str, ...]) -> list[str]:
    return sorted(
        opt
        for param in command_at(path).params
        for opt in param.opts
        if opt.startswith("-") and opt not in ("--help", "--version")
    )


@st.composite
def hostile_argv(draw: st.DrawFn, folder: str) -> list[str]:
    path = draw(st.sampled_from(LEAVES))
    values = st.sampled_from(HOSTILE_VALUES).map(lambda value: value.format(folder=folder))
    words = st.one_of(
        st.tuples(st.sampled_from(_options(path)), values).map(list),
        values.map(lambda value: [value]),
        st.sampled_from(["--no-such-flag", "-Z", "--json", "-q", "-v"]).map(lambda f: [f]),
    )
    argv = [*path, *(word for group in draw(st.lists(words, max_size=4)) for word in group)]
    if path in NEVER_RETURN:
        argv.append("--hostile-unknown-flag")
    return argv


@pytest.fixture
def connected(cli_world, monkeypatch: pytest.MonkeyPatch):
    world = cli_world(2)
    monkeypatch.chdir(world.settings.data_dir.parent)  # relative junk lands in the temp home
    return world


def test_the_walk_finds_every_command() -> None:
    assert {("sync",), ("stats",), ("auth", "login"), ("sandbox", "serve")} <= set(LEAVES)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_options_end_in_a_documented_exit_code_and_a_message(
    connected, tmp_path: Path, data: st.DataObject
) -> None:
    argv = data.draw(hostile_argv(str(tmp_path)))
    result = CliRunner().invoke(app, argv, input="")
    output = result.stdout + result.stderr
    assert result.exit_code in DOCUMENTED, (argv, output, result.exception)
    assert result.exit_code != 1, (argv, output, result.exception)  # 1 is a bug
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, output)
    assert "Traceback" not in output, argv
    if result.exit_code != 0 and argv[0] != "doctor":  # doctor's findings are on stdout
        # The message is on stderr; under --json it is the one JSON document on stdout.
        assert (output if "--json" in argv else result.stderr).strip(), (argv, output)
