"""The only place that prints: Rich on a terminal, plain lines otherwise, JSON for scripts.

Command modules build values and hand them here.  Helpers stay small and generic; a command
with special output keeps its rendering function beside its command but prints only through
`console` / `err_console` / `print_json` defined here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def is_interactive() -> bool:
    """True on a terminal, where progress bars make sense; False under cron, pipes and tests."""
    return console.is_terminal and sys.stdout.isatty()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, one JSON document, nothing else."""
    sys.stdout.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout (Rich renders plain text when not on a terminal)."""
    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(grid)


def line(text: str) -> None:
    console.print(text, markup=False)


def error(text: str) -> None:
    err_console.print(f"error: {text}", markup=False)


def warning(text: str) -> None:
    err_console.print(f"warning: {text}", markup=False)
