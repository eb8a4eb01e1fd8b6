"""`heartkeep forget ACCOUNT`: delete an account's stored heart rate, after asking.

A skin over `api.forget`.  Deleting history cannot be undone, so without `--yes` the command
asks on the terminal, and with no terminal to ask on (cron, a pipe, a script) it refuses with a
usage error instead of guessing: a script must say `--yes`.
"""

from __future__ import annotations

import sys

import typer

from heartkeep.cli import render
from heartkeep.config import load_settings


def stdin_is_terminal() -> bool:
    """Whether a person can answer a question (tests replace this to play that person)."""
    return sys.stdin.isatty()


def forget(
    account: str = typer.Argument(..., help="Account key (see `heartkeep status`)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking."),
    as_json: bool = typer.Option(False, "--json", help="Print what was deleted as JSON."),
    database: str | None = typer.Option(
        None, "--database", help="SQLite file to use instead of the default."
    ),
) -> None:
    """Delete an account's samples, daily values and sync state from the database.

    Asks first (or pass --yes; without a terminal --yes is required, exit 2).  Waits for no
    sync: if one is running it exits 75 and deletes nothing.  The file is compacted afterwards.
    The account's tokens stay: `heartkeep auth logout` disconnects it, otherwise the next sync
    downloads its history again.
    """
    from heartkeep import api

    settings = load_settings({"database": database})
    if not yes and not stdin_is_terminal():
        raise typer.BadParameter(
            "forget deletes data and there is no terminal to confirm on: pass --yes",
            param_hint="--yes",
        )

    def confirm(samples: int) -> bool:
        return yes or bool(
            typer.confirm(
                f"Delete {samples:,} heart-rate samples and every daily value and sync record "
                f"of {account} from {settings.database}?  This cannot be undone",
                default=False,
            )
        )

    report = api.forget(settings, account, confirm=confirm)
    if report is None:
        render.line("Nothing was deleted.")
        return
    if as_json:
        render.print_json(report.as_json())
        return
    render.line(
        f"Forgot {account}: deleted {report.samples:,} samples, {report.dailies:,} daily values, "
        f"{report.sync_states} sync states, {report.ledger_entries} ledger entries and "
        f"{report.runs} sync runs; database compacted."
    )
    render.line(
        "Its tokens are kept: `heartkeep auth logout` disconnects it, or the next sync "
        "downloads its history again."
    )


def register(app: typer.Typer) -> None:
    """Attach `heartkeep forget` to the root app."""
    app.command("forget")(forget)
