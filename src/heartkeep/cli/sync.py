"""`heartkeep sync`, `heartkeep watch`, `heartkeep status`: a skin over `api.sync/watch/status`.

On a terminal a Rich progress bar per account shows samples, days, requests and rate-limit
waits, drawn from the library's events; under cron, systemd or a pipe the output is one quiet
line per account; `--json` prints one document for scripts.  The exit code is the run's (see
the help text), so schedulers can tell "try later" from "log in again".
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import time
from typing import TYPE_CHECKING, Annotated

import typer

from heartkeep.cli import options, render
from heartkeep.cli.data import day_range
from heartkeep.cli.sync_progress import sync_progress
from heartkeep.errors import HeartkeepError
from heartkeep.redaction import redact

if TYPE_CHECKING:  # `--help` and `status` need neither the sync engine nor its HTTP client
    from heartkeep.api import SyncReport
    from heartkeep.config import Settings

EXIT_CODES = (
    "Exit codes: 0 every account synced; 4 an account needs `heartkeep auth login` again; "
    "5 the provider refused a request; 6 network or server failures outlasted the retries; "
    "7 rate-limited beyond the allowed wait; 9 the database or token vault cannot be written; "
    "10 no account is connected; 75 another sync is already running (nothing done — try again "
    "later)."
)

AccountOption = Annotated[
    list[str] | None,
    typer.Option("--account", "-a", help="Sync only this account key (repeatable)."),
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Re-fetch from this local day (YYYY-MM-DD), inclusive: gap repair."),
]
UntilOption = Annotated[
    str | None, typer.Option(help="Re-fetch up to this local day (YYYY-MM-DD), inclusive.")
]
TrailingOption = Annotated[
    int | None,
    typer.Option(
        "--trailing-days",
        min=0,
        help="Days before the last sync's end to fetch again (late data); default 3 (settings).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]


def _summary_lines(report: SyncReport) -> None:
    for account in report.accounts:
        if account.ok:
            plural = "" if account.samples_added == 1 else "s"
            render.info(
                f"{account.account_key}: +{account.samples_added:,} sample{plural} "
                f"({account.samples_updated:,} changed, {account.samples_merged:,} merged, "
                f"{account.dailies_added} daily values), "
                f"{account.requests} requests, {account.rate_limit_waits} rate-limit waits, "
                f"{account.seconds:.1f} s"
                + (f", history from {account.history_from}" if account.history_from else "")
            )
            if account.zone_changes_inferred:
                render.zone_changes(account.zone_changes_inferred, account.samples_reoffset)
            if account.samples_implausible:
                render.implausible(account.samples_implausible)
        else:
            # The account's line in the log says it failed; the reason goes to stderr.
            render.info(f"{account.account_key}: failed, see the error")
            render.error(f"{account.account_key}: {redact(account.error or 'failed')}")


def _run_sync(
    settings: Settings,
    *,
    accounts: list[str] | None,
    since: dt.date | None,
    until: dt.date | None,
    trailing_days: int | None,
    as_json: bool,
) -> SyncReport:
    from heartkeep import api

    with sync_progress(enabled=not as_json) as on_event:
        report = api.sync(
            settings,
            accounts=accounts,
            since=since,
            until=None if until is None else until + dt.timedelta(days=1),
            on_event=on_event,
            trailing_days=trailing_days,
        )
    if as_json:
        render.print_json(report.as_json())
    else:
        _summary_lines(report)
    return report


def sync(
    account: AccountOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    trailing_days: TrailingOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch new heart-rate samples, resting heart rate and zones for every connected account.

    The first run backfills the whole history; later runs fetch what is new plus a few trailing
    days.  Safe to run from cron or a systemd timer: overlapping runs exit at once.
    """
    first, last = day_range(since, until)
    report = _run_sync(
        options.settings(),
        accounts=account or None,
        since=first,
        until=last,
        trailing_days=trailing_days,
        as_json=as_json,
    )
    if report.exit_code:
        raise typer.Exit(report.exit_code)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_interval_s(text: str) -> float:
    """`15m`, `1h`, `90s`, `900` → seconds (at least 60: the provider's quota is per minute)."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 15m, 1h or 900s")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 60:
        raise typer.BadParameter("the interval must be at least 1 minute")
    return seconds


def watch(
    interval: Annotated[str, typer.Option(help="Time between runs: 15m, 1h, 900s…")] = "15m",
) -> None:
    """Run `heartkeep sync` on an interval in the foreground until Ctrl-C.

    A failed run is reported and the next one still happens; for unattended use prefer a
    systemd timer or cron (docs/scheduling.md).
    """
    interval_s = parse_interval_s(interval)
    settings = options.settings()

    def on_report(outcome: SyncReport | HeartkeepError) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(outcome, HeartkeepError):
            render.warning(f"{stamp} {redact(str(outcome))}")
            return
        render.info(f"{stamp} sync finished (exit {outcome.exit_code})")
        _summary_lines(outcome)

    render.info(f"Syncing every {interval} — Ctrl-C stops.")
    from heartkeep import api

    try:
        # One summary line per run: progress bars piling up over hours would bury them.
        api.watch(settings, interval_s=interval_s, on_report=on_report)
    except KeyboardInterrupt:
        render.info("stopped")


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "none"
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def status(as_json: JsonOption = False) -> None:
    """Per account: how long ago it last synced, the newest sample's age, the share of minutes
    with data over the last 7 and 30 days (counted from where the history starts, when that is
    later: the first sync's --since), how many readings were merged into another of the
    same second, and warnings (sync not running, a series that stopped, a failed last run)."""
    from heartkeep import api

    statuses = api.status(options.settings())
    if as_json:
        render.print_json({"accounts": [entry.as_json() for entry in statuses]})
        return
    if not statuses:
        render.line("No accounts yet: run `heartkeep auth login`, then `heartkeep sync`.")
        return
    now_s = int(time.time())
    render.table(
        "Sync status",
        ["account", "synced", "newest", "7d", "30d", "merged"],
        [
            (
                entry.account_key,
                "never"
                if entry.last_success_s is None
                else _age(now_s - entry.last_success_s) + " ago",
                _age(entry.newest_sample_age_s),
                f"{entry.coverage_7d:.0%}",
                f"{entry.coverage_30d:.0%}",
                f"{entry.samples_merged:,}",
            )
            for entry in statuses
        ],
    )
    for entry in statuses:
        if entry.history_from:  # below the table: a column would wrap it on a narrow terminal
            render.line(f"{entry.account_key}: history from {entry.history_from}")
    for entry in statuses:
        for text in entry.warnings:
            render.warning(f"{entry.account_key}: {text}")


def register(app: typer.Typer) -> None:
    """Attach `sync`, `watch` and `status` to the root app."""
    app.command(help=f"{_help(sync.__doc__)}\n\n{EXIT_CODES}")(sync)
    app.command(help=_help(watch.__doc__))(watch)
    app.command(help=_help(status.__doc__))(status)


def _help(doc: str | None) -> str:
    """A docstring as help text: paragraphs kept, lines within a paragraph joined."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
