"""`heartkeep demo`: the main job, end to end, on the built-in sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from heartkeep.cli import render
from heartkeep.cli.sync_progress import sync_progress


def demo_command(
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Where the demo keeps its vault, database and report."),
    ] = Path("demo-data"),
    days: Annotated[int, typer.Option(min=1, max=90, help="How many recent days to sync.")] = 14,
) -> None:
    """Run heartkeep against the built-in sandbox: no account or internet needed.

    Starts the Google Health API emulator on a free loopback port, authorizes against its
    OAuth server (PKCE, loopback redirect; the sandbox approves consent itself), syncs the
    synthetic demo user's last DAYS days of second-by-second heart rate into a SQLite file,
    and prints a daily summary.  Run it again to see an incremental sync.
    """
    from heartkeep import api

    render.narrate()
    with sync_progress() as on_event:
        result = api.demo(directory, days=days, on_stage=render.stage, on_event=on_event)
    render.demo_summary(result)


def register(app: typer.Typer) -> None:
    """Attach `heartkeep demo`."""
    app.command("demo")(demo_command)
