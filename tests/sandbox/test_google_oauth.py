"""The sandbox's Google OAuth endpoints, driven over loopback HTTP as a desktop client would."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import httpx
import pytest
from sandbox_tokens import (
    ACTIVITY,
    HEALTH,
    HEARTKEEP_SCOPES,
    PROFILE,
    REDIRECT,
    SETTINGS,
    api,
    authorize,
    exchange,
    grant,
    new_verifier,
    redirect_query,
    refresh,
)

from heartkeep.sandbox.credentials import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_WEB_CLIENT_ID,
    GOOGLE_WEB_CLIENT_SECRET,
)
from heartkeep.sandbox.server import SandboxServer


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error", "error_description"}
    return response.status_code, body["error"], body["error_description"]


def test_code_flow_with_pkce_gives_tokens_that_read_the_api(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    query = redirect_query(authorize(sandbox, verifier=verifier, state="xyz"))
    assert query["state"] == "xyz"
    assert query["scope"].split() == list(HEARTKEEP_SCOPES)
    response = exchange(sandbox, query["code"], verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert tokens["expires_in"] == 3599
    assert tokens["token_type"] == "Bearer"
    assert set(tokens["scope"].split()) == set(HEARTKEEP_SCOPES)
    with api(sandbox, tokens["access_token"]) as client:
        identity = client.get("/v4/users/me/identity").json()
    assert identity["healthUserId"] in sandbox.state.users


def test_redirect_keeps_the_loopback_port_and_path_of_a_desktop_client(
    sandbox: SandboxServer,
) -> None:
    for uri in ("http://127.0.0.1:1/", "http://localhost:65000/cb", "http://[::1]:8080/"):
        response = authorize(sandbox, verifier=new_verifier(), redirect_uri=uri)
        assert response.headers["location"].startswith(uri + "?code=")


@pytest.mark.parametrize(
    "uri", ["https://example.com/cb", "http://192.168.1.2:8080/", "http://127.0.0.1:80/#frag"]
)
def test_a_non_loopback_redirect_gets_an_error_page_not_a_redirect(
    sandbox: SandboxServer, uri: str
) -> None:
    response = authorize(sandbox, verifier=new_verifier(), redirect_uri=uri)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "redirect_uri_mismatch" in response.text


def test_web_clients_need_an_exactly_registered_redirect(sandbox: SandboxServer) -> None:
    loopback = authorize(
        sandbox, client_id=GOOGLE_WEB_CLIENT_ID, verifier=new_verifier(), redirect_uri=REDIRECT
    )
    assert loopback.status_code == 400
    verifier = new_verifier()
    ok = authorize(
        sandbox,
        client_id=GOOGLE_WEB_CLIENT_ID,
        verifier=verifier,
        redirect_uri="https://www.google.com",
    )
    code = redirect_query(ok)["code"]
    tokens = exchange(
        sandbox,
        code,
        verifier,
        redirect_uri="https://www.google.com",
        client_id=GOOGLE_WEB_CLIENT_ID,
        client_secret=GOOGLE_WEB_CLIENT_SECRET,
    )
    assert tokens.status_code == 200


def test_unknown_client_gets_an_error_page(sandbox: SandboxServer) -> None:
    response = authorize(sandbox, client_id="nobody.apps.googleusercontent.com")
    assert response.status_code == 401
    assert "invalid_client" in response.text


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"scope": ""}, "Missing required parameter: scope"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope"),
        ({}, "Missing required parameter: code_challenge"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "S512"}, "code_challenge_method"),
    ],
)
def test_malformed_authorization_requests_get_an_error_page(
    sandbox: SandboxServer, params: dict[str, str], fragment: str
) -> None:
    response = httpx.get(
        sandbox.url + "/o/oauth2/v2/auth",
        params={
            "client_id": GOOGLE_CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": HEALTH,
            **params,
        },
    )
    assert response.status_code == 400
    assert fragment in response.text


def test_wrong_response_type_redirects_with_the_error(sandbox: SandboxServer) -> None:
    response = authorize(sandbox, verifier=new_verifier(), response_type="token")
    assert redirect_query(response) == {"error": "unsupported_response_type", "state": "state-123"}


def test_pkce_verifier_is_checked(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    assert _error(exchange(sandbox, code, None)) == (400, "invalid_grant", "Missing code verifier.")
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    wrong = exchange(sandbox, code, new_verifier())
    assert _error(wrong) == (400, "invalid_grant", "Invalid code verifier.")
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    assert _error(exchange(sandbox, code, "short"))[1] == "invalid_grant"


def test_plain_pkce_is_accepted(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    response = authorize(sandbox, code_challenge=verifier, code_challenge_method="plain")
    code = redirect_query(response)["code"]
    assert exchange(sandbox, code, verifier).status_code == 200


def test_a_code_is_single_use_and_short_lived(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    assert exchange(sandbox, code, verifier).status_code == 200
    assert _error(exchange(sandbox, code, verifier))[:2] == (400, "invalid_grant")
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    sandbox.state.clock.advance(601)  # type: ignore[attr-defined]
    assert _error(exchange(sandbox, code, verifier))[:2] == (400, "invalid_grant")
    assert _error(exchange(sandbox, "4/garbage", verifier)) == (
        400,
        "invalid_grant",
        "Malformed auth code.",
    )


def test_replaying_a_code_kills_the_tokens_it_gave(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    tokens = exchange(sandbox, code, verifier).json()
    exchange(sandbox, code, verifier)
    assert _error(refresh(sandbox, tokens["refresh_token"]))[1] == "invalid_grant"


def test_the_redirect_uri_must_match_the_authorization_request(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    response = exchange(sandbox, code, verifier, redirect_uri="http://127.0.0.1:9999/")
    assert _error(response)[:2] == (400, "redirect_uri_mismatch")


def test_client_authentication(sandbox: SandboxServer) -> None:
    verifier = new_verifier()
    code = redirect_query(authorize(sandbox, verifier=verifier))["code"]
    wrong = exchange(sandbox, code, verifier, client_secret="nope")
    assert _error(wrong) == (401, "invalid_client", "Unauthorized")
    unknown = exchange(sandbox, code, verifier, client_id="who.apps.googleusercontent.com")
    assert _error(unknown) == (401, "invalid_client", "The OAuth client was not found.")
    basic = base64.b64encode(
        f"{quote(GOOGLE_CLIENT_ID)}:{quote(GOOGLE_CLIENT_SECRET)}".encode()
    ).decode()
    response = httpx.post(
        sandbox.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, (400, "invalid_request", "Missing required parameter: grant_type")),
        ({"grant_type": "password"}, (400, "unsupported_grant_type", "Invalid grant_type: password")),  # noqa: E501
        ({"grant_type": "authorization_code"}, (400, "invalid_request", "Missing required parameter: code")),  # noqa: E501
        ({"grant_type": "refresh_token"}, (400, "invalid_request", "Missing required parameter: refresh_token")),  # noqa: E501
        ({"grant_type": "refresh_token", "refresh_token": "1//garbage"}, (400, "invalid_grant", "Bad Request")),  # noqa: E501
    ],
)  # fmt: skip
def test_token_endpoint_errors(
    sandbox: SandboxServer, data: dict[str, str], expected: tuple[int, str, str]
) -> None:
    response = httpx.post(
        sandbox.url + "/token",
        data={"client_id": GOOGLE_CLIENT_ID, "client_secret": GOOGLE_CLIENT_SECRET, **data},
    )
    assert _error(response) == expected


def test_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(
    sandbox: SandboxServer,
) -> None:
    tokens = grant(sandbox)
    for _ in range(3):
        response = refresh(sandbox, tokens["refresh_token"])
        body = response.json()
        assert response.status_code == 200
        assert "refresh_token" not in body  # Google does not rotate
        assert body["access_token"] != tokens["access_token"]
    assert sandbox.state.refresh_uses(tokens["refresh_token"]) == 3


def test_refresh_can_narrow_the_scope(sandbox: SandboxServer) -> None:
    tokens = grant(sandbox)
    narrowed = httpx.post(
        sandbox.url + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": GOOGLE_CLIENT_ID,
            "client_secret": GOOGLE_CLIENT_SECRET,
            "scope": HEALTH,
        },
    ).json()
    assert narrowed["scope"] == HEALTH
    wider = httpx.post(
        sandbox.url + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": GOOGLE_CLIENT_ID,
            "client_secret": GOOGLE_CLIENT_SECRET,
            "scope": ACTIVITY,
        },
    )
    assert _error(wider)[1] == "invalid_scope"


def test_access_tokens_expire_after_their_lifetime(sandbox_factory) -> None:
    server = sandbox_factory(access_token_lifetime_s=600)
    tokens = grant(server)
    assert tokens["expires_in"] == 599
    with api(server, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 200
        server.state.clock.advance(600)
        expired = client.get("/v4/users/me/identity")
    assert expired.status_code == 401
    assert "invalid_token" in expired.headers["www-authenticate"]


def test_testing_app_refresh_tokens_die_after_seven_days(sandbox_factory) -> None:
    server = sandbox_factory(testing_app=True)
    tokens = grant(server)
    assert tokens["refresh_token_expires_in"] == 7 * 86400 - 1
    server.state.clock.advance(6 * 86400)
    again = refresh(server, tokens["refresh_token"]).json()
    assert again["refresh_token_expires_in"] == 86400 - 1
    server.state.clock.advance(86400)
    assert _error(refresh(server, tokens["refresh_token"])) == (
        400,
        "invalid_grant",
        "Token has been expired or revoked.",
    )


def test_published_app_refresh_tokens_outlive_a_week_but_not_six_idle_months(
    sandbox: SandboxServer,
) -> None:
    tokens = grant(sandbox)
    assert "refresh_token_expires_in" not in tokens
    sandbox.state.clock.advance(30 * 86400)  # type: ignore[attr-defined]
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 200
    sandbox.state.clock.advance(184 * 86400)  # type: ignore[attr-defined]
    assert _error(refresh(sandbox, tokens["refresh_token"]))[1] == "invalid_grant"


def test_offline_access_and_shown_consent_are_needed_for_a_refresh_token(
    sandbox: SandboxServer,
) -> None:
    online = grant(sandbox, access_type="online")
    assert "refresh_token" not in online
    # The app is now known: without prompt=consent Google skips the screen and gives no
    # refresh token; with it, a new one.
    again = grant(sandbox, prompt="")
    assert "refresh_token" not in again
    assert "refresh_token" in grant(sandbox, prompt="consent")


def test_revoke_kills_access_and_refresh_tokens(sandbox: SandboxServer) -> None:
    tokens = grant(sandbox)
    response = httpx.post(sandbox.url + "/revoke", data={"token": tokens["refresh_token"]})
    assert response.status_code == 200
    with api(sandbox, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 401
    assert _error(refresh(sandbox, tokens["refresh_token"])) == (
        400,
        "invalid_grant",
        "Token has been expired or revoked.",
    )
    again = httpx.post(sandbox.url + "/revoke", params={"token": tokens["access_token"]})
    assert _error(again) == (400, "invalid_token", "Token expired or revoked")


def test_revoking_the_access_token_revokes_the_grant(sandbox: SandboxServer) -> None:
    tokens = grant(sandbox)
    assert httpx.post(sandbox.url + "/revoke", data={"token": tokens["access_token"]}).is_success
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 400


def test_state_hooks_revoke_and_expire(sandbox: SandboxServer) -> None:
    tokens = grant(sandbox)
    user_id = next(iter(sandbox.state.users))
    sandbox.state.expire_access_tokens()
    with api(sandbox, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 401
    fresh = refresh(sandbox, tokens["refresh_token"]).json()
    sandbox.state.revoke_all_tokens(user_id)
    with api(sandbox, fresh["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 401
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 400


def test_a_declined_scope_is_left_out_of_the_grant(sandbox: SandboxServer) -> None:
    sandbox.state.declined_scopes.add(PROFILE)
    tokens = grant(sandbox)
    assert set(tokens["scope"].split()) == {HEALTH, SETTINGS}
    with api(sandbox, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/profile").status_code == 403


def test_declining_every_scope_is_access_denied(sandbox: SandboxServer) -> None:
    sandbox.state.declined_scopes.update(HEARTKEEP_SCOPES)
    query = redirect_query(authorize(sandbox, verifier=new_verifier()))
    assert query == {"error": "access_denied", "state": "state-123"}


def _consent_form(page: str) -> dict[str, str]:
    return {"consent_id": re.search(r'name="consent_id" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]


def test_the_consent_page_lets_a_person_allow_some_scopes(sandbox_factory) -> None:
    server = sandbox_factory(auto_approve=False)
    verifier = new_verifier()
    page = authorize(server, verifier=verifier)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Allow" in page.text
    assert "Deny" in page.text
    for scope in HEARTKEEP_SCOPES:
        assert f'value="{scope}" checked' in page.text
    form = {**_consent_form(page.text), "decision": "allow", "scope": HEALTH}
    decided = httpx.post(server.url + "/o/oauth2/v2/auth", data=form)
    query = redirect_query(decided)
    assert query["scope"] == HEALTH
    assert query["state"] == "state-123"
    tokens = exchange(server, query["code"], verifier).json()
    assert tokens["scope"] == HEALTH
    assert "refresh_token" in tokens


def test_the_consent_page_deny_button_redirects_access_denied(sandbox_factory) -> None:
    server = sandbox_factory(auto_approve=False)
    page = authorize(server, verifier=new_verifier())
    form = {**_consent_form(page.text), "decision": "deny"}
    query = redirect_query(httpx.post(server.url + "/o/oauth2/v2/auth", data=form))
    assert query == {"error": "access_denied", "state": "state-123"}
    replay = httpx.post(server.url + "/o/oauth2/v2/auth", data=form)
    assert replay.status_code == 400


def test_rotation_issues_a_new_refresh_token_and_kills_the_old(sandbox_factory) -> None:
    server = sandbox_factory(rotate_refresh_tokens=True)
    first = grant(server)["refresh_token"]
    rotated = refresh(server, first).json()
    second = rotated["refresh_token"]
    assert second != first
    # Within two minutes, the same request gets the identical answer (a lost response).
    server.state.clock.advance(100)
    assert refresh(server, first).json() == rotated
    # Once the new refresh token has been used, the old one is dead for good.
    third = refresh(server, second).json()["refresh_token"]
    assert _error(refresh(server, first))[1] == "invalid_grant"
    assert refresh(server, third).status_code == 200
    assert server.state.refresh_uses(first) == 3
    assert server.state.refresh_uses(second) == 1


def test_rotation_replay_window_closes_after_two_minutes_or_on_use(sandbox_factory) -> None:
    server = sandbox_factory(rotate_refresh_tokens=True)
    first = grant(server)["refresh_token"]
    rotated = refresh(server, first).json()
    server.state.clock.advance(121)
    assert _error(refresh(server, first))[1] == "invalid_grant"
    second = rotated["refresh_token"]
    again = refresh(server, second).json()
    with api(server, again["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 200
    # The new access token was used: replaying `second` is refused even within the window.
    assert _error(refresh(server, second))[1] == "invalid_grant"


def test_login_hint_picks_the_user(sandbox_factory) -> None:
    import datetime as dt

    from heartkeep.sandbox.physiology import UserSpec

    users = tuple(
        UserSpec(
            health_user_id=f"90000000000000000{i}",
            legacy_user_id=f"AB{i}CDE",
            display_name=f"Person {i}",
            time_zone="Europe/Berlin",
            member_since=dt.date(2026, 10, 1),
            seed=i,
        )
        for i in range(2)
    )
    server = sandbox_factory(users=users)
    tokens = grant(server, login_hint="AB1CDE")
    with api(server, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/identity").json()["healthUserId"] == users[1].health_user_id
        other = client.get(f"/v4/users/{users[0].health_user_id}/profile")
    assert other.status_code == 403


def test_the_oldest_refresh_tokens_die_beyond_the_per_user_cap(sandbox_factory) -> None:
    server = sandbox_factory(max_refresh_tokens_per_grant=2)
    first, second, third = (grant(server)["refresh_token"] for _ in range(3))
    assert _error(refresh(server, first))[1] == "invalid_grant"
    assert refresh(server, second).status_code == 200
    assert refresh(server, third).status_code == 200


def test_tokens_issued_directly_behave_like_flow_tokens(sandbox: SandboxServer) -> None:
    user_id = next(iter(sandbox.state.users))
    tokens = sandbox.state.issue_tokens(user_id, (HEALTH,))
    assert tokens["scope"] == HEALTH
    with api(sandbox, tokens["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 200
        assert client.get("/v4/users/me/settings").status_code == 403
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 200


def test_prompt_none_needs_an_earlier_consent(sandbox: SandboxServer) -> None:
    first = authorize(sandbox, verifier=new_verifier(), prompt="none")
    assert redirect_query(first) == {"error": "consent_required", "state": "state-123"}
    grant(sandbox)
    again = redirect_query(authorize(sandbox, verifier=new_verifier(), prompt="none"))
    assert "code" in again


def test_incremental_authorization_keeps_earlier_scopes(sandbox: SandboxServer) -> None:
    grant(sandbox, scopes=(HEALTH,))
    added = grant(sandbox, scopes=(SETTINGS,), include_granted_scopes="true")
    assert set(added["scope"].split()) == {HEALTH, SETTINGS}
    alone = grant(sandbox, scopes=(PROFILE,))
    assert alone["scope"] == PROFILE
