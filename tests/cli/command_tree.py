"""The CLI's command tree as click sees it, for tests that walk every command."""

from __future__ import annotations

from typer.main import get_command

from heartkeep.cli import app
from heartkeep.cli.docgen import command_paths

ROOT = get_command(app)


def command_at(path: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The click command at `path` (("auth", "login") → `heartkeep auth login`)."""
    command = ROOT
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


LEAVES = [path for path in command_paths() if path and not hasattr(command_at(path), "commands")]
"""Every command that runs (no group), as paths."""
