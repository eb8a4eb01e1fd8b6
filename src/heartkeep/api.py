"""The library's front door and the only place where the parts are wired together.

config → vault → HTTP client (auth, quota, retry) → provider → sync engine → store → outputs.
The CLI calls these functions and renders what they return; Python users call them directly.
Each function documents what it raises (always a `HeartkeepError` subclass for user-facing
failures).

This module wires auth, forget and doctor.  The rest of the front door lives in modules of
its own, one job each, and is re-exported here (import it from `heartkeep.api`): `api_sync`
(sync, watch, status), `api_outputs` (export, statistics, charts, report), `api_imports`
(Takeout / saved JSON, the import record) and `api_sandbox` (the sandbox and the demo).  Those
load on first use (PEP 562 `__getattr__` below), so a cron-run `sync` or `status` does not pay
for the exporters, the analysis or the importers.  Keep each function a few lines of wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from heartkeep.clock import Clock, SystemClock
from heartkeep.config import Settings, load_settings
from heartkeep.errors import HeartkeepError, NoAccounts, VaultDamaged
from heartkeep.lazy_names import on_first_use

# Reports and events of a sync are re-exported so the CLI (and Python users) need only `api`.
# They, the store, and what only a login, a sync that fetches or the doctor needs (the OAuth
# flows, the HTTP client, the providers, the engine) load on first use or inside the functions:
# `status` loads no engine, and a sync with nothing connected not even the store.
if TYPE_CHECKING:  # what `__getattr__` below loads on first use, spelled out for type checkers
    from heartkeep.analysis.daily import DayStats as DayStats
    from heartkeep.api_imports import import_fitbit_json as import_fitbit_json
    from heartkeep.api_imports import import_runs as import_runs
    from heartkeep.api_imports import import_takeout as import_takeout
    from heartkeep.api_imports import undo_import as undo_import
    from heartkeep.api_outputs import HEATMAP_METRICS as HEATMAP_METRICS
    from heartkeep.api_outputs import daily_report as daily_report
    from heartkeep.api_outputs import export as export
    from heartkeep.api_outputs import plot_day as plot_day
    from heartkeep.api_outputs import plot_heatmap as plot_heatmap
    from heartkeep.api_outputs import plot_trend as plot_trend
    from heartkeep.api_outputs import report as report
    from heartkeep.api_sandbox import DEMO_QUOTA_SPEEDUP as DEMO_QUOTA_SPEEDUP
    from heartkeep.api_sandbox import DemoResult as DemoResult
    from heartkeep.api_sandbox import demo as demo
    from heartkeep.api_sandbox import sandbox_server as sandbox_server
    from heartkeep.api_sync import status as status
    from heartkeep.api_sync import sync as sync
    from heartkeep.api_sync import watch as watch
    from heartkeep.auth.login import LoginResult as LoginResult
    from heartkeep.auth.login import revoke_page as revoke_page
    from heartkeep.auth.status import AccountStatus as AccountStatus
    from heartkeep.doctor.findings import DoctorReport as DoctorReport
    from heartkeep.exporters import ExportFormat as ExportFormat
    from heartkeep.exporters import ExportReport as ExportReport
    from heartkeep.importers import ImportProgress as ImportProgress
    from heartkeep.importers import ImportReport as ImportReport
    from heartkeep.store import ForgetReport as ForgetReport
    from heartkeep.store.protocol import ImportRun as ImportRun
    from heartkeep.store.protocol import UndoResult as UndoResult
    from heartkeep.sync.events import AccountFinished as AccountFinished
    from heartkeep.sync.events import EventHandler as EventHandler
    from heartkeep.sync.events import JobStarted as JobStarted
    from heartkeep.sync.events import PageCommitted as PageCommitted
    from heartkeep.sync.events import RateLimitWait as RateLimitWait
    from heartkeep.sync.events import RequestSent as RequestSent
    from heartkeep.sync.events import RetryScheduled as RetryScheduled
    from heartkeep.sync.events import SyncEvent as SyncEvent
    from heartkeep.sync.quota import QuotaAssumption as QuotaAssumption
    from heartkeep.sync.report import AccountReport as AccountReport
    from heartkeep.sync.report import SyncReport as SyncReport
    from heartkeep.sync.status import AccountSyncStatus as AccountSyncStatus

# Where each name re-exported on first use lives.  Importing them eagerly would load the
# exporters, the analysis, the importers, the OAuth flows and the doctor into every command
# (and the demo module imports this one back).
_ELSEWHERE = {
    "AccountFinished": "heartkeep.sync.events",
    "AccountReport": "heartkeep.sync.report",
    "AccountSyncStatus": "heartkeep.sync.status",
    "EventHandler": "heartkeep.sync.events",
    "ForgetReport": "heartkeep.store",
    "ImportRun": "heartkeep.store.protocol",
    "JobStarted": "heartkeep.sync.events",
    "PageCommitted": "heartkeep.sync.events",
    "QuotaAssumption": "heartkeep.sync.quota",
    "RateLimitWait": "heartkeep.sync.events",
    "RequestSent": "heartkeep.sync.events",
    "RetryScheduled": "heartkeep.sync.events",
    "SyncEvent": "heartkeep.sync.events",
    "SyncReport": "heartkeep.sync.report",
    "UndoResult": "heartkeep.store.protocol",
    "AccountStatus": "heartkeep.auth.status",
    "DoctorReport": "heartkeep.doctor.findings",
    "LoginResult": "heartkeep.auth.login",
    "revoke_page": "heartkeep.auth.login",
    "DEMO_QUOTA_SPEEDUP": "heartkeep.api_sandbox",
    "DayStats": "heartkeep.analysis.daily",
    "DemoResult": "heartkeep.api_sandbox",
    "ExportFormat": "heartkeep.exporters",
    "ExportReport": "heartkeep.exporters",
    "HEATMAP_METRICS": "heartkeep.api_outputs",
    "ImportProgress": "heartkeep.importers",
    "ImportReport": "heartkeep.importers",
    "daily_report": "heartkeep.api_outputs",
    "demo": "heartkeep.api_sandbox",
    "export": "heartkeep.api_outputs",
    "import_fitbit_json": "heartkeep.api_imports",
    "import_runs": "heartkeep.api_imports",
    "import_takeout": "heartkeep.api_imports",
    "plot_day": "heartkeep.api_outputs",
    "plot_heatmap": "heartkeep.api_outputs",
    "plot_trend": "heartkeep.api_outputs",
    "report": "heartkeep.api_outputs",
    "sandbox_server": "heartkeep.api_sandbox",
    "status": "heartkeep.api_sync",
    "sync": "heartkeep.api_sync",
    "watch": "heartkeep.api_sync",
    "undo_import": "heartkeep.api_imports",
}


__getattr__, __dir__ = on_first_use(globals(), _ELSEWHERE)


# The public surface, written out so type checkers see it (tests/test_public_api.py guards it).
__all__ = [
    "AccountFinished",
    "AccountReport",
    "AccountStatus",
    "AccountSyncStatus",
    "DayStats",
    "DemoResult",
    "DoctorReport",
    "ExportFormat",
    "ExportReport",
    "ForgetReport",
    "ImportProgress",
    "ImportReport",
    "ImportRun",
    "JobStarted",
    "LoginResult",
    "PageCommitted",
    "QuotaAssumption",
    "RateLimitWait",
    "RequestSent",
    "RetryScheduled",
    "Settings",
    "SyncReport",
    "UndoResult",
    "auth_status",
    "daily_report",
    "damaged_vaults",
    "demo",
    "doctor",
    "error_classes",
    "export",
    "forget",
    "import_fitbit_json",
    "import_runs",
    "import_takeout",
    "load_settings",
    "login",
    "logout",
    "plot_day",
    "plot_heatmap",
    "plot_trend",
    "quota_assumption",
    "report",
    "revoke_page",
    "sandbox_server",
    "status",
    "sync",
    "undo_import",
    "watch",
]

# --- auth (issue 3) ---------------------------------------------------------------------------


def login(
    settings: Settings,
    *,
    provider: str = "google",
    client_file: Path | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    no_browser: bool = False,
    port: int | None = None,
    open_browser: Callable[[str], object] | None = None,
    read_line: Callable[[], str] | None = None,
    show_url: Callable[[str], None] | None = None,
    timeout_s: float = 300.0,
    clock: Clock | None = None,
) -> LoginResult:
    """Connect a Google Health (default) or legacy Fitbit account and save its tokens.

    The browser opens for consent (`open_browser`, default `webbrowser.open`), or with
    `no_browser` the address goes to `show_url` and the redirected URL / code comes back from
    `read_line`.  Raises `ConfigError`, `AuthorizationFailed`, `ScopeMissing`, `ProviderGone`,
    `TransientError` — see `heartkeep.auth.login`.
    """
    import webbrowser

    from heartkeep.auth.login import login as _login

    return _login(
        settings,
        clock=clock or SystemClock(),
        provider=provider,
        client_file=client_file,
        client_id=client_id,
        client_secret=client_secret,
        no_browser=no_browser,
        port=port,
        open_browser=open_browser or webbrowser.open,
        read_line=read_line or input,
        show_url=show_url,
        timeout_s=timeout_s,
    )


def auth_status(settings: Settings, *, clock: Clock | None = None) -> list[AccountStatus]:
    """Every connected account's grant (scopes, expiries, warnings), read offline from the vault.

    Accounts whose vault file is damaged are not in this list: see `damaged_vaults`.
    """
    from heartkeep.auth.status import auth_status as _auth_status

    return _auth_status(settings, clock=clock or SystemClock())


def damaged_vaults(settings: Settings) -> list[VaultDamaged]:
    """One `VaultDamaged` error per unreadable vault file: account, file and how to recover."""
    from heartkeep.auth.status import damaged_vaults as _damaged_vaults

    return _damaged_vaults(settings)


def quota_assumption(settings: Settings) -> QuotaAssumption:
    """Which Google quota a sync paces to (app class, rate) and which setting said so."""
    from heartkeep.sync.quota import assume_quota as _assume_quota

    return _assume_quota(settings.app_class, settings.app_class_source)


def logout(
    settings: Settings,
    account: str | None = None,
    *,
    every: bool = False,
    local: bool = False,
    clock: Clock | None = None,
) -> list[str]:
    """Revoke access at the provider, then delete the local tokens; stored data stays.

    `account` may be omitted when only one is connected.  `local` deletes the tokens without
    contacting the provider (the grant may stay valid there).  Returns the keys logged out.
    Raises `NoAccounts`, `TransientError` (provider unreachable: nothing deleted).
    """
    from heartkeep.auth.login import logout as _logout
    from heartkeep.auth.login import resolve_accounts as _resolve_accounts

    keys = _resolve_accounts(settings, account, every=every)
    return _logout(settings, keys, clock=clock or SystemClock(), local=local)


# --- store (issue 4) -------------------------------------------------------------------------


def forget(
    settings: Settings, account: str, *, confirm: Callable[[int], bool] | None = None
) -> ForgetReport | None:
    """Delete everything the store holds for `account`, then compact the file.

    `confirm(samples)` is asked first, with the number of samples about to go; None (declined)
    deletes nothing.  The tokens stay in the vault (`logout` removes those).  Holds the sync lock
    so no sync writes meanwhile.  Raises `NoAccounts` (nothing stored for it, or no database),
    `AlreadyRunning` (exit 75), `StoreError`.
    """
    from heartkeep.store import open_store
    from heartkeep.sync.lock import sync_lock as _sync_lock

    with open_store(settings.database, readonly=True) as reader:
        stored = [known.key for known in reader.accounts()]
        samples = reader.sample_count(account) if account in stored else 0
    if account not in stored:
        raise NoAccounts(
            f"nothing is stored for {account} in {settings.database}",
            hint=("Stored: " + ", ".join(stored)) if stored else "The database holds no account.",
        )
    if confirm is not None and not confirm(samples):
        return None
    with _sync_lock(settings.data_dir), open_store(settings.database) as store:
        return store.forget_account(account)


# --- errors ---------------------------------------------------------------------------------


def error_classes() -> list[type[HeartkeepError]]:
    """Every `HeartkeepError` class heartkeep raises, parents before children, in definition
    order: what the JSON error `code`s and exit statuses are drawn from (docs/cli.md).  The
    store's live beside what raises them (store/failures.py) and load with the store, which a
    command opens only when it needs it, so they are loaded here."""
    import heartkeep.store.failures  # noqa: F401 - defines the store's error classes

    found: list[type[HeartkeepError]] = []

    def walk(cls: type[HeartkeepError]) -> None:
        found.append(cls)
        for child in cls.__subclasses__():
            walk(child)

    walk(HeartkeepError)
    return found


# --- doctor (issue 9) ---------------------------------------------------------------------


def doctor(
    settings: Settings,
    *,
    full: bool = False,
    offline: bool = False,
    stopped_days: float = 3.0,
    clock: Clock | None = None,
    rebuild_aggregates: bool = False,
) -> DoctorReport:
    """Look at everything that can quietly go wrong: paths and permissions, each account's
    access (the 7-day Testing trap), database integrity (`full`: `integrity_check`), the daily
    and per-minute summaries against the samples (`full`: all of them), last syncs, stopped
    series, a schedule, and (unless `offline`) the clock against the provider's.
    `rebuild_aggregates` first recomputes every summary from the samples (under the sync lock).

    Never raises for what it finds: each finding has a level and what to do;
    `report.exit_code` is 0 all well, 1 warnings only, 2 a problem.
    """
    from heartkeep.doctor import examine as _examine

    return _examine(
        settings,
        clock=clock or SystemClock(),
        full=full,
        offline=offline,
        stopped_days=stopped_days,
        rebuild=rebuild_aggregates,
    )
