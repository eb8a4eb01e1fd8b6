"""HTTP/1.1 on the standard library's `http.client`: the wire under every heartkeep HTTP client.

httpx's own transport sent through httpcore and h11 (with anyio and certifi imported beside
them), and httpx itself cost ~300 M instructions to import; `http.client` does the wire and
`http_client` the small layer above (URLs, headers, bodies, `Response`, errors).  The requests
heartkeep makes are small JSON calls whose whole body is wanted, so this transport sends one
request on a kept-alive connection per origin and reads the whole answer.

What users relied on (from the httpcore days) stays, and `tests/sync/test_http_wire.py` checks
it on real loopback servers:

- each phase has its own timeout from the request (connect, write, read: `Request.timeout_s`
  each), and expiring raises `ConnectTimeout` / `WriteTimeout` / `ReadTimeout`;
- failures raise `http_client`'s classes: `ConnectError` for anything while connecting (a
  refused port, a certificate that does not verify), `WriteError` / `ReadError` for a socket
  error later, `RemoteProtocolError` for a connection closed before or during the answer (a
  body shorter than its Content-Length or its chunks) or an answer that is not HTTP;
  `retry.transient_reason` and the token client judge them;
- an idle connection the server has closed is noticed before reuse (a socket readable while
  idle is at its end) and replaced; a request is never sent twice;
- no proxy is taken from the environment.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import zlib
from collections.abc import Callable

from heartkeep.http_client import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    Response,
    Transport,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
    decoded_body,
)

Origin = tuple[str, str, int]


def _is_stale(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection is unusable: closed by us, or readable (the
    server closed it, or sent something unasked) while no request is outstanding."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class WireTransport(Transport):
    """One kept-alive `http.client` connection per origin and in-flight request.

    `https_context` makes the TLS context on the first https request only (never for plain
    http, the sandbox on loopback).  Thread-safe: a connection in use belongs to one request;
    idle ones wait in a list per origin.
    """

    def __init__(self, https_context: Callable[[], ssl.SSLContext]) -> None:
        self._https_context = https_context
        self._context: ssl.SSLContext | None = None
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: Request) -> Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        connection = self._take(origin)
        if connection is None:
            connection = self._connect(origin, request.timeout_s)
        try:
            response, body = self._exchange(connection, request)
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(origin, connection)
        # As received: http.client decoded the header lines as latin-1.
        headers = response.getheaders()
        encoding = response.getheader("Content-Encoding")
        try:
            content = decoded_body(body, encoding) if encoding else body
        except zlib.error as failure:
            raise RemoteProtocolError(f"a body that does not decode ({failure})") from failure
        return Response(
            response.status,
            headers=headers,
            content=content,
            request=request,
            reason_phrase=response.reason,
        )

    def _take(self, origin: Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if not _is_stale(connection):
                    return connection
                connection.close()
        return None

    def _give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(connection)

    def _connect(self, origin: Origin, timeout_s: float | None) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            if self._context is None:
                self._context = self._https_context()
            connection = http.client.HTTPSConnection(
                host, port, timeout=timeout_s, context=self._context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
        try:
            connection.connect()
        except TimeoutError as failure:  # socket.timeout is TimeoutError
            connection.close()
            raise ConnectTimeout(str(failure) or "connect timed out") from failure
        except OSError as failure:  # refused, unreachable, DNS, TLS (ssl.SSLError is OSError)
            connection.close()
            raise ConnectError(str(failure)) from failure
        return connection

    def _exchange(
        self, connection: http.client.HTTPConnection, request: Request
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """Send `request` and read the whole answer: the response and its (still encoded) body."""
        sock = connection.sock
        assert sock is not None
        timeout_s = request.timeout_s
        try:
            sock.settimeout(timeout_s)
            connection.putrequest(request.method, request.url.target, skip_accept_encoding=True)
            for name, value in request.headers.raw:
                connection.putheader(name, value)
            connection.endheaders(request.content or None)
        except TimeoutError as failure:
            raise WriteTimeout(str(failure) or "write timed out") from failure
        except OSError as failure:
            raise WriteError(str(failure)) from failure
        try:
            sock.settimeout(timeout_s)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as failure:
            raise ReadTimeout(str(failure) or "read timed out") from failure
        except (http.client.RemoteDisconnected, http.client.IncompleteRead) as failure:
            raise RemoteProtocolError(_dropped(failure)) from failure
        except http.client.HTTPException as failure:  # not HTTP: a bad status line, headers
            raise RemoteProtocolError(repr(failure)) from failure
        except OSError as failure:  # reset, broken pipe
            raise ReadError(str(failure)) from failure
        return response, content

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


def _dropped(failure: http.client.HTTPException) -> str:
    if isinstance(failure, http.client.IncompleteRead):
        return (
            f"peer closed connection without sending complete message body "
            f"({len(failure.partial)} bytes read)"
        )
    return "Server disconnected without sending a response."
