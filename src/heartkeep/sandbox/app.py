"""The sandbox's ASGI app: Google OAuth, Google Health v4 and legacy Fitbit routes in one.

Around the routes sits one middleware that logs every request (`state.request_log`) and applies
the injected faults (`state.faults`) before a route sees the request.  Paths of the three
families do not collide (`/o/oauth2/v2/auth`, `/token`, `/revoke`; `/v4/…`; `/oauth2/…`,
`/1/…`, `/1.1/…`).  Unknown paths and verbs get Google's HTML 404, as the real front end does.
"""

from __future__ import annotations

import asyncio
import email.utils
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heartkeep.sandbox import fitbit, google, oauth, subscribers
from heartkeep.sandbox.rpc import ApiError, html_not_found, internal, unavailable
from heartkeep.sandbox.state import SandboxState


class _ConnectionReset(Exception):
    """Raised after a partial response so the server drops the connection (no socket access)."""


class FaultsAndLog:
    """ASGI middleware: draw the request's fate from `state.faults`, then log its status."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        decision = self.state.faults.decide(method, path)
        if decision.latency_s > 0:
            await asyncio.sleep(decision.latency_s)
        logged = [False]

        def log(status: int) -> None:
            # Logged before the client can see the answer, so a test that reads the log right
            # after a response never races the server thread.
            if not logged[0]:
                logged[0] = True
                self.state.log_request(method, path, status)

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                log(int(message["status"]))
                message = self._dated(message)
            await send(message)

        kind = decision.kind
        try:
            if kind in ("error_500", "error_503", "rate_limit"):
                await self._error(kind, scope, receive, logged_send)
            elif kind == "reset":
                log(0)
                await self._reset(scope, send)
            elif kind == "truncate":
                await self._truncated(scope, receive, logged_send)
            else:
                if kind in ("revoke", "expire_token"):
                    self._spoil_token(kind, scope)
                await self.app(scope, receive, logged_send)
        finally:
            log(0)  # no response was started: the connection died or the app failed

    def _dated(self, start: Message) -> Message:
        """A `Date` header from the simulated clock (uvicorn's is off), as Google sends one."""
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"date"]
        date = email.utils.formatdate(self.state.now_s(), usegmt=True).encode()
        return {**start, "headers": [*headers, (b"date", date)]}

    async def _error(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        failure: ApiError
        if kind == "error_500":
            failure = internal()
        elif kind == "error_503":
            failure = unavailable()
        else:
            failure = self.state.quotas.storm_error(self.state.now_s())
        await failure.response()(scope, receive, send)

    async def _reset(self, scope: Scope, send: Send) -> None:
        client = scope.get("client")
        aborter = self.state.connection_aborter
        if aborter is not None and client is not None and aborter(tuple(client)):
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise _ConnectionReset("connection reset by the sandbox's fault injection")

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: len(body) // 2]
        headers = [
            (name, value)
            for name, value in start.get("headers", [])
            if name.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send(
            {"type": "http.response.start", "status": start.get("status", 200), "headers": headers}
        )
        await send({"type": "http.response.body", "body": cut})

    def _spoil_token(self, kind: str, scope: Scope) -> None:
        request = Request(scope)
        header = request.headers.get("authorization", "")
        token = header.partition(" ")[2].strip() or request.query_params.get("access_token", "")
        with self.state.lock:
            record = self.state.grants.access_tokens.get(token)
            user_id = None if record is None else self.state.grants.user_of(record)
        if user_id is None:
            fitbit.spoil_token(self.state, token, kind)  # a legacy Fitbit token, or none at all
            return
        if kind == "revoke":
            self.state.revoke_all_tokens(user_id)
        else:
            self.state.expire_access_tokens(user_id)


async def _not_found(request: Request, exc: Exception) -> Response:
    return html_not_found(request.url.path)


def create_app(state: SandboxState) -> Starlette:
    """The sandbox app for `state`: serve it with uvicorn (`SandboxServer`) or any ASGI host."""
    routes = [
        *oauth.routes(state),
        *google.routes(state),
        *subscribers.routes(state),
        *fitbit.routes(state),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.sandbox = state
    app.add_middleware(FaultsAndLog, state=state)
    return app
