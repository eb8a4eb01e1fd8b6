"""`heartkeep plot day|heatmap|trend` and `heartkeep report`: pictures of the stored data.

A skin over `heartkeep.api`: parse options, call one function, say where the file went.
PNG or SVG is chosen by the output file's suffix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from heartkeep.cli import options, render
from heartkeep.cli.data import (
    ACCOUNT_HELP,
    MAX_HR_HELP,
    SINCE_HELP,
    UNTIL_HELP,
    day_range,
    parse_day,
)
from heartkeep.cli.grouphelp import HelpGroup

plot_app = typer.Typer(
    cls=HelpGroup,
    name="plot",
    help="Draw charts (PNG or SVG by the file suffix): a day's curve, a calendar, the trend.",
    no_args_is_help=True,
)

OUTPUT_HELP = "Image file to write: .png or .svg; - for PNG on standard output."


@plot_app.command("day")
def plot_day_command(
    day: Annotated[str, typer.Argument(help="Local day to draw (YYYY-MM-DD).")],
    output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    max_hr: int = typer.Option(190, "--max-hr", help=MAX_HR_HELP),
) -> None:
    """One day's heart rate in local time, zones shaded; gaps without data stay gaps."""
    from heartkeep import api

    chosen = parse_day(day, "DAY")
    assert chosen is not None
    path = api.plot_day(options.settings(), chosen, output, account=account, max_hr=max_hr)
    _wrote(path)


@plot_app.command("heatmap")
def plot_heatmap_command(
    output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)],
    metric: str = typer.Option("coverage", "--metric", help="coverage or resting."),
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    max_hr: int = typer.Option(190, "--max-hr", help=MAX_HR_HELP),
) -> None:
    """Calendar heatmap of wear coverage or resting HR (default: the last 365 days with data)."""
    from heartkeep import api

    first, last = day_range(since, until)
    path = api.plot_heatmap(
        options.settings(),
        output,
        metric=metric,
        account=account,
        since=first,
        until=last,
        max_hr=max_hr,
    )
    _wrote(path)


@plot_app.command("trend")
def plot_trend_command(
    output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
) -> None:
    """Resting-HR trend: the provider's value, heartkeep's estimate and the 7-day mean."""
    from heartkeep import api

    first, last = day_range(since, until)
    path = api.plot_trend(options.settings(), output, account=account, since=first, until=last)
    _wrote(path)


def report_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write; - for standard output.")
    ],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    max_hr: int = typer.Option(190, "--max-hr", help=MAX_HR_HELP),
) -> None:
    """One self-contained HTML file: summary, charts and the daily table (opens offline).

    Default period: the last 30 days with data.
    """
    from heartkeep import api

    first, last = day_range(since, until)
    path = api.report(
        options.settings(),
        output,
        account=account,
        since=first,
        until=last,
        max_hr=max_hr,
    )
    _wrote(path)


def _wrote(path: Path) -> None:
    """Say where the file went; with `-o -` standard output is the picture, so say nothing."""
    if str(path) != "-":
        render.info(f"Wrote {path}")


def register(app: typer.Typer) -> None:
    """Attach `plot` and `report` to the root app."""
    app.add_typer(plot_app)
    app.command("report")(report_command)
