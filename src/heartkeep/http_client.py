"""heartkeep's HTTP client: requests, responses, errors and a `Client`, on the wire of `http_wire`.

Why our own: importing httpx cost about 300 M instructions (callgrind: the stdlib an up-to-date
sync needs anyway 261 M, plus httpx 563 M), roughly 0.15 s of CPU on every cron sync, a third of
one that has nothing new to fetch.  heartkeep already sent every request through `http_wire`
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
`https_trust`, built on the first https request only.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import orjson

from heartkeep import __version__

DEFAULT_TIMEOUT_S = 5.0  # httpx's default, for a `Client` made without one
MAX_REDIRECTS = 20
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class HTTPError(Exception):
    """Anything that went wrong while making a request."""


class TransportError(HTTPError):
    """The request did not get an HTTP answer: network, timeout, protocol."""


class TimeoutException(TransportError):
    """A phase (connect, write, read) took longer than the request's timeout."""


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class NetworkError(TransportError):
    """A socket error: refused, unreachable, reset, a certificate that does not verify."""


class ConnectError(NetworkError):
    pass


class ReadError(NetworkError):
    pass


class WriteError(NetworkError):
    pass


class ProtocolError(TransportError):
    pass


class RemoteProtocolError(ProtocolError):
    """The server closed the connection early or did not speak HTTP."""


class UnsupportedProtocol(TransportError):
    """A URL whose scheme is not http or https."""


class TooManyRedirects(HTTPError):
    pass


class HTTPStatusError(HTTPError):
    """`Response.raise_for_status` on a 4xx or 5xx answer."""

    def __init__(self, message: str, *, response: Response) -> None:
        super().__init__(message)
        self.response = response


class Headers(Mapping[str, str]):
    """Case-insensitive, order-keeping, possibly repeated header fields.  A repeated field reads
    as its values joined by ", " (`get_list` gives them apart), as in HTTP and httpx."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        pairs = items.items() if isinstance(items, Mapping) else (items or ())
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in pairs]

    @property
    def raw(self) -> list[tuple[str, str]]:
        """Every field as (name, value), in order, names as given."""
        return list(self._items)

    def get_list(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._items if key.lower() == wanted]

    def __getitem__(self, name: str) -> str:
        values = self.get_list(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every field called `name` (in the place of the first one)."""
        wanted = name.lower()
        kept: list[tuple[str, str]] = []
        placed = False
        for key, old in self._items:
            if key.lower() != wanted:
                kept.append((key, old))
            elif not placed:
                kept.append((name, value))
                placed = True
        if not placed:
            kept.append((name, value))
        self._items = kept

    def __delitem__(self, name: str) -> None:
        wanted = name.lower()
        self._items = [(key, value) for key, value in self._items if key.lower() != wanted]

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for key, _ in self._items:
            seen.setdefault(key.lower())
        return iter(seen)

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._items})

    def __repr__(self) -> str:
        hidden = {"authorization", "proxy-authorization"}
        shown = [(k, "[secure]" if k.lower() in hidden else v) for k, v in self._items]
        return f"Headers({shown!r})"


class URL:
    """An absolute http(s) URL, split once: what transports and error messages read."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        self.port = parts.port
        self.path = quote(parts.path or "/", safe=_PATH_SAFE)
        self.query = parts.query
        self._text = url

    @property
    def target(self) -> str:
        """The request target sent on the wire: path and query."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"URL({self._text!r})"


class Request:
    """One request as it goes to a transport; `auth_flow` may change its headers and resend it.

    `timeout_s` bounds each phase (connect, write, read) separately; `extensions` carries what
    transports read (`providers.paging.SHRINK_AFTER_504S`)."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: Headers | Mapping[str, str] | None = None,
        content: bytes = b"",
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.method = method.upper()
        self.url = URL(url)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.content = content
        self.timeout_s = timeout_s
        self.extensions = dict(extensions or {})

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class Response:
    """An answer, body read whole and decoded from gzip/deflate."""

    def __init__(
        self,
        status_code: int,
        *,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content: bytes = b"",
        json: Any = None,
        request: Request | None = None,
        reason_phrase: str = "",
    ) -> None:
        self.status_code = status_code
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        if json is not None:
            content = orjson.dumps(json)
            self.headers["Content-Type"] = "application/json"
        self.content = content
        self.reason_phrase = reason_phrase
        self._request = request

    @property
    def request(self) -> Request:
        if self._request is None:
            raise RuntimeError("this Response was made without a request")
        return self._request

    @property
    def url(self) -> URL:
        return self.request.url

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_error(self) -> bool:
        return self.status_code >= 400

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed body; a `ValueError` (orjson's) if it is not JSON."""
        return orjson.loads(self.content)

    def read(self) -> bytes:
        return self.content

    def close(self) -> None:
        """Nothing to release: the body was read whole and the connection given back."""

    def raise_for_status(self) -> Response:
        if self.is_error:
            raise HTTPStatusError(
                f"HTTP {self.status_code} {self.reason_phrase} for {self.url}".replace("  ", " "),
                response=self,
            )
        return self

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def decoded_body(body: bytes, content_encoding: str) -> bytes:
    """The body with its Content-Encoding (gzip, deflate; the ones we ask for) undone."""
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:  # raw deflate, without the zlib wrapper
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding != "identity":
            raise RemoteProtocolError(f"unsupported Content-Encoding {coding!r}")
    return body


class Transport:
    """Sends one request, returns its answer or raises a `TransportError`."""

    def handle_request(self, request: Request) -> Response:
        raise NotImplementedError

    def close(self) -> None:
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
