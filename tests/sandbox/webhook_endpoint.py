"""A scriptable webhook endpoint for the sandbox's own tests: it passes the verification
handshake (or fails it on request), records every notification, and answers each with the
next status of a script (204 once the script runs out).  It verifies nothing else: the
receiver under test lives in tests/study."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = "Bearer study-webhook-secret"


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Endpoint:
    secret: str = SECRET
    statuses: list[int] = field(default_factory=list)  # answers to notifications, in order
    accept_without_auth: bool = False  # a broken endpoint: 201 even without Authorization
    probes: list[Received] = field(default_factory=list)
    notifications: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            got = Received(body, {k.lower(): v for k, v in request.headers.items()})
            with self.lock:
                if b'"verification"' in body:
                    self.probes.append(got)
                    auth = request.headers.get("authorization")
                    if auth == self.secret or self.accept_without_auth:
                        return Response(status_code=201)
                    return Response(status_code=401 if auth is None else 403)
                self.notifications.append(got)
                status = self.statuses.pop(0) if self.statuses else 204
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])
