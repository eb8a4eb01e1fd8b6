"""heartkeep's procrastinate tasks: thin shells around plain functions.

Each task finds what it needs in the worker's context (`additional_context["heartkeep"]`, a
`WorkerSetup` that `run_worker` puts there) and calls a function of `worker_sync` or of this
module, which tests call directly.  `queue.open_app` registers the blueprint under the
`heartkeep` namespace.

- `sync_participant(account_key)`: a backfill or routine sync; retried with exponential
  backoff (4, 16, 64, 256, 1024 s: about 23 minutes over 6 attempts) when it failed for a
  reason that may pass (network, provider, quota, database), not when the participant's grant
  is gone (that needs them, not a retry).
- `apply_notifications(account_key)`: the participant's pending webhook news; same retries.
- `schedule_incremental` (periodic, hourly): a routine sync for every participant with tokens
  whose grant is not known to be gone.
- `retry_stalled_jobs` (periodic, every minute): jobs still `doing` on a worker whose heartbeat
  stopped (the process died, its host lost power) go back to `todo`, keeping their lock — or,
  when a job of the same participant already waits, end as failed so that one runs.
"""

from __future__ import annotations

from typing import Any

import procrastinate
import psycopg
from procrastinate import JobContext, RetryStrategy

from heartkeep.errors import StoreError
from heartkeep.study import grant_state
from heartkeep.study.queue import QUEUE_SYNC, defer_incremental
from heartkeep.study.worker_sync import (
    RetryableSyncFailed,
    WorkerSetup,
    apply_notifications,
    sync_participant,
)

CONTEXT_KEY = "heartkeep"
# Retried: a sync that failed for a reason that may pass, and the database or the network
# failing before the sync could start (a job's connections are opened inside it).
SYNC_RETRY = RetryStrategy(
    max_attempts=6,
    exponential_wait=4,
    retry_exceptions=[RetryableSyncFailed, StoreError, psycopg.OperationalError],
)
# A worker sends a heartbeat every 10 s (procrastinate's default); one silent for 30 s is dead.
STALLED_AFTER_S = 30.0
# Routine syncs of everyone at the top of each hour; stalled jobs looked for every minute.
INCREMENTAL_CRON = "0 * * * *"
STALLED_CRON = "* * * * *"


def setup_of(context: JobContext) -> WorkerSetup:
    """The `WorkerSetup` the worker was started with."""
    setup = context.additional_context.get(CONTEXT_KEY)
    if not isinstance(setup, WorkerSetup):
        raise RuntimeError("this job needs a heartkeep study worker (heartkeep study worker)")
    return setup


def sync_participant_task(context: JobContext, account_key: str) -> None:
    sync_participant(setup_of(context), account_key)


def apply_notifications_task(context: JobContext, account_key: str) -> None:
    apply_notifications(setup_of(context), account_key)


def participants_with_tokens(database_url: str) -> list[str]:
    """Account keys of every participant whose tokens the study holds (withdrawn ones have
    none) and whose grant is not known to be gone (`grant_state`: revoked, a permission
    missing, no refresh token — an hourly sync of theirs could only fail again, spending a
    token grant and a request each time), in account order."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT a.key FROM account AS a JOIN participant_token AS t ON t.account_id = a.id "
            "ORDER BY a.id"
        ).fetchall()
        gone = {key for key, (state, _) in grant_state.states(conn).items() if state.grant_gone}
    return [str(row[0]) for row in rows if str(row[0]) not in gone]


def schedule_incremental(app: procrastinate.App, database_url: str) -> int:
    """Queue a routine sync of every participant with tokens; returns how many were queued
    (one already waiting is not queued twice: the queueing lock)."""
    queued = 0
    for account_key in participants_with_tokens(database_url):
        if defer_incremental(app, account_key) is not None:
            queued += 1
    return queued


async def retry_stalled_jobs(
    app: procrastinate.App, *, seconds_since_heartbeat: float = STALLED_AFTER_S
) -> list[int]:
    """Put back in the queue every job running on a worker silent for that long; returns
    their ids.  Their lock stays, so a participant's job still runs alone."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds_since_heartbeat
    )
    ids: list[int] = []
    # Due at the database's own now, the clock the queue fetches by: procrastinate's default
    # is this process's clock, and a worker whose clock runs ahead of the database's would put
    # the job back due in the future, idle for the skew.
    row = await app.connector.execute_query_one_async("SELECT now() AS now")
    for job in stalled:
        try:
            await app.job_manager.retry_job(job, retry_at=row["now"])
        except procrastinate.exceptions.UniqueViolation:
            # A job of the same participant already waits (the queueing lock): it does this
            # one's work.  Retrying failed on every sweep and the stalled job, `doing` for
            # ever, held the participant's lock, so nothing of theirs ran again.  Ended as
            # failed (kept for inspection), it frees the lock for the waiting one.
            if job.id is not None:
                await app.job_manager.finish_job_by_id_async(
                    job.id, status=procrastinate.jobs.Status.FAILED, delete_job=False
                )
            continue
        if job.id is not None:
            ids.append(job.id)
    return ids


def schedule_incremental_task(context: JobContext, timestamp: int) -> None:
    schedule_incremental(context.app, setup_of(context).database_url)


async def retry_stalled_jobs_task(context: JobContext, timestamp: int) -> Any:
    await retry_stalled_jobs(context.app)


def make_blueprint(*, periodic: bool) -> procrastinate.Blueprint:
    """The tasks, in a blueprint of their own (registering one in an app renames its tasks, so
    every app gets a fresh one).  `periodic=False` leaves the schedules out: a test's worker
    must not queue work because of the wall clock's minute."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="sync_participant", pass_context=True, retry=SYNC_RETRY)(
        sync_participant_task
    )
    blueprint.task(name="apply_notifications", pass_context=True, retry=SYNC_RETRY)(
        apply_notifications_task
    )
    incremental = blueprint.task(name="schedule_incremental", pass_context=True, queue=QUEUE_SYNC)(
        schedule_incremental_task
    )
    stalled = blueprint.task(
        name="retry_stalled_jobs",
        pass_context=True,
        queue=QUEUE_SYNC,
        queueing_lock="retry_stalled_jobs",
    )(retry_stalled_jobs_task)
    if periodic:
        blueprint.periodic(cron=INCREMENTAL_CRON, periodic_id="incremental")(incremental)
        blueprint.periodic(cron=STALLED_CRON, periodic_id="stalled")(stalled)
    return blueprint
