"""`heartkeep doctor`: a skin over `api.doctor` — one line per finding, or `--json`.

The exit status is the report's (0 all well, 11 warnings only, 12 a problem), so a monitoring
check or a cron job can page someone without parsing the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NoReturn, Protocol

import typer

from heartkeep.cli import render
from heartkeep.config import load_settings

_MARK = {"ok": "ok     ", "warning": "WARNING", "problem": "PROBLEM"}


class _Finding(Protocol):
    @property
    def level(self) -> str: ...
    @property
    def check(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def action(self) -> str: ...


class Report(Protocol):
    """What `doctor` and `study doctor` both report: findings, an exit status, a JSON form."""

    @property
    def findings(self) -> Sequence[_Finding]: ...
    @property
    def exit_code(self) -> int: ...
    def as_json(self) -> Any: ...


def show_report(report: Report, *, as_json: bool) -> NoReturn:
    """One line per finding (and what to do about it), or the JSON; exit with its status."""
    if as_json:
        render.print_json(report.as_json())
    else:
        for finding in report.findings:
            render.line(f"{_MARK[finding.level]} {finding.check:<9} {finding.message}")
            if finding.action and finding.level != "ok":
                render.line(f"{'':17}→ {finding.action}")
    raise typer.Exit(report.exit_code)


def doctor_command(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document for scripts.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Run SQLite's slower integrity_check instead of quick_check, and compare every "
            "daily and per-minute summary with the samples (not only a few days).",
        ),
    ] = False,
    rebuild_aggregates: Annotated[
        bool,
        typer.Option(
            "--rebuild-aggregates",
            help="First recompute the daily and per-minute summaries that stats and charts read "
            "from the samples (if ever in doubt; seconds for a year).",
        ),
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Skip the clock check (the only network request).")
    ] = False,
    stopped_days: Annotated[
        float,
        typer.Option(
            "--stopped-days",
            min=0,
            help="Warn when an account's newest sample is older than this while syncs succeed.",
        ),
    ] = 3.0,
    database: Annotated[
        str | None, typer.Option("--database", help="SQLite file to use instead of the default.")
    ] = None,
) -> None:
    """Check paths and permissions, account access (the 7-day Testing trap), database
    integrity and summaries, last syncs, stopped series, a schedule and the clock; say what to do.

    Exit codes: 0 all well; 11 warnings only; 12 at least one problem.
    """
    from heartkeep import api

    report = api.doctor(
        load_settings({"database": database}),
        full=full,
        offline=offline,
        stopped_days=stopped_days,
        rebuild_aggregates=rebuild_aggregates,
    )
    show_report(report, as_json=json_output)


def register(app: typer.Typer) -> None:
    """Attach `doctor` to the root app."""
    app.command("doctor")(doctor_command)
