"""The dashboard refuses whoever did not open its URL: no token, a foreign Host, a cross-site
POST.  Plain HTTP against a real server on loopback; no browser needed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from heartkeep.dashboard import DashboardServer


@pytest.fixture
def dashboard(settings):
    with DashboardServer(settings) as server:
        yield server


@contextmanager
def signed_in(server: DashboardServer) -> Iterator[httpx.Client]:
    """A client that opened the printed URL: it holds the session cookie."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        first = client.get(server.url, follow_redirects=False)
        assert first.status_code == 303
        yield client


@pytest.mark.parametrize(
    "path", ["/", "/api/accounts", "/api/day?date=2026-11-19", "/static/js/main.js"]
)
def test_a_request_without_the_token_is_refused(dashboard, path) -> None:
    response = httpx.get(dashboard.base_url + path, timeout=10)
    assert response.status_code == 403
    assert "heartkeep dashboard" in response.text  # says what to open instead
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_a_wrong_token_is_refused_and_sets_no_cookie(dashboard) -> None:
    response = httpx.get(f"{dashboard.base_url}/?token=guess", timeout=10)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_the_token_becomes_a_strict_httponly_cookie_and_leaves_the_address(dashboard) -> None:
    response = httpx.get(dashboard.url + "&view=day&date=2026-11-19", timeout=10)
    assert response.status_code == 303
    assert response.headers["location"] == "/?view=day&date=2026-11-19"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    with signed_in(dashboard) as client:
        page = client.get("/")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        # no inline script: every script comes from our own origin
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert "http" not in re.sub(r"https?://127\.0\.0\.1", "", page.text).lower().replace(
            "http-equiv", ""
        )
        assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", "[::1]:{port}"]
)
def test_a_foreign_host_header_is_refused_even_with_the_cookie(dashboard, host) -> None:
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host."""
    with signed_in(dashboard) as client:
        response = client.get("/api/accounts", headers={"Host": host.format(port=dashboard.port)})
        assert response.status_code == 421


def test_localhost_is_accepted_as_well(dashboard) -> None:
    with signed_in(dashboard) as client:
        response = client.get("/api/accounts", headers={"Host": f"localhost:{dashboard.port}"})
        assert response.status_code == 200


def _csrf(client: httpx.Client) -> str:
    page = client.get("/").text
    found = re.search(r'name="heartkeep-csrf" content="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": "http://evil.example"}, "another site's page"),
        ({"Origin": "null"}, "a sandboxed frame or a file"),
        ({"Sec-Fetch-Site": "cross-site"}, "no Origin, and the browser says cross-site"),
        ({}, "neither Origin nor Sec-Fetch-Site"),
    ],
)
def test_a_cross_site_post_is_refused(dashboard, headers, why) -> None:
    with signed_in(dashboard) as client:
        token = _csrf(client)
        for path in ("/api/sync", "/api/export"):
            response = client.post(path, headers={**headers, "X-Heartkeep-CSRF": token})
            assert response.status_code == 403, why


def test_a_same_origin_post_without_the_csrf_token_is_refused(dashboard) -> None:
    with signed_in(dashboard) as client:
        origin = {"Origin": dashboard.base_url}
        assert client.post("/api/export", headers=origin, json={}).status_code == 403
        wrong = {**origin, "X-Heartkeep-CSRF": "guess"}
        assert client.post("/api/export", headers=wrong, json={}).status_code == 403
        right = {**origin, "X-Heartkeep-CSRF": _csrf(client)}
        response = client.post("/api/export", headers=right, json={"format": "xml"})
        assert response.status_code == 400  # past the guard: only the form is wrong


def test_state_changing_endpoints_take_post_only(dashboard) -> None:
    with signed_in(dashboard) as client:
        assert client.get("/api/export").status_code == 405


def test_it_binds_loopback_only(dashboard) -> None:
    assert dashboard.base_url.startswith("http://127.0.0.1:")


def test_the_first_data_is_read_with_the_page_and_handed_out_once(world_factory, small_user):
    """Serving the page starts its first data request (the one its preload names); the
    browser's request takes that answer, and only that exact request does, only once."""
    world = world_factory(users=(small_user(2),))
    assert world.sync().exit_code == 0
    with DashboardServer(world.settings, clock=world.clock) as server, signed_in(server) as client:
        page = client.get("/?view=day")
        preload = re.search(r'rel="preload" as="fetch" crossorigin href="([^"]+)"', page.text)
        assert preload is not None
        first = preload.group(1).replace("&amp;", "&")
        assert len(server.context.prefetched) == 1
        other = client.get(first.replace("date=", "date=x"))  # not the request it named
        assert other.status_code == 400
        assert len(server.context.prefetched) == 1
        taken = client.get(first)
        assert len(server.context.prefetched) == 0
        again = client.get(first)  # read again from the store: nothing is kept for later
        assert taken.status_code == again.status_code == 200
        assert taken.json() == again.json()
        assert taken.headers["cache-control"] == "no-store"
        assert len(taken.json()["bpm"]) > 1000
    with DashboardServer(world.settings, clock=world.clock) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as stranger:
            assert stranger.get("/?view=day").status_code == 403  # no page, nothing started
        assert len(server.context.prefetched) == 0
