"""What one queue job does for one participant: the personal sync engine, wired for a study.

Why here: `heartkeep.api` wires a person's vault, client and SQLite file around
`sync_account`; a study's worker wires the same engine to the study's PostgreSQL store, the
participant's sealed tokens (refreshed under a row lock, `participant_tokens`) and the
project's shared quota.  There is no second sync: a backfill, a routine sync and a webhook's
interval are all `sync_account` runs (the last with `window=`), and a webhook's DELETE removes
exactly that interval's samples from the store.

Everything a job needs arrives in a `WorkerSetup` (no configuration is read here); each job
opens its own store connection and quota connection and closes them when it ends, so a job
killed with its process leaves nothing open but what PostgreSQL cleans up itself (its
advisory and row locks end with the connection).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from heartkeep import http_client
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import ProviderEndpoints
from heartkeep.auth.token_client import TokenClient
from heartkeep.clock import Clock
from heartkeep.https_trust import SchemeTransport
from heartkeep.model import TokenSet, Window
from heartkeep.providers import Provider, get_provider_factory, google_health
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study import grant_state
from heartkeep.study.project_quota import (
    OAUTH_GRANTS,
    BucketLimit,
    ProjectQuotaTransport,
    SharedQuota,
    grant_limits,
    project_limits,
)
from heartkeep.study.tokens import participant_tokens
from heartkeep.sync.engine import sync_account
from heartkeep.sync.events import EventHandler, EventTally
from heartkeep.sync.planner import HEART_RATE
from heartkeep.sync.quota import QuotaPolicy
from heartkeep.sync.report import AccountReport
from heartkeep.sync.transport import build_client

# Exit codes worth another attempt later: the provider misbehaved (5), the network or server
# failed (6), the quota refused us (7), the database failed (9).  Not auth (4: the participant
# must consent again) nor configuration (3): retrying those only spends quota.
RETRYABLE_EXIT_CODES = frozenset({5, 6, 7, 9})
Conn = psycopg.Connection[tuple[Any, ...]]


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a job needs, given by whoever starts the worker (`run_worker`)."""

    database_url: str
    token_cipher: TokenCipher
    endpoints: ProviderEndpoints
    client: ClientCredentials
    clock: Clock
    app_class: str = "unverified"
    # The sandbox's quota clock may run faster (its `quota_speedup`): pace and share to match.
    quota_speedup: float = 1.0
    http_timeout_s: float = 30.0
    trailing_days: int = 3
    limits: tuple[BucketLimit, ...] = field(
        default_factory=lambda: (*project_limits(), *grant_limits())
    )
    on_event: EventHandler | None = None


class SyncFailed(Exception):
    """A participant's sync ended in a failure; `retryable` says whether the queue retries it."""

    def __init__(self, report: AccountReport) -> None:
        super().__init__(f"{report.account_key}: {report.error} (exit {report.exit_code})")
        self.report = report
        self.retryable = report.exit_code in RETRYABLE_EXIT_CODES


class RetryableSyncFailed(SyncFailed):
    """The kind of failure the queue retries with backoff."""


def raise_for(report: AccountReport) -> AccountReport:
    """The report, or the failure it records as an exception the queue understands."""
    if report.ok:
        return report
    failure = SyncFailed(report)
    raise RetryableSyncFailed(report) if failure.retryable else failure


class GrantCountingTokenClient(TokenClient):
    """A `TokenClient` whose every refresh first takes a token from the shared grant bucket."""

    def __init__(self, *args: object, grants: SharedQuota, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.grants = grants

    def refresh(self, refresh_token: str, *, previous: TokenSet) -> TokenSet:
        self.grants.take([OAUTH_GRANTS])
        return super().refresh(refresh_token, previous=previous)


class ParticipantAuth(http_client.Auth):
    """Bearer tokens from the study database, refreshed by one worker at a time.

    On a 401 the pair is read again (another worker may have refreshed it) and the request
    replayed once with the new access token; a second 401 goes back to the provider code,
    which turns it into `ReauthorizationNeeded`."""

    def __init__(self, store: PostgresStore, account_key: str, tokens: TokenClient) -> None:
        self.store = store
        self.account_key = account_key
        self.token_client = tokens
        self._tokens: TokenSet | None = None

    def _current(self) -> TokenSet:
        tokens = self._tokens
        clock = self.token_client.clock
        if tokens is None or (tokens.expires_at_s or 0.0) - 300.0 <= clock.now_s():
            tokens = participant_tokens(self.store, self.account_key, self.token_client)
            self._tokens = tokens
        return tokens

    def auth_flow(
        self, request: http_client.Request
    ) -> Generator[http_client.Request, http_client.Response, None]:
        tokens = self._current()
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code != 401:
            return
        self._tokens = None
        again = self._current()
        if again.access_token != tokens.access_token:
            request.headers["Authorization"] = f"Bearer {again.access_token}"
            yield request


@dataclass
class _Job:
    """One job's connections: the store's, and one for the quota buckets and pending rows."""

    store: PostgresStore
    quota: SharedQuota
    conn: Conn


@contextlib.contextmanager
def _job_resources(setup: WorkerSetup) -> Iterator[_Job]:
    store = PostgresStore(setup.database_url, token_cipher=setup.token_cipher)
    try:
        conn: Conn = psycopg.connect(setup.database_url, autocommit=True, connect_timeout=10)
        try:
            quota = SharedQuota(conn, setup.limits, clock=setup.clock)
            quota.ensure()
            yield _Job(store, quota, conn)
        finally:
            conn.close()
    finally:
        store.close()


def _sync(
    setup: WorkerSetup,
    store: PostgresStore,
    quota: SharedQuota,
    account_key: str,
    window: Window | None,
) -> AccountReport:
    tally = EventTally(setup.on_event)
    with GrantCountingTokenClient(
        setup.endpoints,
        setup.client,
        clock=setup.clock,
        timeout_s=setup.http_timeout_s,
        grants=quota,
    ) as token_client:
        auth = ParticipantAuth(store, account_key, token_client)
        provider = setup.endpoints.provider
        with build_client(
            base_url=setup.endpoints.api_base,
            auth=auth,
            clock=setup.clock,
            policy=QuotaPolicy.for_provider(provider, setup.app_class, setup.quota_speedup),
            on_event=tally,
            timeout_s=setup.http_timeout_s,
            inner=ProjectQuotaTransport(SchemeTransport(), quota),
        ) as client:
            return sync_account(
                _provider(provider, client, setup.clock),
                store,
                account_key=account_key,
                clock=setup.clock,
                trailing_days=setup.trailing_days,
                on_event=tally,
                window=window,
            )


def _provider(name: str, client: http_client.Client, clock: Clock) -> Provider:
    """The participant's provider; Google's hands its pages over as numpy columns, which the
    PostgreSQL store writes without a Python object per sample."""
    if name == google_health.NAME:
        return google_health.GoogleHealthProvider(client, clock=clock, columns=True)
    return get_provider_factory(name)(client, clock=clock)


def enrolled(store: PostgresStore, account_key: str) -> bool:
    """Whether the study holds the participant's tokens.  A withdrawn participant's are gone
    (and a stranger's webhook names nobody): their jobs end at once and write nothing — a
    sync would otherwise record its run, and so the account, again."""
    return store.load_tokens(account_key) is not None


def sync_participant(setup: WorkerSetup, account_key: str) -> AccountReport | None:
    """Sync one participant: their backfill on the first run, else a routine sync (None: not
    enrolled, nothing done).  Raises `SyncFailed` (or `RetryableSyncFailed`) when the run
    failed; committed pages stay."""
    with _job_resources(setup) as job:
        if not enrolled(job.store, account_key):
            return None
        report = _sync(setup, job.store, job.quota, account_key, None)
        grant_state.after_sync(job.store.connection(), account_key, report, setup.clock.now_s())
        return raise_for(report)


@dataclass(frozen=True, slots=True)
class PendingWork:
    """What a participant's notifications add up to, as taken from `study_pending_sync`."""

    upsert: Window | None
    delete: Window | None
    notifications: int


def read_pending(conn: Conn, account_key: str) -> PendingWork | None:
    """The participant's pending notifications, left in place until applied."""
    row = conn.execute(
        "SELECT upsert_start_s, upsert_end_s, delete_start_s, delete_end_s, notifications "
        "FROM study_pending_sync WHERE account_key = %s",
        (account_key,),
    ).fetchone()
    if row is None:
        return None
    upsert = None if row[0] is None else Window(int(row[0]), int(row[1]))
    delete = None if row[2] is None else Window(int(row[2]), int(row[3]))
    return PendingWork(upsert, delete, int(row[4]))


def finish_pending(conn: Conn, account_key: str, seen: PendingWork) -> bool:
    """Remove the pending row if no notification widened it since it was read (True); a
    widened row stays for the job its newcomer queued (which redoes this part: idempotent)."""
    row = conn.execute(
        "DELETE FROM study_pending_sync WHERE account_key = %s AND notifications = %s "
        "RETURNING account_key",
        (account_key, seen.notifications),
    ).fetchone()
    return row is not None


@dataclass(frozen=True, slots=True)
class NotificationOutcome:
    """What applying a participant's notifications did."""

    notifications: int
    samples_deleted: int
    report: AccountReport | None


def apply_notifications(setup: WorkerSetup, account_key: str) -> NotificationOutcome:
    """Apply what the participant's webhooks announced: delete the DELETE hull's samples,
    then sync the UPSERT hull (the whole history if they were never synced) — the order
    `Coalescer` documents, so the result is the provider's data whatever order the
    notifications came in.

    The pending row is removed only once both are done: a job that dies half-way (SIGKILL,
    a failed sync) is simply run again from the start, which is idempotent (delete, then
    fetch what the provider serves now)."""
    with _job_resources(setup) as job:
        store = job.store
        pending = read_pending(job.conn, account_key)
        if pending is None:
            return NotificationOutcome(0, 0, None)
        if not enrolled(store, account_key):
            finish_pending(job.conn, account_key, pending)
            return NotificationOutcome(pending.notifications, 0, None)
        deleted = 0
        if pending.delete is not None:
            deleted = store.delete_samples(account_key, pending.delete)
        report = None
        if pending.upsert is not None:
            state = store.stream_state(account_key, HEART_RATE)
            never_synced = state.covered_from_s is None and not state.job_open
            window = None if never_synced else pending.upsert
            report = _sync(setup, store, job.quota, account_key, window)
            grant_state.after_sync(store.connection(), account_key, report, setup.clock.now_s())
            raise_for(report)
        elif deleted:
            store.refresh_aggregates(account_key)
        finish_pending(job.conn, account_key, pending)
        return NotificationOutcome(pending.notifications, deleted, report)
