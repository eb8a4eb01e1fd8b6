"""The wire under every heartkeep HTTP client (`http_wire.WireTransport`, via `SchemeTransport`):
what httpcore gave users, on real loopback servers — a raw socket server where the failure is
the point (a body cut short, a silent server, an idle connection closed), uvicorn otherwise."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from heartkeep import http_client
from heartkeep.https_trust import SchemeTransport
from loopback_asgi import Served, request_body, serve_app

Handler = Callable[[socket.socket, int], None]


def _read_request(conn: socket.socket) -> bytes:
    """One request's head and body (by Content-Length), or b"" when the client went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """`raw_server(handler)` → a base URL; `handler(connection, n)` serves the n-th connection."""
    listeners: list[socket.socket] = []

    def start(handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            number = 0
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                number += 1
                threading.Thread(target=_serve, args=(handler, conn, number), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def _serve(handler: Handler, conn: socket.socket, number: int) -> None:
    with conn, contextlib.suppress(OSError):
        handler(conn, number)


def _client(**kwargs: Any) -> http_client.Client:
    return http_client.Client(transport=SchemeTransport(), **kwargs)


def _answer(body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", *extra]
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def test_requests_share_one_kept_alive_connection(
    raw_server: Callable[[Handler], str],
) -> None:
    def numbered(conn: socket.socket, number: int) -> None:
        while _read_request(conn):
            conn.sendall(_answer(b'{"connection": %d}' % number))

    url = raw_server(numbered)
    with _client() as client:
        answers = [client.get(f"{url}/page/{i}").json() for i in range(5)]
    assert answers == [{"connection": 1}] * 5


def test_an_idle_connection_the_server_closed_is_replaced_not_failed(
    raw_server: Callable[[Handler], str],
) -> None:
    """A server that closes a kept-alive connection after each answer, without saying so."""

    def one_answer(conn: socket.socket, number: int) -> None:
        if _read_request(conn):
            conn.sendall(_answer(b'{"connection": %d}' % number))

    url = raw_server(one_answer)
    with _client() as client:
        first = client.get(f"{url}/a").json()
        threading.Event().wait(0.2)  # the server's FIN arrives
        second = client.get(f"{url}/b").json()
    assert (first, second) == ({"connection": 1}, {"connection": 2})


def test_a_body_shorter_than_its_length_is_a_dropped_connection(
    raw_server: Callable[[Handler], str],
) -> None:
    """What `retry.transient_reason` calls "connection dropped mid-response", as with httpcore."""

    def cut(conn: socket.socket, _number: int) -> None:
        _read_request(conn)
        conn.sendall(_answer(b'{"samples": [1, 2, 3]}')[:-8])

    url = raw_server(cut)
    with _client() as client, pytest.raises(http_client.RemoteProtocolError, match="complete"):
        client.get(f"{url}/x")


def test_a_connection_closed_without_an_answer_is_a_protocol_error(
    raw_server: Callable[[Handler], str],
) -> None:
    def hang_up(conn: socket.socket, _number: int) -> None:
        _read_request(conn)

    url = raw_server(hang_up)
    with _client() as client, pytest.raises(http_client.RemoteProtocolError):
        client.get(f"{url}/x")


def test_a_silent_server_times_out_on_read(raw_server: Callable[[Handler], str]) -> None:
    stop = threading.Event()

    def silent(conn: socket.socket, _number: int) -> None:
        _read_request(conn)
        stop.wait(5)

    url = raw_server(silent)
    try:
        with _client(timeout=0.3) as client, pytest.raises(http_client.ReadTimeout):
            client.get(f"{url}/x")
    finally:
        stop.set()


def test_a_closed_port_is_a_connect_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as spare:
        port = spare.getsockname()[1]
    with _client() as client, pytest.raises(http_client.ConnectError):
        client.get(f"http://127.0.0.1:{port}/x")


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes the request (method, path, query, body, two headers) as JSON, gzipped and chunked
    when asked to."""
    if scope["type"] != "http":
        return
    body = await request_body(receive)
    headers = dict(scope["headers"])
    import orjson

    text = orjson.dumps({
        "method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode(),
        "body": body.decode(), "auth": headers.get(b"authorization", b"").decode(),
        "agent": headers.get(b"user-agent", b"").decode(),
    })  # fmt: skip
    out = [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"),
           (b"set-cookie", b"b=2")]  # fmt: skip
    if scope["path"] == "/gzip":
        text = gzip.compress(text)
        out.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 201, "headers": out})
    for i in range(0, len(text), 7):  # several chunks: chunked transfer encoding
        await send({"type": "http.response.body", "body": text[i : i + 7], "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def echo() -> Iterator[Served]:
    with serve_app(_echo) as served:
        yield served


def test_requests_and_answers_arrive_whole(echo: Served) -> None:
    """Method, path, query, form body and headers go out as the client built them; status, repeated
    headers and a chunked, gzipped body come back as the client reads them."""
    with _client(headers={"User-Agent": "heartkeep/test"}) as client:
        sent = client.post(
            f"{echo.url}/token", params={"a": "1 2"}, data={"grant": "x&y"},
            headers={"Authorization": "Bearer t"},
        )  # fmt: skip
        zipped = client.get(f"{echo.url}/gzip")
    assert sent.status_code == 201
    assert sent.json() == {
        "method": "POST", "path": "/token", "query": "a=1+2", "body": "grant=x%26y",
        "auth": "Bearer t", "agent": "heartkeep/test",
    }  # fmt: skip
    assert sent.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert zipped.json()["path"] == "/gzip"
    assert zipped.headers["content-encoding"] == "gzip"
