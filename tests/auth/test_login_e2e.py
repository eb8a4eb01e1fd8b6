"""Logging in against the sandbox over real loopback HTTP, as a person (or an attacker) would."""

from __future__ import annotations

import stat

import httpx
import orjson
import pytest
from oauth_browser import Browser, ConsentPageBrowser, query_of, s256, with_query
from sandbox_login import LoginFn, settings_for

from heartkeep.auth import GOOGLE_SCOPES, connected_accounts, login
from heartkeep.config import Settings
from heartkeep.errors import (
    AuthorizationFailed,
    ConfigError,
    ProviderGone,
    ScopeMissing,
    TransientError,
)
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.server import SandboxServer


def test_loopback_login_connects_the_google_account_and_keeps_tokens_private(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    browser = Browser()
    result = login_to(sandbox, browser=browser)

    user_id = sandbox.state.login_user_id
    assert result.account_key == f"google-health:{user_id}"
    assert set(result.scopes) == set(GOOGLE_SCOPES)
    assert connected_accounts(settings) == [result.account_key]
    assert stat.S_IMODE(result.vault_path.stat().st_mode) == 0o600
    saved = orjson.loads(result.vault_path.read_bytes())
    assert saved["tokens"]["refresh_token"]
    consent = query_of(browser.consent_urls[0])
    assert consent["access_type"] == "offline"
    assert consent["prompt"] == "consent"
    assert consent["code_challenge_method"] == "S256"
    assert browser.landing is not None
    assert browser.landing.status_code == 200
    assert "You can close this tab" in browser.landing.text


def test_headless_login_reads_back_the_pasted_redirect(
    sandbox: SandboxServer, settings: Settings
) -> None:
    shown: list[str] = []
    result = login(
        settings_for(settings, sandbox),
        clock=sandbox.state.clock,
        no_browser=True,
        show_url=shown.append,
        read_line=Browser().paste_source(shown),
    )
    assert len(shown) == 1
    assert query_of(shown[0])["redirect_uri"] == "http://127.0.0.1:8085/"
    assert result.account_key == f"google-health:{sandbox.state.login_user_id}"


def test_headless_login_accepts_just_the_code(sandbox: SandboxServer, settings: Settings) -> None:
    shown: list[str] = []
    browser = Browser()

    def paste_code() -> str:
        location = browser.consent(shown[-1])
        assert location is not None
        return query_of(location)["code"]

    result = login(
        settings_for(settings, sandbox),
        clock=sandbox.state.clock,
        no_browser=True,
        show_url=shown.append,
        read_line=paste_code,
    )
    assert result.account_key.startswith("google-health:")


def test_redirect_with_a_foreign_state_is_rejected_and_nothing_saved(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    browser = Browser(before_landing=lambda url: with_query(url, state="forged-by-someone"))
    with pytest.raises(AuthorizationFailed, match="state does not match"):
        login_to(sandbox, browser=browser)
    assert browser.landing is not None
    assert browser.landing.status_code == 400
    assert connected_accounts(settings) == []


def test_code_issued_for_another_pkce_challenge_is_rejected(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    attacker_challenge = s256("attacker-verifier-" + "x" * 40)
    browser = Browser(before_consent=lambda url: with_query(url, code_challenge=attacker_challenge))
    with pytest.raises(AuthorizationFailed, match="PKCE code verifier"):
        login_to(sandbox, browser=browser)
    assert connected_accounts(settings) == []


def test_code_older_than_ten_minutes_is_explained(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    browser = Browser(on_redirect=lambda: sandbox.state.clock.advance(11 * 60))
    with pytest.raises(AuthorizationFailed) as caught:
        login_to(sandbox, browser=browser)
    message = str(caught.value)
    assert "expired or was already used" in message
    assert "10 minutes" in message
    assert connected_accounts(settings) == []


def test_unticked_scope_fails_clearly_and_the_partial_grant_is_revoked(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    settings_scope = GOOGLE_SCOPES[1]
    sandbox.state.declined_scopes = {settings_scope}
    with pytest.raises(ScopeMissing, match=r"settings\.readonly"):
        login_to(sandbox)
    assert connected_accounts(settings) == []
    assert all(grant.revoked for grant in sandbox.state.grants.grants.values())


def test_wrong_client_secret_is_a_configuration_error(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    from heartkeep.sandbox import credentials

    with pytest.raises(ConfigError, match="client ID or client secret is wrong") as caught:
        login_to(sandbox, client_id=credentials.GOOGLE_CLIENT_ID, client_secret="not-the-secret")
    assert "not-the-secret" not in str(caught.value)
    assert caught.value.exit_code == 3


def test_token_endpoint_5xx_is_retried_with_backoff_on_the_simulated_clock(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    sandbox.state.faults.schedule("error_503", 2, path_contains="/token", method="POST")
    start_s = sandbox.state.clock.now_s()
    result = login_to(sandbox)
    assert result.account_key.startswith("google-health:")
    fired = [kind for kind, path in sandbox.state.faults.fired if path.endswith("/token")]
    assert fired == ["error_503", "error_503"]
    assert sandbox.state.clock.now_s() > start_s  # the backoff waited on the shared clock


def test_token_endpoint_that_stays_down_gives_a_transient_error(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    sandbox.state.faults.schedule("reset", 50, path_contains="/token", method="POST")
    with pytest.raises(TransientError, match="kept failing") as caught:
        login_to(sandbox)
    assert caught.value.exit_code == 6


def test_fitbit_login_uses_basic_auth_and_keys_the_account_by_legacy_id(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    result = login_to(sandbox, provider="fitbit")
    legacy_id = sandbox.state.users[sandbox.state.login_user_id].legacy_user_id
    assert result.account_key == f"fitbit-legacy:{legacy_id}"
    assert set(result.scopes) == {"heartrate", "profile", "settings"}
    tokens = fitbit_sandbox(sandbox.state).auth.active_refresh_tokens(legacy_id)
    saved = orjson.loads(result.vault_path.read_bytes())
    assert tokens == [saved["tokens"]["refresh_token"]]


def test_fitbit_login_after_the_shutdown_explains_the_migration(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(fitbit_shutdown=True)
    browser = Browser()
    with pytest.raises(ProviderGone, match="2026-11-02") as caught:
        login_to(server, provider="fitbit", browser=browser)
    assert "--provider google" in str(caught.value)
    assert "Takeout" in str(caught.value)
    assert browser.consent_urls == []  # no browser was sent to a dead page
    assert caught.value.exit_code == 5


def test_login_again_replaces_the_tokens_of_the_same_account(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    first = login_to(sandbox)
    before = orjson.loads(first.vault_path.read_bytes())
    second = login_to(sandbox)
    after = orjson.loads(second.vault_path.read_bytes())
    assert first.account_key == second.account_key
    assert before["tokens"]["refresh_token"] != after["tokens"]["refresh_token"]
    assert before["created_at_s"] == after["created_at_s"]
    assert connected_accounts(settings) == [first.account_key]


def test_port_already_taken_is_reported(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port}"):
            login_to(sandbox, port=port)


def test_identity_comes_from_the_api_not_the_client(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    result = login_to(sandbox)
    saved = orjson.loads(result.vault_path.read_bytes())
    response = httpx.get(
        f"{sandbox.url}/v4/users/me/identity",
        headers={"Authorization": f"Bearer {saved['tokens']['access_token']}"},
    )
    assert response.json()["healthUserId"] == result.account_key.split(":", 1)[1]


def test_login_gives_up_when_the_browser_never_comes_back_and_frees_the_port(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    import socket

    shown: list[str] = []
    with pytest.raises(AuthorizationFailed, match="no answer from the browser"):
        login(
            settings_for(settings, sandbox),
            clock=sandbox.state.clock,
            open_browser=lambda url: True,  # a browser that never loads the page
            show_url=shown.append,
            timeout_s=0.3,
        )
    port = int(query_of(shown[0])["redirect_uri"].rsplit(":", 1)[1].strip("/"))
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the one-shot server is gone


def test_callback_server_ignores_stray_requests_until_the_redirect(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    strays: list[int] = []

    def browser_with_favicon(url: str) -> bool:
        redirect_uri = query_of(url)["redirect_uri"]
        strays.append(httpx.get(redirect_uri + "favicon.ico").status_code)
        return Browser()(url)

    result = login(
        settings_for(settings, sandbox),
        clock=sandbox.state.clock,
        open_browser=browser_with_favicon,
        timeout_s=10.0,
    )
    assert strays == [404]
    assert result.account_key.startswith("google-health:")


def test_fitbit_partial_consent_fails_clearly(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    fitbit_sandbox(sandbox.state).auth.withhold_scopes("settings")
    with pytest.raises(ScopeMissing, match="settings"):
        login_to(sandbox, provider="fitbit")
    assert connected_accounts(settings) == []
    legacy_id = sandbox.state.users[sandbox.state.login_user_id].legacy_user_id
    assert fitbit_sandbox(sandbox.state).auth.active_refresh_tokens(legacy_id) == []


def test_fitbit_wrong_client_secret_is_a_configuration_error(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    from heartkeep.sandbox import credentials

    with pytest.raises(ConfigError, match="client ID or client secret is wrong") as caught:
        login_to(
            sandbox,
            provider="fitbit",
            client_id=credentials.FITBIT_CLIENT_ID,
            client_secret="not-the-fitbit-secret",
        )
    assert "not-the-fitbit-secret" not in str(caught.value)


def test_pressing_deny_on_the_consent_page_is_explained(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(auto_approve=False)
    browser = ConsentPageBrowser(decision="deny")
    with pytest.raises(AuthorizationFailed, match="declined"):
        login_to(server, browser=browser)
    assert browser.landing is not None
    assert browser.landing.status_code == 400
    assert connected_accounts(settings) == []


def test_unticking_a_box_on_the_consent_page_is_refused(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(auto_approve=False)
    browser = ConsentPageBrowser(untick=(GOOGLE_SCOPES[2],))
    with pytest.raises(ScopeMissing, match=r"profile\.readonly"):
        login_to(server, browser=browser)
    assert set(browser.shown_scopes) == set(GOOGLE_SCOPES)  # heartkeep asked for just these
    assert connected_accounts(settings) == []


def test_allowing_everything_on_the_consent_page_connects(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(auto_approve=False)
    result = login_to(server, browser=ConsentPageBrowser())
    assert set(result.scopes) == set(GOOGLE_SCOPES)
