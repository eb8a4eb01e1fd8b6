"""Authorization: OAuth flows, the token vault and the `http_client.Auth` that keeps tokens fresh.

The sync side needs only `open_connection` and `connected_accounts`; `api.py` wires `login`,
`auth_status` and `logout` for the CLI.  Invariant kept here: a valid refresh token is durable on
disk at every instant (see `vault.py` and `refresh.py`).

The names below load on first use, so that reading which accounts have a vault does not load
the OAuth flows and their HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heartkeep.lazy_names import on_first_use

if TYPE_CHECKING:  # what `__getattr__` loads on first use, spelled out for type checkers
    from heartkeep.auth.accounts import connected_accounts as connected_accounts
    from heartkeep.auth.client_secrets import ClientCredentials as ClientCredentials
    from heartkeep.auth.client_secrets import read_client_file as read_client_file
    from heartkeep.auth.client_secrets import resolve_client as resolve_client
    from heartkeep.auth.connection import Connection as Connection
    from heartkeep.auth.connection import open_connection as open_connection
    from heartkeep.auth.endpoints import FITBIT_SCOPES as FITBIT_SCOPES
    from heartkeep.auth.endpoints import GOOGLE_SCOPES as GOOGLE_SCOPES
    from heartkeep.auth.endpoints import ProviderEndpoints as ProviderEndpoints
    from heartkeep.auth.endpoints import endpoints_for as endpoints_for
    from heartkeep.auth.endpoints import provider_name as provider_name
    from heartkeep.auth.flows import AuthorizationGrant as AuthorizationGrant
    from heartkeep.auth.flows import AuthorizationRequest as AuthorizationRequest
    from heartkeep.auth.flows import loopback_flow as loopback_flow
    from heartkeep.auth.flows import paste_flow as paste_flow
    from heartkeep.auth.login import LoginResult as LoginResult
    from heartkeep.auth.login import login as login
    from heartkeep.auth.login import logout as logout
    from heartkeep.auth.login import resolve_accounts as resolve_accounts
    from heartkeep.auth.refresh import VaultAuth as VaultAuth
    from heartkeep.auth.refresh import current_tokens as current_tokens
    from heartkeep.auth.status import AccountStatus as AccountStatus
    from heartkeep.auth.status import account_status as account_status
    from heartkeep.auth.status import auth_status as auth_status
    from heartkeep.auth.status import damaged_vaults as damaged_vaults
    from heartkeep.auth.token_client import RetryPolicy as RetryPolicy
    from heartkeep.auth.token_client import TokenClient as TokenClient
    from heartkeep.auth.vault import Vault as Vault
    from heartkeep.auth.vault import VaultRecord as VaultRecord

__all__ = [
    "FITBIT_SCOPES",
    "GOOGLE_SCOPES",
    "AccountStatus",
    "AuthorizationGrant",
    "AuthorizationRequest",
    "ClientCredentials",
    "Connection",
    "LoginResult",
    "ProviderEndpoints",
    "RetryPolicy",
    "TokenClient",
    "Vault",
    "VaultAuth",
    "VaultRecord",
    "account_status",
    "auth_status",
    "connected_accounts",
    "current_tokens",
    "damaged_vaults",
    "endpoints_for",
    "login",
    "logout",
    "loopback_flow",
    "open_connection",
    "paste_flow",
    "provider_name",
    "read_client_file",
    "resolve_accounts",
    "resolve_client",
]

_WHERE = {
    "AccountStatus": "heartkeep.auth.status",
    "AuthorizationGrant": "heartkeep.auth.flows",
    "AuthorizationRequest": "heartkeep.auth.flows",
    "ClientCredentials": "heartkeep.auth.client_secrets",
    "Connection": "heartkeep.auth.connection",
    "FITBIT_SCOPES": "heartkeep.auth.endpoints",
    "GOOGLE_SCOPES": "heartkeep.auth.endpoints",
    "LoginResult": "heartkeep.auth.login",
    "ProviderEndpoints": "heartkeep.auth.endpoints",
    "RetryPolicy": "heartkeep.auth.token_client",
    "TokenClient": "heartkeep.auth.token_client",
    "Vault": "heartkeep.auth.vault",
    "VaultAuth": "heartkeep.auth.refresh",
    "VaultRecord": "heartkeep.auth.vault",
    "account_status": "heartkeep.auth.status",
    "auth_status": "heartkeep.auth.status",
    "connected_accounts": "heartkeep.auth.accounts",
    "current_tokens": "heartkeep.auth.refresh",
    "damaged_vaults": "heartkeep.auth.status",
    "endpoints_for": "heartkeep.auth.endpoints",
    "login": "heartkeep.auth.login",
    "logout": "heartkeep.auth.login",
    "loopback_flow": "heartkeep.auth.flows",
    "open_connection": "heartkeep.auth.connection",
    "paste_flow": "heartkeep.auth.flows",
    "provider_name": "heartkeep.auth.endpoints",
    "read_client_file": "heartkeep.auth.client_secrets",
    "resolve_accounts": "heartkeep.auth.login",
    "resolve_client": "heartkeep.auth.client_secrets",
}


__getattr__, __dir__ = on_first_use(globals(), _WHERE)
