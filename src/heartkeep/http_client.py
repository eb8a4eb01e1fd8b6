"""heartkeep's HTTP client: requests, responses, errors and a `Client`, on the wire of `http_wire`.

Why our own: httpx's import was the largest single cost of a cron sync with nothing new to fetch
(callgrind on an up-to-date sync: 795 M → 722 M instructions without it, about 0.1 s of CPU on
every run; docs/development.md).  heartkeep already sent every request through `http_wire`
(the standard library's `http.client`); httpx only built URLs, headers and bodies above it and
handed back its `Response` and exceptions.  This module is that layer, cut to what heartkeep uses:

- `Client(base_url=, auth=, transport=, timeout=, headers=, follow_redirects=)` with
  `get`/`head`/`post`/`request` (`params=`, `headers=`, `content=`, `data=` a form, `json=`,
  `extensions=` read by transports);
- `Auth.auth_flow`, a generator that may replay a request after seeing the response (how the
  vault refreshes once on a 401), with httpx's shape, so the auth code reads as it did;
- `Response` whose body is always read whole (gzip and deflate undone);
- the exception classes httpx had, with the same tree, so `sync.retry.transient_reason` and the
  token client judge failures exactly as before: `TimeoutException` (`ConnectTimeout`,
  `ReadTimeout`, `WriteTimeout`), `NetworkError` (`ConnectError`, `ReadError`, `WriteError`),
  `RemoteProtocolError`, all `TransportError`s, all `HTTPError`s.

No proxy is taken from the environment and nothing is cached; https trust comes from
`https_trust`, built on the first https request only.  Requests, responses and the errors live
in `http_message` and are re-exported here, so callers name everything `http_client.…`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import orjson

from heartkeep import __version__
from heartkeep.http_message import (
    DEFAULT_TIMEOUT_S,
    URL,
    ConnectError,
    ConnectTimeout,
    Headers,
    HTTPError,
    HTTPStatusError,
    NetworkError,
    ProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    Response,
    TimeoutException,
    TooManyRedirects,
    TransportError,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
    decoded_body,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_REDIRECTS",
    "URL",
    "Auth",
    "Client",
    "ConnectError",
    "ConnectTimeout",
    "HTTPError",
    "HTTPStatusError",
    "Headers",
    "NetworkError",
    "ProtocolError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "Response",
    "TimeoutException",
    "TooManyRedirects",
    "Transport",
    "TransportError",
    "UnsupportedProtocol",
    "WriteError",
    "WriteTimeout",
    "decoded_body",
    "get",
    "head",
    "post",
]

MAX_REDIRECTS = 20


class Transport(ABC):
    """Sends one request, returns its answer or raises a `TransportError` (the wire:
    `http_wire.WireTransport`; wrappers add pacing, retries or a project's quota)."""

    @abstractmethod
    def handle_request(self, request: Request) -> Response:
        """The answer to `request`, read whole."""

    def close(self) -> None:  # noqa: B027 - optional: a wrapper without connections keeps it
        """Release connections (default: nothing to release)."""


class Auth:
    """Adds credentials to a request; `auth_flow` may yield the request again after seeing the
    answer (a replay after refreshing a token).  The base class adds nothing."""

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        yield request


class Client:
    """A base URL, default headers, a timeout, an `Auth` and a `Transport`, kept together.

    The transport defaults to `https_trust.SchemeTransport()` (kept-alive connections, system
    trust made on the first https request).  Redirects are not followed unless asked for."""

    def __init__(
        self,
        *,
        base_url: str = "",
        auth: Auth | None = None,
        transport: Transport | None = None,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
    ) -> None:
        if transport is None:
            from heartkeep.https_trust import SchemeTransport

            transport = SchemeTransport()
        self.base_url = base_url
        self.auth = auth
        self.transport = transport
        self.timeout = timeout
        self.headers = Headers({
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": f"heartkeep/{__version__}",
        })  # fmt: skip
        for name, value in (headers or {}).items():
            self.headers[name] = value
        self.follow_redirects = follow_redirects

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def build_request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Request:
        """The request `request()` would send: URL joined to the base, headers merged, body and
        its Content-Type / Content-Length set."""
        full = url if "://" in url else self._joined(url)
        if params:
            query = urlencode(list(params.items()))
            full += ("&" if "?" in full else "?") + query
        merged = Headers(self.headers.raw)
        body = b""
        if json is not None:
            body = orjson.dumps(json)
            merged["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(list(data.items())).encode("ascii")
            merged["Content-Type"] = "application/x-www-form-urlencoded"
        elif content is not None:
            body = content.encode("utf-8") if isinstance(content, str) else content
        for name, value in (headers or {}).items():
            merged[name] = value
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            merged["Content-Length"] = str(len(body))
        return Request(
            method,
            full,
            headers=merged,
            content=body,
            timeout_s=self.timeout,
            extensions=extensions,
        )

    def _joined(self, path: str) -> str:
        if not self.base_url:
            raise UnsupportedProtocol(f"relative URL {path!r} and no base URL")
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, url: str, **options: Any) -> Response:
        """Send a request (keyword options as for `build_request`) and return the answer."""
        return self.send(self.build_request(method, url, **options))

    def get(self, url: str, **options: Any) -> Response:
        return self.request("GET", url, **options)

    def head(self, url: str, **options: Any) -> Response:
        return self.request("HEAD", url, **options)

    def post(self, url: str, **options: Any) -> Response:
        return self.request("POST", url, **options)

    def send(self, request: Request) -> Response:
        """Run the auth flow around the request (and its redirects, when followed)."""
        flow = (self.auth or Auth()).auth_flow(request)
        current = next(flow)
        while True:
            response = self._send_following(current)
            try:
                current = flow.send(response)
            except StopIteration:
                return response

    def _send_following(self, request: Request) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = self.transport.handle_request(request)
            location = response.headers.get("Location")
            if not (self.follow_redirects and location and 300 <= response.status_code < 400):
                return response
            request = self._redirected(request, response.status_code, location)
        raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {request.url}")

    def _redirected(self, request: Request, status: int, location: str) -> Request:
        """The request a redirect asks for: GET without a body after a 303 (and a POST's
        301/302, as browsers do); the same request otherwise.  Credentials stay on their host."""
        url = urljoin(str(request.url), location)
        method, body = request.method, request.content
        headers = Headers(request.headers.raw)
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, body = "GET", b""
            for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                del headers[name]
        if URL(url).host != request.url.host:
            del headers["Authorization"]
        return Request(
            method, url, headers=headers, content=body, timeout_s=request.timeout_s,
            extensions=request.extensions,
        )  # fmt: skip


def get(url: str, **options: Any) -> Response:
    """One GET on a client of its own (`timeout=`, `follow_redirects=` for it; the rest per
    request)."""
    return _once("GET", url, options)


def head(url: str, **options: Any) -> Response:
    return _once("HEAD", url, options)


def post(url: str, **options: Any) -> Response:
    return _once("POST", url, options)


def _once(method: str, url: str, options: dict[str, Any]) -> Response:
    client_options = {k: options.pop(k) for k in ("timeout", "follow_redirects") if k in options}
    with Client(**client_options) as client:
        return client.request(method, url, **options)
