"""The root builds a command when it is used; the table that says where each one lives is right.

`cli/command_table.py` lists each top-level command's module so that `heartkeep status` builds
`status` alone.  The table must name every command the modules register, in the order `--help`
has always listed them (commands, then groups), and a typo still gets its suggestion.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import typer
import typer.main
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.cli.command_table import COMMANDS, SUMMARIES
from heartkeep.cli.grouphelp import WHOLE_SENTENCE

MODULES = (
    "auth",
    "sync",
    "data",
    "forget",
    "charts",
    "dashboard",
    "sandbox",
    "demo",
    "doctor",
    "study",
)


def _registered(*modules: str) -> list[str]:
    """The top-level names typer gives the commands of `modules` registered on one app."""
    holder = typer.Typer()
    for name in modules:
        importlib.import_module(f"heartkeep.cli.{name}").register(holder)  # type: ignore[attr-defined]
    return list(typer.main.get_group(holder).commands)


def test_the_table_names_every_command_in_the_order_help_lists_them() -> None:
    assert list(COMMANDS) == _registered(*MODULES)
    assert set(COMMANDS.values()) == set(MODULES)


def test_each_command_is_registered_by_the_module_the_table_names() -> None:
    for module in MODULES:
        assert _registered(module) == [name for name, where in COMMANDS.items() if where == module]


def test_a_command_loads_only_its_own_module(home: Path) -> None:
    probe = (
        "import os, sys\n"
        "from heartkeep.cli.app import main\n"
        "sys.argv = ['heartkeep', 'status']\n"
        "sys.stdout = open(os.devnull, 'w')\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('heartkeep.cli.')),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stderr.split()) & {f"heartkeep.cli.{module}" for module in MODULES}
    # `cli.sync` reads --since/--until with `cli.data.day_range`: imported, never built.
    assert loaded - {"heartkeep.cli.data"} == {"heartkeep.cli.sync"}


def test_a_mistyped_command_is_still_told_the_one_it_meant(home: Path) -> None:
    result = CliRunner().invoke(app, ["stauts"])
    assert result.exit_code == 2
    assert "No such command 'stauts'. Did you mean 'stats', 'status', 'auth'?" in result.output


def test_the_roots_help_lists_each_commands_own_first_sentence() -> None:
    """`heartkeep --help` prints the command list from `SUMMARIES` without building a command:
    each line must be what the built command says (change both when a help text changes)."""
    holder = typer.Typer()
    for name in MODULES:
        importlib.import_module(f"heartkeep.cli.{name}").register(holder)  # type: ignore[attr-defined]
    built = typer.main.get_group(holder).commands
    said = {name: command.get_short_help_str(WHOLE_SENTENCE) for name, command in built.items()}
    assert said == SUMMARIES


def test_the_roots_help_builds_no_command(home: Path) -> None:
    probe = (
        "import os, sys\n"
        "from heartkeep.cli.app import main\n"
        "sys.argv = ['heartkeep', '--help']\n"
        "sys.stdout = open(os.devnull, 'w')\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(m for m in sys.modules if m.startswith('heartkeep.cli.')),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert set(done.stderr.split()) & {f"heartkeep.cli.{module}" for module in MODULES} == set()
    listed = CliRunner().invoke(app, ["--help"]).output
    for name, summary in SUMMARIES.items():
        assert f"  {name} " in listed
        assert summary.split()[0] in listed


def test_a_command_is_built_alone_not_with_its_modules_other_commands() -> None:
    """`heartkeep status` builds `status`, not `sync` and `watch` beside it in cli/sync.py:
    typer reads every signature it builds."""
    from heartkeep.cli.app import _build_module

    for name, module in COMMANDS.items():
        assert list(_build_module(module, name)) == [name]
