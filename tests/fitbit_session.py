"""A legacy Fitbit session for tests that talk to the sandbox's Fitbit API directly.

Walks the seed's flow by hand — consent (auto-approved), code exchange with the Basic header of
the sandbox's Personal app — and returns a client that sends the Bearer token.  Importable from
any test directory (pytest puts tests/ on the path for its conftest).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from heartkeep import http_client
from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET

REDIRECT = "http://127.0.0.1:8189/callback"


def login(http: httpx.Client, scope: str = "heartrate profile settings") -> httpx.Client:
    """Authorize, exchange the code, and return a client on the same server with the token."""
    return httpx.Client(
        base_url=str(http.base_url),
        headers={"Authorization": f"Bearer {access_token(http, scope)}"},
        timeout=30,
    )


def heartkeep_login(
    http: httpx.Client, scope: str = "heartrate profile settings"
) -> http_client.Client:
    """`login`, but the client is heartkeep's own (what its providers are handed)."""
    return http_client.Client(
        base_url=str(http.base_url),
        headers={"Authorization": f"Bearer {access_token(http, scope)}"},
        timeout=30,
    )


def access_token(http: httpx.Client, scope: str) -> str:
    """Authorize with `scope` and exchange the code: the access token."""
    consent = http.get(
        "/oauth2/authorize",
        params={
            "client_id": FITBIT_CLIENT_ID,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": REDIRECT,
        },
    )
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    token = http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET),
    ).json()
    return str(token["access_token"])
