"""The research study's front door: config → store → the study's parts, for `heartkeep study …`.

As `api.py` is for the personal commands, this is the one place the study's parts are wired
together, so `cli/study*.py` stays a skin (parse, call one function here, render).  Nothing of
the study (psycopg, the store, Arrow, the web app) loads until a study command runs: personal
commands never import this module (tests/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartkeep.clock import Clock, SystemClock
from heartkeep.lazy_names import on_first_use

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from heartkeep.api_study_demo import StudyDemoResult
    from heartkeep.api_study_participants import invite as invite
    from heartkeep.api_study_participants import withdraw as withdraw
    from heartkeep.store.postgres import PostgresStore
    from heartkeep.store.token_cipher import TokenCipher
    from heartkeep.study.config import StudyConfig
    from heartkeep.study.config_template import NewStudy
    from heartkeep.study.doctor import StudyDoctorReport
    from heartkeep.study.export import StudyExport
    from heartkeep.study.notifications import Notification
    from heartkeep.study.status import StudyStatus
    from heartkeep.study.webhook_app import SignatureCheck


# A participant's invite and withdrawal live in api_study_participants.py (the study's front
# door by job); they are re-exported here, loaded on first use, so the CLI names one module.
_ELSEWHERE = {
    "invite": "heartkeep.api_study_participants",
    "withdraw": "heartkeep.api_study_participants",
}
__getattr__, __dir__ = on_first_use(globals(), _ELSEWHERE)


def study_config(path: Path | None = None) -> StudyConfig:
    """The study's settings (`--config`, `HEARTKEEP_STUDY_CONFIG`, or the config folder's
    study.toml, overridden by `HEARTKEEP_STUDY_*`); `ConfigError` (exit 3) if unusable."""
    from heartkeep.study.config import load_study_config

    return load_study_config(path)


def open_study_store(
    config: StudyConfig, *, readonly: bool = False, token_cipher: TokenCipher | None = None
) -> PostgresStore:
    """The study's PostgreSQL store, sealing tokens with the config's keys when they are read.

    Only a database `study init` made is opened (`require_study`): a wrong [database] url must
    not quietly get a study's tables, nor an invite that no `study serve` will ever accept."""
    from heartkeep.store import open_postgres_store
    from heartkeep.study.database_check import require_study

    require_study(config.database_url)
    return open_postgres_store(config.database_url, readonly=readonly, token_cipher=token_cipher)


def init_study(
    path: Path | None,
    *,
    name: str,
    database_url: str,
    public_base_url: str,
    sandbox_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    app_class: str = "unverified",
    consent_file: Path | None = None,
    coordinator_user: str = "coordinator",
) -> tuple[NewStudy, StudyConfig]:
    """Create the study's schema (the store's and the task queue's) in `database_url`, then
    its config (0600, fresh secrets), token keys and consent placeholder.  The database comes
    first: if it cannot be reached
    (`StoreError`, exit 9) nothing is written, and the command can simply be run again."""
    from heartkeep.study import queue
    from heartkeep.study.config import config_path, load_study_config
    from heartkeep.study.config_template import refuse_existing, write_new_study
    from heartkeep.study.database_check import apply_schema
    from heartkeep.study.init_checks import check_init_options

    if sandbox_url and not client_id:  # the sandbox's public web client (not a secret)
        from heartkeep.sandbox.credentials import GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET

        client_id, client_secret = GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET
    where = config_path(path)
    refuse_existing(where)  # said before touching the database
    check_init_options(name, database_url, public_base_url, sandbox_url, consent_file)
    apply_schema(queue.apply_schema, database_url)
    created = write_new_study(
        where,
        name=name,
        database_url=database_url,
        public_base_url=public_base_url,
        sandbox_url=sandbox_url,
        client_id=client_id,
        client_secret=client_secret,
        app_class=app_class,
        consent_file=consent_file,
        coordinator_user=coordinator_user,
    )
    return created, load_study_config(where)


def study_status(
    config: StudyConfig, *, days: int = 7, stopped_days: float = 2.0, clock: Clock | None = None
) -> StudyStatus:
    """Every participant's last sync, completeness, stopped series and revoked grants."""
    from heartkeep.study.status import study_status as status

    now_s = (clock or SystemClock()).now_s()
    with open_study_store(config, readonly=True) as store:
        return status(store, now_s=now_s, days=days, stopped_days=stopped_days)


def export_study(
    config: StudyConfig,
    destination: Path,
    *,
    participants: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> StudyExport:
    """The study's samples as a Parquet dataset partitioned by participant and month."""
    from heartkeep.study.export import export_study as export

    with open_study_store(config, readonly=True) as store:
        return export(store, destination, participants=participants, progress=progress)


def study_doctor(config: StudyConfig) -> StudyDoctorReport:
    """The study's checks (config, OAuth app class, database, keys); exit 0, 11 or 12."""
    from heartkeep.study.doctor import study_doctor as doctor

    return doctor(config, lambda cipher: open_study_store(config, token_cipher=cipher))


def study_web_app(
    config: StudyConfig,
    *,
    on_enrolled: Callable[[str], None],
    on_notification: Callable[[Notification], None],
    keyset: SignatureCheck | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The study's web site (enrolment, coordinator pages) with the webhook endpoint mounted.

    `keyset`: the webhook signatures' public keys (default: fetched from Google, or from the
    sandbox when the config names one, and fetched again when Google rotates its key)."""
    from heartkeep import http_client
    from heartkeep.auth.client_secrets import ClientCredentials
    from heartkeep.errors import TransientError
    from heartkeep.study.coordinator_auth import CoordinatorLogin
    from heartkeep.study.keyset import GOOGLE_KEYSET_URL, KeysetError
    from heartkeep.study.keyset_refresh import RefreshingKeyset, fetch_keyset_from
    from heartkeep.study.web import study_app
    from heartkeep.study.webhook_app import webhook_app

    if keyset is None:
        url = GOOGLE_KEYSET_URL
        if config.sandbox_url:
            url = config.sandbox_url.rstrip("/") + "/" + GOOGLE_KEYSET_URL.split("/", 3)[3]
        try:
            keyset = RefreshingKeyset(fetch_keyset_from(url))
        except (KeysetError, http_client.HTTPError) as failure:
            raise TransientError(
                f"cannot fetch the webhook signatures' public keyset from {url}: {failure}",
                hint="Check this host's outbound HTTPS (or [provider] sandbox_url).",
            ) from failure
    client_id, client_secret = config.client()
    return study_app(
        store_url=config.database_url,
        public_base_url=config.public_base_url,
        signing_key=config.invite_signing_key,
        consent_text=config.consent_text(),
        google_client=ClientCredentials(client_id, client_secret, source=str(config.path)),
        coordinator=CoordinatorLogin(config.coordinator_user, config.coordinator_password_hash),
        endpoints=config.endpoints(),
        token_cipher=config.token_cipher(),
        study_title=config.name,
        webhook=webhook_app(
            authorization=config.webhook_authorization,
            keyset=keyset,
            on_notification=on_notification,
        ),
        on_enrolled=on_enrolled,
        clock=clock,
    )


def serve_study(config: StudyConfig, *, on_started: Callable[[str], None]) -> None:
    """Serve the study site and the webhook endpoint on `[web] listen_host:listen_port` until
    the server stops (Ctrl-C; the caller turns SIGTERM into it); `on_started(url)` once
    requests are accepted.  Enrolments queue backfills, notifications queue syncs.

    Raises `UsageError` (exit 2) when the port is taken, `TransientError` (exit 6) when the
    webhook keyset cannot be fetched, `StoreError` (exit 9) for the database."""
    import errno

    from heartkeep.errors import UsageError
    from heartkeep.loopback import LoopbackServer
    from heartkeep.study import queue
    from heartkeep.study.database_check import apply_schema, require_study

    require_study(config.database_url)  # never a study's tables in a wrong database
    apply_schema(queue.apply_schema, config.database_url)  # upgrades an older study's
    server = LoopbackServer(config.listen_host, config.listen_port, name="study site")
    try:
        server.bind(reuse_address=True)
    except OSError as failure:
        if failure.errno == errno.EADDRINUSE:
            hint = (
                "Another program uses that port: set [web] listen_port (or "
                "HEARTKEEP_STUDY_LISTEN_PORT) to a free one."
            )
        elif failure.errno in (errno.EACCES, errno.EPERM):
            hint = (
                "Ports below 1024 need root: listen on a higher [web] listen_port behind "
                "your HTTPS proxy."
            )
        else:
            hint = (
                "Set [web] listen_host (or HEARTKEEP_STUDY_LISTEN_HOST) to an address of this "
                "machine: 127.0.0.1 behind a proxy on the same host, 0.0.0.0 for all."
            )
        raise UsageError(
            f"cannot listen on {config.listen_host}:{config.listen_port}: "
            f"{failure.strerror or failure}",
            hint=hint,
        ) from failure
    with queue.open_app(config.database_url) as queue_app:
        app = study_web_app(
            config,
            on_enrolled=lambda key: queued(queue.defer_backfill(queue_app, key)),
            on_notification=queue.notification_handler(queue_app),
        )
        try:
            server.start(app, log_level="warning")
            on_started(f"http://{config.listen_host}:{server.port}")
            server.wait()
        finally:
            server.stop()
            app.state.close()


def queued(job: int | None) -> None:
    """`defer_backfill` answers None when a sync of the participant already waits (that one
    does the backfill): queued either way."""
    del job


def run_study_worker(
    config: StudyConfig,
    *,
    concurrency: int | None = None,
    until_idle: bool = False,
    quota_speedup: float = 1.0,
    name: str = "heartkeep",
) -> None:
    """A worker of the study's task queue until SIGTERM/SIGINT (running jobs finish), or with
    `until_idle` until the queues are empty.  `quota_speedup` > 1 only against the sandbox
    (whose quota clock runs that much faster)."""
    from heartkeep.auth.client_secrets import ClientCredentials
    from heartkeep.errors import UsageError
    from heartkeep.study.database_check import first_line, require_keys_open, require_study
    from heartkeep.study.worker import run_worker

    if quota_speedup != 1.0 and not config.sandbox_url:
        raise UsageError("--quota-speedup is for the sandbox only: Google's quota is real")
    client_id, client_secret = config.client()
    cipher = config.token_cipher()  # the keys, checked before the database is
    require_study(config.database_url)  # else the queue's pool would retry it forever
    with open_study_store(config, readonly=True, token_cipher=cipher) as store:
        require_keys_open(store)  # else every job fails, quietly, six times
    from procrastinate.exceptions import ConnectorException

    from heartkeep.errors import StoreError
    from heartkeep.store.postgres_failures import describe

    try:
        run_worker(
            config.database_url,
            token_keys=config.token_keys(),
            endpoints=config.endpoints(),
            client=ClientCredentials(client_id, client_secret, source=str(config.path)),
            concurrency=concurrency or config.worker_concurrency,
            app_class=config.app_class,
            quota_speedup=quota_speedup,
            wait=not until_idle,
            name=name,
        )
    except ConnectorException as failure:  # the database went away under the worker
        cause = failure.__cause__ or failure
        raise StoreError(
            f"the task queue's database at {describe(config.database_url)} failed: "
            f"{first_line(cause)}",
            hint="Jobs the worker was running are picked up again by any worker; start this "
            "one again once the database answers.",
        ) from failure


def study_demo(**options: Any) -> StudyDemoResult:
    """`heartkeep study demo` (see `api_study_demo.run_study_demo`)."""
    from heartkeep.api_study_demo import run_study_demo

    return run_study_demo(**options)
