"""Connecting and disconnecting an account: the grant's whole life from consent to revocation.

`login` runs a flow, exchanges the code at once, checks every required scope was granted (revoking
a partial grant rather than keeping it), learns who the user is (Google: the identity endpoint's
`healthUserId`; Fitbit: the token response's `user_id`) and saves the vault.  `logout` revokes at
the provider first and deletes the local tokens only then; the heart-rate data stays.
"""

from __future__ import annotations

import contextlib
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from heartkeep import http_client
from heartkeep.auth.client_secrets import ClientCredentials, resolve_client
from heartkeep.auth.endpoints import (
    FITBIT_LEGACY,
    GOOGLE_HEALTH,
    ProviderEndpoints,
    endpoints_for,
    provider_name,
)
from heartkeep.auth.flows import (
    DEFAULT_TIMEOUT_S,
    OpenBrowser,
    ReadLine,
    ShowUrl,
    loopback_flow,
    paste_flow,
)
from heartkeep.auth.token_client import (
    RetryPolicy,
    TokenClient,
)
from heartkeep.auth.vault import (
    Vault,
    VaultRecord,
    connected_accounts,  # re-exported: it lived here before moving beside the vault files
    split_account_key,
)
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.errors import (
    HeartkeepError,
    NoAccounts,
    ProviderError,
    ProviderGone,
    ScopeMissing,
    TransientError,
    VaultDamaged,
    legacy_fitbit_gone,
)
from heartkeep.model import TokenSet


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a successful login connected."""

    account_key: str
    provider: str
    scopes: tuple[str, ...]
    access_expires_at_s: float
    refresh_expires_at_s: float | None
    vault_path: Path
    # A damaged vault this login replaced, renamed `<vault>.damaged-<UTC time>` (None: none was).
    damaged_kept_as: Path | None = None


def _check_not_shut_down(endpoints: ProviderEndpoints, timeout_s: float) -> None:
    """Fitbit's consent page answers 410 since the 2026-11-02 shutdown: say so before waiting."""
    try:
        response = http_client.get(endpoints.auth_uri, timeout=timeout_s)
    except http_client.TransportError:
        return  # the browser will show the real problem; nothing to conclude here
    if response.status_code == 410:
        raise legacy_fitbit_gone()


def google_user_id(endpoints: ProviderEndpoints, tokens: TokenSet, timeout_s: float) -> str:
    """The stable `healthUserId` of the person who just consented (also the study's enrolment)."""
    url = f"{endpoints.api_base}/v4/users/me/identity"
    headers = {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}
    for _attempt in range(3):
        try:
            response = http_client.get(url, headers=headers, timeout=timeout_s)
        except http_client.TransportError:
            continue
        if response.status_code >= 500:
            continue
        if response.status_code != 200:
            raise ProviderError(
                f"the Google Health API refused to say who is logged in (HTTP "
                f"{response.status_code})",
                status=response.status_code,
                hint="If the account was never opened in the Fitbit / Google Health app, open it "
                "there once, then log in again.",
            )
        try:
            return str(orjson.loads(response.content)["healthUserId"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ProviderError(
                "the identity endpoint answered without a healthUserId", status=200
            ) from None
    raise TransientError(
        "the Google Health API could not be reached to identify the account",
        hint="Nothing was saved; run `heartkeep auth login` again in a moment.",
    )


def login(
    settings: Settings,
    *,
    clock: Clock,
    provider: str = GOOGLE_HEALTH,
    client: ClientCredentials | None = None,
    client_file: Path | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    no_browser: bool = False,
    port: int | None = None,
    open_browser: OpenBrowser = webbrowser.open,
    read_line: ReadLine = input,
    show_url: ShowUrl | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retry: RetryPolicy | None = None,
) -> LoginResult:
    """Connect an account: consent in the browser (or pasted), then save its tokens in the vault.

    Raises `ConfigError` (no or rejected client), `AuthorizationFailed` (declined, state
    mismatch, expired code, PKCE mismatch, timeout), `ScopeMissing`, `ProviderGone` (legacy
    Fitbit after its shutdown), `TransientError` (provider unreachable; nothing saved).
    """
    provider = provider_name(provider)
    endpoints = endpoints_for(provider, settings.sandbox_url)
    if client is None:
        client = resolve_client(
            settings,
            provider,
            client_file=client_file,
            client_id=client_id,
            client_secret=client_secret,
        )
    chosen_port = settings.callback_port if port is None else port
    if provider == FITBIT_LEGACY:
        _check_not_shut_down(endpoints, settings.http_timeout_s)
    if no_browser:
        grant = paste_flow(
            endpoints,
            client.client_id,
            read_line=read_line,
            show_url=show_url or (lambda _url: None),
            port=chosen_port,
        )
    else:
        grant = loopback_flow(
            endpoints,
            client.client_id,
            port=chosen_port,
            open_browser=open_browser,
            show_url=show_url,
            timeout_s=timeout_s,
        )
    with TokenClient(
        endpoints, client, clock=clock, timeout_s=settings.http_timeout_s, retry=retry
    ) as token_client:
        tokens = token_client.exchange_code(
            grant.code, redirect_uri=grant.redirect_uri, code_verifier=grant.code_verifier
        )
        missing = [scope for scope in endpoints.scopes if scope not in tokens.scopes]
        if missing:
            token_client.discard_grant(tokens)
            raise ScopeMissing(
                "heartkeep needs every permission it asks for, and these were not granted: "
                + ", ".join(missing),
                hint="Run `heartkeep auth login` again and leave every box ticked on the consent "
                "page (heartkeep asks only for heart rate, your time-zone settings and profile, "
                "all read-only).",
            )
        if provider == GOOGLE_HEALTH:
            user_id = google_user_id(endpoints, tokens, settings.http_timeout_s)
        else:
            if not tokens.user_id:
                raise ProviderError("Fitbit's token response carried no user_id", status=200)
            user_id = tokens.user_id
    account_key = f"{provider}:{user_id}"
    vault = Vault(settings.vault_dir, account_key)
    now_s = clock.now_s()
    damaged_kept_as: Path | None = None
    with vault.lock():
        created_at_s = now_s
        if vault.exists():
            try:
                created_at_s = vault.load().created_at_s
            except VaultDamaged:
                # The new grant replaces it; the old bytes stay beside it for whoever wants them.
                damaged_kept_as = vault.set_aside(now_s)
        vault.save(
            VaultRecord(
                account_key=account_key,
                provider=provider,
                client=client,
                tokens=tokens,
                created_at_s=created_at_s,
                refresh_token_issued_at_s=now_s,
                last_refresh_at_s=None,
                sandbox_url=settings.sandbox_url,
            )
        )
    return LoginResult(
        account_key=account_key,
        provider=provider,
        scopes=tokens.scopes,
        access_expires_at_s=tokens.expires_at_s,
        refresh_expires_at_s=tokens.refresh_expires_at_s,
        vault_path=vault.path,
        damaged_kept_as=damaged_kept_as,
    )


def resolve_accounts(settings: Settings, account: str | None, *, every: bool) -> list[str]:
    """The accounts a command addresses: one named, all (`every`), or the only one there is."""
    connected = connected_accounts(settings)
    if not connected:
        raise NoAccounts("no account is connected", hint="Run `heartkeep auth login` first.")
    if every:
        return connected
    if account is None:
        if len(connected) == 1:
            return connected
        raise HeartkeepError(
            "several accounts are connected: name one, or pass --all",
            hint="Connected: " + ", ".join(connected),
        )
    split_account_key(account)
    if account not in connected:
        raise NoAccounts(f"{account} is not connected", hint="Connected: " + ", ".join(connected))
    return [account]


# Where a person withdraws a grant themselves when heartkeep could not (logout --local).
REVOKE_PAGES = {
    GOOGLE_HEALTH: "https://myaccount.google.com/permissions",
    FITBIT_LEGACY: "https://www.fitbit.com/settings/applications",
}


def revoke_page(account_key: str) -> str:
    """The provider's page where this account's grant can be withdrawn by hand."""
    return REVOKE_PAGES.get(account_key.partition(":")[0], REVOKE_PAGES[GOOGLE_HEALTH])


def logout(
    settings: Settings,
    account_keys: Sequence[str],
    *,
    clock: Clock,
    retry: RetryPolicy | None = None,
    local: bool = False,
) -> list[str]:
    """Revoke each account's grant at the provider, then delete its local tokens.

    With `local`, nothing is sent: the tokens are only deleted here (also from a damaged vault),
    and the grant may stay valid at the provider until withdrawn on its page (`revoke_page`).
    Returns the keys logged out.  The heart-rate data in the store is not touched.  Raises
    `TransientError` (tokens kept, nothing deleted) when the provider cannot be reached.
    """
    done: list[str] = []
    for account_key in account_keys:
        vault = Vault(settings.vault_dir, account_key)
        with vault.lock():
            if not local:
                _revoke(settings, vault, clock=clock, retry=retry)
            vault.delete()
        done.append(account_key)
    return done


def _revoke(settings: Settings, vault: Vault, *, clock: Clock, retry: RetryPolicy | None) -> None:
    """Revoke the vault's grant at the provider (the caller holds the vault's lock)."""
    record = vault.load()
    endpoints = endpoints_for(record.provider, record.endpoints_base(settings.sandbox_url))
    token = record.tokens.refresh_token or record.tokens.access_token
    token_client = TokenClient(
        endpoints,
        record.client,
        clock=clock,
        timeout_s=settings.http_timeout_s,
        retry=retry,
    )
    try:
        # A provider that no longer exists has nothing left to revoke.
        with token_client, contextlib.suppress(ProviderGone):
            token_client.revoke(token)
    except TransientError as failure:
        raise TransientError(
            f"{failure.message} (account {record.account_key})",
            hint=f"Nothing was deleted.  Try again later, or forget the tokens on this machine "
            f"only with `heartkeep auth logout --local {record.account_key}` (the grant may "
            f"then stay valid at the provider: withdraw it at {revoke_page(record.account_key)}).",
        ) from None
