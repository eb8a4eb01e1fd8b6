"""The coordinator's routes, all behind the login (`coordinator_auth.py`).

A request without a valid session is sent to the login page (303), never shown data.  Every
POST but the login's must carry the session's CSRF token and, when the browser sends one, an
Origin equal to the site's; the login POST checks the Origin.  Wrong passwords get the same
answer as unknown users, and after `MAX_FAILURES` failures from one client address within
`FAILURE_WINDOW_S`, that address is refused for the rest of the window (a slow guesser is
still slowed by scrypt).  Per address, so a stranger's failures do not lock the coordinator
out; behind a reverse proxy every request comes from the proxy's address, and the limit is
then the site's as a whole (the proxy's own rate limits are the place for finer ones).
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from collections import deque
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from heartkeep.errors import HeartkeepError, NoAccounts, TransientError
from heartkeep.store.protocol import SyncRun
from heartkeep.study import coordinator_pages as pages
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.coordinator_auth import COOKIE, CoordinatorLogin
from heartkeep.study.coordinator_data import ParticipantStatus, one_participant, overview
from heartkeep.study.coordinator_sessions import Session, Sessions
from heartkeep.study.web_context import StudySite
from heartkeep.study.withdrawal import withdraw

BASE = pages.BASE
MAX_FAILURES = 10
FAILURE_WINDOW_S = 900


def _number(request: Request, name: str, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(request.query_params.get(name, str(default)))))
    except ValueError:
        return default


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


class Coordinator:
    """The coordinator routes, bound to one `StudySite` and one login."""

    def __init__(self, site: StudySite, login: CoordinatorLogin) -> None:
        self.site = site
        self.login_ = login
        self.sessions = Sessions(site.signer, login)
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [
            Route(BASE, self.to_overview, methods=["GET"]),
            Route(BASE + "/login", self.login, methods=["GET", "POST"]),
            Route(BASE + "/logout", self.logout, methods=["POST"]),
            Route(BASE + "/", self.overview, methods=["GET"]),
            Route(BASE + "/audit", self.audit, methods=["GET"]),
            Route(BASE + "/participants/{label}", self.participant, methods=["GET"]),
            Route(BASE + "/participants/{label}/withdraw", self.withdraw, methods=["POST"]),
        ]

    # --- helpers -----------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.site.url("")

    def _read_session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        with self.site.stores.store() as store:
            return self.sessions.read(store.connection(), cookie, self.site.clock.now_s())

    async def _session(self, request: Request) -> Session | None:
        """The request's session, from the database (a logged-out or expired one is None)."""
        return await run_in_threadpool(self._read_session, request.cookies.get(COOKIE))

    def _start_session(self, now_s: float) -> str:
        with self.site.stores.store() as store:
            return self.sessions.start(store.connection(), self.login_.user, now_s)

    def _end_session(self, cookie: str | None) -> None:
        with self.site.stores.store() as store:
            self.sessions.end(store.connection(), cookie)

    def _to_login(self) -> Response:
        return RedirectResponse(self.site.url(BASE + "/login"), status_code=303)

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() == self.site.origin
        return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"

    def _post_allowed(self, request: Request, form: dict[str, str], session: Session) -> bool:
        return self._same_origin(request) and hmac.compare_digest(
            form.get("csrf", "").encode(), session.csrf.encode()
        )

    def _refused(self, session: Session) -> Response:
        return pages.message(
            self.site.study_title,
            "Request refused",
            "The form was stale or came from another site. Reload the page and try again.",
            prefix=self.prefix,
            user=session.user,
            csrf=session.csrf,
            status=403,
        )

    # --- login -------------------------------------------------------------------------------

    async def to_overview(self, _request: Request) -> Response:
        return RedirectResponse(self.site.url(BASE + "/"), status_code=303)

    async def login(self, request: Request) -> Response:
        site = self.site
        action = site.url(BASE + "/login")
        if request.method == "GET":
            return pages.login(site.study_title, action)
        form = await _form(request)
        if not self._same_origin(request):
            return pages.login(site.study_title, action, problem="Refused.", status=403)
        now_s = site.clock.now_s()
        address = request.client.host if request.client else ""
        with self._lock:
            for known in list(self._failures):  # forget windows that have passed
                times = self._failures[known]
                while times and times[0] < now_s - FAILURE_WINDOW_S:
                    times.popleft()
                if not times:
                    del self._failures[known]
            locked = len(self._failures.get(address, ())) >= MAX_FAILURES
        if locked:
            return pages.login(
                site.study_title,
                action,
                problem="Too many failed logins: wait a quarter of an hour, then try again.",
                status=429,
            )
        good = await run_in_threadpool(
            self.login_.check, form.get("user", ""), form.get("password", "")
        )
        if not good:
            with self._lock:
                self._failures.setdefault(address, deque()).append(now_s)
            return pages.login(
                site.study_title, action, problem="Wrong user name or password.", status=401
            )
        response = RedirectResponse(site.url(BASE + "/"), status_code=303)
        response.set_cookie(
            COOKIE,
            await run_in_threadpool(self._start_session, now_s),
            max_age=self.sessions.lifetime_s,
            path=site.url(BASE) or "/",
            secure=site.secure,
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return self._to_login()
        if not self._post_allowed(request, await _form(request), session):
            return self._refused(session)
        await run_in_threadpool(self._end_session, request.cookies.get(COOKIE))
        response = self._to_login()
        response.delete_cookie(COOKIE, path=self.site.url(BASE) or "/")
        return response

    # --- pages -------------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return self._to_login()
        days = _number(request, "days", 14, 1, 62)
        page = _number(request, "page", 1, 1, 1_000_000)

        def read() -> Response:
            with self.site.stores.store() as store:
                view = overview(store, now_s=self.site.clock.now_s(), days=days, page=page)
            return pages.overview(
                self.site.study_title,
                view,
                prefix=self.prefix,
                user=session.user,
                csrf=session.csrf,
            )

        return await run_in_threadpool(read)

    def _person(
        self, label: str
    ) -> tuple[ParticipantStatus, list[SyncRun], tuple[dt.date, ...]] | None:
        with self.site.stores.store() as store:
            found = one_participant(store, label, now_s=self.site.clock.now_s())
            if found is None or found[0].account_key is None:
                return None
            person, days = found
            return person, list(store.runs(person.account_key or "", limit=50)), days

    async def participant(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return self._to_login()
        label = request.path_params["label"]
        found = await run_in_threadpool(self._person, label)
        if found is None:
            return pages.message(
                self.site.study_title,
                "Not found",
                f"No enrolled participant {label}.",
                prefix=self.prefix,
                user=session.user,
                csrf=session.csrf,
                status=404,
            )
        person, runs, days = found
        return pages.participant(
            self.site.study_title,
            person,
            runs,
            days,
            prefix=self.prefix,
            user=session.user,
            csrf=session.csrf,
        )

    async def audit(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return self._to_login()

        def read() -> list[tables.AuditRecord]:
            with self.site.stores.store() as store:
                conn = tables.connection(store)
                return tables.audit_records(conn)

        records = await run_in_threadpool(read)
        return pages.audit(
            self.site.study_title,
            records,
            prefix=self.prefix,
            user=session.user,
            csrf=session.csrf,
        )

    async def withdraw(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return self._to_login()
        form = await _form(request)
        if not self._post_allowed(request, form, session):
            return self._refused(session)
        label = request.path_params["label"]
        site = self.site

        def act() -> Response:
            try:
                with site.stores.store() as store:
                    report = withdraw(
                        store,
                        label,
                        token_client=site.token_client(),
                        clock=site.clock,
                        actor=f"coordinator:{session.user}",
                    )
            except HeartkeepError as failure:
                # Unknown participant: 404; Google or a running sync not done: 503 (try
                # again); anything else (the OAuth client refused, …): 502.
                status = (
                    404
                    if isinstance(failure, NoAccounts)
                    else 503
                    if isinstance(failure, TransientError)
                    else 502
                )
                return pages.message(
                    site.study_title,
                    "Not withdrawn",
                    failure.message + " Nothing was deleted.",
                    prefix=self.prefix,
                    user=session.user,
                    csrf=session.csrf,
                    status=status,
                )
            deleted = report.details["deleted"].get("samples", 0)
            return pages.message(
                site.study_title,
                "Withdrawn",
                f"{report.label} is withdrawn: access at Google {report.revoked}, {deleted} "
                f"samples and every other row deleted, audit record #{report.audit_id} kept.",
                prefix=self.prefix,
                user=session.user,
                csrf=session.csrf,
            )

        return await run_in_threadpool(act)
