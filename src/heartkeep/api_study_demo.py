"""`heartkeep study demo`: a whole study on this machine — PostgreSQL, the sandbox with N synthetic
participants, the study site, enrolment through the web, two workers, the completeness table.

Why a separate front-door module: it is the one place that wires the study to the sandbox (as
`api_sandbox.py` does for the personal demo), and it starts servers and processes; the rest of
`api_study` stays free of both.  Every piece is the real one: a PostgreSQL server (the
machine's at 127.0.0.1:5432, else a throw-away one from Debian's `initdb`), the study's own
database made for the run and dropped afterwards (unless kept), `study init`'s config with
fresh secrets, the study site over HTTP on loopback, each participant enrolled by a browser
of our own through invite → consent → OAuth → callback (`study/demo_browser.py`), which queues
the backfill, and two `heartkeep study worker` processes that drain the queue.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from heartkeep.clock import SystemClock
from heartkeep.errors import StoreError, TransientError
from heartkeep.study.config import StudyConfig, load_study_config
from heartkeep.study.status import StudyStatus

# The sandbox's quota runs this many times faster than Google's, and the workers pace to match
# (as the personal demo does): the same requests, a tenth of the waiting.
DEMO_QUOTA_SPEEDUP = 10.0
DEMO_CONSENT = (
    "This is heartkeep's demo study: nobody real takes part.\n\n"
    "Synthetic participants of the built-in sandbox are invited, consent, connect their "
    "(synthetic) Fitbit through the sandbox's Google sign-in, and their heart rate of the last "
    "days is synced into a PostgreSQL database made for this run.\n"
)
_ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "Australia/Sydney")


@dataclass(frozen=True)
class StudyDemoResult:
    """What the demo did, and the completeness table's data."""

    folder: Path
    database_url: str
    kept: bool
    participants: int
    enrol_s: float
    sync_s: float
    samples: int
    status: StudyStatus


def run_study_demo(
    *,
    participants: int = 50,
    days: int = 7,
    workers: int = 2,
    database_url: str | None = None,
    folder: Path | None = None,
    keep: bool = False,
    say: Callable[[str], None] = lambda _text: None,
) -> StudyDemoResult:
    """Run the demo; `say` hears each step.  `database_url`: an existing (empty) database to
    use instead of a new one on the local server.  `keep`: leave the database and the folder
    (config, keys) for `study status`, `study export` or `study serve` afterwards.

    Raises `StoreError` (exit 9) when no PostgreSQL can be reached or started, `TransientError`
    (exit 6) when a worker fails."""
    with _database(database_url, keep=keep, say=say) as url, _folder(folder, keep) as home:
        return _run(participants, days, workers, url, home, keep, say)


def _run(
    participants: int,
    days: int,
    workers: int,
    url: str,
    home: Path,
    keep: bool,
    say: Callable[[str], None],
) -> StudyDemoResult:
    from heartkeep.api_study import open_study_store, queued, study_status, study_web_app
    from heartkeep.loopback import LoopbackServer
    from heartkeep.sandbox.credentials import (
        GOOGLE_WEB_CLIENT_ID,
        GOOGLE_WEB_CLIENT_SECRET,
    )
    from heartkeep.study import queue
    from heartkeep.study.config_template import write_new_study
    from heartkeep.study.demo_browser import enrol_by_browser
    from heartkeep.study.invites import create_invite
    from heartkeep.study.web_context import CALLBACK_PATH

    sandbox = _sandbox(participants, days)
    site = LoopbackServer("127.0.0.1", 0, name="study site")
    base = f"http://127.0.0.1:{site.bind()}"
    with sandbox:
        say(f"sandbox with {participants} synthetic participants on {sandbox.url}")
        sandbox.state.allow_web_redirect(base + CALLBACK_PATH)
        consent = home / "consent.md"
        consent.write_text(DEMO_CONSENT)
        made = write_new_study(
            home / "study.toml",
            name="heartkeep demo study",
            database_url=url,
            public_base_url=base,
            sandbox_url=sandbox.url,
            client_id=GOOGLE_WEB_CLIENT_ID,
            client_secret=GOOGLE_WEB_CLIENT_SECRET,
            consent_file=consent,
        )
        config = load_study_config(made.config_file, env={})
        queue.apply_schema(url)
        say(f"study config {made.config_file}; schema and queue ready")
        with queue.open_app(url) as queue_app:
            app = study_web_app(
                config,
                on_enrolled=lambda key: queued(queue.defer_backfill(queue_app, key)),
                on_notification=queue.notification_handler(queue_app),
            )
            site.start(app, log_level="warning")
            try:
                started = time.monotonic()
                with open_study_store(config, token_cipher=config.token_cipher()) as store:
                    clock = SystemClock()
                    invites = [
                        create_invite(
                            store,
                            f"P-{i + 1:03d}",
                            signing_key=config.invite_signing_key,
                            public_base_url=base,
                            clock=clock,
                        )
                        for i in range(participants)
                    ]
                for invite, user in zip(invites, sandbox.state.users, strict=True):
                    enrol_by_browser(invite.url, user)
                enrol_s = time.monotonic() - started
                say(f"{participants} participants enrolled over HTTP in {enrol_s:.1f} s")
            finally:
                site.stop()
                app.state.close()
        say(f"{workers} workers syncing {days} days each…")
        started = time.monotonic()
        _run_workers(config, workers)
        sync_s = time.monotonic() - started
        with open_study_store(config, readonly=True) as store:
            samples = sum(store.sample_count(a.key) for a in store.accounts())
        status = study_status(config, days=days, stopped_days=2.0)
    return StudyDemoResult(home, url, keep, participants, enrol_s, sync_s, samples, status)


def _sandbox(participants: int, days: int):  # type: ignore[no-untyped-def]
    """The sandbox on wall time with `participants` synthetic people, each wearing a watch for
    `days` days before today, in a handful of time zones."""
    from heartkeep.sandbox.config import SandboxConfig
    from heartkeep.sandbox.physiology import UserSpec
    from heartkeep.sandbox.server import SandboxServer
    from heartkeep.sandbox.wear import WearSchedule

    today = dt.datetime.now(dt.UTC).date()
    member_since = today - dt.timedelta(days=days + 1)  # `days` whole days, and a start
    seeds: list[int] = []
    seed = 20_261_201
    while len(seeds) < participants:  # people who wore the watch at least part of every day
        wear = WearSchedule(seed, member_since)
        if not any(wear.off_wrist_day(today - dt.timedelta(days=k)) for k in range(days + 1)):
            seeds.append(seed)
        seed += 1
    users = tuple(
        UserSpec(
            health_user_id=str(4_000_000_000_000_000_000 + 7919 * (i + 1)),
            legacy_user_id=f"DEMO{i + 1:03d}",
            display_name=f"Participant {i + 1:03d}",
            time_zone=_ZONES[i % len(_ZONES)],
            member_since=member_since,
            seed=seeds[i],
        )
        for i in range(participants)
    )
    return SandboxServer(
        SandboxConfig(users=users, page_size_mode="documented", quota_speedup=DEMO_QUOTA_SPEEDUP)
    )


def _run_workers(config: StudyConfig, workers: int, *, timeout_s: float = 3600.0) -> None:
    """`workers` processes of `heartkeep study worker`, stopped (SIGTERM: running jobs finish)
    once no sync job waits or runs — retries included, which a worker's own "until idle" would
    not wait for (a retry is scheduled a few seconds ahead)."""
    import signal

    from heartkeep.study.queue import NOTIFY_TASK, SYNC_TASK

    command = [
        sys.executable, "-m", "heartkeep", "study", "worker", "--config", str(config.path),
        "--quota-speedup", str(DEMO_QUOTA_SPEEDUP),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTKEEP_STUDY_")}
    children = [
        subprocess.Popen(  # noqa: S603 - heartkeep itself, a list (no shell)
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(workers)
    ]
    deadline = time.monotonic() + timeout_s
    try:
        while _pending_jobs(config.database_url, (SYNC_TASK, NOTIFY_TASK)):
            if any(child.poll() is not None for child in children):
                break  # a worker died: reported below
            if time.monotonic() > deadline:
                raise TransientError(f"the workers did not finish within {timeout_s:.0f} s")
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        outcomes = [(child, child.communicate(timeout=120)[1]) for child in children]
    failed = [
        f"exit {child.returncode}: {errors.decode(errors='replace')[-400:].strip()}"
        for child, errors in outcomes
        if child.returncode != 0
    ]
    if failed:
        raise TransientError(f"a study worker failed ({failed[0]})")


def _pending_jobs(database_url: str, tasks: tuple[str, ...]) -> int:
    """Jobs of `tasks` waiting (now or later: retries) or running."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = ANY(%s) "
            "AND status IN ('todo', 'doing')",
            (list(tasks),),
        ).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def _database(given: str | None, *, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    """`given` (checked: reachable and holding no study yet), or a new database on the local
    server, dropped at the end unless `keep` — also when Ctrl-C lands while it is created."""
    if given:
        _check_given(given)
        yield given
        return
    import psycopg

    from heartkeep.study.local_postgres import local_server

    with local_server() as (server, why):
        if server is None:
            raise StoreError(
                f"no PostgreSQL for the demo: {why}",
                hint="Install Debian's postgresql package (apt-get install postgresql), or give "
                "--database-url of an empty database.",
            )
        if keep and not server.note.startswith("the machine's"):
            keep = False  # a throw-away server goes with the demo: nothing to keep
            say("(the throw-away server stops at the end: --keep keeps nothing)")
        name = f"heartkeep_study_demo_{uuid.uuid4().hex[:8]}"
        try:
            # Inside the `try`: Ctrl-C while the server creates it must still drop it.
            with psycopg.connect(server.url(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"'.encode())
            say(f"PostgreSQL: {server.note}, database {name}")
            yield server.url(name)
        finally:
            if not keep:
                with psycopg.connect(server.url(), autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def _check_given(url: str) -> None:
    """`--database-url` must be a PostgreSQL URL that answers and holds no study yet: the demo
    enrols P-001… and seals tokens with keys of its own, which would mix with (or trip over) a
    study already there.  `UsageError` (exit 2) naming the option, `StoreError` (exit 9)."""
    import psycopg

    from heartkeep.errors import UsageError
    from heartkeep.store import open_postgres_store
    from heartkeep.store.failures import NoDatabase
    from heartkeep.store.postgres_failures import describe

    hint = "Give an empty database (CREATE DATABASE …), or leave --database-url out: the demo "
    hint += "then makes one of its own on the local server."
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"--database-url {url!r} is not a postgresql:// URL", hint=hint)
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise UsageError(
            "--database-url is not a PostgreSQL URL libpq can read", hint=hint
        ) from None
    try:
        with open_postgres_store(url, readonly=True) as store:
            enrolled = len(store.accounts())
    except NoDatabase:
        return
    if enrolled:
        raise UsageError(
            f"--database-url: the database at {describe(url)} already holds a study "
            f"({enrolled} participants)",
            hint=hint,
        )


@contextmanager
def _folder(given: Path | None, keep: bool) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True, mode=0o700)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="heartkeep-study-demo-") as made:
        if keep:
            kept = Path(tempfile.mkdtemp(prefix="heartkeep-study-demo-"))
            yield kept
        else:
            yield Path(made)
