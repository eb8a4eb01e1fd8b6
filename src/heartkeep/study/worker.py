"""A study worker process: procrastinate workers running heartkeep's jobs until stopped.

    run_worker(database_url: str, *, token_keys: Sequence[str], endpoints: ProviderEndpoints,
               client: ClientCredentials, concurrency: int = 8, app_class: str = "unverified",
               quota_speedup: float = 1.0, limits: Sequence[BucketLimit] | None = None,
               clock: Clock | None = None, name: str = "heartkeep", wait: bool = True,
               http_timeout_s: float = 30.0, trailing_days: int = 1,
               heartbeat_s: float = 10.0, stalled_after_s: float = 30.0,
               periodic: bool = True, keep_succeeded_jobs: bool = False) -> None

Run as many processes on as many hosts as the study needs; they share nothing but the
database.  Jobs are synchronous (the sync engine blocks on HTTP and on the per-participant
pace), so each slot is a thread; `concurrency` slots per process.

Why a share of the slots is reserved: backfills have the higher priority, so that a new
participant's history arrives first; but a wave of enrolments (hundreds at once, an hour or
more of backfills) would otherwise hold every slot and starve everyone's routine syncs and
webhook jobs.  So a quarter of the slots (at least one, when there are two or more) listen to
the `sync` queue only; the others take the `backfill` queue first and the `sync` queue when no
backfill waits.  Routine syncs therefore always progress at no less than a quarter of the
capacity, and backfills never wait for routine work when there is any slot free.

`trailing_days` is 1, not the personal default of 3: a study has webhooks announcing late data,
and polling is only the safety net (each routine sync re-reads that many days).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from procrastinate.worker import Worker

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import ProviderEndpoints
from heartkeep.clock import Clock, SystemClock
from heartkeep.store.token_cipher import KEYS_VARIABLE, TokenCipher
from heartkeep.study.jobs import CONTEXT_KEY, STALLED_AFTER_S
from heartkeep.study.project_quota import BucketLimit, grant_limits, project_limits
from heartkeep.study.queue import QUEUE_BACKFILL, QUEUE_SYNC, open_app
from heartkeep.study.worker_sync import WorkerSetup


def slot_split(concurrency: int) -> tuple[int, int]:
    """(slots taking backfills first, slots kept for the `sync` queue)."""
    if concurrency < 1:
        raise ValueError("a worker needs at least one slot")
    if concurrency == 1:
        return 1, 0
    reserved = max(1, concurrency // 4)
    return concurrency - reserved, reserved


def run_worker(
    database_url: str,
    *,
    token_keys: Sequence[str],
    endpoints: ProviderEndpoints,
    client: ClientCredentials,
    concurrency: int = 8,
    app_class: str = "unverified",
    quota_speedup: float = 1.0,
    limits: Sequence[BucketLimit] | None = None,
    clock: Clock | None = None,
    name: str = "heartkeep",
    wait: bool = True,
    http_timeout_s: float = 30.0,
    trailing_days: int = 1,
    heartbeat_s: float = 10.0,
    stalled_after_s: float = STALLED_AFTER_S,
    periodic: bool = True,
    keep_succeeded_jobs: bool = False,
) -> None:
    """Run jobs until SIGTERM or SIGINT (finishing the running ones), or, with `wait=False`,
    until the queues are empty.  `periodic=False` leaves out the schedules (hourly routine
    syncs, the stalled-job sweep every minute).  Succeeded jobs are deleted as they finish
    (`sync_run` keeps each sync's history; an hourly schedule would otherwise add a row per
    participant an hour to procrastinate's table) unless `keep_succeeded_jobs`; failed ones
    stay for inspection.  `token_keys` are base64 AES keys, the first
    one sealing (`HEARTKEEP_STUDY_TOKEN_KEYS`); `limits` the shared quota buckets (Google's
    project limits and grant limit by default, scaled by `quota_speedup`)."""
    setup = WorkerSetup(
        database_url=database_url,
        token_cipher=TokenCipher.from_environment({KEYS_VARIABLE: ",".join(token_keys)}),
        endpoints=endpoints,
        client=client,
        clock=clock or SystemClock(),
        app_class=app_class,
        quota_speedup=quota_speedup,
        http_timeout_s=http_timeout_s,
        trailing_days=trailing_days,
        limits=tuple(limits)
        if limits is not None
        else (*project_limits(speedup=quota_speedup), *grant_limits(speedup=quota_speedup)),
    )
    asyncio.run(
        _run(
            setup,
            concurrency=concurrency,
            name=name,
            wait=wait,
            heartbeat_s=heartbeat_s,
            stalled_after_s=stalled_after_s,
            periodic=periodic,
            delete_jobs="never" if keep_succeeded_jobs else "successful",
        )
    )


async def _run(
    setup: WorkerSetup,
    *,
    concurrency: int,
    name: str,
    wait: bool,
    heartbeat_s: float,
    stalled_after_s: float,
    periodic: bool,
    delete_jobs: str,
) -> None:
    loop = asyncio.get_running_loop()
    # Synchronous jobs run in the loop's default executor: one thread per slot.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 2))
    app = open_app(setup.database_url, pool_max_size=concurrency + 4, periodic=periodic)
    try:
        async with app.open_async():
            first, reserved = slot_split(concurrency)
            plans = [(f"{name}-all", [QUEUE_BACKFILL, QUEUE_SYNC], first)]
            if reserved:
                plans.append((f"{name}-sync", [QUEUE_SYNC], reserved))
            workers = [
                Worker(
                    app,
                    queues=queues,
                    name=label,
                    concurrency=slots,
                    wait=wait,
                    additional_context={CONTEXT_KEY: setup},
                    install_signal_handlers=False,
                    update_heartbeat_interval=heartbeat_s,
                    stalled_worker_timeout=stalled_after_s,
                    fetch_job_polling_interval=1.0,
                    delete_jobs=delete_jobs,
                )
                for label, queues, slots in plans
            ]

            def stop() -> None:
                for worker in workers:
                    worker.stop()  # type: ignore[no-untyped-call]

            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop)
            try:
                await asyncio.gather(*(worker.run() for worker in workers))  # type: ignore[no-untyped-call]
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
    finally:
        app.close()
