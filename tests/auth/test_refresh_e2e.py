"""Keeping access alive: lazy refresh, rotation, 401 replay, revocation, shutdown, logout."""

from __future__ import annotations

from dataclasses import replace

import httpx
import orjson
import pytest
from sandbox_login import LoginFn, settings_for

from heartkeep import http_client
from heartkeep.auth import auth_status, connected_accounts, logout, open_connection
from heartkeep.auth.vault import Vault
from heartkeep.config import Settings
from heartkeep.errors import NoAccounts, ProviderGone, ReauthorizationNeeded, TransientError
from heartkeep.https_trust import SchemeTransport
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.server import SandboxServer

IDENTITY = "/v4/users/me/identity"
FITBIT_PROFILE = "/1/user/-/profile.json"


def token_posts(server: SandboxServer) -> int:
    return sum(1 for method, path, _ in server.state.request_log if path.endswith("/token"))


def saved(settings: Settings, server: SandboxServer, key: str) -> dict:
    return orjson.loads(Vault(settings_for(settings, server).vault_dir, key).path.read_bytes())


def test_access_token_is_refreshed_lazily_just_before_expiry(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox).account_key
    connection = open_connection(settings_for(settings, sandbox), key, clock=sandbox.state.clock)
    before = saved(settings, sandbox, key)
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(IDENTITY).status_code == 200
        posts = token_posts(sandbox)
        sandbox.state.clock.advance(1800)
        assert client.get(IDENTITY).status_code == 200
        assert token_posts(sandbox) == posts  # still fresh: nothing spent
        sandbox.state.clock.advance(1600)  # now within 5 minutes of expiry
        assert client.get(IDENTITY).status_code == 200
        assert token_posts(sandbox) == posts + 1
    after = saved(settings, sandbox, key)
    assert after["tokens"]["access_token"] != before["tokens"]["access_token"]
    assert after["tokens"]["refresh_token"] == before["tokens"]["refresh_token"]  # Google keeps it
    assert after["last_refresh_at_s"] == pytest.approx(sandbox.state.clock.now_s())
    assert after["pending_refresh"] is None


def test_fresh_tokens_are_used_without_taking_the_vault_lock(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cron case: a sync with nothing to fetch reads good tokens without the lock (no
    filelock import, no lock file); only a refresh (here, near expiry) takes it."""
    key = login_to(sandbox).account_key
    connection = open_connection(settings_for(settings, sandbox), key, clock=sandbox.state.clock)
    locks: list[str] = []
    real_lock = Vault.lock

    def counted(vault: Vault):  # type: ignore[no-untyped-def]
        locks.append(vault.account_key)
        return real_lock(vault)

    monkeypatch.setattr(Vault, "lock", counted)
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(IDENTITY).status_code == 200
        assert locks == []
        sandbox.state.clock.advance(3400)  # within 5 minutes of expiry
        assert client.get(IDENTITY).status_code == 200
        assert locks == [key]


def test_rotated_refresh_token_is_on_disk_before_the_new_access_token_is_used(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(rotate_refresh_tokens=True)
    key = login_to(server).account_key
    old = saved(settings, server, key)["tokens"]["refresh_token"]
    connection = open_connection(settings_for(settings, server), key, clock=server.state.clock)
    seen_on_disk: list[str] = []

    class CheckDisk(SchemeTransport):
        """Looks at the vault on disk as each request leaves."""

        def handle_request(self, request: http_client.Request) -> http_client.Response:
            seen_on_disk.append(saved(settings, server, key)["tokens"]["refresh_token"])
            return super().handle_request(request)

    server.state.clock.advance(3500)
    with http_client.Client(
        base_url=connection.endpoints.api_base, auth=connection.auth, transport=CheckDisk()
    ) as client:
        assert client.get(IDENTITY).status_code == 200
    new = saved(settings, server, key)["tokens"]["refresh_token"]
    assert new != old
    assert seen_on_disk == [new]
    assert server.state.refresh_uses(old) == 1
    assert server.state.refresh_uses(new) == 0


def test_a_401_triggers_one_refresh_and_the_request_is_replayed(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox).account_key
    connection = open_connection(settings_for(settings, sandbox), key, clock=sandbox.state.clock)
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(IDENTITY).status_code == 200
        sandbox.state.expire_access_tokens()
        posts = token_posts(sandbox)
        assert client.get(IDENTITY).status_code == 200
    assert token_posts(sandbox) == posts + 1
    statuses = [status for _, path, status in sandbox.state.request_log if path == IDENTITY]
    assert statuses[-2:] == [401, 200]


def test_revoked_access_asks_for_a_new_login_and_keeps_the_vault(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox).account_key
    sandboxed = settings_for(settings, sandbox)
    connection = open_connection(sandboxed, key, clock=sandbox.state.clock)
    sandbox.state.revoke_all_tokens(sandbox.state.login_user_id)
    with (
        http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client,
        pytest.raises(ReauthorizationNeeded) as caught,
    ):
        client.get(IDENTITY)
    message = str(caught.value)
    assert "access was revoked or expired, run `heartkeep auth login` again" in message
    assert "'Testing'" in message
    assert "7 days" in message
    assert caught.value.exit_code == 4
    assert connected_accounts(sandboxed) == [key]
    with pytest.raises(ReauthorizationNeeded):
        open_connection(sandboxed, key, clock=sandbox.state.clock)
    (status,) = auth_status(sandboxed, clock=sandbox.state.clock)
    assert any("revoked or expired" in warning for warning in status.warnings)


def test_testing_status_app_warns_and_its_refresh_token_dies_after_seven_days(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    server = sandbox_factory(testing_app=True)
    result = login_to(server)
    now_s = server.state.clock.now_s()
    assert result.refresh_expires_at_s == pytest.approx(now_s + 7 * 86_400, abs=5)
    sandboxed = settings_for(settings, server)
    (status,) = auth_status(sandboxed, clock=server.state.clock)
    assert any("'Testing'" in warning for warning in status.warnings)
    server.state.clock.advance(8 * 86_400)
    connection = open_connection(sandboxed, result.account_key, clock=server.state.clock)
    with pytest.raises(ReauthorizationNeeded, match="7 days"):
        connection.auth.refresh()


def test_token_endpoint_outage_keeps_the_tokens_and_the_next_run_finishes_the_refresh(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox).account_key
    sandboxed = settings_for(settings, sandbox)
    before = saved(settings, sandbox, key)
    sandbox.state.faults.schedule("error_500", 50, path_contains="/token", method="POST")
    connection = open_connection(sandboxed, key, clock=sandbox.state.clock)
    with pytest.raises(TransientError, match="untouched"):
        connection.auth.refresh()
    during = saved(settings, sandbox, key)
    assert during["tokens"] == before["tokens"]
    assert during["pending_refresh"] is not None  # the interrupted refresh is journaled
    sandbox.state.faults.clear()
    again = open_connection(sandboxed, key, clock=sandbox.state.clock)
    with http_client.Client(base_url=again.endpoints.api_base, auth=again.auth) as client:
        assert client.get(IDENTITY).status_code == 200
    after = saved(settings, sandbox, key)
    assert after["pending_refresh"] is None
    assert after["tokens"]["access_token"] != before["tokens"]["access_token"]


def test_two_connections_in_one_process_spend_a_rotating_refresh_token_once(
    sandbox_factory: type[SandboxServer], settings: Settings, login_to: LoginFn
) -> None:
    import threading

    # 12 raw requests on a clock that stands still: the per-second quota is not under test
    server = sandbox_factory(rotate_refresh_tokens=True, per_user_per_second=0)
    key = login_to(server).account_key
    original = saved(settings, server, key)["tokens"]["refresh_token"]
    sandboxed = settings_for(settings, server)
    server.state.clock.advance(3500)
    failures: list[BaseException] = []

    def work() -> None:
        connection = open_connection(sandboxed, key, clock=server.state.clock)
        try:
            with http_client.Client(
                base_url=connection.endpoints.api_base, auth=connection.auth
            ) as client:
                for _ in range(3):
                    assert client.get(IDENTITY).status_code == 200
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert server.state.refresh_uses(original) == 1
    current = saved(settings, server, key)["tokens"]["refresh_token"]
    assert server.state.refresh_uses(current) == 0


def test_fitbit_refresh_rotates_and_spends_each_refresh_token_once(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox, provider="fitbit").account_key
    sandboxed = settings_for(settings, sandbox)
    auth = fitbit_sandbox(sandbox.state).auth
    first = saved(settings, sandbox, key)["tokens"]["refresh_token"]
    connection = open_connection(sandboxed, key, clock=sandbox.state.clock)
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(FITBIT_PROFILE).status_code == 200
        auth.expire_access_tokens()  # 401 expired_token → refresh → replay
        assert client.get(FITBIT_PROFILE).status_code == 200
        second = saved(settings, sandbox, key)["tokens"]["refresh_token"]
        sandbox.state.clock.advance(8 * 3600)  # lazy refresh on expiry
        assert client.get(FITBIT_PROFILE).status_code == 200
    third = saved(settings, sandbox, key)["tokens"]["refresh_token"]
    assert len({first, second, third}) == 3
    assert auth.refresh_spends[first] == 1
    assert auth.refresh_spends[second] == 1
    legacy_id = key.split(":", 1)[1]
    assert auth.active_refresh_tokens(legacy_id) == [third]


def test_fitbit_refresh_after_the_shutdown_raises_provider_gone(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox, provider="fitbit").account_key
    sandboxed = settings_for(settings, sandbox)
    sandbox.state.config = replace(sandbox.state.config, fitbit_shutdown=True)
    connection = open_connection(sandboxed, key, clock=sandbox.state.clock)
    with pytest.raises(ProviderGone, match="switched off on 2026-11-02"):
        connection.auth.refresh()
    with pytest.raises(ProviderGone):
        open_connection(sandboxed, key, clock=sandbox.state.clock)
    # Logging out of a provider that no longer exists still forgets the local tokens.
    assert logout(sandboxed, [key], clock=sandbox.state.clock) == [key]
    assert connected_accounts(sandboxed) == []


def test_logout_revokes_at_the_provider_then_deletes_the_tokens(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox).account_key
    sandboxed = settings_for(settings, sandbox)
    refresh_token = saved(settings, sandbox, key)["tokens"]["refresh_token"]
    sandbox.state.faults.schedule("error_503", 50, path_contains="/revoke", method="POST")
    with pytest.raises(TransientError):
        logout(sandboxed, [key], clock=sandbox.state.clock)
    assert connected_accounts(sandboxed) == [key]  # not revoked, so nothing deleted
    sandbox.state.faults.clear()
    assert logout(sandboxed, [key], clock=sandbox.state.clock) == [key]
    assert connected_accounts(sandboxed) == []
    refused = httpx.post(
        f"{sandbox.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "heartkeep-sandbox.apps.googleusercontent.com",
            "client_secret": "sandbox-google-secret",
        },
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    with pytest.raises(NoAccounts):
        open_connection(sandboxed, key, clock=sandbox.state.clock)


@pytest.mark.parametrize(
    ("provider", "config"),
    [("fitbit", {}), ("google", {"rotate_refresh_tokens": True})],
    ids=["fitbit", "google-rotating"],
)
def test_a_lost_refresh_answer_is_recovered_by_repeating_the_same_request(
    provider: str,
    config: dict,
    sandbox_factory: type[SandboxServer],
    settings: Settings,
    login_to: LoginFn,
) -> None:
    """The server rotated the pair but its answer was cut off: the retry gets the same pair."""
    server = sandbox_factory(**config)
    key = login_to(server, provider=provider).account_key
    spent = saved(settings, server, key)["tokens"]["refresh_token"]
    token_path = "/oauth2/token" if provider == "fitbit" else "/token"
    server.state.faults.schedule("truncate", 1, path_contains=token_path, method="POST")
    connection = open_connection(settings_for(settings, server), key, clock=server.state.clock)
    fresh = connection.auth.refresh()
    assert ("truncate", token_path) in server.state.faults.fired
    assert fresh.refresh_token != spent
    assert saved(settings, server, key)["tokens"]["refresh_token"] == fresh.refresh_token
    path = FITBIT_PROFILE if provider == "fitbit" else IDENTITY
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(path).status_code == 200
    assert connection.auth.refresh().refresh_token != fresh.refresh_token  # still spendable
