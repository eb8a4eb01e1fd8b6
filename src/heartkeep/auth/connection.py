"""An open connection to one account: its endpoints and the `http_client.Auth` to call them with.

This is what the sync side uses: `open_connection(settings, key, clock=...)` returns a frozen
`Connection` whose `auth` is a `VaultAuth`, so every provider request carries a fresh access token
and every refresh follows the vault's rules.
"""

from __future__ import annotations

import msgspec

from heartkeep.auth.endpoints import ProviderEndpoints, endpoints_for
from heartkeep.auth.refresh import DEFAULT_LEEWAY_S, VaultAuth
from heartkeep.auth.token_client import LOGIN_AGAIN, TESTING_HINT
from heartkeep.auth.vault import Vault, connected_accounts
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.errors import NoAccounts, ReauthorizationNeeded, legacy_fitbit_gone


class Connection(msgspec.Struct, frozen=True):
    """One account, ready for requests: pass `auth` to an `http_client.Client` on
    `endpoints.api_base`."""

    account_key: str
    provider: str
    endpoints: ProviderEndpoints
    auth: VaultAuth
    vault: Vault


def open_connection(
    settings: Settings,
    account_key: str,
    *,
    clock: Clock,
    leeway_s: float = DEFAULT_LEEWAY_S,
) -> Connection:
    """Open `account_key`'s vault.  Nothing is sent until the first request needs a token.

    Raises `NoAccounts` when the account is not connected, `ReauthorizationNeeded` when its
    access was already found revoked or expired, `ProviderGone` for a legacy Fitbit account
    whose provider has shut down.
    """
    vault = Vault(settings.vault_dir, account_key)
    if not vault.exists():
        connected = connected_accounts(settings)
        raise NoAccounts(
            f"{account_key} is not connected",
            hint=("Connected: " + ", ".join(connected))
            if connected
            else "Run `heartkeep auth login` first.",
        )
    record = vault.load()
    endpoints = endpoints_for(record.provider, record.endpoints_base(settings.sandbox_url))
    if record.last_error == "invalid_grant":
        raise ReauthorizationNeeded(
            f"access to {account_key} was revoked or expired, {LOGIN_AGAIN}",
            hint=TESTING_HINT if record.provider == "google-health" else None,
            provider_code="invalid_grant",
        )
    if record.last_error == "gone":
        raise legacy_fitbit_gone()
    auth = VaultAuth(
        vault, endpoints, clock=clock, leeway_s=leeway_s, timeout_s=settings.http_timeout_s
    )
    return Connection(
        account_key=account_key,
        provider=record.provider,
        endpoints=endpoints,
        auth=auth,
        vault=vault,
    )
