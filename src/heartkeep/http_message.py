"""The messages and errors of heartkeep's HTTP client (`http_client`): what a request and an
answer are, and what can go wrong in between.

Apart from the `Client` so that each file keeps to one job; callers name them through
`http_client` (`http_client.Response`, `http_client.ConnectError`), which re-exports them.
The exception tree is httpx's (`TimeoutException`, `NetworkError`, `RemoteProtocolError` under
`TransportError` under `HTTPError`): `sync.retry.transient_reason` and the token client judge
failures by it, as they did when heartkeep used httpx.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

DEFAULT_TIMEOUT_S = 5.0  # httpx's default, for a `Client` or `Request` made without one
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
