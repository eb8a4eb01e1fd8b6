"""A study as its operator runs it, for the reconnect tests: `heartkeep study init` against the
sandbox and a real PostgreSQL, the site built from that config (`api_study.study_web_app`) on
a loopback port with the real task queue behind `on_enrolled`, participants enrolled over HTTP
through links `heartkeep study invite` printed, and a study worker's pass over the queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from study_site import follow
from study_world import first_instant_s, participant
from typer.testing import CliRunner

from heartkeep import api_study
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.cli import app
from heartkeep.loopback import LoopbackServer
from heartkeep.model import Sample, TokenSet
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import open_postgres_store
from heartkeep.store.postgres import PostgresStore
from heartkeep.study import queue
from heartkeep.study.worker import run_worker

# Two participants of the sandbox, for tests that need a second Google account beside the first.
ALICE = participant(1, 4, TEST_START_S)
BOB = participant(2, 3, TEST_START_S)
A, B = ALICE.health_user_id, BOB.health_user_id


class _NoKeys:
    """The webhook's keyset: these tests send no notification."""

    def verify(self, signature_header: str | None, body: bytes) -> bool:
        return False


@dataclass
class ServedStudy:
    config: Path
    base: str
    sandbox: SandboxServer
    database_url: str
    coordinator_password: str
    browsers: list[httpx.Client] = field(default_factory=list)

    @property
    def state(self) -> Any:
        return self.sandbox.state

    def cli(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["study", *args, "--config", str(self.config)])
        return result.exit_code, result.output

    def invite(self, *args: str) -> list[dict[str, Any]]:
        code, out = self.cli("invite", *args, "--json")
        assert code == 0, out
        links: list[dict[str, Any]] = orjson.loads(out)
        return links

    def browser(self) -> httpx.Client:
        client = httpx.Client(timeout=30, headers={"Origin": self.base})
        self.browsers.append(client)
        return client

    def sign_in(
        self, url: str, user_id: str, browser: httpx.Client | None = None
    ) -> httpx.Response:
        """Open the link, accept, and sign in at the sandbox's Google as `user_id`."""
        browser = browser or self.browser()
        assert browser.get(url).status_code == 200
        self.state.login_user_id = user_id
        return follow(browser, browser.post(url, data={"decision": "accept"}))

    def enrol(self, label: str, user_id: str) -> str:
        (link,) = self.invite(label)
        assert "You are enrolled" in self.sign_in(link["url"], user_id).text
        return f"google-health:{user_id}"

    def store(self) -> PostgresStore:
        cipher = api_study.study_config(self.config).token_cipher()
        return open_postgres_store(self.database_url, token_cipher=cipher)

    def tokens(self, key: str) -> TokenSet | None:
        with self.store() as store:
            return store.load_tokens(key)

    def freeze_devices(self) -> None:
        """What the watches synced so far is all there is while a worker paces its requests."""
        for user in self.state.users:
            self.state.set_last_sync(user, self.state.now_s() - self.state.config.sync_lag_s)

    def queue_sync(self, key: str) -> None:
        """The hourly schedule's routine sync of one participant."""
        with queue.open_app(self.database_url) as queue_app:
            queue.defer_incremental(queue_app, key)

    def work(self) -> None:
        """One pass of a study worker over the queue, on the sandbox's clock, with the
        study's web client (the one participants granted)."""
        settings = api_study.study_config(self.config)
        client_id, client_secret = settings.client()
        run_worker(
            self.database_url,
            token_keys=settings.token_keys(),
            endpoints=endpoints_for("google", self.sandbox.url),
            client=ClientCredentials(client_id, client_secret),
            clock=self.state.clock,
            concurrency=1,
            wait=False,
            periodic=False,
            http_timeout_s=10.0,
        )

    def truth(self, user_id: str) -> list[Sample]:
        """Everything Google serves for the participant now."""
        spec = self.state.users[user_id]
        rows = self.state.ground_truth_samples(
            user_id, first_instant_s(spec), self.state.visible_end_s(user_id)
        )
        return [Sample(i, b, o // 60) for i, b, o in rows]

    def stored(self, key: str) -> list[Sample]:
        with self.store() as store:
            return [s for batch in store.iter_samples(key) for s in batch]

    def coordinator(self) -> httpx.Client:
        browser = self.browser()
        answer = browser.post(
            self.base + "/coordinator/login",
            data={"user": "coordinator", "password": self.coordinator_password},
        )
        assert answer.status_code == 303, answer.text
        return browser


@contextmanager
def served_study(sandbox: SandboxServer, database_url: str, home: Path) -> Iterator[ServedStudy]:
    server = LoopbackServer("127.0.0.1", 0, name="study site")
    base = f"http://127.0.0.1:{server.bind()}"
    config = home / "study" / "study.toml"
    init = ["study", "init", "--config", str(config), "--database-url", database_url]
    init += ["--sandbox-url", sandbox.url, "--public-url", base]
    result = CliRunner().invoke(app, init)
    assert result.exit_code == 0, result.output
    password = re.search(r"Coordinator login: \S+ / (\S+)", result.output)
    assert password, result.output
    sandbox.state.allow_web_redirect(base + "/enrol/callback")
    study = ServedStudy(config, base, sandbox, database_url, password.group(1))
    with queue.open_app(database_url) as queue_app:
        site = api_study.study_web_app(
            api_study.study_config(config),
            on_enrolled=lambda key: api_study.queued(queue.defer_backfill(queue_app, key)),
            on_notification=lambda _notification: None,
            keyset=_NoKeys(),
            clock=sandbox.state.clock,
        )
        server.start(site)
        try:
            yield study
        finally:
            for browser in study.browsers:
                browser.close()
            server.stop()
            site.state.close()
