"""The study's task queue: procrastinate on the study's own PostgreSQL, no other broker.

Why procrastinate: the samples already live in PostgreSQL, so a queue in the same database adds
no service to run, and it brings what a study needs done completely — a queueing lock (at most
one waiting job per key), a running lock (at most one running job per key), priorities,
retries with exponential backoff, periodic tasks deduplicated across workers, and worker
heartbeats that let a live worker find the jobs of a dead one.

The entry points other parts call (plain functions, explicit parameters, no configuration):

    open_app(database_url: str) -> procrastinate.App
        An opened app (use it as a context manager, or call `.close()`), with heartkeep's
        tasks registered.  Deferring from synchronous code (the enrolment web app, the
        webhook endpoint, the CLI) works on it as it is.
    apply_schema(database_url: str) -> bool
        Create procrastinate's schema, heartkeep's queue tables and the store's schema in the
        URL's database (or schema: `options=-csearch_path=…`); True when it created the queue's
        schema, False when it was there.  Safe to run from several processes at once.
    defer_backfill(app: App, account_key: str) -> int | None
        Queue the first sync of a newly enrolled participant, ahead of routine work.  Returns
        the job id.  A sync of that participant already waiting is made the backfill (queue and
        priority upgraded; the sync engine plans from the participant's state, not from the
        job), so a backfill is never dropped behind a routine sync.
    defer_incremental(app: App, account_key: str) -> int | None
        Queue a routine sync (from the last complete instant, less the trailing days, to now).
    defer_interval(app: App, account_key: str, interval: Interval,
                   operation: Literal["UPSERT", "DELETE"]) -> int | None
        A webhook's news: merge the interval into the participant's pending notifications and
        queue one job to apply them (None when a job that will see the merge is waiting).
    notification_handler(app: App) -> Callable[[Notification], None]
        What `webhook_app(on_notification=…)` should call for each verified notification.

Jobs, locks and priorities (docs/studies.md, "The task queue"):

- every job of a participant carries the lock `participant:<account key>`: procrastinate runs
  at most one of them at a time, across all workers and hosts;
- syncs carry the queueing lock `sync:<key>` and notification jobs `notify:<key>`: a burst of
  requests for one participant waits as one job;
- backfills go to the `backfill` queue with priority 10, everything else to the `sync` queue
  (webhook jobs 5, routine syncs 0).  Workers keep a share of their slots for the `sync` queue
  only (`heartkeep.study.worker`), so a wave of enrolments never starves routine syncs.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Literal

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector

from heartkeep.study import grant_state
from heartkeep.study.notifications import Interval, Notification

QUEUE_BACKFILL = "backfill"
QUEUE_SYNC = "sync"
PRIORITY_BACKFILL = 10
PRIORITY_NOTIFICATION = 5
PRIORITY_INCREMENTAL = 0
NAMESPACE = "heartkeep"
SYNC_TASK = f"{NAMESPACE}:sync_participant"
NOTIFY_TASK = f"{NAMESPACE}:apply_notifications"
# Google Health participants' account keys are the provider's name and their healthUserId.
GOOGLE_HEALTH = "google-health"

Operation = Literal["UPSERT", "DELETE"]

# heartkeep's own queue tables, next to procrastinate's.  `study_pending_sync` is the webhook
# coalescer kept in the database: one row per participant with notifications not yet applied
# (the UPSERT hull and the DELETE hull, as `Coalescer`/`PendingSync` merge them in memory), so
# a notification answered 204 is durable and any worker on any host can apply it.
QUEUE_TABLES = (
    """CREATE TABLE IF NOT EXISTS study_pending_sync (
        account_key text PRIMARY KEY,
        upsert_start_s bigint,
        upsert_end_s bigint,
        delete_start_s bigint,
        delete_end_s bigint,
        notifications integer NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS study_quota_bucket (
        name text PRIMARY KEY,
        tokens double precision NOT NULL,
        capacity double precision NOT NULL,
        refill_per_s double precision NOT NULL,
        updated_s double precision NOT NULL,
        taken bigint NOT NULL DEFAULT 0
    )""",
)


# The database each app was opened on, for the few queries procrastinate does not make.
_URLS: weakref.WeakKeyDictionary[procrastinate.App, str] = weakref.WeakKeyDictionary()


def participant_lock(account_key: str) -> str:
    """The running lock every job of one participant carries."""
    return f"participant:{account_key}"


def open_app(
    database_url: str, *, pool_max_size: int = 4, periodic: bool = False
) -> procrastinate.App:
    """An opened procrastinate app on `database_url` with heartkeep's tasks registered
    (`periodic`: with their schedules too, which only a worker needs)."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=database_url, min_size=1, max_size=pool_max_size
        ),
    )
    from heartkeep.study.jobs import make_blueprint

    app.add_tasks_from(make_blueprint(periodic=periodic), namespace=NAMESPACE)
    _URLS[app] = database_url
    return app.open()


def apply_schema(database_url: str) -> bool:
    """Create what the queue needs (see the module's docstring); True when it created
    procrastinate's schema.  An advisory lock makes concurrent callers take turns."""
    from heartkeep.store.postgres import PostgresStore

    PostgresStore(database_url).close()  # the store creates (or upgrades) its own schema
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.queue'))")
        for statement in QUEUE_TABLES:
            conn.execute(statement.encode())
        grant_state.ensure(conn)
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if row is not None and row[0]:
            return False
        schema = procrastinate.schema.SchemaManager.get_schema()
        conn.execute(schema.encode())
        return True


def _defer(
    app: procrastinate.App,
    task: str,
    *,
    queue: str,
    priority: int,
    queueing_lock: str,
    account_key: str,
) -> int | None:
    deferrer = app.configure_task(
        task,
        queue=queue,
        priority=priority,
        lock=participant_lock(account_key),
        queueing_lock=queueing_lock,
    )
    try:
        return deferrer.defer(account_key=account_key)
    except AlreadyEnqueued:
        return None


# A waiting sync of the participant becomes a backfill: the backfill queue, at least its
# priority.  Its `scheduled_at` stays: a sync waiting out a retry's backoff keeps waiting.
_UPGRADE = b"""
    UPDATE procrastinate_jobs
       SET queue_name = %(queue)s, priority = greatest(priority, %(priority)s)
     WHERE queueing_lock = %(lock)s AND status = 'todo' AND task_name = %(task)s
 RETURNING id, pg_notify('procrastinate_queue_v1#' || %(queue)s,
                         json_build_object('type', 'job_inserted', 'job_id', id)::text),
           pg_notify('procrastinate_any_queue_v1',
                     json_build_object('type', 'job_inserted', 'job_id', id)::text)
"""
_BACKFILL_ATTEMPTS = 3


@contextlib.contextmanager
def _connection(app: procrastinate.App) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """A connection for the few statements procrastinate does not make, committed at exit:
    the app's own pool when it was opened synchronously, else one of its own (a worker's app
    is opened for asyncio)."""
    connector = app.connector.get_sync_connector()
    if isinstance(connector, SyncPsycopgConnector):
        with connector.pool.connection() as conn:
            yield conn
            conn.commit()
    else:
        with psycopg.connect(_URLS[app], autocommit=True, connect_timeout=10) as conn:
            yield conn


def upgrade_waiting_sync(app: procrastinate.App, account_key: str) -> int | None:
    """Make the participant's waiting sync (a routine one, say) a backfill: the backfill
    queue and its priority, workers woken.  The job id, or None when no sync of theirs waits
    (it started meanwhile, or there was none)."""
    with _connection(app) as conn:
        row = conn.execute(
            _UPGRADE,
            {
                "queue": QUEUE_BACKFILL,
                "priority": PRIORITY_BACKFILL,
                "lock": f"sync:{account_key}",
                "task": SYNC_TASK,
            },
        ).fetchone()
    return None if row is None else int(row[0])


def defer_backfill(app: procrastinate.App, account_key: str) -> int | None:
    """Queue a new participant's first sync, ahead of routine syncs (see the module's
    docstring); the id of the job that will run it.

    Why the upgrade: one sync per participant may wait (the queueing lock), so a backfill
    asked for while a routine sync of theirs waits — the hourly schedule ran between the
    enrolment's commit and its queueing, or a re-enrolment — would otherwise be dropped for a
    job in the routine queue at the lowest priority, behind every other participant.  The
    waiting job becomes the backfill instead (one sync plans from the participant's state,
    not from its job, so it does the whole history either way).  If that job started between
    the two statements, its queueing lock is free again and the backfill is deferred anew.
    None only if every attempt raced a starting job."""
    for _ in range(_BACKFILL_ATTEMPTS):
        job = _defer(
            app,
            SYNC_TASK,
            queue=QUEUE_BACKFILL,
            priority=PRIORITY_BACKFILL,
            queueing_lock=f"sync:{account_key}",
            account_key=account_key,
        )
        if job is None:
            job = upgrade_waiting_sync(app, account_key)
        if job is not None:
            return job
    return None


def defer_incremental(app: procrastinate.App, account_key: str) -> int | None:
    """Queue a participant's routine sync; None when a sync of theirs already waits."""
    return _defer(
        app,
        SYNC_TASK,
        queue=QUEUE_SYNC,
        priority=PRIORITY_INCREMENTAL,
        queueing_lock=f"sync:{account_key}",
        account_key=account_key,
    )


def _merge_statement(side: str) -> bytes:
    return (
        f"INSERT INTO study_pending_sync (account_key, {side}_start_s, {side}_end_s, "  # noqa: S608 - a constant
        "notifications) VALUES (%s, %s, %s, 1) ON CONFLICT (account_key) DO UPDATE SET "
        f"{side}_start_s = least(study_pending_sync.{side}_start_s, excluded.{side}_start_s), "
        f"{side}_end_s = greatest(study_pending_sync.{side}_end_s, excluded.{side}_end_s), "
        "notifications = study_pending_sync.notifications + 1"
    ).encode()


_MERGE = {"UPSERT": _merge_statement("upsert"), "DELETE": _merge_statement("delete")}


def merge_pending(
    conn: psycopg.Connection[tuple[Any, ...]],
    account_key: str,
    interval: Interval,
    operation: Operation,
) -> None:
    """Widen the participant's pending UPSERT (or DELETE) hull by `interval`, committed."""
    conn.execute(
        _MERGE[operation],
        (account_key, interval.start_s, interval.end_s),
    )


def defer_interval(
    app: procrastinate.App, account_key: str, interval: Interval, operation: Operation
) -> int | None:
    """Record a notified interval for the participant and queue one job to apply what is
    pending.  The merge commits before the job is deferred, so whichever job of theirs starts
    next sees it; a burst therefore ends in one job (None: a waiting job will take it)."""
    if operation not in ("UPSERT", "DELETE"):
        raise ValueError(f"unknown operation {operation!r}")
    with _connection(app) as conn:
        merge_pending(conn, account_key, interval, operation)
    return _defer(
        app,
        NOTIFY_TASK,
        queue=QUEUE_SYNC,
        priority=PRIORITY_NOTIFICATION,
        queueing_lock=f"notify:{account_key}",
        account_key=account_key,
    )


def account_key_of(notification: Notification) -> str:
    """The participant a Google Health notification is about."""
    return f"{GOOGLE_HEALTH}:{notification.health_user_id}"


def notification_handler(app: procrastinate.App) -> Callable[[Notification], None]:
    """The `on_notification` callback for `webhook_app`: merge, queue, return (quickly)."""

    def on_notification(notification: Notification) -> None:
        defer_interval(
            app,
            account_key_of(notification),
            notification.span(),
            "UPSERT" if notification.operation == "UPSERT" else "DELETE",
        )

    return on_notification
