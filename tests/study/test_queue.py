"""The study's task queue on a real PostgreSQL: what deferring leaves in procrastinate's tables.

No worker runs here (tests/study/test_worker.py runs them): these pin the queue's contract —
one waiting sync per participant, backfills ahead of routine syncs, a burst of webhook
notifications waiting as one job whose pending row holds the merged intervals.
"""

from __future__ import annotations

from collections.abc import Iterator

import procrastinate
import psycopg
import pytest

from heartkeep.study.notifications import Interval
from heartkeep.study.queue import (
    NOTIFY_TASK,
    PRIORITY_BACKFILL,
    PRIORITY_INCREMENTAL,
    QUEUE_BACKFILL,
    QUEUE_SYNC,
    SYNC_TASK,
    apply_schema,
    defer_backfill,
    defer_incremental,
    defer_interval,
    open_app,
)

KEY = "google-health:111111256096816351"
OTHER = "google-health:222222256096816351"


@pytest.fixture
def app(postgres_url: str) -> Iterator[procrastinate.App]:
    apply_schema(postgres_url)
    with open_app(postgres_url) as opened:
        yield opened


def jobs(url: str) -> list[tuple[str, str, int, str, str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT task_name, queue_name, priority, lock, queueing_lock, status::text "
            "FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_schema_is_created_once_and_a_second_apply_changes_nothing(postgres_url: str) -> None:
    assert apply_schema(postgres_url) is True
    assert apply_schema(postgres_url) is False
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        present = conn.execute(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL, "
            "to_regclass('study_pending_sync') IS NOT NULL, to_regclass('hr_hour') IS NOT NULL"
        ).fetchone()
    assert present == (True, True, True)


def test_a_participant_has_at_most_one_waiting_sync(
    app: procrastinate.App, postgres_url: str
) -> None:
    first = defer_backfill(app, KEY)
    assert first is not None
    assert defer_backfill(app, KEY) == first  # the waiting backfill is the one
    assert defer_incremental(app, KEY) is None  # the waiting backfill does it
    assert defer_incremental(app, OTHER) is not None
    assert jobs(postgres_url) == [
        (SYNC_TASK, QUEUE_BACKFILL, PRIORITY_BACKFILL, f"participant:{KEY}", f"sync:{KEY}", "todo"),
        (
            SYNC_TASK,
            QUEUE_SYNC,
            PRIORITY_INCREMENTAL,
            f"participant:{OTHER}",
            f"sync:{OTHER}",
            "todo",
        ),
    ]


def test_a_backfill_asked_while_a_routine_sync_waits_upgrades_that_sync(
    app: procrastinate.App, postgres_url: str
) -> None:
    """The hourly schedule queued a routine sync; then the participant enrols (or enrols
    again): the backfill is not dropped behind the routine queue's lowest priority — the one
    waiting sync becomes the backfill (test fails before: the backfill was a no-op)."""
    routine = defer_incremental(app, KEY)
    assert routine is not None
    assert defer_incremental(app, OTHER) is not None
    assert defer_backfill(app, KEY) == routine
    assert jobs(postgres_url) == [
        (SYNC_TASK, QUEUE_BACKFILL, PRIORITY_BACKFILL, f"participant:{KEY}", f"sync:{KEY}", "todo"),
        (
            SYNC_TASK,
            QUEUE_SYNC,
            PRIORITY_INCREMENTAL,
            f"participant:{OTHER}",
            f"sync:{OTHER}",
            "todo",
        ),
    ]


def test_a_backfill_asked_while_a_sync_runs_waits_behind_it(
    app: procrastinate.App, postgres_url: str
) -> None:
    """A running sync holds no queueing lock: the backfill is queued anew and waits for the
    participant's running lock (a worker's fetch marks the job `doing`, as here)."""
    routine = defer_incremental(app, KEY)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", (routine,))
    backfill = defer_backfill(app, KEY)
    assert backfill is not None
    assert backfill != routine
    assert [(job[1], job[5]) for job in jobs(postgres_url)] == [
        (QUEUE_SYNC, "doing"),
        (QUEUE_BACKFILL, "todo"),
    ]


def test_a_burst_of_notifications_waits_as_one_job_with_the_merged_intervals(
    app: procrastinate.App, postgres_url: str
) -> None:
    deferred = [
        defer_interval(app, KEY, Interval(1_000 + 900 * n, 1_900 + 900 * n), "UPSERT")
        for n in range(20)
    ]
    deferred.append(defer_interval(app, KEY, Interval(500, 700), "DELETE"))
    assert sum(job is not None for job in deferred) == 1
    assert [job[0] for job in jobs(postgres_url)] == [NOTIFY_TASK]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        pending = conn.execute(
            "SELECT account_key, upsert_start_s, upsert_end_s, delete_start_s, delete_end_s, "
            "notifications FROM study_pending_sync"
        ).fetchall()
    assert pending == [(KEY, 1_000, 1_900 + 900 * 19, 500, 700, 21)]
