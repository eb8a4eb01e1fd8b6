"""heartkeep's own HTTP client (`http_client.py`) from its caller's side, on a real loopback
server: URLs joined to the base and given their query, bodies and their headers, the auth flow's
replay, redirects only when asked for, header fields as HTTP has them, no proxy from the
environment.  The wire under it has its own tests (`test_http_wire.py`)."""

from __future__ import annotations

import socket
from collections.abc import Generator, Iterator
from typing import Any

import orjson
import pytest

from heartkeep import http_client
from loopback_asgi import Served, request_body, serve_app


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes the request as JSON; `/redirect` sends to `/landed` (303), `/guarded` wants the
    bearer token "good", `/teapot` answers 418."""
    if scope["type"] != "http":
        return
    body = await request_body(receive)
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    path = scope["path"]
    status, out = 200, [(b"content-type", b"application/json; charset=utf-8")]
    if path == "/redirect":
        status = 303
        out.append((b"location", b"/landed?from=redirect"))
    elif path == "/guarded" and headers.get("authorization") != "Bearer good":
        status = 401
    elif path == "/teapot":
        status = 418
    echoed = {
        "method": scope["method"], "path": path, "query": scope["query_string"].decode(),
        "body": body.decode(), "headers": headers,
    }  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": orjson.dumps(echoed)})


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    with serve_app(_app) as served:
        yield served


def test_a_path_joins_the_base_url_and_params_join_its_query(server: Served) -> None:
    with http_client.Client(base_url=server.url + "/api/") as client:
        echoed = client.get("/v4/items?view=full", params={"filter": 'day >= "2026-01-01"'}).json()
    assert echoed["path"] == "/api/v4/items"
    assert echoed["query"] == "view=full&filter=day+%3E%3D+%222026-01-01%22"


def test_json_and_form_bodies_carry_their_type_and_length(server: Served) -> None:
    with http_client.Client(base_url=server.url) as client:
        as_json = client.post("/j", json={"a": [1, 2]}).json()
        as_form = client.post("/f", data={"grant_type": "x y", "code": "a&b"}).json()
        empty = client.post("/e").json()
    assert (as_json["body"], as_json["headers"]["content-type"]) == (
        '{"a":[1,2]}',
        "application/json",
    )
    assert as_form["body"] == "grant_type=x+y&code=a%26b"
    assert as_form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert as_form["headers"]["content-length"] == str(len(as_form["body"]))
    assert empty["headers"]["content-length"] == "0"


def test_default_headers_are_kept_unless_a_request_overrides_them(server: Served) -> None:
    with http_client.Client(base_url=server.url, headers={"Accept": "application/json"}) as client:
        plain = client.get("/").json()["headers"]
        overridden = client.get("/", headers={"accept": "text/html"}).json()["headers"]
    assert plain["accept"] == "application/json"
    assert plain["user-agent"].startswith("heartkeep/")
    assert overridden["accept"] == "text/html"


class _Bearer(http_client.Auth):
    """Sends a stale token first; on a 401 swaps in the good one and replays once."""

    def __init__(self) -> None:
        self.replays = 0

    def auth_flow(
        self, request: http_client.Request
    ) -> Generator[http_client.Request, http_client.Response, None]:
        request.headers["Authorization"] = "Bearer stale"
        response = yield request
        if response.status_code == 401:
            self.replays += 1
            request.headers["Authorization"] = "Bearer good"
            yield request


def test_the_auth_flow_replays_a_refused_request_with_new_credentials(server: Served) -> None:
    auth = _Bearer()
    with http_client.Client(base_url=server.url, auth=auth) as client:
        answer = client.post("/guarded", json={"n": 1})
    assert (answer.status_code, auth.replays) == (200, 1)
    assert answer.json()["body"] == '{"n":1}'  # the replay carried the body again


def test_redirects_are_followed_only_when_asked_and_a_303_becomes_a_get(server: Served) -> None:
    with http_client.Client(base_url=server.url) as client:
        not_followed = client.post("/redirect", data={"a": "1"})
    with http_client.Client(base_url=server.url, follow_redirects=True) as client:
        followed = client.post("/redirect", data={"a": "1"})
    assert (not_followed.status_code, not_followed.headers["Location"]) == (
        303,
        "/landed?from=redirect",
    )
    assert followed.status_code == 200
    assert followed.json()["method"] == "GET"
    assert (followed.json()["path"], followed.json()["body"]) == ("/landed", "")
    assert str(followed.url) == server.url + "/landed?from=redirect"


def test_an_error_status_is_an_answer_until_raise_for_status(server: Served) -> None:
    answer = http_client.get(server.url + "/teapot")
    assert (answer.status_code, answer.is_success, answer.is_error) == (418, False, True)
    assert answer.json()["path"] == "/teapot"
    with pytest.raises(http_client.HTTPStatusError, match="418") as raised:
        answer.raise_for_status()
    assert raised.value.response is answer


def test_headers_are_case_insensitive_and_repeated_fields_read_joined() -> None:
    headers = http_client.Headers([("Set-Cookie", "a=1"), ("X-One", "1"), ("set-cookie", "b=2")])
    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert (headers.get("x-one"), headers.get("x-two")) == ("1", None)
    headers["x-one"] = "uno"
    assert headers.raw == [("Set-Cookie", "a=1"), ("x-one", "uno"), ("set-cookie", "b=2")]
    assert "Bearer" not in repr(http_client.Headers({"Authorization": "Bearer secret"}))


def test_no_proxy_is_taken_from_the_environment(
    server: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as spare:
        dead = f"http://127.0.0.1:{spare.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert http_client.get(server.url + "/direct").json()["path"] == "/direct"


def test_a_url_that_is_not_http_is_refused_before_any_connection() -> None:
    with pytest.raises(http_client.UnsupportedProtocol):
        http_client.get("ftp://127.0.0.1/file")
    with pytest.raises(http_client.UnsupportedProtocol):
        http_client.Client().get("/relative/without/base")


def test_every_network_failure_is_a_transport_error_and_an_http_error() -> None:
    """What `retry.transient_reason` and the token client catch: the classes nest as httpx's."""
    assert issubclass(http_client.ConnectTimeout, http_client.TimeoutException)
    assert issubclass(http_client.ReadError, http_client.NetworkError)
    for failure in (
        http_client.TimeoutException,
        http_client.NetworkError,
        http_client.RemoteProtocolError,
    ):
        assert issubclass(failure, http_client.TransportError)
        assert issubclass(failure, http_client.HTTPError)
