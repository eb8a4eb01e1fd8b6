"""The dashboard's guard: every request proves it comes from the person who started it.

Health data served on a port is readable by every local user and every web page the person has
open, so nothing is served before these checks (one ASGI middleware in front of everything,
static files included):

- **Host** must be `127.0.0.1:PORT` or `localhost:PORT`.  A web page that points its own domain
  at 127.0.0.1 (DNS rebinding) sends its own name and is refused (421).
- **Token.**  `heartkeep dashboard` makes a random token per run (`secrets.token_urlsafe`) and
  opens `http://127.0.0.1:PORT/?token=…`, as Jupyter does.  The first request trades it for an
  HttpOnly, SameSite=Strict cookie and is redirected to the same URL without it (so the token
  leaves the address bar and the history); every later request must carry the cookie.  A
  request with neither is refused (403) with a word on what to open instead.
- **Cross-site actions.**  State-changing endpoints (sync, export) take POST only, and a POST
  must come from the page itself: its Origin (or, lacking one, `Sec-Fetch-Site: same-origin`)
  is ours, and it carries the CSRF token the page was served with in `X-Heartkeep-CSRF`.
- **Content-Security-Policy** on every response: scripts, styles, images and connections from
  this origin only, no inline script, no frames, no plugins; plus nosniff, no referrer and no
  caching of data.  The page renders data with `textContent`, never as markup.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from heartkeep.web_answers import send_plain, with_headers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
CSRF_HEADER = "x-heartkeep-csrf"


@dataclass(frozen=True)
class Secrets:
    """The run's token (in the URL it opens) and CSRF token (in the page it serves)."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def cookie_name(self, port: int) -> str:
        # Cookies are shared by every port of a host: one name per port keeps two dashboards
        # (or a dashboard and a stale cookie of an earlier run) apart.
        return f"heartkeep_dashboard_{port}"


class Guard:
    """ASGI middleware applying the checks above to every HTTP request."""

    def __init__(self, app: ASGIApp, *, secrets_: Secrets, port: int) -> None:
        self.app = app
        self.secrets = secrets_
        self.port = port
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.cookie = secrets_.cookie_name(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the dashboard has none: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if host not in self.hosts:
            await send_plain(
                send, 421, "This dashboard answers on 127.0.0.1 and localhost only.", _HEADERS
            )
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        offered = query.get("token")
        if offered is not None and scope["method"] == "GET":
            if not secrets.compare_digest(offered, self.secrets.token):
                await send_plain(send, 403, _REFUSED, _HEADERS)
                return
            await self._trade_token(scope, query, send)
            return
        if not secrets.compare_digest(_cookie(headers, self.cookie), self.secrets.token):
            await send_plain(send, 403, _REFUSED, _HEADERS)
            return
        if scope["method"] not in {"GET", "HEAD"} and not self._same_origin(headers):
            await send_plain(send, 403, "Cross-site request refused.", _HEADERS)
            return
        await self.app(scope, receive, with_headers(send, _HEADERS))

    def _same_origin(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            if origin not in {f"http://{host}" for host in self.hosts}:
                return False
        elif headers.get("sec-fetch-site") != "same-origin":
            return False
        return secrets.compare_digest(headers.get(CSRF_HEADER, ""), self.secrets.csrf)

    async def _trade_token(self, scope: Scope, query: dict[str, str], send: Send) -> None:
        """Set the session cookie and send the browser to the same page without the token."""
        query.pop("token")
        location = scope.get("path", "/") + (f"?{urlencode(query)}" if query else "")
        cookie = f"{self.cookie}={self.secrets.token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    *_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


_REFUSED = (
    "Not authorised. Open the address `heartkeep dashboard` printed or opened (it carries this "
    "run's token); a bookmark works while the same dashboard keeps running."
)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookie(headers: dict[str, str], name: str) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:  # a malformed Cookie header is no cookie at all
        return ""
    morsel = jar.get(name)
    return "" if morsel is None else morsel.value
