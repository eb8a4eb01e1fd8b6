"""Study workers run the queue's jobs against the sandbox and a real PostgreSQL, in process.

Each participant ends with exactly the samples the sandbox serves; a participant's jobs run one
at a time; every token refresh is charged to the shared grant bucket; and a webhook's UPSERT and
DELETE, delivered by the sandbox over HTTPS to the study's endpoint, reach the store through
the queue — a burst of them as one job.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import procrastinate
import psycopg
import pytest
from study_world import StudyWorld, enrol_all, participant

from heartkeep.sandbox.credentials import SANDBOX_PROJECT_NUMBER
from heartkeep.sandbox.delivery import pump
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.signing import KEYSET_PATH
from heartkeep.sandbox.subscribers import CLOUD_PLATFORM
from heartkeep.store import open_postgres_store
from heartkeep.study import Interval, grant_state, parse_keyset, webhook_app
from heartkeep.study.grant_state import GrantState
from heartkeep.study.jobs import retry_stalled_jobs, schedule_incremental
from heartkeep.study.project_quota import OAUTH_GRANTS, PROJECT_MINUTE
from heartkeep.study.queue import (
    NOTIFY_TASK,
    SYNC_TASK,
    defer_backfill,
    defer_incremental,
    defer_interval,
    notification_handler,
    open_app,
)
from heartkeep.study.worker import run_worker, slot_split
from loopback_asgi import Tls, make_tls, serve_app

SECRET = "Bearer queue-test-secret"


@pytest.fixture
def world(sandbox_factory: Callable[..., SandboxServer], postgres_url: str) -> StudyWorld:
    from heartkeep.sandbox.config import TEST_START_S

    specs = tuple(participant(n, days=2, start_s=TEST_START_S) for n in range(3))
    sandbox = sandbox_factory(users=specs)
    study = enrol_all(sandbox, postgres_url, [s.health_user_id for s in specs])
    study.freeze_devices()
    return study


def work(world: StudyWorld, concurrency: int = 2, **options: object) -> None:
    """Run a worker until no job waits, on the sandbox's simulated clock.  (A worker started
    with `wait=False` stops when nothing is fetchable, which a job held back by its
    participant's running lock is not: hence the loop.)"""
    for _ in range(10):
        run_worker(
            world.url,
            **(world.worker_kwargs() | options),
            clock=world.state.clock,
            concurrency=concurrency,
            wait=False,
        )
        if not [job for job in world.jobs() if job[1] in ("todo", "doing")]:
            return
    raise AssertionError(f"jobs left: {world.jobs()}")


def test_slots_are_split_so_routine_syncs_always_have_a_share() -> None:
    assert slot_split(1) == (1, 0)
    assert slot_split(2) == (1, 1)
    assert slot_split(8) == (6, 2)
    with pytest.raises(ValueError, match="at least one slot"):
        slot_split(0)


def test_backfills_through_the_queue_end_equal_to_the_sandbox(world: StudyWorld) -> None:
    with open_app(world.url) as app:
        for user in world.users:
            assert defer_backfill(app, world.key(user)) is not None
    work(world)
    assert world.jobs() == [(SYNC_TASK, "succeeded", 1)] * 3  # one attempt each
    for user in world.users:
        assert world.stored(user) == world.truth(user), user
    with psycopg.connect(world.url, autocommit=True) as conn:
        taken = dict(conn.execute("SELECT name, taken FROM study_quota_bucket").fetchall())
        runs = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'ok') FROM sync_run"
        ).fetchone()
    assert taken[OAUTH_GRANTS] == 3  # one refresh per participant, each charged
    requests = world.state.requests_to("/v4/")
    assert taken[PROJECT_MINUTE] == requests  # every API request charged to the project
    assert runs == (3, 3)


def test_a_participants_jobs_never_overlap(world: StudyWorld) -> None:
    """Two workers' slots, many jobs for one participant: the running lock serialises them."""
    user = world.users[0]
    with open_app(world.url) as app:
        defer_backfill(app, world.key(user))
        app.configure_task(SYNC_TASK, lock=f"participant:{world.key(user)}", queue="sync").defer(
            account_key=world.key(user)
        )
    work(world, concurrency=4)
    with psycopg.connect(world.url, autocommit=True) as conn:
        runs = conn.execute("SELECT started_s, finished_s FROM sync_run ORDER BY id").fetchall()
    assert len(runs) == 2
    assert runs[0][1] <= runs[1][0]  # the second started after the first finished
    assert world.stored(user) == world.truth(user)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def webhooks(
    sandbox_factory: Callable[..., SandboxServer], postgres_url: str, tls: Tls
) -> Iterator[StudyWorld]:
    """A study whose endpoint is subscribed to the sandbox's webhooks (over HTTPS)."""
    from heartkeep.sandbox.config import TEST_START_S

    specs = (participant(7, days=2, start_s=TEST_START_S),)
    sandbox = sandbox_factory(users=specs, webhook_ca_file=str(tls.ca_file))
    study = enrol_all(sandbox, postgres_url, [specs[0].health_user_id])
    study.freeze_devices()
    keyset = parse_keyset(httpx.get(sandbox.url + KEYSET_PATH, timeout=30).content)
    with open_app(postgres_url) as app:
        endpoint = webhook_app(
            authorization=SECRET, keyset=keyset, on_notification=notification_handler(app)
        )
        with serve_app(endpoint, tls=tls) as served:
            admin = sandbox.state.issue_tokens(study.users[0], (CLOUD_PLATFORM,))
            created = httpx.post(
                f"{sandbox.url}/v4/projects/{SANDBOX_PROJECT_NUMBER}/subscribers",
                params={"subscriberId": "queue-test"},
                headers={"Authorization": f"Bearer {admin['access_token']}"},
                json={
                    "endpointUri": served.url + "/webhooks/google-health",
                    "endpointAuthorization": {"secret": SECRET},
                    "subscriberConfigs": [
                        {"dataTypes": ["heart-rate"], "subscriptionCreatePolicy": "AUTOMATIC"}
                    ],
                },
                timeout=30,
            )
            assert created.status_code == 200, created.text
            yield study


def test_webhook_upserts_and_deletes_reach_the_store_through_the_queue(
    webhooks: StudyWorld,
) -> None:
    world = webhooks
    user = world.users[0]
    with open_app(world.url) as app:
        defer_backfill(app, world.key(user))
    work(world)
    assert world.stored(user) == world.truth(user)
    state = world.state
    # Four device syncs of a quarter hour each before any worker runs: a burst.
    for _ in range(4):
        state.clock.advance(900)
        state.set_last_sync(user, state.now_s() - 60)
        pump(state)
    deleted_from = int(state.now_s()) - 6 * 3_600
    assert state.delete_samples(user, deleted_from, deleted_from + 1_800) > 0
    pump(state)
    assert len(state.webhooks.delivered) == 5
    notify_jobs = [job for job in world.jobs() if job[0] == NOTIFY_TASK]
    assert notify_jobs == [(NOTIFY_TASK, "todo", 0)]  # five notifications, one job
    before = len(world.stored(user))
    work(world)
    stored = world.stored(user)
    assert stored == world.truth(user)
    assert len(stored) != before
    assert not [s for s in stored if deleted_from <= s.instant_s < deleted_from + 1_800]
    with psycopg.connect(world.url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM study_pending_sync").fetchone() == (0,)


def test_a_worker_killed_mid_job_leaves_it_to_another_and_the_data_ends_exact(
    sandbox_factory: Callable[..., SandboxServer], postgres_url: str
) -> None:
    from heartkeep.sandbox.config import TEST_START_S

    spec = participant(11, days=4, start_s=TEST_START_S)
    # The child paces itself on wall time while the sandbox's clock stands still: the
    # sandbox's per-user limits (on its clock) would refuse it, so they are off here.
    sandbox = sandbox_factory(users=(spec,), per_user_per_second=0, per_user_per_minute=10**6)
    world = enrol_all(sandbox, postgres_url, [spec.health_user_id])
    world.freeze_devices()
    user = world.users[0]
    with open_app(world.url) as app:
        job_id = defer_backfill(app, world.key(user))
    here = Path(__file__).resolve().parent
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(here), str(here.parent)])}
    child = subprocess.Popen(
        [
            sys.executable,
            str(here / "worker_child.py"),
            world.url,
            sandbox.url,
            world.keys[0],
            str(world.state.now_s()),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        pages = 0
        while pages < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
            with psycopg.connect(world.url, autocommit=True) as conn:
                (pages,) = conn.execute(
                    "SELECT count(*) FROM fetch_ledger WHERE stream = 'heart-rate'"
                ).fetchone() or (0,)
        assert pages >= 2, "the child committed no page in time"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert world.jobs() == [(SYNC_TASK, "doing", 0)]  # its worker is dead, the job looks busy
    assert len(world.stored(user)) < len(world.truth(user))

    async def recover(app: procrastinate.App) -> list[int]:
        async with app.open_async():
            return await retry_stalled_jobs(app, seconds_since_heartbeat=1.5)

    recovered: list[int] = []
    deadline = time.monotonic() + 30
    while not recovered and time.monotonic() < deadline:
        time.sleep(0.5)  # the dead worker's heartbeat ages
        with open_app(world.url) as app:
            recovered = asyncio.run(recover(app))
    assert recovered == [job_id]
    work(world)
    assert world.jobs() == [(SYNC_TASK, "succeeded", 2)]  # the killed attempt, then this one
    assert world.stored(user) == world.truth(user)


def test_routine_syncs_run_beside_a_wave_of_backfills(world: StudyWorld) -> None:
    """Two slots, backfills waiting for three participants and a routine sync for a fourth
    key: the routine sync does not wait for the wave (its slot takes the `sync` queue only)."""
    first, second, third = world.users
    with open_app(world.url) as app:
        for user in (first, second):
            defer_backfill(app, world.key(user))
        defer_incremental(app, world.key(third))
    work(world, concurrency=2)
    with psycopg.connect(world.url, autocommit=True) as conn:
        started = conn.execute(
            "SELECT j.queue_name FROM procrastinate_events e JOIN procrastinate_jobs j "
            "ON j.id = e.job_id WHERE e.type = 'started' ORDER BY e.at, e.id"
        ).fetchall()
    # The routine sync started before the second backfill, which had to wait for a slot.
    assert [row[0] for row in started].index("sync") < 2
    for user in world.users:
        assert world.stored(user) == world.truth(user)


def test_a_revoked_grant_fails_its_job_without_retries_and_others_go_on(
    world: StudyWorld,
) -> None:
    gone, fine, _ = world.users
    world.state.revoke_all_tokens(gone)
    with open_postgres_store(world.url) as store:  # an earlier refresh had failed on the way
        grant_state.record(
            store.connection(), world.key(fine), GrantState.REFRESH_FAILED_TRANSIENT, "x", 0
        )
    with open_app(world.url) as app:
        defer_backfill(app, world.key(gone))
        defer_backfill(app, world.key(fine))
    work(world, keep_succeeded_jobs=False)
    # Why, as a code: the refresh's invalid_grant; the participant whose sync worked is clear.
    with open_postgres_store(world.url) as store:
        recorded = grant_state.states(store.connection())
    assert {key: state for key, (state, _) in recorded.items()} == {
        world.key(gone): GrantState.REVOKED
    }
    # The failed job stays for inspection; the succeeded one is gone (sync_run keeps history).
    assert world.jobs() == [(SYNC_TASK, "failed", 1)]
    assert world.stored(gone) == []
    assert world.stored(fine) == world.truth(fine)
    with psycopg.connect(world.url, autocommit=True) as conn:
        runs = conn.execute("SELECT status FROM sync_run ORDER BY status").fetchall()
    assert runs == [("failed",), ("ok",)]


def test_the_hourly_schedule_queues_one_routine_sync_per_participant(world: StudyWorld) -> None:
    with open_app(world.url) as app:
        defer_backfill(app, world.key(world.users[0]))  # already waiting: not queued twice
        assert schedule_incremental(app, world.url) == 2
        assert schedule_incremental(app, world.url) == 0
    assert sorted(job[0] for job in world.jobs()) == [SYNC_TASK] * 3
    work(world)
    for user in world.users:
        assert world.stored(user) == world.truth(user)


def test_the_hourly_schedule_skips_participants_whose_grant_is_gone(world: StudyWorld) -> None:
    """A revoked grant could only fail again every hour (a token grant and a request each
    time): the schedule leaves those participants out; a transient refresh failure does not."""
    revoked, flaky, fine = world.users
    with open_postgres_store(world.url) as store:
        grant_state.record(store.connection(), world.key(revoked), GrantState.REVOKED, "x", 0)
        grant_state.record(
            store.connection(), world.key(flaky), GrantState.REFRESH_FAILED_TRANSIENT, "x", 0
        )
    with open_app(world.url) as app:
        assert schedule_incremental(app, world.url) == 2
    with psycopg.connect(world.url, autocommit=True) as conn:
        queued = conn.execute("SELECT args->>'account_key' FROM procrastinate_jobs").fetchall()
    assert sorted(row[0] for row in queued) == sorted([world.key(flaky), world.key(fine)])


def test_jobs_of_a_participant_without_tokens_leave_no_trace(world: StudyWorld) -> None:
    """A withdrawn participant (tokens gone) or a stranger's webhook: the jobs end quietly and
    write nothing, not even an account row, so withdrawal leaves only its audit record."""
    stranger = "google-health:123456789"
    with open_app(world.url) as app:
        defer_backfill(app, stranger)
        defer_interval(app, stranger, Interval(1_795_000_000, 1_795_000_900), "UPSERT")
    work(world)
    assert [job[1] for job in world.jobs()] == ["succeeded", "succeeded"]
    with psycopg.connect(world.url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM account").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM sync_run").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM study_pending_sync").fetchone() == (0,)
