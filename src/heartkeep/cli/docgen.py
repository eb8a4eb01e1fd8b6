"""Generate `docs/cli.md` from the commands' own `--help` and the error table, so the reference
cannot drift.

`make docs` rewrites the file; `tests/test_docs.py` fails when a command is missing from it or
has no help text.  The "Exit codes" and "JSON errors" sections come from `heartkeep.errors`
(`EXIT_CODES` and the error classes); README's exit-code table is `exit_code_table()` verbatim,
which a test checks.
"""

from __future__ import annotations

from collections.abc import Iterator

import typer
from typer import _click  # typer 0.29 vendors click; its Context is what commands expect
from typer.core import TyperGroup
from typer.testing import CliRunner

from heartkeep import errors
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


def exit_code_table() -> str:
    """The exit-code table in Markdown, one row per `errors.EXIT_CODES` entry."""
    rows = ["| code | name | meaning | what to do |", "|---|---|---|---|"]
    rows += [
        f"| {row.status} | `{row.name}` | {row.meaning} | {row.action} |"
        for row in errors.EXIT_CODES
    ]
    return "\n".join(rows)


def error_classes() -> list[type[errors.HeartkeepError]]:
    """Every error class, parents before children, in definition order (`api.error_classes`:
    it loads the modules that define them, which commands load only when they need them;
    tests/test_docs.py runs this in a fresh interpreter, as `make docs` does, so a missing one
    shows)."""
    from heartkeep import api

    return api.error_classes()


def json_error_table() -> str:
    """`code` → exit status, for every error class (codes are class names in snake_case)."""
    rows = ["| `code` | exit code | meaning |", "|---|---|---|"]
    meanings = {row.status: row.meaning for row in errors.EXIT_CODES}
    for cls in error_classes():
        own = cls.__dict__.get("__doc__")  # a class without one inherits none
        summary = own.strip().split("\n\n")[0] if own else meanings[cls.exit_code]
        rows.append(f"| `{cls.code}` | {cls.exit_code} | {' '.join(summary.split())} |")
    rows.append("| `usage_error` | 2 | The option parser refused the command line. |")
    return "\n".join(rows)


EXIT_CODES_SECTION = """## Exit codes

Every command ends with one of these statuses and nothing else; a failure also prints a message
on stderr saying what went wrong and what to do (never a traceback; `--verbose` shows one for a
bug).  The table is `heartkeep.errors.EXIT_CODES`.

{table}
"""

JSON_ERRORS_SECTION = """## JSON errors

With `--json`, every outcome is exactly one JSON document on stdout, failures included (usage
errors, nothing connected, another sync running).  A failure is

```json
{{"error": {{"code": "no_accounts", "exit_code": 10, "message": "…", "hint": "…"}}}}
```

`code` is a stable snake_case name per error class (scripts may match on it; a code added later
is a subclass of one below and keeps its parent's exit code), `exit_code` the process's exit
status, `message` and `hint` the same text a person sees (`hint` may be `null`).

{table}
"""

SHARED_OPTIONS_SECTION = """## Options every command takes

- `--quiet`, `-q`: only errors and the output you asked for (tables, JSON, CSV); no progress,
  no summary lines, no warnings.
- `--verbose`, `-v`: progress lines on stderr even without a terminal, and the traceback of a
  bug.
- `--database FILE` (every command that reads or writes the store; also `HEARTKEEP_DATABASE`):
  the SQLite file to use.

Without a terminal (cron, systemd, a pipe) a command prints its result and nothing else:
`heartkeep sync` one line per account on stdout, stderr only when something failed.
"""


def render() -> str:
    parts = [HEADER, SHARED_OPTIONS_SECTION]
    parts.append(EXIT_CODES_SECTION.format(table=exit_code_table()))
    parts.append(JSON_ERRORS_SECTION.format(table=json_error_table()))
    for path in command_paths():
        title = " ".join(("heartkeep", *path))
        parts.append(f"## `{title}`\n\n```text\n{help_text(path)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render())  # noqa: T201 - this module's job is to write the reference to stdout
