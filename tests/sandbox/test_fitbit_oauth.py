"""The sandbox's Fitbit authorization server behaves as reference/fitbit-web-api.md §2 says.

Every test talks to a real sandbox over loopback HTTP; time moves only on the shared SimClock.
The seed's flow step by step: authorize (consent page, `#_=_`, errors on Fitbit's own page),
exchange the code with a Basic header (10-minute codes), refresh with single-use refresh tokens
and the two-minute replay, revoke, introspect, and 410 once the API is switched off.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET
from heartkeep.sandbox.fitbit import fitbit_sandbox, spoil_token
from heartkeep.sandbox.fitbit_oauth import PUBLIC_CLIENT_ID

REDIRECT = "http://127.0.0.1:8189/callback"
SCOPES = "heartrate profile settings"
BASIC = (FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET)


def authorize(http: httpx.Client, **extra: str) -> httpx.Response:
    params = {
        "client_id": FITBIT_CLIENT_ID,
        "response_type": "code",
        "scope": SCOPES,
        "redirect_uri": REDIRECT,
        "state": "s-123",
    }
    params.update(extra)
    return http.get("/oauth2/authorize", params={k: v for k, v in params.items() if v})


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def exchange(http: httpx.Client, code: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    data.update(extra)
    return http.post("/oauth2/token", data=data, auth=BASIC)


def login(http: httpx.Client) -> dict[str, Any]:
    response = exchange(http, code_from(authorize(http)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post(
        "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": token}, auth=BASIC
    )


def profile(http: httpx.Client, access_token: str) -> httpx.Response:
    return http.get("/1/user/-/profile.json", headers={"Authorization": f"Bearer {access_token}"})


def error_type(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False
    kind: str = body["errors"][0]["errorType"]
    return kind


@pytest.fixture
def http(sandbox: Any) -> httpx.Client:
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        yield client


def test_consent_redirects_with_code_state_and_the_fitbit_fragment(http: httpx.Client) -> None:
    response = authorize(http)
    location = response.headers["location"]
    assert response.status_code == 302
    assert location.startswith(REDIRECT + "?code=")
    assert location.endswith("#_=_")
    assert parse_qs(urlsplit(location).query)["state"] == ["s-123"]


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ({"client_id": ""}, "Missing parameters: client_id"),
        ({"client_id": "NOSUCH"}, "Invalid client_id"),
        ({"response_type": "banana"}, "Invalid response_type parameter value"),
        ({"response_type": ""}, "Missing response_type parameter value"),
        ({"redirect_uri": "https://evil.example/cb"}, "Invalid redirect_uri parameter value"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "between 43 and 128"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "S512"}, "Unsupported"),
    ],
)
def test_bad_authorize_parameters_show_an_error_page_without_redirecting(
    http: httpx.Client, override: dict[str, str], text: str
) -> None:
    response = authorize(http, **override)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert text in response.text


def test_code_exchange_with_basic_auth_returns_fitbits_token_response(http: httpx.Client) -> None:
    body = login(http)
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "token_type",
        "user_id",
    }
    assert body["expires_in"] == 28800
    assert body["token_type"] == "Bearer"
    assert body["user_id"] == "CV5TKH"
    assert set(body["scope"].split()) == set(SCOPES.split())
    assert re.fullmatch(r"[0-9a-f]{64}", body["refresh_token"])
    header, claims, _sig = body["access_token"].split(".")
    claims_json = orjson.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert orjson.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256"}
    assert claims_json["iss"] == "Fitbit"
    assert claims_json["sub"] == "CV5TKH"
    assert claims_json["aud"] == FITBIT_CLIENT_ID
    assert claims_json["exp"] - claims_json["iat"] == 28800


def test_token_parameters_may_come_in_the_query_string(http: httpx.Client) -> None:
    code = code_from(authorize(http))
    response = http.post(
        "/oauth2/token",
        params={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=BASIC,
    )
    assert response.status_code == 200


def test_a_code_older_than_ten_minutes_is_invalid_grant(sandbox: Any, http: httpx.Client) -> None:
    code = code_from(authorize(http))
    sandbox.state.clock.advance(601)
    response = exchange(http, code)
    assert response.status_code == 400
    assert error_type(response) == "invalid_grant"
    assert response.json()["errors"][0]["message"].startswith("Authorization code invalid")


def test_a_code_is_single_use(http: httpx.Client) -> None:
    code = code_from(authorize(http))
    assert exchange(http, code).status_code == 200
    again = exchange(http, code)
    assert again.status_code == 400
    assert error_type(again) == "invalid_grant"


def test_a_wrong_client_secret_is_401_invalid_client_with_basic_challenge(
    http: httpx.Client,
) -> None:
    code = code_from(authorize(http))
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(FITBIT_CLIENT_ID, "not-the-secret"),
    )
    assert response.status_code == 401
    assert error_type(response) == "invalid_client"
    assert response.headers["www-authenticate"] == 'Basic realm="api.fitbit.com"'


def test_missing_refresh_token_parameter_is_invalid_request(http: httpx.Client) -> None:
    response = http.post("/oauth2/token", data={"grant_type": "refresh_token"}, auth=BASIC)
    assert response.status_code == 400
    assert error_type(response) == "invalid_request"
    assert "Missing parameters: refresh_token" in response.text


def test_a_client_app_authenticates_with_client_id_and_pkce(http: httpx.Client) -> None:
    verifier = "v" * 64
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = code_from(
        authorize(
            http, client_id=PUBLIC_CLIENT_ID, code_challenge=challenge, code_challenge_method="S256"
        )
    )
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": PUBLIC_CLIENT_ID,
    }
    wrong = http.post("/oauth2/token", data={**data, "code_verifier": "w" * 64})
    assert wrong.status_code == 400
    assert error_type(wrong) == "invalid_grant"
    code = code_from(
        authorize(
            http, client_id=PUBLIC_CLIENT_ID, code_challenge=challenge, code_challenge_method="S256"
        )
    )
    right = http.post("/oauth2/token", data={**data, "code": code, "code_verifier": verifier})
    assert right.status_code == 200, right.text


def test_refresh_rotates_and_a_spent_refresh_token_is_invalid_grant_after_two_minutes(
    sandbox: Any, http: httpx.Client
) -> None:
    first = login(http)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    sandbox.state.clock.advance(121)
    reused = refresh(http, first["refresh_token"])
    assert reused.status_code == 400
    assert error_type(reused) == "invalid_grant"
    assert reused.json()["errors"][0]["message"].startswith(
        f"Refresh token invalid: {first['refresh_token']}."
    )
    assert refresh(http, second.json()["refresh_token"]).status_code == 200


def test_the_same_refresh_within_two_minutes_returns_the_identical_pair(
    sandbox: Any, http: httpx.Client
) -> None:
    first = login(http)
    original = refresh(http, first["refresh_token"])
    sandbox.state.clock.advance(119)
    replay = refresh(http, first["refresh_token"])
    assert replay.status_code == 200
    assert replay.content == original.content
    auth = fitbit_sandbox(sandbox.state).auth
    assert auth.refresh_spends[first["refresh_token"]] == 1
    assert auth.refresh_replays[first["refresh_token"]] == 1


def test_the_replay_ends_once_the_new_access_token_has_been_used(http: httpx.Client) -> None:
    first = login(http)
    new_pair = refresh(http, first["refresh_token"]).json()
    assert profile(http, new_pair["access_token"]).status_code == 200
    replay = refresh(http, first["refresh_token"])
    assert replay.status_code == 400
    assert error_type(replay) == "invalid_grant"


def test_the_replay_ends_once_the_new_refresh_token_has_been_spent(http: httpx.Client) -> None:
    first = login(http)
    new_pair = refresh(http, first["refresh_token"]).json()
    assert refresh(http, new_pair["refresh_token"]).status_code == 200
    assert refresh(http, first["refresh_token"]).status_code == 400


def test_a_new_authorization_supersedes_the_previous_refresh_token(http: httpx.Client) -> None:
    old = login(http)
    login(http)
    assert refresh(http, old["refresh_token"]).status_code == 400


def test_access_tokens_expire_after_the_configured_lifetime(sandbox_factory: Any) -> None:
    server = sandbox_factory(fitbit_access_token_lifetime_s=3600)
    with httpx.Client(base_url=server.url) as http:
        body = login(http)
        assert body["expires_in"] == 3600
        assert profile(http, body["access_token"]).status_code == 200
        server.state.clock.advance(3600)
        expired = profile(http, body["access_token"])
        assert expired.status_code == 401
        assert error_type(expired) == "expired_token"
        assert expired.json()["errors"][0]["message"].startswith("Access token expired: ")


def test_revoke_kills_every_token_of_the_user(http: httpx.Client) -> None:
    body = login(http)
    response = http.post("/oauth2/revoke", data={"token": body["refresh_token"]}, auth=BASIC)
    assert response.status_code == 200
    dead = profile(http, body["access_token"])
    assert dead.status_code == 401
    assert error_type(dead) == "invalid_token"
    assert refresh(http, body["refresh_token"]).status_code == 400


def test_introspect_reports_active_and_inactive_tokens(http: httpx.Client) -> None:
    body = login(http)
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    active = http.post(
        "/1.1/oauth2/introspect", data={"token": body["access_token"]}, headers=bearer
    )
    assert active.status_code == 200
    assert active.json()["active"] is True
    assert active.json()["user_id"] == "CV5TKH"
    assert "HEART_RATE=READ" in active.json()["scope"]
    inactive = http.post("/1.1/oauth2/introspect", data={"token": "nope"}, headers=bearer)
    assert inactive.json() == {"active": False}


def test_the_consent_page_lets_the_user_untick_a_scope_or_deny(sandbox_factory: Any) -> None:
    server = sandbox_factory(auto_approve=False)
    with httpx.Client(base_url=server.url) as http:
        page = authorize(http)
        assert page.status_code == 200
        assert "Allow" in page.text
        assert "Deny" in page.text
        transaction = re.search(r'name="transaction" value="([^"]+)"', page.text)
        assert transaction is not None
        allowed = http.post(
            "/oauth2/authorize",
            data={
                "transaction": transaction.group(1),
                "decision": "allow",
                "scope_choice": ["heartrate", "profile"],
            },
        )
        token = exchange(http, code_from(allowed)).json()
        assert token["scope"] == "heartrate profile"
        devices = http.get(
            "/1/user/-/devices.json", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert devices.status_code == 403
        assert error_type(devices) == "insufficient_scope"

        page = authorize(http)
        transaction = re.search(r'name="transaction" value="([^"]+)"', page.text)
        assert transaction is not None
        denied = http.post(
            "/oauth2/authorize", data={"transaction": transaction.group(1), "decision": "deny"}
        )
        assert denied.status_code == 302
        assert "error=access_denied" in denied.headers["location"]


def test_the_implicit_flow_answers_in_the_fragment(http: httpx.Client) -> None:
    response = authorize(http, response_type="token", expires_in="604800")
    fragment = parse_qs(urlsplit(response.headers["location"]).fragment)
    assert fragment["expires_in"] == ["604800"]
    assert fragment["user_id"] == ["CV5TKH"]
    assert profile(http, fragment["access_token"][0]).status_code == 200


def test_after_the_shutdown_every_legacy_endpoint_answers_410(sandbox_factory: Any) -> None:
    server = sandbox_factory(fitbit_shutdown=True)
    with httpx.Client(base_url=server.url) as http:
        assert authorize(http).status_code == 410
        assert exchange(http, "whatever").status_code == 410
        assert refresh(http, "whatever").status_code == 410
        assert http.post("/oauth2/revoke", data={"token": "x"}, auth=BASIC).status_code == 410
        assert http.post("/1.1/oauth2/introspect", data={"token": "x"}).status_code == 410
        assert profile(http, "anything").status_code == 410
        heart = http.get("/1/user/-/activities/heart/date/today/1d/1sec.json")
        assert heart.status_code == 410


def test_token_faults_reach_fitbit_tokens(sandbox: Any, http: httpx.Client) -> None:
    """`spoil_token` is how the fault middleware expires or revokes a legacy token mid-run."""
    body = login(http)
    assert spoil_token(sandbox.state, "not-a-fitbit-token", "revoke") is False
    assert spoil_token(sandbox.state, body["access_token"], "expire_token") is True
    assert error_type(profile(http, body["access_token"])) == "expired_token"
    fresh = refresh(http, body["refresh_token"]).json()
    assert spoil_token(sandbox.state, fresh["access_token"], "revoke") is True
    assert error_type(profile(http, fresh["access_token"])) == "invalid_token"
    assert refresh(http, fresh["refresh_token"]).status_code == 400
