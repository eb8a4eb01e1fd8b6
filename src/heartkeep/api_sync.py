"""The front door's sync: one run, a run every few minutes (`watch`), and what the runs have done.

Why a module of its own: a sync is the one place heartkeep wires every layer below it for
each account — vault → HTTP client (auth, quota, retry) → provider → engine → store — and it,
`watch` (which repeats it) and `status` (which reads what it left behind) change together; the
rest of `api.py` is short wiring for auth, forget and doctor.  `heartkeep.api` re-exports
`sync`, `watch` and `status` on first use, so import them from there.  Like `api.py`, this
loads the store, the engine and the HTTP client inside the functions: `status` loads no engine,
and a sync with nothing connected not even the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from heartkeep.auth.accounts import connected_accounts as _connected_accounts
from heartkeep.clock import Clock, SystemClock
from heartkeep.config import Settings
from heartkeep.errors import AlreadyRunning, HeartkeepError, NoAccounts, UsageError

if TYPE_CHECKING:
    from heartkeep.store import SyncStore
    from heartkeep.sync.events import EventHandler
    from heartkeep.sync.report import AccountReport, SyncReport
    from heartkeep.sync.status import AccountSyncStatus


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
    from heartkeep.store import open_store
    from heartkeep.sync.lock import sync_lock as _sync_lock
    from heartkeep.sync.report import SyncReport

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
    from heartkeep.auth.connection import open_connection as _open_connection
    from heartkeep.providers import get_provider_factory as _provider_factory
    from heartkeep.sync.engine import sync_account
    from heartkeep.sync.events import AccountFinished, EventTally
    from heartkeep.sync.quota import QuotaPolicy
    from heartkeep.sync.report import AccountReport
    from heartkeep.sync.transport import build_client

    tally = EventTally(on_event)
    try:
        connection = _open_connection(settings, key, clock=clock)
        factory = _provider_factory(connection.provider)
    except HeartkeepError as failure:
        report = AccountReport(
            key,
            "failed",
            error=str(failure),
            exit_code=failure.exit_code,
            error_code=failure.code,
        )
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
    from heartkeep.store import open_store
    from heartkeep.sync.status import sync_status as _sync_status

    now_s = int((clock or SystemClock()).now_s())
    connected = _connected_accounts(settings)
    with open_store(settings.database, readonly=True, missing_ok=True) as store:
        return _sync_status(store, connected=connected, now_s=now_s)
