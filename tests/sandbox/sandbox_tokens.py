"""Getting tokens from the sandbox's Google OAuth endpoints over HTTP, as a client would."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from heartkeep.sandbox.grants import s256
from heartkeep.sandbox.server import SandboxServer

PREFIX = "https://www.googleapis.com/auth/googlehealth."
HEALTH = PREFIX + "health_metrics_and_measurements.readonly"
SETTINGS = PREFIX + "settings.readonly"
PROFILE = PREFIX + "profile.readonly"
ACTIVITY = PREFIX + "activity_and_fitness.readonly"
HEARTKEEP_SCOPES = (HEALTH, SETTINGS, PROFILE)
REDIRECT = "http://127.0.0.1:53682/"
# One plain-HTTP client for the whole session: loopback needs no CA bundle, and loading one
# per request would dominate these tests' time.
HTTP = httpx.Client(verify=False, timeout=30)  # noqa: S501 - plain HTTP on loopback


def authorize(
    server: SandboxServer,
    *,
    scopes: tuple[str, ...] = HEARTKEEP_SCOPES,
    verifier: str | None = None,
    redirect_uri: str = REDIRECT,
    client_id: str = GOOGLE_CLIENT_ID,
    state: str = "state-123",
    **extra: str,
) -> httpx.Response:
    """GET the authorization endpoint (not following the redirect)."""
    params: dict[str, str] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "access_type": "offline",
        "prompt": "consent",
    }
    if verifier is not None:
        params["code_challenge"] = s256(verifier)
        params["code_challenge_method"] = "S256"
    params.update(extra)
    return HTTP.get(server.url + "/o/oauth2/v2/auth", params=params)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query, keep_blank_values=True)
    return {key: values[0] for key, values in query.items()}


def new_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]


def exchange(
    server: SandboxServer,
    code: str,
    verifier: str | None,
    *,
    redirect_uri: str = REDIRECT,
    client_id: str = GOOGLE_CLIENT_ID,
    client_secret: str = GOOGLE_CLIENT_SECRET,
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return HTTP.post(server.url + "/token", data=data)


def refresh(
    server: SandboxServer, refresh_token: str, *, client_secret: str = GOOGLE_CLIENT_SECRET
) -> httpx.Response:
    return HTTP.post(
        server.url + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": GOOGLE_CLIENT_ID,
            "client_secret": client_secret,
        },
    )


def grant(server: SandboxServer, scopes: tuple[str, ...] = HEARTKEEP_SCOPES, **extra: str) -> Any:
    """The token response of a complete authorization-code + PKCE flow."""
    verifier = new_verifier()
    query = redirect_query(authorize(server, scopes=scopes, verifier=verifier, **extra))
    response = exchange(server, query["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def api(server: SandboxServer, access_token: str) -> httpx.Client:
    """An HTTP client for the sandbox's API with the Bearer header set."""
    return httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
        verify=False,  # noqa: S501 - plain HTTP on loopback: no certificate to check
    )
