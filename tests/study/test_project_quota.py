"""Quotas shared by every worker through PostgreSQL: racing takers never exceed a limit.

Threads, each with its own connection (as workers on many hosts have), race one bucket; every
take is placed at the bucket's own instant, and no sliding window of the limit's length ever
holds more than the limit.  Then real syncs through the queue against a sandbox whose project
limit is tiny: the sandbox never answers 429.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest
from study_world import enrol_all, participant

from heartkeep.clock import FakeClock
from heartkeep.sandbox.server import SandboxServer
from heartkeep.study.project_quota import (
    BucketLimit,
    SharedQuota,
    grant_limits,
    project_limits,
)
from heartkeep.study.queue import apply_schema, defer_backfill, open_app
from heartkeep.study.worker import run_worker


def most_in_any_window(instants: list[float], window_s: float) -> int:
    ordered = sorted(instants)
    best, lo = 0, 0
    for hi, instant in enumerate(ordered):
        while ordered[lo] <= instant - window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_the_burst_and_rate_fit_the_limit_in_any_window() -> None:
    limit = BucketLimit("x", 120_000, 60.0, 2_000)
    assert limit.burst + limit.refill_per_s * limit.window_s == pytest.approx(120_000)
    assert [b.limit for b in project_limits()] == [120_000, 86_400_000]
    assert grant_limits()[0].limit == 10_000
    with pytest.raises(ValueError, match="burst"):
        BucketLimit("y", 10, 60.0, 10)


def test_racing_workers_never_exceed_the_shared_limit(postgres_url: str) -> None:
    apply_schema(postgres_url)
    limit = BucketLimit("race", 40, 10.0, 5)
    clock = FakeClock(1_000_000.0)
    takes: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                quota = SharedQuota(conn, [limit], clock=clock)
                quota.ensure()
                for _ in range(20):
                    quota.take(["race"])
                    assert quota.last_taken_at_s is not None
                    with lock:
                        takes.append(quota.last_taken_at_s)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert len(takes) == 160
    assert most_in_any_window(takes, limit.window_s) <= limit.limit
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute(
            "SELECT taken FROM study_quota_bucket WHERE name = 'race'"
        ).fetchone() == (160,)


def test_syncs_through_the_queue_stay_inside_a_tiny_project_quota(
    sandbox_factory: Callable[..., SandboxServer], postgres_url: str
) -> None:
    from heartkeep.sandbox.config import TEST_START_S

    specs = tuple(participant(n, days=1, start_s=TEST_START_S) for n in range(20, 24))
    sandbox = sandbox_factory(users=specs, per_project_per_minute=20)
    world = enrol_all(sandbox, postgres_url, [s.health_user_id for s in specs])
    world.freeze_devices()
    with open_app(world.url) as app:
        for user in world.users:
            defer_backfill(app, world.key(user))
    run_worker(
        world.url,
        **world.worker_kwargs(),
        clock=world.state.clock,
        concurrency=4,
        wait=False,
        limits=(*project_limits(per_minute=20), *grant_limits()),
    )
    assert [job[1] for job in world.jobs()] == ["succeeded"] * 4
    statuses = [record.status for record in world.state.request_log]
    assert 429 not in statuses
    assert len(statuses) > 40  # more than two minutes' worth: the limit was in play
    for user in world.users:
        assert world.stored(user) == world.truth(user)
