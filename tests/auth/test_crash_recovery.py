"""kill -9 at every step of a refresh never costs the person their access.

A subprocess refreshes the account against the sandbox served by this test and is killed with
SIGKILL at a named step (`heartkeep.auth.crashpoints`).  Afterwards the vault is private, valid
JSON, and the next run simply continues — for Google (refresh tokens kept), for a Google sandbox
that rotates refresh tokens, and for Fitbit's single-use refresh tokens with their 2-minute
replay.  Two processes refreshing at once never spend the same refresh token twice.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from sandbox_login import LoginFn, settings_for

from heartkeep import http_client
from heartkeep.auth import auth_status, open_connection
from heartkeep.auth.crashpoints import CRASH_ENV, STEPS
from heartkeep.auth.vault import Vault
from heartkeep.config import Settings
from heartkeep.errors import ReauthorizationNeeded
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.server import SandboxServer

CHILD = Path(__file__).with_name("refresh_child.py")
IDENTITY = "/v4/users/me/identity"
FITBIT_PROFILE = "/1/user/-/profile.json"

# Several clients fire raw requests at a clock that stands still, so the sandbox's per-second
# quota (2.5/s, burst 5) would answer 429: switched off, it is not what these tests are about.
WORLDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "google": ("google", {"per_user_per_second": 0}, IDENTITY),
    "google-rotating": (
        "google",
        {"rotate_refresh_tokens": True, "per_user_per_second": 0},
        IDENTITY,
    ),
    "fitbit": ("fitbit", {}, FITBIT_PROFILE),
}


def logins(server: SandboxServer) -> int:
    """Visits to either consent page (Google's or Fitbit's)."""
    return server.state.requests_to("/o/oauth2/v2/auth") + server.state.requests_to(
        "/oauth2/authorize"
    )


def run_child(
    server: SandboxServer, *args: str, crash_at: str | None = None, later_s: float = 0.0
) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != CRASH_ENV}
    env["HEARTKEEP_SANDBOX_URL"] = server.url
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(server.state.clock.now_s() + later_s), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def vault_document(settings: Settings, server: SandboxServer, key: str) -> dict[str, Any]:
    path = Vault(settings_for(settings, server).vault_dir, key).path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return orjson.loads(path.read_bytes())


def active_refresh_token_is_on_disk(world: str, server: SandboxServer, disk: str) -> bool:
    if world == "fitbit":
        legacy_id = server.state.users[server.state.login_user_id].legacy_user_id
        return fitbit_sandbox(server.state).auth.active_refresh_tokens(legacy_id) == [disk]
    record = server.state.grants.refresh_tokens[disk]
    return not record.revoked and record.successor is None


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("world", list(WORLDS))
def test_refresh_killed_at_any_step_is_continued_by_the_next_run_without_a_login(
    world: str, step: str, sandbox_factory: Any, settings: Settings, login_to: LoginFn
) -> None:
    provider, config, path = WORLDS[world]
    server: SandboxServer = sandbox_factory(**config)
    key = login_to(server, provider=provider).account_key
    logins_before = logins(server)

    child = run_child(server, key, "force", crash_at=step)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, stderr.decode()

    document = vault_document(settings, server, key)  # private and valid JSON after the kill
    assert document["tokens"]["refresh_token"]
    leftovers = list(Path(settings_for(settings, server).vault_dir).glob("*.tmp"))
    assert leftovers == [] or step in {"during-write", "during-journal-write"}

    if document["pending_refresh"] is not None:
        (status,) = auth_status(settings_for(settings, server), clock=server.state.clock)
        assert any("refresh was interrupted" in warning for warning in status.warnings)
    connection = open_connection(settings_for(settings, server), key, clock=server.state.clock)
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        assert client.get(path).status_code == 200
        connection.auth.refresh()  # the refresh token on disk is still good to spend
        assert client.get(path).status_code == 200
    after = vault_document(settings, server, key)
    assert after["pending_refresh"] is None
    assert active_refresh_token_is_on_disk(world, server, after["tokens"]["refresh_token"])
    assert logins(server) == logins_before  # nobody had to log in again


def test_fitbit_refresh_interrupted_longer_than_its_replay_window_is_explained(
    sandbox: SandboxServer, settings: Settings, login_to: LoginFn
) -> None:
    key = login_to(sandbox, provider="fitbit").account_key
    child = run_child(sandbox, key, "force", crash_at="after-response")
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    sandbox.state.clock.advance(180)
    connection = open_connection(settings_for(settings, sandbox), key, clock=sandbox.state.clock)
    with pytest.raises(ReauthorizationNeeded, match="only 2 minutes"):
        connection.auth.tokens()


@pytest.mark.parametrize("world", ["google-rotating", "fitbit"])
def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(
    world: str, sandbox_factory: Any, settings: Settings, login_to: LoginFn
) -> None:
    provider, config, path = WORLDS[world]
    server: SandboxServer = sandbox_factory(**config)
    key = login_to(server, provider=provider).account_key
    original = vault_document(settings, server, key)["tokens"]["refresh_token"]
    token_posts_before = server.state.requests_to("/token")

    # The children's clocks stand past the access token's expiry: both race to refresh it.
    later_s = 9 * 3600.0
    server.state.clock.advance(later_s)
    children = [run_child(server, key, "lazy", path, "5") for _ in range(2)]
    for child in children:
        _, stderr = child.communicate(timeout=60)
        assert child.returncode == 0, stderr.decode()

    assert server.state.requests_to("/token") == token_posts_before + 1
    if world == "fitbit":
        spends = fitbit_sandbox(server.state).auth.refresh_spends
        assert spends[original] == 1
    else:
        assert server.state.refresh_uses(original) == 1
    disk = vault_document(settings, server, key)["tokens"]["refresh_token"]
    assert disk != original
    assert active_refresh_token_is_on_disk(world, server, disk)
