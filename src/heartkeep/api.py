"""The library's front door and the only place where the parts are wired together.

config → vault → HTTP client (auth, quota, retry) → provider → sync engine → store → outputs.
The CLI calls these functions and renders what they return; Python users call them directly.
Each function documents what it raises (always a `HeartkeepError` subclass for user-facing
failures).

Sections below group the functions by topic (auth, sync, outputs, sandbox, demo); keep each
function a few lines of wiring.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heartkeep import timeline
from heartkeep.analysis.daily import DayStats, daily_stats
from heartkeep.analysis.zones import DEFAULT_MAX_HR, check_max_hr, zones_for_day
from heartkeep.auth import AccountStatus, LoginResult
from heartkeep.auth import auth_status as _auth_status
from heartkeep.auth import connected_accounts as _connected_accounts
from heartkeep.auth import damaged_vaults as _damaged_vaults
from heartkeep.auth import login as _login
from heartkeep.auth import logout as _logout
from heartkeep.auth import open_connection as _open_connection
from heartkeep.auth import resolve_accounts as _resolve_accounts
from heartkeep.auth.login import revoke_page as revoke_page
from heartkeep.clock import Clock, SystemClock
from heartkeep.config import Settings, load_settings
from heartkeep.daterange import check_order
from heartkeep.doctor import DoctorReport as DoctorReport
from heartkeep.doctor import examine as _examine
from heartkeep.errors import (
    AlreadyRunning,
    ConfigError,
    HeartkeepError,
    ImportFormatError,
    NoAccounts,
    UsageError,
    VaultDamaged,
)
from heartkeep.exporters import ExportFormat, ExportReport
from heartkeep.exporters import export as _export
from heartkeep.importers import ImportProgress, ImportReport, ProgressCallback, load
from heartkeep.model import Account, DailyKind, Sample, Source, Window
from heartkeep.output_target import OutputTarget
from heartkeep.providers import get_provider_factory as _provider_factory
from heartkeep.store import ForgetReport, Store, SyncStore, open_store
from heartkeep.store.failures import NoDatabase
from heartkeep.store.protocol import ImportRun as ImportRun
from heartkeep.store.protocol import UndoResult as UndoResult

# Reports and events of a sync, re-exported so the CLI (and Python users) need only `api`.
from heartkeep.sync import AccountFinished as AccountFinished
from heartkeep.sync import AccountReport as AccountReport
from heartkeep.sync import EventHandler as EventHandler
from heartkeep.sync import EventTally, QuotaPolicy, build_client, sync_account
from heartkeep.sync import JobStarted as JobStarted
from heartkeep.sync import PageCommitted as PageCommitted
from heartkeep.sync import RateLimitWait as RateLimitWait
from heartkeep.sync import RequestSent as RequestSent
from heartkeep.sync import RetryScheduled as RetryScheduled
from heartkeep.sync import SyncEvent as SyncEvent
from heartkeep.sync import SyncReport as SyncReport
from heartkeep.sync.lock import sync_lock as _sync_lock
from heartkeep.sync.quota import QuotaAssumption as QuotaAssumption
from heartkeep.sync.quota import assume_quota as _assume_quota
from heartkeep.sync.status import AccountSyncStatus as AccountSyncStatus
from heartkeep.sync.status import sync_status as _sync_status

if TYPE_CHECKING:  # the sandbox (starlette, uvicorn) and matplotlib load only when used
    from matplotlib.figure import Figure

    from heartkeep.sandbox.server import SandboxServer

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
    return _auth_status(settings, clock=clock or SystemClock())


def damaged_vaults(settings: Settings) -> list[VaultDamaged]:
    """One `VaultDamaged` error per unreadable vault file: account, file and how to recover."""
    return _damaged_vaults(settings)


def quota_assumption(settings: Settings) -> QuotaAssumption:
    """Which Google quota a sync paces to (app class, rate) and which setting said so."""
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
    keys = _resolve_accounts(settings, account, every=every)
    return _logout(settings, keys, clock=clock or SystemClock(), local=local)


# --- sync and store (issue 4) -----------------------------------------------------------------


def sync(
    settings: Settings,
    *,
    accounts: Sequence[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    clock: Clock | None = None,
    on_event: EventHandler | None = None,
    sandbox_clock: Clock | None = None,
    trailing_days: int | None = None,
    quota_speedup: float = 1.0,
) -> SyncReport:
    """One sync run: every connected account (or `accounts`), each into `settings.database`.

    `since`/`until` are local dates (`until` exclusive) to re-fetch; `trailing_days` overrides
    `settings.trailing_days`. `quota_speedup` paces that many times faster than Google's quota
    allows, for a sandbox whose quota runs on an accelerated clock (the demo). `clock` (or
    `sandbox_clock`, the simulated clock an in-process sandbox runs on) is what waits happen on.
    A failing account does not stop the others; its report carries the error and exit code.
    Raises `NoAccounts` (nothing connected), `AlreadyRunning` (another sync holds the lock, exit
    75), `StoreError`, `UsageError` (`until` not after `since`).
    """
    if since is not None and until is not None and until <= since:
        raise UsageError(
            f"until {until} (exclusive) is not after since {since}: nothing to fetch",
            hint="On the command line both days are inclusive: --since D1 --until D2, D1 ≤ D2.",
        )
    clock = clock or sandbox_clock or SystemClock()
    keys = list(accounts) if accounts else _connected_accounts(settings)
    if not keys:
        raise NoAccounts(
            "no account is connected yet",
            hint="Run `heartkeep auth login` first (or `heartkeep demo` to try the sandbox).",
        )
    trailing = settings.trailing_days if trailing_days is None else trailing_days
    with _sync_lock(settings.data_dir), open_store(settings.database) as store:
        report = SyncReport(
            tuple(
                _sync_one(
                    settings, store, key, clock, on_event, since, until, trailing, quota_speedup
                )
                for key in keys
            )
        )
        store.after_bulk_write(report.samples_added)
    return report


def _sync_one(
    settings: Settings,
    store: SyncStore,
    key: str,
    clock: Clock,
    on_event: EventHandler | None,
    since: dt.date | None,
    until: dt.date | None,
    trailing_days: int,
    quota_speedup: float = 1.0,
) -> AccountReport:
    """Wire vault → client (auth, quota, retry) → provider → engine for one account."""
    tally = EventTally(on_event)
    try:
        connection = _open_connection(settings, key, clock=clock)
        factory = _provider_factory(connection.provider)
    except HeartkeepError as failure:
        report = AccountReport(key, "failed", error=str(failure), exit_code=failure.exit_code)
        tally(AccountFinished(key, "failed", 0, 0, report.error))
        return report
    with build_client(
        base_url=connection.endpoints.api_base,
        auth=connection.auth,
        clock=clock,
        policy=QuotaPolicy.for_provider(connection.provider, settings.app_class, quota_speedup),
        on_event=tally,
        timeout_s=settings.http_timeout_s,
    ) as client:
        return sync_account(
            factory(client, clock=clock),
            store,
            account_key=key,
            clock=clock,
            since=since,
            until=until,
            trailing_days=trailing_days,
            on_event=tally,
        )


def watch(
    settings: Settings,
    *,
    interval_s: float,
    clock: Clock | None = None,
    on_event: EventHandler | None = None,
    on_report: Callable[[SyncReport | HeartkeepError], None] | None = None,
    runs: int | None = None,
) -> None:
    """Run `sync` every `interval_s` seconds in the foreground (`runs` bounds it, for tests).

    A failed run — an account that failed, another sync holding the lock, nothing connected
    yet — is handed to `on_report` and the loop goes on; Ctrl-C ends it.
    """
    clock = clock or SystemClock()
    done = 0
    while runs is None or done < runs:
        started = clock.now_s()
        outcome: SyncReport | HeartkeepError
        try:
            outcome = sync(settings, clock=clock, on_event=on_event)
        except (AlreadyRunning, NoAccounts) as failure:
            outcome = failure
        if on_report is not None:
            on_report(outcome)
        done += 1
        if runs is None or done < runs:
            clock.sleep(max(0.0, interval_s - (clock.now_s() - started)))


def status(settings: Settings, *, clock: Clock | None = None) -> list[AccountSyncStatus]:
    """Per account: last successful sync, newest sample's age, 7/30-day coverage, warnings.

    Reads the database only (works offline).  Raises `StoreError`.
    """
    now_s = int((clock or SystemClock()).now_s())
    connected = _connected_accounts(settings)
    with open_store(settings.database, readonly=True, missing_ok=True) as store:
        return _sync_status(store, connected=connected, now_s=now_s)


def forget(
    settings: Settings, account: str, *, confirm: Callable[[int], bool] | None = None
) -> ForgetReport | None:
    """Delete everything the store holds for `account`, then compact the file.

    `confirm(samples)` is asked first, with the number of samples about to go; None (declined)
    deletes nothing.  The tokens stay in the vault (`logout` removes those).  Holds the sync lock
    so no sync writes meanwhile.  Raises `NoAccounts` (nothing stored for it, or no database),
    `AlreadyRunning` (exit 75), `StoreError`.
    """
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


# --- imports, exports, stats, charts, report (issue 6) ----------------------------------------


HEATMAP_METRICS = ("coverage", "resting")


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin"
        ) from error
    return name


def _import_account(
    store: Store, key: str | None, time_zone: str | None, owner: str, provider: str
) -> tuple[Account, bool]:
    """The account an import goes to, and whether the import must create it.

    `key` names an existing account; without it the only account is used; with none yet a
    `<provider>:<owner>` account is created, which needs the person's time zone.
    """
    if key is not None:
        account = store.account(key)
        if account is None:
            raise NoAccounts(
                f"no account {key!r} in the store",
                hint="leave out --account to import into a new takeout:<name> account",
            )
        return account, False
    accounts = store.accounts()
    if len(accounts) == 1:
        return accounts[0], False
    if len(accounts) > 1:
        keys = ", ".join(a.key for a in accounts)
        raise ConfigError(f"several accounts exist ({keys}): choose one with --account")
    if time_zone is None:
        raise ConfigError(
            "no account exists yet, so heartkeep needs your time zone to place the archive's "
            "times on your local days",
            hint="pass --time-zone, e.g. --time-zone Europe/Berlin",
        )
    user_id = re.sub(r"[^a-z0-9._-]+", "-", owner.lower()).strip("-") or "me"
    return Account(provider, user_id, display_name=owner, time_zone=time_zone), True


@contextmanager
def _removed_if_import_fails(database: str) -> Iterator[None]:
    """Delete the database again if the import that created it fails.

    An import that stops on a bad file commits nothing; when it was also the first thing to
    touch the store, the empty `heartkeep.sqlite` it left would make the next command believe
    heartkeep had been set up.  A database that existed before is never touched.
    """
    path = None if "://" in database or not database else Path(database).expanduser()
    existed = path is None or path.exists()
    try:
        yield
    except BaseException:
        if not existed and path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        raise


def import_takeout(
    settings: Settings,
    paths: Sequence[pathlib.Path],
    *,
    account: str | None = None,
    time_zone: str | None = None,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import Google Takeout / Fitbit export archives (zips, split parts, or folders).

    Times in the archive carry no offset; each instant gets the offset of `time_zone` (default:
    the account's zone) at that instant.  All files import in one transaction.  Raises
    `ImportFormatError` (file, record, reason; nothing is committed), `ConfigError` when the
    account or zone is ambiguous, `NoAccounts` for an unknown `account`.
    """
    from heartkeep.importers import takeout
    from heartkeep.importers.provenance import provenance

    if time_zone is not None:
        _check_zone(time_zone)
    with takeout.scan(paths) as found:
        if not found.members:
            raise ImportFormatError(
                "no heart-rate, resting-heart-rate or zone files found in the archive",
                path=", ".join(str(p) for p in paths),
            )
        owner = name or takeout.archive_owner(paths) or "me"
        with _removed_if_import_fails(settings.database), open_store(settings.database) as store:
            target, create = _import_account(store, account, time_zone, owner, "takeout")
            zone = time_zone or target.time_zone
            return load(
                store,
                target.key,
                takeout.read_members(found.members, zone),
                Source.TAKEOUT,
                files_total=len(found.members),
                provenance=provenance("takeout", zone, paths),
                imported_s=int(SystemClock().now_s()),
                ignored_files=found.ignored,
                on_progress=on_progress,
                create_account=target if create else None,
            )


def import_fitbit_json(
    settings: Settings,
    paths: Sequence[pathlib.Path],
    *,
    account: str | None = None,
    time_zone: str | None = None,
    date: dt.date | None = None,
    times_utc: bool = False,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import saved legacy Fitbit intraday heart-rate responses (one day per file).

    The day comes from the response, else the file name, else `date`; wall times are read in
    `time_zone` (default: the account's), or as UTC with `times_utc`.  Raises as
    `import_takeout` does.
    """
    from heartkeep.importers import fitbit_json
    from heartkeep.importers.provenance import provenance

    if time_zone is not None:
        _check_zone(time_zone)
    with _removed_if_import_fails(settings.database), open_store(settings.database) as store:
        target, create = _import_account(store, account, time_zone, name or "me", "fitbit-json")
        zone = time_zone or target.time_zone
        return load(
            store,
            target.key,
            fitbit_json.read_files(paths, zone, default_date=date, times_utc=times_utc),
            Source.FITBIT_JSON,
            files_total=len(paths),
            provenance=provenance("fitbit-json", "UTC" if times_utc else zone, paths),
            imported_s=int(SystemClock().now_s()),
            on_progress=on_progress,
            create_account=target if create else None,
        )


def import_runs(settings: Settings, *, account: str | None = None) -> list[ImportRun]:
    """Every recorded import (of one account, or all), oldest first: when, which files (by
    sha256), the zone used and what each did.  Reads the store only."""
    with open_store(settings.database) as store:
        return store.imports(account)


def undo_import(settings: Settings, import_id: int) -> UndoResult:
    """Take import `import_id` back out: its samples and dailies go, the archive rows it had
    replaced come back (where nothing newer took their place), and it leaves the list.
    Raises `NoAccounts` for an id `import_runs` does not show."""
    with open_store(settings.database) as store, store.transaction():
        return store.undo_import(import_id)


def _no_data_yet(settings: Settings, key: str | None = None) -> NoAccounts | None:
    """ "No data yet, run `heartkeep sync`" when an account is connected (or `key` is) but
    nothing of it is stored: after `auth login`, before the first sync.  None otherwise."""
    try:
        connected = _connected_accounts(settings)
    except (HeartkeepError, OSError):
        return None
    if key is not None:
        connected = [k for k in connected if k == key]
    if not connected:
        return None
    return NoAccounts(
        f"no data yet: {', '.join(connected)} is connected but has not been synced",
        hint="Run `heartkeep sync` to fetch its heart-rate history, then try again.",
    )


@contextmanager
def _reading(settings: Settings) -> Iterator[Store]:
    """The store opened read-only for a command that shows data; a database that does not
    exist yet after `auth login` is "no data yet, run `heartkeep sync`", not "no accounts"."""
    try:
        store = open_store(settings.database, readonly=True)
    except NoDatabase as missing:
        raise (_no_data_yet(settings) or missing) from None
    with store:
        yield store


def _output_account(store: Store, key: str | None, settings: Settings) -> Account:
    if key is not None:
        found = store.account(key)
        if found is None:
            raise _no_data_yet(settings, key) or NoAccounts(f"no account {key!r} in the store")
        return found
    accounts = store.accounts()
    if not accounts:
        raise _no_data_yet(settings) or NoAccounts(
            "no accounts yet",
            hint="connect one with `heartkeep auth login` or import an archive",
        )
    if len(accounts) > 1:
        keys = ", ".join(a.key for a in accounts)
        raise ConfigError(f"several accounts exist ({keys}): choose one with --account")
    return accounts[0]


def _window(account: Account, since: dt.date | None, until: dt.date | None) -> Window | None:
    """UTC span of the local days [since, until] (inclusive) in the account's zone."""
    if since is None and until is None:
        return None
    check_order(since, until)
    start = timeline.local_day_window(since, account.time_zone).start_s if since else 0
    end = timeline.local_day_window(until, account.time_zone).end_s if until else 2**62
    return Window(start, end)


def export(
    settings: Settings,
    fmt: ExportFormat | str,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    fhir_bundle: bool = False,
) -> ExportReport:
    """Export an account's samples on the local days [since, until] (inclusive, either open).

    Raises `NoAccounts` (also "no data yet" before the first sync), `ConfigError` (unknown
    format, ambiguous account), `UsageError` (`until` before `since`).
    """
    check_order(since, until)
    with _reading(settings) as store:
        target = _output_account(store, account, settings)
        return _export(
            store,
            fmt,
            output,
            account_key=target.key,
            window=_window(target, since, until),
            fhir_bundle=fhir_bundle,
        )


def _last_day(store: Store, account: Account) -> dt.date:
    span = store.sample_span(account.key)
    if span is None:
        days = [d.day for d in store.dailies(account.key)]
        return max(days) if days else dt.datetime.now(timeline.zone(account.time_zone)).date()
    last = span.end_s - 1
    return timeline.local_date(last, timeline.zone_offset_min(account.time_zone, last))


def _range(
    store: Store, account: Account, since: dt.date | None, until: dt.date | None, days: int
) -> tuple[dt.date, dt.date]:
    """[since, until]; open ends default to the last day with data and `days` days back (but
    not before the first day with data).  A `since` after the last day with data is a range of
    days without data, never "until before since": the person did not type that `until`."""
    check_order(since, until)
    end = until or _last_day(store, account)
    if until is None and since is not None:
        end = max(end, since)
    start = since or end - dt.timedelta(days=days - 1)
    span = store.sample_span(account.key)
    if since is None and span is not None:
        first = timeline.local_date(
            span.start_s, timeline.zone_offset_min(account.time_zone, span.start_s)
        )
        start = max(start, min(first, end))
    return start, end


def _stats(
    store: Store, account: Account, since: dt.date | None, until: dt.date | None, max_hr: int
) -> list[DayStats]:
    # A day either side so edge days are whole under any reported offset and the gap after
    # each edge sample is known.
    wide = _window(
        account,
        since - dt.timedelta(days=1) if since else None,
        until + dt.timedelta(days=1) if until else None,
    )
    return daily_stats(
        store.iter_samples(account.key, wide),
        store.dailies(
            account.key, start=since, end=until + dt.timedelta(days=1) if until else None
        ),
        since=since,
        until=until,
        max_hr=max_hr,
        zone_name=account.time_zone,
    )


def _period_stats(
    settings: Settings,
    store: Store,
    account: str | None,
    since: dt.date | None,
    until: dt.date | None,
    default_days: int,
    max_hr: int,
) -> tuple[Account, dt.date, dt.date, list[DayStats]]:
    """The account, the [start, end] days (open ends: the last `default_days` with data) and
    their statistics: what every chart and the report start from."""
    target = _output_account(store, account, settings)
    start, end = _range(store, target, since, until, default_days)
    return target, start, end, _stats(store, target, start, end, max_hr)


def daily_report(
    settings: Settings,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> list[DayStats]:
    """Per-local-day statistics for [since, until] (inclusive; all days when both are open).

    Raises `NoAccounts` (also "no data yet" before the first sync), `UsageError` (`until`
    before `since`, `max_hr` outside 100–250 bpm).
    """
    check_order(since, until)
    check_max_hr(max_hr)
    with _reading(settings) as store:
        return _stats(store, _output_account(store, account, settings), since, until, max_hr)


def _day_samples(store: Store, account: Account, day: dt.date) -> list[Sample]:
    return _day_and_previous(store, account, day)[0]


def _day_and_previous(
    store: Store, account: Account, day: dt.date
) -> tuple[list[Sample], Sample | None]:
    """The local day's samples, and the sample just before its first (which tells the offset
    in force when the day began: `timeline.lived_day_window`)."""
    wide = _window(account, day - dt.timedelta(days=1), day + dt.timedelta(days=1))
    samples: list[Sample] = []
    previous: Sample | None = None
    before: Sample | None = None
    for batch in store.iter_samples(account.key, wide):
        for sample in batch:
            if timeline.local_date(sample.instant_s, sample.offset_min) == day:
                if not samples:
                    previous = before
                samples.append(sample)
            before = sample
    return samples, previous


def _day_figure(store: Store, account: Account, day: dt.date, max_hr: int) -> Figure:
    from heartkeep.charts.day import day_figure

    samples, previous = _day_and_previous(store, account, day)
    stats = daily_stats([samples], store.dailies(account.key, start=day, end=day + _ONE_DAY))
    provider = store.dailies(account.key, start=day, end=day + _ONE_DAY, kind=DailyKind.ZONES)
    resting = None
    if stats:
        resting = stats[0].resting_provider or stats[0].resting_estimate
    zones, _ = zones_for_day(provider[0].zones if provider else (), resting, max_hr)
    title = f"Heart rate on {day.isoformat()} · {account.display_name or account.key}"
    if not samples:
        return day_figure(samples, day, zones, title=title)
    first, last = samples[0], samples[-1]
    before = None if previous is None else (previous.instant_s, previous.offset_min)
    span = timeline.lived_day_window(
        day,
        (first.instant_s, first.offset_min),
        (last.instant_s, last.offset_min),
        previous=before,
        zone_name=account.time_zone,
    )
    start_offset_min = (timeline.day_start_s(day) - span.start_s) // 60
    return day_figure(
        samples, day, zones, title=title, span=span, start_offset_min=start_offset_min
    )


_ONE_DAY = dt.timedelta(days=1)


def plot_day(
    settings: Settings,
    day: dt.date,
    output: pathlib.Path,
    *,
    account: str | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Draw one local day's heart rate with zones and gaps; PNG or SVG by `output`'s suffix."""
    from heartkeep.charts import save

    check_max_hr(max_hr)
    with _reading(settings) as store:
        target = _output_account(store, account, settings)
        return save(_day_figure(store, target, day, max_hr), output)


def _heatmap_figure(
    stats: Sequence[DayStats], since: dt.date, until: dt.date, metric: str
) -> Figure:
    from heartkeep.charts.calendar import calendar_figure

    if metric == "coverage":
        values = {row.day: row.coverage * 100 for row in stats if row.samples}
        return calendar_figure(
            values,
            since,
            until,
            label="Coverage (% of the day)",
            title="Wear coverage per day",
            cmap="Greens",
            vmin=0,
            vmax=100,
        )
    if metric == "resting":
        resting = {row.day: row.resting_provider or row.resting_estimate for row in stats}
        return calendar_figure(
            resting,
            since,
            until,
            label="Resting heart rate (bpm)",
            title="Resting heart rate per day",
            cmap="magma_r",
        )
    raise ConfigError(f"unknown heatmap metric {metric!r} (choose coverage or resting)")


def plot_heatmap(
    settings: Settings,
    output: pathlib.Path,
    *,
    metric: str = "coverage",
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Calendar heatmap of coverage or resting HR; default range: the last 365 days with data."""
    from heartkeep.charts import save

    check_max_hr(max_hr)
    with _reading(settings) as store:
        _, start, end, stats = _period_stats(settings, store, account, since, until, 365, max_hr)
        return save(_heatmap_figure(stats, start, end, metric), output)


def plot_trend(
    settings: Settings,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Resting-HR trend (provider, estimate, 7-day mean); default: the last 365 days with data."""
    from heartkeep.charts import save
    from heartkeep.charts.trend import trend_figure

    check_max_hr(max_hr)
    with _reading(settings) as store:
        _, start, end, stats = _period_stats(settings, store, account, since, until, 365, max_hr)
        return save(trend_figure(stats, start, end), output)


def report(
    settings: Settings,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
    generated_at: dt.datetime | None = None,
) -> pathlib.Path:
    """A self-contained HTML report for [since, until]; default: the last 30 days with data."""
    from heartkeep.charts.report import ReportFigure, render_report
    from heartkeep.charts.trend import trend_figure

    check_max_hr(max_hr)
    with _reading(settings) as store:
        target, start, end, stats = _period_stats(
            settings, store, account, since, until, 30, max_hr
        )
        worn = [row for row in stats if row.samples]
        figures = [
            ReportFigure("Wear coverage per day", _heatmap_figure(stats, start, end, "coverage")),
            ReportFigure("Resting heart rate", trend_figure(stats, start, end)),
        ]
        if worn:
            last = worn[-1].day
            chart = _day_figure(store, target, last, max_hr)
            figures.append(ReportFigure(f"The last day with data, {last}", chart))
        document = render_report(
            stats,
            figures,
            title=f"Heart rate · {target.display_name or target.key}",
            since=start,
            until=end,
            generated_at=generated_at or dt.datetime.now(dt.UTC),
        )
    with OutputTarget(output) as sink:
        sink.write(document.encode())
    return output


# --- sandbox (issue 2) ------------------------------------------------------------------------


def sandbox_server(
    *,
    port: int = 0,
    seed: int | None = None,
    documented_page_sizes: bool = False,
    verified_app: bool = False,
    retry_after: bool = False,
    deadline_above_points: int = 0,
    quota_speedup: float = 1.0,
    consent_page: bool = False,
    testing_app: bool = False,
    rotate_refresh_tokens: bool = False,
    fitbit_shutdown: bool = False,
    sync_lag_s: int = 900,
) -> SandboxServer:
    """A sandbox (Google OAuth + Health API v4 + legacy Fitbit emulator) on 127.0.0.1:`port`,
    on wall-clock time, not yet started: call `.start()` / `.serve_forever()` or use `with`.

    Its defaults are what a new personal user meets live (an unverified app's 2.5 requests/s,
    429s without Retry-After, ~5,000-point pages); the switches give Google's documented page
    sizes, a verified app's quota, Retry-After, and 504s on pages above `deadline_above_points`.
    `quota_speedup` runs the quota on a clock that many times faster (the demo's 10×).
    `seed` replaces the demo user's physiology seed; `port=0` picks a free port.  The server
    raises `HeartkeepError` on start if the port is taken.
    """
    import dataclasses

    from heartkeep.sandbox.config import SandboxConfig
    from heartkeep.sandbox.physiology import demo_user
    from heartkeep.sandbox.server import SandboxServer

    config = SandboxConfig(
        page_size_mode="documented" if documented_page_sizes else "observed",
        app_class="verified" if verified_app else "unverified",
        send_retry_after=retry_after,
        deadline_above_points=deadline_above_points,
        quota_speedup=quota_speedup,
        auto_approve=not consent_page,
        testing_app=testing_app,
        rotate_refresh_tokens=rotate_refresh_tokens,
        fitbit_shutdown=fitbit_shutdown,
        sync_lag_s=sync_lag_s,
    )
    if seed is not None:
        user = dataclasses.replace(demo_user(SystemClock().now_s()), seed=seed)
        config = dataclasses.replace(config, users=(user,))
    return SandboxServer(config, port=port)


# --- demo (issues 2 and 4) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What `demo` did: where the data landed and what the sync and the statistics found."""

    home: pathlib.Path
    database: pathlib.Path
    report: pathlib.Path
    sandbox_url: str
    account: str
    sync: SyncReport
    days: list[DayStats]
    # The sandbox's quota ran this many times faster than Google's; `real_api_s` is the least
    # time the same requests take under the real quota (an unverified app: requests ÷ 2.5/s).
    quota_speedup: float = 1.0
    real_api_s: float = 0.0


# The demo's sandbox runs its quota this many times faster than Google's, and heartkeep paces
# to match: the same requests, a tenth of the waiting.
DEMO_QUOTA_SPEEDUP = 10.0


def _sandbox_browser(url: str) -> bool:
    """Play the person's browser against the sandbox: open the consent address and follow the
    redirect back to heartkeep's loopback callback (the sandbox approves consent by itself)."""
    import httpx

    with httpx.Client(follow_redirects=True, timeout=30.0) as browser:
        browser.get(url)
    return True


def demo(
    home: pathlib.Path,
    *,
    days: int = 14,
    on_stage: Callable[[str], None] | None = None,
    on_event: EventHandler | None = None,
) -> DemoResult:
    """The whole job on the built-in sandbox: start it on a free loopback port, authorize
    (PKCE, loopback redirect — the sandbox approves consent), sync the last `days` local days
    (today included) into a SQLite file under `home`, compute the daily statistics and write an
    HTML report.

    Everything lives under `home` (vault, database, report), nothing touches the user's real
    heartkeep data.  Running it again keeps the database and syncs incrementally.
    """
    stage = on_stage or (lambda _text: None)
    home = home.resolve()
    with sandbox_server(quota_speedup=DEMO_QUOTA_SPEEDUP) as server:
        sandbox_url = server.url
        settings = load_settings({"sandbox_url": sandbox_url}, env={"HEARTKEEP_HOME": str(home)})
        quota = quota_assumption(settings)
        stage(f"Sandbox serving the Google Health API v4 emulator at {sandbox_url}")
        stage(
            f"Its quota runs {DEMO_QUOTA_SPEEDUP:g}x faster than Google's "
            f"({quota.app_class} app: {quota.rate_per_s:g} requests/s per user), "
            "so the demo stays quick"
        )
        stage("Authorizing heartkeep against the sandbox's Google OAuth (PKCE, loopback redirect)")
        connected = login(settings, provider="google", open_browser=_sandbox_browser)
        today = dt.datetime.now(dt.UTC).date()
        since = today - dt.timedelta(days=days - 1)
        with open_store(settings.database, readonly=True, missing_ok=True) as store:
            synced_before = store.sample_span(connected.account_key) is not None
        plan = f"syncing from {since}"
        if synced_before:
            plan = "syncing what is new since the last run"
        stage(f"Connected {connected.account_key}; {plan}")
        # A first run fetches the window; later runs are ordinary incremental syncs.
        outcome = sync(
            settings,
            accounts=[connected.account_key],
            since=None if synced_before else since,
            on_event=on_event,
            quota_speedup=DEMO_QUOTA_SPEEDUP,
        )
    failed = [r for r in outcome.accounts if r.error is not None]
    if failed:
        raise HeartkeepError(f"the demo sync failed: {failed[0].error}")
    stage("Computing daily statistics and writing the HTML report")
    stats = daily_report(settings, account=connected.account_key, since=since)
    page = report(settings, home / "report.html", account=connected.account_key)
    return DemoResult(
        home=home,
        database=settings.database_path,
        report=page,
        sandbox_url=sandbox_url,
        account=connected.account_key,
        sync=outcome,
        days=stats,
        quota_speedup=DEMO_QUOTA_SPEEDUP,
        real_api_s=sum(r.requests for r in outcome.accounts) / quota.rate_per_s,
    )


# --- doctor (issue 9) ---------------------------------------------------------------------


def doctor(
    settings: Settings,
    *,
    full: bool = False,
    offline: bool = False,
    stopped_days: float = 3.0,
    clock: Clock | None = None,
) -> DoctorReport:
    """Look at everything that can quietly go wrong: paths and permissions, each account's
    access (the 7-day Testing trap), database integrity (`full`: `integrity_check`), last syncs,
    stopped series, a schedule, and (unless `offline`) the clock against the provider's.

    Never raises for what it finds: each finding has a level and what to do;
    `report.exit_code` is 0 all well, 1 warnings only, 2 a problem.
    """
    return _examine(
        settings,
        clock=clock or SystemClock(),
        full=full,
        offline=offline,
        stopped_days=stopped_days,
    )
