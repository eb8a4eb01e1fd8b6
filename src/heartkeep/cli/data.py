"""`heartkeep import takeout|fitbit-json`, `heartkeep export`, `heartkeep stats`.

A skin over `heartkeep.api`: parse options, call one function, render what it returns.  The
import progress bar is drawn here from the plain progress values the library reports, and only
on a terminal.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from heartkeep import daterange
from heartkeep.cli import options, render
from heartkeep.cli.grouphelp import HelpGroup

if TYPE_CHECKING:  # loaded by the commands that use it: `--help` and start-up stay light
    from heartkeep import api

import_app = typer.Typer(
    cls=HelpGroup,
    name="import",
    help="Bring in history from files: Google Takeout / Fitbit archives, saved Fitbit API JSON.",
    no_args_is_help=True,
)

ACCOUNT_HELP = "Account key (provider:user); may be left out when there is only one."
SINCE_HELP = "First local day (YYYY-MM-DD), inclusive."
UNTIL_HELP = "Last local day (YYYY-MM-DD), inclusive."
EXPORT_SINCE_HELP = (
    "First local day (YYYY-MM-DD), inclusive, or a local time (YYYY-MM-DDTHH:MM) to start at."
)
EXPORT_UNTIL_HELP = (
    "Last local day (YYYY-MM-DD), inclusive, or a local time (YYYY-MM-DDTHH:MM) to stop before."
)
IMPORT_JSON_HELP = "Print the import's report as one JSON object on stdout."
MAX_HR_HELP = "Maximum heart rate for heartkeep's own zone bounds, 100–250 bpm."


def parse_day(value: str | None, option: str = "--date") -> dt.date | None:
    """A `YYYY-MM-DD` option → date (None stays None); a usage error (exit 2) otherwise."""
    return daterange.parse_day(value, option)


def day_range(
    since: str | None, until: str | None, *, times: bool = False
) -> tuple[dt.date | None, dt.date | None]:
    """`--since`/`--until` as typed → checked inclusive days (with `times`, local date-times
    too); a reversed range or one starting in the future is a usage error (exit 2), one ending
    in the future is clipped with a note."""
    chosen = daterange.parse_range(since, until, now_s=time.time(), times=times)
    if chosen.note:
        render.note(f"note: {chosen.note}")
    return chosen.since, chosen.until


@contextmanager
def _progress() -> Iterator[Callable[[api.ImportProgress], None] | None]:
    """A progress bar callback on a terminal; None (no output) under cron, pipes and tests."""
    if not render.is_interactive() or not render.shows_progress():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[samples]:,} samples"),
        TimeRemainingColumn(),
        console=render.err_console,
        transient=True,
    )
    task = bar.add_task("import", total=None, samples=0)

    def update(progress: api.ImportProgress) -> None:
        bar.update(
            task,
            completed=progress.files_done,
            total=progress.files_total,
            samples=progress.samples_read,
        )

    with bar:
        yield update


def _report_import(report: api.ImportReport, *, as_json: bool = False) -> None:
    if as_json:
        render.print_json(report.as_json())
        return
    render.info(
        f"Imported {report.files} {'file' if report.files == 1 else 'files'} into "
        f"{report.account_key}: {report.samples_read:,} "
        f"samples read, {report.inserted:,} new, {report.updated:,} changed, "
        f"{report.dailies} daily values."
    )
    if report.zone_changes_inferred:
        render.zone_changes(report.zone_changes_inferred, report.samples_reoffset)
    if report.import_id is not None:
        render.info(
            f"Recorded as import {report.import_id} (`heartkeep import undo` takes it back)."
        )
    if report.ignored_files:
        files = "file that holds" if report.ignored_files == 1 else "files that hold"
        render.info(f"Skipped {report.ignored_files} {files} no heart-rate data.")
    if report.replaced_import is not None:
        render.info(
            f"Same files as import {report.replaced_import}: it was replaced "
            f"({report.removed_samples:,} of its samples removed first)."
        )
    if report.replaced or report.kept or report.conflicts:
        render.info(
            f"Where sources disagreed: {report.replaced:,} archive values replaced by fuller or "
            f"larger ones, {report.kept:,} kept (synced data, or a larger stored value), "
            f"{report.conflicts:,} settled between this import's own files."
        )
    if report.merged:
        render.warning(
            f"{report.merged:,} readings shared a second with another reading of the same file "
            "and were merged (the store keeps one sample per second; the larger bpm stays).  "
            "In fitbit-json files this means the time zone skips or repeats an hour the "
            "recording did not: is --time-zone right?"
        )
    if report.day_mismatches:
        render.warning(
            f"{report.day_mismatches:,} records fall outside the local day their file names: "
            "is --time-zone (or the account's zone) the zone you lived in?"
        )
    if report.samples_implausible:
        render.implausible(report.samples_implausible)


@import_app.command("takeout")
def import_takeout_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Takeout / Fitbit export zip(s) (all parts of a split export) or folders."
        ),
    ],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    time_zone: str | None = typer.Option(
        None,
        "--time-zone",
        help="Your IANA time zone (Europe/Berlin); required when no account exists yet.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Name for a new takeout:<name> account (default: from the archive)."
    ),
    as_json: bool = typer.Option(False, "--json", help=IMPORT_JSON_HELP),
) -> None:
    """Import a Google Takeout or Fitbit account-export archive: heart rate, resting HR, zones.

    Reads every layout (user-site-export, MyFitbitData, Takeout/Fitbit, Takeout/Google Health)
    and both twins (JSON and CSV) without double counting.  The archive has no UTC offsets: each
    instant gets the offset of your time zone at that moment.  All or nothing: a broken file
    stops the import with its name, record and reason, and nothing is saved.  Safe to repeat.
    """
    from heartkeep import api

    settings = options.settings()
    with _progress() as on_progress:
        report = api.import_takeout(
            settings,
            paths,
            account=account,
            time_zone=time_zone,
            name=name,
            on_progress=on_progress,
        )
    _report_import(report, as_json=as_json)


@import_app.command("fitbit-json")
def import_fitbit_json_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Saved intraday heart-rate responses (.json).")
    ],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    time_zone: str | None = typer.Option(
        None, "--time-zone", help="IANA zone the watch was set to (default: the account's)."
    ),
    date: str | None = typer.Option(
        None, "--date", help="Day of files whose response and name carry no date (YYYY-MM-DD)."
    ),
    utc: bool = typer.Option(
        False, "--utc", help="The responses were fetched with ?timezone=UTC (times are UTC)."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Name for a new fitbit-json:<name> account."
    ),
    as_json: bool = typer.Option(False, "--json", help=IMPORT_JSON_HELP),
) -> None:
    """Import raw legacy Fitbit API heart-rate JSON (curl output, python-fitbit dumps).

    Times in these files are local wall-clock times; heartkeep turns them into instants with
    your zone's rules, DST changes included; a backward jump of the wall clock within a day (a
    flight west) is read as a change of zone and reported.  The day comes from the response,
    the file name (heart-2024-03-31.json) or --date.
    """
    from heartkeep import api

    settings = options.settings()
    with _progress() as on_progress:
        report = api.import_fitbit_json(
            settings,
            paths,
            account=account,
            time_zone=time_zone,
            date=parse_day(date),
            times_utc=utc,
            name=name,
            on_progress=on_progress,
        )
    _report_import(report, as_json=as_json)


def export_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, parquet, jsonl, fhir or omh.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; - for standard output.")
    ],
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    since: str | None = typer.Option(None, "--since", help=EXPORT_SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=EXPORT_UNTIL_HELP),
    fhir_bundle: bool = typer.Option(
        False, "--fhir-bundle", help="FHIR only: one Bundle instead of NDJSON (bulk data)."
    ),
) -> None:
    """Export samples: CSV, Parquet, JSON Lines, FHIR R4 Observations or Open mHealth.

    Every format keeps the UTC instant and the UTC offset reported with each sample.  A
    regular file is replaced atomically; a symlink, FIFO or device is written through; `-o -`
    streams to standard output (Parquet too), and a reader that stops early (`| head`) is fine.
    `--since 2026-11-18T14:00 --until 2026-11-18T15:00` exports exactly that hour of the
    account's local time (what the dashboard's Range view exports).
    """
    from heartkeep import api

    first, last = day_range(since, until, times=True)
    settings = options.settings()
    report = api.export(
        settings,
        fmt,
        output,
        account=account,
        since=first,
        until=last,
        fhir_bundle=fhir_bundle,
    )
    summary = (
        f"Wrote {report.samples:,} samples from {report.account_key} to {report.path} "
        f"({report.format.value}, {report.bytes:,} bytes)."
    )
    if str(output) != "-":
        render.info(summary)
    elif render.err_console.is_terminal and not report.reader_left:
        # Standard output is the data; the count goes to a person's terminal only.
        render.note(summary.replace(" to - ", " to standard output "))


def stats_command(
    as_json: bool = typer.Option(False, "--json", help="One JSON array of days on stdout."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout."),
    account: str | None = typer.Option(None, "--account", help=ACCOUNT_HELP),
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    until: str | None = typer.Option(None, "--until", help=UNTIL_HELP),
    max_hr: int = typer.Option(190, "--max-hr", help=MAX_HR_HELP),
) -> None:
    """Per local day: wear time and coverage, min/mean/max, resting HR, time in zones.

    Resting HR is shown twice: the provider's value and heartkeep's estimate from the samples.
    Zone minutes are computed from the samples (provider's zone bounds where stored).
    """
    from heartkeep import api

    if as_json and as_csv:
        raise typer.BadParameter("choose --json or --csv, not both")
    first, last = day_range(since, until)
    settings = options.settings()
    days = api.daily_report(settings, account=account, since=first, until=last, max_hr=max_hr)
    rows = [day.as_dict() for day in days]
    if as_json:
        render.print_json(rows)
        return
    if as_csv:
        import csv
        import io

        buffer = io.StringIO()
        columns = list(rows[0]) if rows else ["day"]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        render.console.file.write(buffer.getvalue())
        return
    if not rows:
        render.line("No data in that range.")
        return
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Day", "Samples", "Wear/day", "Cover", "Min/avg/max", "Resting"):
        grid.add_column(column, no_wrap=True, justify="left" if column == "Day" else "right")
    grid.add_column("Zones L/M/V/P", no_wrap=True, justify="right")
    for day in days:
        grid.add_row(
            day.day.isoformat(),
            f"{day.samples:,}",
            f"{day.wear_s / 3600:.1f}/{day.day_length_s / 3600:g}h",
            f"{day.coverage:.0%}",
            f"{_bpm(day.min_bpm)}/{_bpm(day.mean_bpm)}/{_bpm(day.max_bpm)}",
            f"{_bpm(day.resting_provider)}/{_bpm(day.resting_estimate)}",
            "/".join(f"{minutes:.0f}" for _, minutes in day.zone_minutes),
        )
    render.console.print(grid)
    render.line(
        "Wear/day: hours worn / hours in the local day as lived (23 or 25 on DST days, other "
        "on travel days).  Heart rate in bpm.  Resting: the provider's / heartkeep's "
        "estimate.  Zones: minutes in Light / Moderate / Vigorous / Peak."
    )


def _bpm(value: float | None) -> str:
    """Whole bpm, or a dash where there is no value."""
    return "–" if value is None else f"{value:.0f}"


def register(app: typer.Typer) -> None:
    """Attach `import` (with `list` and `undo` from imports.py), `export` and `stats`."""
    from heartkeep.cli import imports

    imports.register(import_app)
    app.add_typer(import_app)
    app.command("export")(export_command)
    app.command("stats")(stats_command)
