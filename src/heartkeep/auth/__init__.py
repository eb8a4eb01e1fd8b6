"""Authorization: OAuth flows, the token vault and the `httpx.Auth` that keeps tokens fresh.

The sync side needs only `open_connection` and `connected_accounts`; `api.py` wires `login`,
`auth_status` and `logout` for the CLI.  Invariant kept here: a valid refresh token is durable on
disk at every instant (see `vault.py` and `refresh.py`).
"""

from heartkeep.auth.client_secrets import ClientCredentials, read_client_file, resolve_client
from heartkeep.auth.connection import Connection, open_connection
from heartkeep.auth.endpoints import (
    FITBIT_SCOPES,
    GOOGLE_SCOPES,
    ProviderEndpoints,
    endpoints_for,
    provider_name,
)
from heartkeep.auth.flows import AuthorizationGrant, AuthorizationRequest, loopback_flow, paste_flow
from heartkeep.auth.login import LoginResult, connected_accounts, login, logout, resolve_accounts
from heartkeep.auth.refresh import VaultAuth, current_tokens
from heartkeep.auth.status import AccountStatus, account_status, auth_status, damaged_vaults
from heartkeep.auth.token_client import RetryPolicy, TokenClient
from heartkeep.auth.vault import Vault, VaultRecord

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
