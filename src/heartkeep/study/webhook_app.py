"""The webhook endpoint as a small Starlette app: `study serve` mounts it.

Per request, in this order:
1. `Authorization` must equal the configured value exactly (Google sends the subscriber's
   secret, scheme included): missing → 401, different → 403.  Compared in constant time.
2. `{"type": "verification"}` (Google's endpoint-verification probe) → 201.
3. Otherwise the body must carry a valid `GOOGLE-HEALTH-API-SIGNATURE` from the keyset → else
   403, and the notification is never handed on.
4. It must parse (`parse_notification`) → else 400.
5. The callback gets the `Notification`, then the answer is 204.  The callback must be quick
   (merge into a `Coalescer`, queue a job): Google expects 204 within its deadline.  It runs
   before the 204 on purpose: if it raises, the answer is 500 and Google retries, so a
   notification is never acknowledged and then lost.

Every outcome is counted in `app.state.webhook_counts` (a `WebhookCounts`): nothing refused
goes unreported.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from heartkeep.study.keyset import SIGNATURE_HEADER
from heartkeep.study.notifications import (
    Notification,
    NotificationError,
    is_verification,
    parse_notification,
)

DEFAULT_PATH = "/webhooks/google-health"
_MAX_BODY = 1 << 20


class SignatureCheck(Protocol):
    """What the endpoint needs of a keyset: a `Keyset`, or a `RefreshingKeyset`."""

    def verify(self, signature_header: str | None, body: bytes) -> bool: ...


@dataclass
class WebhookCounts:
    """What the endpoint answered, by outcome."""

    verified: int = 0
    accepted: int = 0
    unauthorized: int = 0
    bad_signature: int = 0
    malformed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The body, or None once it exceeds `limit` bytes — read no further than that, so an
    oversized (or endless) body never sits whole in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_app(
    *,
    authorization: str,
    keyset: SignatureCheck,
    on_notification: Callable[[Notification], None],
    path: str = DEFAULT_PATH,
) -> Starlette:
    """An app answering Google Health webhooks at `path` (POST only).

    `authorization` is the subscriber's `endpointAuthorization.secret` (e.g. `"Bearer …"`),
    `keyset` Google's public keyset (`parse_keyset`, or `RefreshingKeyset` to follow key
    rotation; checked in a worker thread, as a refetch blocks), `on_notification` what to do
    with each verified notification.
    """
    if not authorization:
        raise ValueError("the webhook endpoint needs the Authorization value it expects")
    expected = authorization.encode()
    counts = WebhookCounts()

    def refuse(outcome: str, status: int) -> Response:
        counts.count(outcome)
        return Response(status_code=status)

    async def receive(request: Request) -> Response:
        header = request.headers.get("authorization")
        if header is None:
            return refuse("unauthorized", 401)
        if not hmac.compare_digest(header.encode(), expected):
            return refuse("unauthorized", 403)
        body = await _body_within(request, _MAX_BODY)
        if body is None:
            return refuse("malformed", 413)
        if is_verification(body):
            counts.count("verified")
            return Response(status_code=201)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not await run_in_threadpool(keyset.verify, signature, body):
            return refuse("bad_signature", 403)
        try:
            notification = parse_notification(body)
        except NotificationError:
            return refuse("malformed", 400)
        # In a worker thread: the study's callback writes to the database (a blocking call).
        await run_in_threadpool(on_notification, notification)
        counts.count("accepted")
        return Response(status_code=204)

    app = Starlette(routes=[Route(path, receive, methods=["POST"])])
    app.state.webhook_counts = counts
    return app
