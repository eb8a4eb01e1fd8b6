"""Generate `docs/cli.md` from the commands' own `--help`, so the reference cannot drift.

`make docs` rewrites the file; `tests/test_docs.py` fails when a command is missing from it or
has no help text.
"""

from __future__ import annotations

from collections.abc import Iterator

import typer
from typer import _click  # typer 0.29 vendors click; its Context is what commands expect
from typer.core import TyperGroup
from typer.testing import CliRunner

from heartkeep.cli.app import app

HEADER = """# Command reference

Generated from `--help` by `make docs` (`python -m heartkeep.cli.docgen > docs/cli.md`);
`tests/test_docs.py` checks that it is current.
"""


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and group below the root, as argument tuples, in help order."""
    root = typer.main.get_command(app)

    def walk(command: _click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        if isinstance(command, TyperGroup):
            context = _click.Context(command)
            for name in command.list_commands(context):
                child = command.get_command(context, name)
                if child is not None and not child.hidden:
                    yield from walk(child, (*path, name))

    yield from walk(root, ())


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100", "TERM": "dumb"})
    return result.output.rstrip()


def render() -> str:
    parts = [HEADER]
    for path in command_paths():
        title = " ".join(("heartkeep", *path))
        parts.append(f"## `{title}`\n\n```text\n{help_text(path)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render())  # noqa: T201 - this module's job is to write the reference to stdout
