"""`auth status` names the access token's state from an injected clock: valid until its expiry
instant, then expired (renewed by itself), refused when the provider refused the grant, unusable
when nothing can renew it — never "expired" an hour early, never "expired" when refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from heartkeep import api
from heartkeep.auth import open_connection
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.status import access_state
from heartkeep.auth.vault import VaultRecord
from heartkeep.errors import ReauthorizationNeeded
from heartkeep.model import TokenSet


def test_the_state_follows_the_simulated_clock(world_factory) -> None:
    world = world_factory()
    (status,) = api.auth_status(world.settings, clock=world.clock)
    assert status.access_state == "valid"
    expires_s = status.access_expires_at_s
    assert expires_s > world.clock.now_s()
    world.clock.advance(expires_s - world.clock.now_s() - 1)  # one second before the expiry
    (status,) = api.auth_status(world.settings, clock=world.clock)
    assert (status.access_state, status.access_valid) == ("valid", True)
    world.clock.advance(2)
    (status,) = api.auth_status(world.settings, clock=world.clock)
    assert (status.access_state, status.access_valid) == ("expired", False)
    assert status.warnings == ()  # the next command renews it: nothing for the person to do


def test_a_refused_grant_is_refused_not_expired_before_its_expiry(world_factory) -> None:
    world = world_factory()
    world.state.revoke_all_tokens(world.user_id)
    with pytest.raises(ReauthorizationNeeded):
        open_connection(world.settings, world.account_key, clock=world.clock).auth.refresh()
    (status,) = api.auth_status(world.settings, clock=world.clock)
    assert status.access_expires_at_s > world.clock.now_s()
    assert status.access_state == "refused"
    assert any("auth login" in warning for warning in status.warnings)


def _record(**changes: object) -> VaultRecord:
    tokens = TokenSet(
        access_token="a",
        refresh_token="r",
        expires_at_s=1000.0,
        scopes=(),
        obtained_at_s=0.0,
    )
    record = VaultRecord(
        account_key="google-health:1",
        provider="google-health",
        client=ClientCredentials("id", None),
        tokens=tokens,
        created_at_s=0.0,
        refresh_token_issued_at_s=0.0,
    )
    token_changes = {k: v for k, v in changes.items() if k in ("refresh_token", "expires_at_s")}
    record_changes = {k: v for k, v in changes.items() if k not in token_changes}
    return replace(record, tokens=replace(tokens, **token_changes), **record_changes)  # type: ignore[arg-type]


@given(
    now_s=st.floats(min_value=0, max_value=2000, allow_nan=False),
    last_error=st.sampled_from([None, "invalid_grant", "gone"]),
    refresh_token=st.sampled_from([None, "r"]),
)
def test_only_a_usable_unexpired_token_is_valid(
    now_s: float, last_error: str | None, refresh_token: str | None
) -> None:
    record = _record(last_error=last_error, refresh_token=refresh_token)
    state = access_state(record, now_s)
    assert (state == "valid") == (now_s < 1000.0 and last_error is None)
    if last_error == "invalid_grant":
        assert state == "refused"
    elif now_s >= 1000.0:
        renewable = last_error is None and refresh_token is not None
        assert state == ("expired" if renewable else "unusable")
    elif last_error == "gone":
        assert state == "unusable"
