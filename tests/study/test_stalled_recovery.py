"""Stalled-job recovery when the participant already has a sync waiting.

A worker that dies mid-job (or a `study worker --until-idle` that stops with a job running)
leaves the job `doing`; meanwhile the hourly schedule or a webhook queues the participant's
next sync, which waits behind the dead job's lock.  Putting the dead job back in the queue then
collides with the waiting one's queueing lock: the sweep failed every minute with
UniqueViolation and the participant was never synced again.  Now the dead job ends as failed
(kept for inspection), its lock goes, and the waiting sync runs.
"""

from __future__ import annotations

import asyncio

import procrastinate
import psycopg

from heartkeep.study.jobs import retry_stalled_jobs
from heartkeep.study.queue import apply_schema, defer_incremental, open_app

KEY = "google-health:1001"


def jobs(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, status::text FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [(int(a), str(b)) for a, b in rows]


def test_a_stalled_job_whose_participant_already_waits_ends_failed_and_frees_the_lock(
    postgres_url: str,
) -> None:
    apply_schema(postgres_url)
    with open_app(postgres_url) as app:
        dead = defer_incremental(app, KEY)
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # its worker is gone
        conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", (dead,))
    with open_app(postgres_url) as app:
        waiting = defer_incremental(app, KEY)
    assert waiting is not None
    assert waiting != dead

    async def sweep(app: procrastinate.App) -> list[int]:
        async with app.open_async():
            return await retry_stalled_jobs(app, seconds_since_heartbeat=0)

    with open_app(postgres_url) as app:
        retried = asyncio.run(sweep(app))
    assert retried == []
    assert jobs(postgres_url) == [(dead, "failed"), (waiting, "todo")]
