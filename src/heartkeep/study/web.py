"""The study's web site, as one Starlette app that `heartkeep study serve` runs.

    /enrol/{invite token}      consent page; accept → Google; decline → recorded
    /enrol/callback            Google's redirect back: tokens sealed into the store, backfill queued
    /coordinator/…             login, participants and wear-time heatmap, sync history,
                               withdrawal, audit trail
    /webhooks/google-health    the webhook endpoint (`webhook_app`), when one is given
    /static/study.css          the only stylesheet; no page has a script

Everything is passed in (no configuration is read here), so the CLI, the demo and the tests
build the same app.  Behind an HTTPS proxy, give the public `https://` base URL: the Host
check, the OAuth redirect URI, absolute links and `Secure` cookies all follow it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import GOOGLE_HEALTH, ProviderEndpoints, endpoints_for
from heartkeep.clock import Clock, SystemClock
from heartkeep.errors import StoreError
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.coordinator import Coordinator
from heartkeep.study.coordinator_auth import CoordinatorLogin
from heartkeep.study.coordinator_sessions import Sessions
from heartkeep.study.enrolment import Enrolment
from heartkeep.study.web_context import StorePool, StudySite
from heartkeep.study.web_pages import CSS_PATH, esc, page, stylesheet
from heartkeep.study.web_security import SiteGuard, content_security_policy
from heartkeep.study.web_signing import Signer

_log = logging.getLogger(__name__)


class QueueBackfill:
    """The default `on_enrolled`: the task queue's `defer_backfill` on the study's database.

    The queue's app opens on the first enrolment (a site that only shows pages never opens
    it).  If deferring fails (the queue's schema is missing: `study init` creates it), the
    enrolment stands, its row keeps no `backfill_queued_s`, and the coordinator pages flag
    the participant ("backfill not queued")."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._app: Any = None
        self._lock = threading.Lock()

    def __call__(self, account_key: str) -> None:
        from heartkeep.study.queue import defer_backfill, open_app

        with self._lock:
            if self._app is None:
                self._app = open_app(self._url)
            app = self._app
        defer_backfill(app, account_key)

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None


def study_app(
    *,
    store_url: str,
    public_base_url: str,
    signing_key: str,
    consent_text: str,
    google_client: ClientCredentials,
    coordinator: CoordinatorLogin,
    endpoints: ProviderEndpoints | None = None,
    token_cipher: TokenCipher | None = None,
    study_title: str = "Heart-rate study",
    webhook: Starlette | None = None,
    on_enrolled: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    extra_hosts: Iterable[str] = (),
    http_timeout_s: float = 30.0,
) -> Starlette:
    """The study site.

    `store_url`: the study's PostgreSQL (`postgresql://…`); the enrolment and audit tables are
    created there on first use.  `public_base_url`: where participants reach the site
    (`https://study.example.org`; the redirect URI `BASE/enrol/callback` must be registered on
    the Google *Web application* client).  `signing_key`: signs invite links, OAuth states and
    coordinator sessions (`web_signing.new_signing_key()`; the same key `study invite` uses).
    `consent_text`: plain text, paragraphs separated by blank lines (shown escaped).
    `google_client`: the web client's id and secret.  `coordinator`: user and scrypt hash.
    `endpoints`: the provider's OAuth and API URLs (default Google's; a sandbox's with
    `endpoints_for("google", sandbox_url)`).  `token_cipher`: seals participants' tokens
    (default: `HEARTKEEP_STUDY_TOKEN_KEYS`).  `webhook`: the `webhook_app` to serve beside the
    pages.  `on_enrolled(account_key)`: queues the backfill (default: `QueueBackfill`, the task
    queue on `store_url`).
    `extra_hosts`: more Host names to answer for (the base URL's host always is).

    Raises `StoreError` when the database cannot be reached, `ValueError` for a malformed base
    URL or a signing key shorter than 16 bytes.
    """
    endpoints = endpoints or endpoints_for(GOOGLE_HEALTH)
    stores = StorePool(store_url, token_cipher)
    queue = QueueBackfill(store_url) if on_enrolled is None else None
    site = StudySite(
        stores=stores,
        signer=Signer(signing_key),
        clock=clock or SystemClock(),
        public_base_url=public_base_url,
        study_title=study_title,
        consent_text=consent_text,
        client=google_client,
        endpoints=endpoints,
        on_enrolled=on_enrolled or queue or (lambda _key: None),
        http_timeout_s=http_timeout_s,
    )
    site.hosts = site.hosts | {host.lower() for host in extra_hosts}
    with stores.store() as store:
        tables.ensure_tables(tables.connection(store))
        # A changed password or user name (the configuration) ends every session started before.
        Sessions(site.signer, coordinator).end_stale(tables.connection(store), site.clock.now_s())

    def home(_request: Request) -> Response:
        body = (
            f"<p class=study>{esc(study_title)}</p><h1>Study enrolment</h1><p>To take part, "
            "open the personal invitation link the study team sent you.</p>"
        )
        return page(study_title, body)

    def no_icon(_request: Request) -> Response:
        return Response(status_code=204)  # browsers ask; a 404 would be noise in their console

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/favicon.ico", no_icon, methods=["GET"]),
        Route(CSS_PATH, stylesheet, methods=["GET"]),
        *Enrolment(site).routes(),
        *Coordinator(site, coordinator).routes(),
    ]
    if webhook is not None:
        routes.append(Mount("", app=webhook))
    auth_origin = urlsplit(endpoints.auth_uri)
    csp = content_security_policy([f"{auth_origin.scheme}://{auth_origin.netloc}"])

    def unavailable(_request: Request, failure: Exception) -> Response:
        """The database (or another service) failed under a page: a page that says so, 503,
        instead of a bare 500 — nothing was half-done (each page's writes are one
        transaction), and the visitor can simply try again."""
        _log.warning("a page failed: %s: %s", type(failure).__name__, failure)
        body = (
            f"<p class=study>{esc(study_title)}</p><h1>Temporarily unavailable</h1><p>The "
            "study's site cannot reach its database just now. Nothing was changed. Please try "
            "again in a few minutes.</p>"
        )
        return page(study_title, body, status=503, headers={"Retry-After": "60"})

    app = Starlette(
        routes=routes,
        middleware=[Middleware(SiteGuard, hosts=site.hosts, csp=csp, secure=site.secure)],
        exception_handlers={StoreError: unavailable, psycopg.Error: unavailable},
    )
    app.state.site = site

    def close() -> None:
        site.close()
        if queue is not None:
            queue.close()

    app.state.close = close
    return app
