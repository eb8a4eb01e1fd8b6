"""The study site's guard: Host check, strict CSP and the dashboard's other headers.

The same rules as the dashboard (`dashboard/security.py`), adapted to a public site: the Host
header must name the public base URL's host (configurable, for a site behind an HTTPS proxy
that forwards the original Host; a request for any other name — DNS rebinding, a stray
virtual host — is refused with 421).  Every response carries a Content-Security-Policy that
allows nothing but this origin's stylesheet (no script at all), no frames, no plugins, forms
posting only here or to the OAuth provider's consent page (Chrome applies `form-action` to the
redirect that follows the consent form), plus nosniff, a referrer only within the site (an
invite link never leaks to Google in a Referer) and no caching.  A request body over
`MAX_BODY` is refused with 413 before any page reads it.  Per-page checks (sessions,
CSRF) live with the pages.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heartkeep.web_answers import send_plain, with_headers


def content_security_policy(form_targets: Iterable[str]) -> str:
    targets = " ".join(["'self'", *sorted(set(form_targets))])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"frame-ancestors 'none'; form-action {targets}"
    )


# The largest body any request may carry: the forms need a few hundred bytes, the webhook's
# notifications a few (it applies the same limit itself when served alone).
MAX_BODY = 1 << 20


class SiteGuard:
    """ASGI middleware: refuse unknown hosts, add the security headers to every answer."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str], csp: str, secure: bool) -> None:
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)
        headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            # same-origin, not no-referrer: under no-referrer Chrome sends `Origin: null` with
            # our own forms, and the Origin check could not tell them from a foreign site's.
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cache-control", b"no-store"),
        ]
        if secure:
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = ""
        for name, value in scope["headers"]:
            if name.lower() == b"host":
                host = value.decode("latin-1").lower()
        if host not in self.hosts:
            await send_plain(
                send, 421, "This site does not answer for that host name.", self.headers
            )
            return
        if scope.get("method") in {"POST", "PUT", "PATCH"}:
            body = await _body_within(scope, receive, MAX_BODY)
            if body is None:
                await send_plain(send, 413, "That request is too large.", self.headers)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, with_headers(send, self.headers))


async def _body_within(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The request's body, or None once it exceeds `limit` (read no further): anyone on the
    internet can POST to the login and consent forms, and Starlette would read a body whole."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)  # the client went away: the app sees an empty or partial body
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
