"""A damaged vault never locks anyone out; forgetting tokens works without the provider.

As a person meets it, through the CLI against a sandbox on loopback: a vault file emptied,
overwritten or cut off makes `auth status` and `sync` name the account and the way back (exit 4),
`auth login` sets the damaged file aside and connects again, and the next sync works.  `auth
logout --local` forgets tokens when the provider is unreachable; plain `logout` suggests it.
The CLI runs on the system clock, so the sandbox runs on wall time pinned to a fixed instant.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.auth.vault import Vault, account_key_of_file
from heartkeep.cli import app
from heartkeep.clock import FakeClock
from heartkeep.errors import TransientError, VaultDamaged

DAMAGE = {
    "empty": lambda good: b"",
    "garbage": lambda good: b"\x00\xff\x13 not a vault \x00",
    "cut-off JSON": lambda good: good[: len(good) // 2],
    "JSON of another shape": lambda good: b"[1, 2, 3]\n",
}


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def vault_path(world: Any) -> Path:
    return Vault(world.settings.vault_dir, world.account_key).path


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_every_kind_of_damage_is_named_as_such(kind: str, tmp_path: Path) -> None:
    good = b'{"format": 1, "account_key": "google-health:1", "tokens": {"access_token": "x"}}'
    vault = Vault(tmp_path, "google-health:1")
    tmp_path.mkdir(exist_ok=True)
    vault.path.write_bytes(DAMAGE[kind](good))
    with pytest.raises(VaultDamaged) as caught:
        vault.load()
    assert caught.value.exit_code == 4
    assert caught.value.account_key == "google-health:1"
    assert str(vault.path) in caught.value.message
    assert "heartkeep auth login" in (caught.value.hint or "")


def test_a_damaged_vault_is_named_by_status_and_sync_and_replaced_by_login(wall_world) -> None:
    path = vault_path(wall_world)
    damaged = DAMAGE["cut-off JSON"](path.read_bytes())
    path.write_bytes(damaged)
    key = wall_world.account_key

    status = run("auth", "status")
    assert status.exit_code == 4, status.output
    assert key in status.stderr
    assert "damaged" in status.stderr
    assert "heartkeep auth login" in status.stderr
    assert "No account is connected" not in status.output
    no_traceback(status)

    as_json = run("auth", "status", "--json")
    assert as_json.exit_code == 4
    (entry,) = orjson.loads(as_json.stdout)
    assert entry["account"] == key
    assert entry["access_state"] == "damaged"
    assert entry["error"]["exit_code"] == 4
    assert entry["vault_path"] == str(path)

    sync = run("sync")
    assert sync.exit_code == 4, sync.output
    assert key in sync.stderr
    assert "damaged" in sync.stderr
    assert "no account is connected" not in sync.output.lower()
    no_traceback(sync)
    sync_json = run("sync", "--json")
    assert sync_json.exit_code == 4
    (account,) = orjson.loads(sync_json.stdout)["accounts"]
    assert account["account"] == key
    assert account["status"] == "failed"

    login = run("auth", "login")
    assert login.exit_code == 0, login.output
    kept = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.damaged-")]
    assert len(kept) == 1
    assert kept[0].read_bytes() == damaged  # nothing of the old file is lost
    assert str(kept[0]) in login.stderr
    assert run("auth", "status").exit_code == 0
    again = run("sync")
    assert again.exit_code == 0, again.output


def test_logout_local_forgets_a_damaged_vault(wall_world) -> None:
    vault_path(wall_world).write_bytes(b"")
    result = run("auth", "logout", "--local")
    assert result.exit_code == 0, result.output
    assert not vault_path(wall_world).exists()
    assert "No account is connected" in run("auth", "status").output


def test_logout_local_works_with_the_provider_stopped_and_says_where_to_revoke(
    wall_world,
) -> None:
    wall_world.server.stop()
    result = run("auth", "logout", "--local")
    assert result.exit_code == 0, result.output
    assert "https://myaccount.google.com/permissions" in result.output
    assert "may stay valid" in result.output
    assert not vault_path(wall_world).exists()


def test_logout_with_the_provider_stopped_keeps_the_tokens_and_suggests_local(
    wall_world,
) -> None:
    wall_world.server.stop()
    # A clock that never really waits: the token endpoint's retries pass in no time.
    with pytest.raises(TransientError) as caught:
        api.logout(wall_world.settings, clock=FakeClock())
    assert f"heartkeep auth logout --local {wall_world.account_key}" in (caught.value.hint or "")
    assert "Nothing was deleted" in (caught.value.hint or "")
    assert vault_path(wall_world).exists()


def test_status_marks_sandbox_accounts_and_shows_a_valid_token_as_valid(wall_world) -> None:
    result = run("auth", "status")
    assert result.exit_code == 0, result.output
    assert f"{wall_world.account_key} (sandbox)" in result.output
    (entry,) = orjson.loads(run("auth", "status", "--json").stdout)
    assert entry["sandbox_url"] == wall_world.server.url
    assert entry["access_state"] == "valid"
    # Google's access tokens live 3599 s: the expiry is about an hour after the pinned 12:00.
    tokens = Vault(wall_world.settings.vault_dir, wall_world.account_key).load().tokens
    shown = dt.datetime.fromtimestamp(tokens.expires_at_s, dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert shown.startswith(("2026-11-20 12:59", "2026-11-20 13:0"))
    assert f"access token   valid until {shown} UTC" in result.output


def test_a_vault_that_cannot_be_read_is_named_too(tmp_path: Path) -> None:
    vault = Vault(tmp_path, "google-health:1")
    vault.path.mkdir()  # a folder where the file should be: read fails with an OSError
    with pytest.raises(VaultDamaged) as caught:
        vault.load()
    assert "cannot be read" in caught.value.message


_IDS = st.from_regex(r"[A-Za-z0-9._-]{1,40}", fullmatch=True)


@given(provider=st.sampled_from(["google-health", "fitbit-legacy"]), user_id=_IDS)
def test_a_vault_file_name_always_names_its_account(provider: str, user_id: str) -> None:
    """Damaged content cannot say whose it was; the file name must, for every valid key."""
    key = f"{provider}:{user_id}"
    assert account_key_of_file(Vault(Path("/vault"), key).path) == key
