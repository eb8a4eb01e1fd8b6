"""A study's backfill through the task queue: N participants × D days with 1, 2 and 4 workers.

What issue 13 asks to see, on this machine: participants per minute and samples per second into
PostgreSQL for each number of worker processes (and how close to linear), requests per
participant against the floor (ceil(samples / page size) per participant, the heart-rate pages
alone), bytes per sample in PostgreSQL including indexes, and the sandbox's quota refusals
(429: per user and per project), which must be zero.

Set-up per run: a fresh schema in the study database (`apply_schema`), the sandbox on loopback
with N synthetic participants (wall clock, devices frozen, so the data stands still), a grant
per participant sealed into the store (an expired access token: every participant's first
request refreshes through the shared grant bucket), a backfill job per participant, then W
worker processes (`run_worker`, `--concurrency` slots each) until every job has finished.

The sandbox's quotas run `--speedup` times faster than Google's (`quota_speedup`, on both
sides), so that per-participant pacing (2.5 requests/s unverified) does not make the run last
N × D / 5 minutes: what is measured is heartkeep's and PostgreSQL's throughput, and the sandbox's
(one process: it serves every page, and with several workers it is what limits the run).
CPU seconds are printed for the sandbox (this process's threads but the main one), the workers
(its children) and the whole machine (/proc/stat: PostgreSQL and everyone else's jobs too)
against what the cores offered in the run's wall time, to say what limited it.

A second table gives each component's CPU per sample stored, in µs: the sandbox, the workers,
PostgreSQL's backends serving the workers (their connections carry an `application_name` of
the run; /proc/PID/stat read every poll, so a backend's last fraction of a poll interval before
its connection closed is missed: a lower bound), PostgreSQL's background processes (WAL writer,
checkpointer, background writer, autovacuum: shared with any other database user), and the rest
of the machine (busy CPU minus all of those: other jobs, the kernel, and the backends' missed
ends).  From them, the throughput each part allows: all cores over the total, one core over
the sandbox's (one process), W cores over the workers' — what to extrapolate from, rather than
the wall clock of a shared machine.
`--project-per-minute` lowers the project's limit on both sides to show it is never exceeded.

Prints figures; asserts nothing.  Usage:

    python bench/bench_study.py [--participants 50] [--days 7] [--workers 1,2,4]
        [--concurrency 6] [--speedup 1000] [--project-per-minute 120000] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from heartkeep.auth.endpoints import endpoints_for
from heartkeep.model import TokenSet
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import KEYS_VARIABLE, TokenCipher, new_key
from heartkeep.study.queue import apply_schema, defer_backfill, open_app

PAGE = 5_000  # the page the sandbox serves when 10,000 are asked (observed mode), as live

WORKER = """
import sys
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from heartkeep.study.project_quota import grant_limits, project_limits
from heartkeep.study.worker import run_worker

url, sandbox, key, concurrency, speedup, per_minute, name = sys.argv[1:8]
speedup = float(speedup)
run_worker(
    url,
    token_keys=[key],
    endpoints=endpoints_for("google", sandbox),
    client=ClientCredentials(GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, source="sandbox"),
    concurrency=int(concurrency),
    quota_speedup=speedup,
    limits=(*project_limits(per_minute=int(per_minute), speedup=speedup),
            *grant_limits(speedup=speedup)),
    periodic=False,
    name=name,
)
"""


def participants(count: int, days: int, today: dt.date) -> tuple[UserSpec, ...]:
    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
    return tuple(
        UserSpec(
            health_user_id=f"{800000000000000000 + n}",
            legacy_user_id=f"B{n:06d}",
            display_name=f"Participant {n}",
            time_zone=zones[n % len(zones)],
            member_since=today - dt.timedelta(days=days),
            seed=5_000 + n,
        )
        for n in range(count)
    )


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    schema = f"bench_study_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"'.encode())
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def enrol(sandbox: SandboxServer, url: str, key: str) -> None:
    cipher = TokenCipher.from_environment({KEYS_VARIABLE: key})
    state = sandbox.state
    now = state.clock.now_s()
    scopes = endpoints_for("google", sandbox.url).scopes
    with open_postgres_store(url, token_cipher=cipher) as store:
        for user in sorted(state.users):
            with state.lock:
                issued = state.grants.issue_direct(GOOGLE_CLIENT_ID, user, scopes, now - 7_200)
            store.save_tokens(
                f"google-health:{user}",
                TokenSet(
                    access_token=issued["access_token"],
                    refresh_token=issued["refresh_token"],
                    expires_at_s=now - 3_600,
                    scopes=scopes,
                    obtained_at_s=now - 7_200,
                    user_id=user,
                ),
            )


def job_counts(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status"
    ).fetchall()
    return {str(status): int(count) for status, count in rows}


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a live process (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PostgresCpu:
    """CPU of PostgreSQL's processes during a run, sampled at every `poll`: the backends whose
    connections carry `tag` as `application_name` (the workers'), and the server's background
    processes (as deltas from the first poll)."""

    BACKGROUND = (
        "walwriter",
        "checkpointer",
        "background writer",
        "autovacuum launcher",
        "autovacuum worker",
    )

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.backends: dict[int, float] = {}
        self.background: dict[int, tuple[float, float]] = {}  # pid: (first seen, last seen)

    def poll(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        rows = conn.execute(
            "SELECT pid, application_name = %s, backend_type FROM pg_stat_activity "
            "WHERE application_name = %s OR backend_type = ANY(%s)",
            (self.tag, self.tag, list(self.BACKGROUND)),
        ).fetchall()
        for pid, ours, kind in rows:
            used = process_cpu_s(int(pid))
            if used is None:
                continue
            if ours:
                self.backends[int(pid)] = max(self.backends.get(int(pid), 0.0), used)
            else:
                # A worker that appears mid-run started from zero; the others from their start.
                start = 0.0 if kind == "autovacuum worker" else used
                first, _ = self.background.get(int(pid), (start, 0.0))
                self.background[int(pid)] = (first, used)

    def backends_s(self) -> float:
        return sum(self.backends.values())

    def background_s(self) -> float:
        return sum(last - first for first, last in self.background.values())


def storage(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        (samples,) = conn.execute("SELECT count(*) FROM heart_rate").fetchone() or (0,)

        def size(pattern: str) -> int:
            (total,) = conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
                "AND c.relname LIKE %s",
                (pattern,),
            ).fetchone() or (0,)
            return int(total)

        hours = size("hr_hour%")
        minutes = size("hr_minute%")
        everything = size("%")
        per_account = conn.execute(
            "SELECT account_id, count(*) FROM heart_rate GROUP BY account_id"
        ).fetchall()
    floor = sum(math.ceil(int(n) / PAGE) for _, n in per_account)
    return {
        "samples": int(samples),
        "hours": hours,
        "minutes": minutes,
        "everything": everything,
        "floor": floor,
    }


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every process: ours, PostgreSQL's, others')."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def one_run(args: argparse.Namespace, workers: int) -> dict[str, float]:
    today = dt.datetime.now(dt.UTC).date()
    specs = participants(args.participants, args.days, today)
    config = SandboxConfig(
        users=specs,
        quota_speedup=args.speedup,
        per_project_per_minute=args.project_per_minute,
    )
    key = new_key()
    with SandboxServer(config) as sandbox, fresh_schema(args.url) as url:
        state = sandbox.state
        for user in state.users:  # the devices stand still: the data to fetch is fixed
            state.set_last_sync(user, state.now_s() - config.sync_lag_s)
        apply_schema(url)
        enrol(sandbox, url, key)
        with open_app(url) as app:
            for user in sorted(state.users):
                defer_backfill(app, f"google-health:{user}")
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        tag = f"hk-bench-{uuid.uuid4().hex[:8]}"
        worker_url = f"{url}&application_name={tag}"
        monitor = psycopg.connect(url, autocommit=True)
        postgres = PostgresCpu(tag)
        postgres.poll(monitor)
        started = time.perf_counter()
        busy, ours, theirs, main = (
            machine_busy_s(),
            cpu_s(resource.RUSAGE_SELF),
            cpu_s(resource.RUSAGE_CHILDREN),
            time.thread_time(),
        )
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    worker_url,
                    sandbox.url,
                    key,
                    str(args.concurrency),
                    str(args.speedup),
                    str(args.project_per_minute),
                    f"bench-{n}",
                ],
                env=env,
                stderr=subprocess.DEVNULL,
            )
            for n in range(workers)
        ]
        try:
            while True:
                postgres.poll(monitor)
                counts = job_counts(monitor)
                if not counts.get("todo") and not counts.get("doing"):
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        postgres.poll(monitor)
        monitor.close()
        busy = machine_busy_s() - busy
        main = time.thread_time() - main  # this loop's polling, not the sandbox's work
        sandbox_cpu = cpu_s(resource.RUSAGE_SELF) - ours - main  # the sandbox's threads
        workers_cpu = cpu_s(resource.RUSAGE_CHILDREN) - theirs
        statuses = [record.status for record in state.request_log]
        sizes = storage(url)
    api_requests = sum(1 for record in state.request_log if record.path.startswith("/v4/"))
    return {
        "workers": workers,
        "seconds": elapsed,
        "succeeded": counts.get("succeeded", 0),
        "failed": counts.get("failed", 0),
        "samples": sizes["samples"],
        "requests": api_requests,
        "token_requests": len(statuses) - api_requests,
        "floor": sizes["floor"],
        "refused": statuses.count(429),
        "bytes_hours": sizes["hours"],
        "bytes_minutes": sizes["minutes"],
        "bytes_all": sizes["everything"],
        "cpu_sandbox": sandbox_cpu,
        "cpu_workers": workers_cpu,
        "cpu_machine": busy,
        "cpu_bench": main,
        "cpu_pg": postgres.backends_s(),
        "cpu_pg_background": postgres.background_s(),
    }


def cpu_table(runs: list[dict[str, float]]) -> None:
    """Each component's CPU per stored sample, and the throughput each part allows."""
    cores = os.cpu_count() or 1
    print(
        f"\nCPU µs per sample stored ({cores} cores; PostgreSQL backends a lower bound, see the "
        "module's docstring)"
    )
    print(
        f"{'workers':>7} {'sandbox':>8} {'workers':>8} {'PG':>8} {'PG bg':>8} {'rest':>8} "
        f"{'total':>8}   samples/s allowed by: {'all cores':>10} {'sandbox':>10} {'workers':>10}"
    )
    for run in runs:
        samples = max(run["samples"], 1)
        parts = [run["cpu_sandbox"], run["cpu_workers"], run["cpu_pg"], run["cpu_pg_background"]]
        rest = run["cpu_machine"] - sum(parts) - run["cpu_bench"]
        micro = [1e6 * part / samples for part in [*parts, rest]]
        ours = sum(micro[:4])  # the rest is not the study's (other jobs), bar the backends' ends
        print(
            f"{run['workers']:>7.0f} "
            + " ".join(f"{value:>8.2f}" for value in micro)
            + f" {ours:>8.2f}   {'':>21} {cores * 1e6 / ours:>10,.0f} "
            f"{1e6 / micro[0]:>10,.0f} {run['workers'] * 1e6 / micro[1]:>10,.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--speedup", type=float, default=1000.0)
    parser.add_argument("--project-per-minute", type=int, default=120_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with open("/proc/loadavg") as loadavg:
        print(f"load average at start: {loadavg.read().split()[:3]}")
    print(
        f"{args.participants} participants x {args.days} days, {args.concurrency} slots per "
        f"worker, quotas x{args.speedup:g}, project limit {args.project_per_minute}/min"
    )
    header = (
        f"{'workers':>7} {'seconds':>8} {'part/min':>9} {'samples/s':>10} {'vs 1':>5} "
        f"{'req/part':>8} {'floor':>6} {'x floor':>7} {'B/sample':>8} {'+min':>6} "
        f"{'all':>6} {'429s':>5} {'failed':>6}   CPU s: {'sandbox':>7} {'workers':>7} "
        f"{'machine':>7} of {'avail':>5}"
    )
    print(header)
    base = None
    runs = []
    for workers in [int(w) for w in args.workers.split(",")]:
        run = one_run(args, workers)
        runs.append(run)
        rate = run["samples"] / run["seconds"]
        base = base or rate
        part = args.participants
        print(
            f"{workers:>7} {run['seconds']:>8.1f} {part / run['seconds'] * 60:>9.1f} "
            f"{rate:>10,.0f} {rate / base:>5.2f} {run['requests'] / part:>8.1f} "
            f"{run['floor'] / part:>6.1f} {run['requests'] / max(run['floor'], 1):>7.2f} "
            f"{run['bytes_hours'] / run['samples']:>8.2f} "
            f"{(run['bytes_hours'] + run['bytes_minutes']) / run['samples']:>6.2f} "
            f"{run['bytes_all'] / run['samples']:>6.2f} {run['refused']:>5} "
            f"{run['failed']:>6}          {run['cpu_sandbox']:>7.1f} {run['cpu_workers']:>7.1f} "
            f"{run['cpu_machine']:>7.1f}    {run['seconds'] * (os.cpu_count() or 1):>5.0f}",
            flush=True,
        )
    cpu_table(runs)
    with open("/proc/loadavg") as loadavg:
        print(f"load average at end: {loadavg.read().split()[:3]}")


if __name__ == "__main__":
    main()
