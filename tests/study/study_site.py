"""A study site on loopback for the web tests: the real app over real HTTP, with a real
PostgreSQL and the sandbox's OAuth server, and a participant's browser (httpx with cookies)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.loopback import LoopbackServer
from heartkeep.sandbox.credentials import (
    GOOGLE_WEB_CLIENT_ID,
    GOOGLE_WEB_CLIENT_SECRET,
)
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import open_postgres_store
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.token_cipher import TokenCipher, new_key
from heartkeep.study.coordinator_auth import CoordinatorLogin, hash_password
from heartkeep.study.invites import Invite, create_invite
from heartkeep.study.web import study_app
from heartkeep.study.web_signing import new_signing_key

CONSENT = (
    "You are invited to take part in the Heart Study.\n\n"
    "We will collect your heart rate for six months. <script>alert('x')</script> & more."
)
COORDINATOR_USER = "alice"
COORDINATOR_PASSWORD = "correct horse battery staple"
# A cheap scrypt cost for tests (the default, 2**14, costs ~50 ms per check).
PASSWORD_HASH = hash_password(COORDINATOR_PASSWORD, n=2**10)


@dataclass
class StudySite:
    base: str
    sandbox: SandboxServer
    store_url: str
    cipher: TokenCipher
    signing_key: str
    token_key: str
    enrolled: list[str] = field(default_factory=list)
    browsers: list[httpx.Client] = field(default_factory=list)

    @property
    def clock(self) -> Any:
        return self.sandbox.state.clock

    def store(self) -> PostgresStore:
        return open_postgres_store(self.store_url, token_cipher=self.cipher)

    def invite(self, label: str, **kwargs: Any) -> Invite:
        with self.store() as store:
            return create_invite(
                store,
                label,
                signing_key=self.signing_key,
                public_base_url=self.base,
                clock=self.clock,
                **kwargs,
            )

    def browser(self) -> httpx.Client:
        """A participant's (or coordinator's) browser: keeps cookies, follows nothing itself,
        sends the Origin a browser sends with a form."""
        client = httpx.Client(timeout=30, headers={"Origin": self.base})
        self.browsers.append(client)
        return client


@contextmanager
def study_site(
    sandbox: SandboxServer,
    store_url: str,
    *,
    signing_key: str | None = None,
    password_hash: str = PASSWORD_HASH,
    coordinator_user: str = COORDINATOR_USER,
    **app_options: Any,
) -> Iterator[StudySite]:
    """The site on a free loopback port; `signing_key`, `password_hash` and `coordinator_user`
    let a test restart "the same" study with a changed configuration."""
    server = LoopbackServer("127.0.0.1", 0, name="study site")
    port = server.bind()
    base = f"http://127.0.0.1:{port}"
    sandbox.state.allow_web_redirect(base + "/enrol/callback")
    token_key = new_key()
    cipher = TokenCipher.from_environment({"HEARTKEEP_STUDY_TOKEN_KEYS": token_key})
    site = StudySite(base, sandbox, store_url, cipher, signing_key or new_signing_key(), token_key)
    app_options.setdefault("on_enrolled", site.enrolled.append)
    app = study_app(
        store_url=store_url,
        public_base_url=base,
        signing_key=site.signing_key,
        consent_text=CONSENT,
        google_client=ClientCredentials(GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET),
        coordinator=CoordinatorLogin(coordinator_user, password_hash),
        endpoints=endpoints_for("google", sandbox.url),
        token_cipher=cipher,
        study_title="Heart Study",
        clock=sandbox.state.clock,
        **app_options,
    )
    server.start(app)
    try:
        yield site
    finally:
        for browser in site.browsers:
            browser.close()
        server.stop()
        app.state.close()


def follow(browser: httpx.Client, response: httpx.Response, hops: int = 5) -> httpx.Response:
    """Follow redirects across the study site and the sandbox as a browser does."""
    for _ in range(hops):
        if response.status_code not in (302, 303):
            return response
        response = browser.get(response.headers["location"])
    return response


def consent_form_id(page: str) -> str:
    found = re.search(r'name="consent_id" value="([^"]+)"', page)
    assert found, page
    return found.group(1)
