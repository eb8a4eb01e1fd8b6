"""Type-checked, never run: the public API as a Python user calls it.

`mypy` (strict, via `make test`) checks this file against the annotations of `heartkeep.api`, so a
signature change that would break callers fails the build even when no test calls that function
with those types.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from heartkeep import Account, HeartkeepError, Sample, Window, api


def connect_and_sync(settings: api.Settings) -> int:
    login: api.LoginResult = api.login(settings, provider="google", no_browser=True)
    report: api.SyncReport = api.sync(
        settings, accounts=[login.account_key], since=dt.date(2026, 1, 1), until=None
    )
    for account in report.accounts:
        added: int = account.samples_added
        requests: int = account.requests
        _ = (added, requests)
    statuses: list[api.AccountSyncStatus] = api.status(settings)
    grants: list[api.AccountStatus] = api.auth_status(settings)
    _ = (statuses, grants)
    return report.exit_code


def outputs(settings: api.Settings, folder: Path) -> list[Path]:
    days: list[api.DayStats] = api.daily_report(settings, since=dt.date(2026, 11, 1))
    exported: api.ExportReport = api.export(settings, "parquet", folder / "hr.parquet")
    imported: api.ImportReport = api.import_takeout(settings, [folder / "takeout.zip"])
    _ = (days, exported, imported)
    return [
        api.plot_day(settings, dt.date(2026, 11, 25), folder / "day.svg"),
        api.plot_heatmap(settings, folder / "calendar.png", metric="resting"),
        api.plot_trend(settings, folder / "trend.png"),
        api.report(settings, folder / "report.html"),
    ]


def demo(folder: Path) -> str:
    try:
        result: api.DemoResult = api.demo(folder, days=3)
    except HeartkeepError as failure:
        return f"{failure} (exit {failure.exit_code})"
    return str(result.database)


def plain_types() -> tuple[Sample, Window, Account]:
    sample = Sample(instant_s=1_795_000_000, bpm=62, offset_min=60)
    window = Window(1_795_000_000, 1_795_086_400)
    account = Account("google-health", "4809172653309184512", time_zone="Europe/Berlin")
    return sample, window, account
