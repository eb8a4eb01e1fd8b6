"""The vault file on its own: what it stores, how it is written, what it refuses."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.vault import PendingRefresh, Vault, VaultRecord, split_account_key, vault_files
from heartkeep.errors import AuthError, NoAccounts
from heartkeep.model import TokenSet

KEY = "google-health:4809172653309184512"


def make_record(
    refresh_token: str | None = "1//refresh-one", access_token: str = "ya29.access-one"
) -> VaultRecord:
    return VaultRecord(
        account_key=KEY,
        provider="google-health",
        client=ClientCredentials("client.apps.googleusercontent.com", "client-secret-xyz"),
        tokens=TokenSet(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at_s=1_795_180_000.0,
            scopes=("a", "b"),
            obtained_at_s=1_795_176_400.0,
            refresh_expires_at_s=None,
        ),
        created_at_s=1_795_176_000.0,
        refresh_token_issued_at_s=1_795_176_000.0,
    )


def test_saved_vault_is_private_and_reads_back_identical(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault", KEY)
    record = make_record()
    with vault.lock():
        vault.save(record)
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.directory.stat().st_mode) == 0o700
    assert vault.load() == record
    assert vault_files(vault.directory) == [vault.path]


def test_reprs_never_show_a_secret(tmp_path: Path) -> None:
    record = make_record()
    text = repr(record) + repr(Vault(tmp_path, KEY)) + repr(record.client)
    for secret in ("1//refresh-one", "ya29.access-one", "client-secret-xyz"):
        assert secret not in text


def test_compare_and_set_refuses_to_overwrite_a_refresh_token_it_did_not_spend(
    tmp_path: Path,
) -> None:
    vault = Vault(tmp_path, KEY)
    with vault.lock():
        vault.save(make_record("1//refresh-peer"))
        accepted = vault.compare_and_set("1//refresh-one", make_record("1//refresh-two"))
    assert not accepted
    assert vault.load().tokens.refresh_token == "1//refresh-peer"
    with vault.lock():
        assert vault.compare_and_set("1//refresh-peer", make_record("1//refresh-two"))
    assert vault.load().tokens.refresh_token == "1//refresh-two"


def test_leftover_temporary_from_a_killed_writer_is_ignored_and_cleaned(tmp_path: Path) -> None:
    vault = Vault(tmp_path, KEY)
    with vault.lock():
        vault.save(make_record())
    leftover = vault.path.with_name(vault.path.name + ".dead.tmp")
    leftover.write_bytes(b'{"account_key": "half')
    assert vault_files(tmp_path) == [vault.path]
    assert vault.load() == make_record()
    with vault.lock():
        vault.save(make_record("1//refresh-two"))
    assert not leftover.exists()


def test_missing_and_damaged_vaults_say_what_to_do(tmp_path: Path) -> None:
    vault = Vault(tmp_path, KEY)
    with pytest.raises(NoAccounts, match="auth login"):
        vault.load()
    tmp_path.joinpath(vault.path.name).write_bytes(b"{not json")
    with pytest.raises(AuthError, match="damaged"):
        vault.load()


@pytest.mark.parametrize("key", ["google-health", "google-health:", "x:../../etc", ":abc", "a:b c"])
def test_account_keys_that_are_not_safe_file_names_are_refused(key: str) -> None:
    with pytest.raises(NoAccounts):
        split_account_key(key)


token_text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_categories=("Cs",)),
    min_size=1,
    max_size=80,
)


@given(
    access=token_text,
    refresh=st.none() | token_text,
    expires=st.floats(min_value=0, max_value=4e9, allow_nan=False),
    scopes=st.lists(token_text, max_size=4).map(tuple),
    pending=st.none()
    | st.tuples(st.text("0123456789abcdef", min_size=16, max_size=16), st.floats(0, 4e9)),
)
def test_any_record_survives_the_json_round_trip(
    access: str,
    refresh: str | None,
    expires: float,
    scopes: tuple[str, ...],
    pending: tuple[str, float] | None,
) -> None:
    record = replace(
        make_record(),
        tokens=replace(
            make_record().tokens,
            access_token=access,
            refresh_token=refresh,
            expires_at_s=expires,
            scopes=scopes,
        ),
        pending_refresh=None if pending is None else PendingRefresh(*pending),
    )
    raw = record.to_json()
    orjson.loads(raw)
    assert VaultRecord.from_json(raw) == record


def test_real_provider_tokens_never_go_to_a_sandbox_set_in_the_environment() -> None:
    real = make_record()
    assert replace(real, sandbox_url=None).endpoints_base("http://127.0.0.1:9") is None
    sandboxed = replace(real, sandbox_url="http://127.0.0.1:8000")
    assert sandboxed.endpoints_base(None) == "http://127.0.0.1:8000"
    assert sandboxed.endpoints_base("http://127.0.0.1:9") == "http://127.0.0.1:9"
