"""What `heartkeep auth status` reports: each account's grant, read from the vault, offline.

Nothing is sent to the provider.  Warnings name what will go wrong before it does: a refresh
token about to die (Google's 7-day 'Testing' tokens), access already lost, an interrupted refresh
waiting to be completed, a permission missing, a grant idle for so long Google may drop it.

The access state is one of four, computed from the injected clock: `valid` (the access token
works until its expiry), `expired` (it has expired and the refresh token will renew it on the
next request — nothing to do), `refused` (the provider refused the refresh token: log in again)
and `unusable` (no way to renew: the provider was switched off, or the refresh token is missing
or past its own expiry).  A refused grant is never shown as merely "expired", and a token is
never "expired" before its expiry instant.  Damaged vault files are listed apart
(`damaged_vaults`), since nothing in them can be trusted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from heartkeep.auth.endpoints import GOOGLE_HEALTH, endpoints_for
from heartkeep.auth.vault import Vault, VaultRecord, connected_accounts
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.errors import VaultDamaged

AccessState = Literal["valid", "expired", "refused", "unusable"]

DAY_S = 86_400.0
GOOGLE_IDLE_LIMIT_S = 182 * DAY_S  # Google drops refresh tokens unused for six months


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """One account's grant.  Instants are UTC epoch seconds; ages are seconds."""

    account_key: str
    provider: str
    scopes: tuple[str, ...]
    access_expires_at_s: float
    access_valid: bool
    refresh_token_present: bool
    refresh_token_age_s: float
    refresh_expires_at_s: float | None
    last_refresh_at_s: float | None
    connected_at_s: float
    client_id: str
    warnings: tuple[str, ...]
    access_state: AccessState = "valid"
    # The sandbox that issued these tokens; None for the real provider.
    sandbox_url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "account": self.account_key,
            "provider": self.provider,
            "sandbox_url": self.sandbox_url,
            "scopes": list(self.scopes),
            "access_expires_at": _iso(self.access_expires_at_s),
            "access_state": self.access_state,
            "access_valid": self.access_valid,
            "refresh_token_present": self.refresh_token_present,
            "refresh_token_age_s": round(self.refresh_token_age_s),
            "refresh_expires_at": _iso(self.refresh_expires_at_s),
            "last_refresh_at": _iso(self.last_refresh_at_s),
            "connected_at": _iso(self.connected_at_s),
            "client_id": self.client_id,
            "warnings": list(self.warnings),
        }


def _iso(instant_s: float | None) -> str | None:
    if instant_s is None:
        return None
    return dt.datetime.fromtimestamp(round(instant_s), dt.UTC).isoformat().replace("+00:00", "Z")


def _day(instant_s: float) -> str:
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def access_state(record: VaultRecord, now_s: float) -> AccessState:
    """Whether the record's access works now, and if not, whether it can come back by itself."""
    tokens = record.tokens
    if record.last_error == "invalid_grant":
        return "refused"
    if record.last_error is None and tokens.expires_at_s > now_s:
        return "valid"
    refresh_dead = tokens.refresh_expires_at_s is not None and tokens.refresh_expires_at_s <= now_s
    renewable = record.last_error is None and bool(tokens.refresh_token) and not refresh_dead
    return "expired" if renewable else "unusable"


def account_status(settings: Settings, account_key: str, *, clock: Clock) -> AccountStatus:
    """The status of one connected account.

    Raises `NoAccounts` if it is not connected, `VaultDamaged` if its vault is unreadable.
    """
    record = Vault(settings.vault_dir, account_key).load()
    now_s = clock.now_s()
    tokens = record.tokens
    warnings: list[str] = []
    if record.last_error == "invalid_grant":
        warnings.append(
            f"access was revoked or expired (found {_day(record.last_error_at_s or now_s)}): "
            "run `heartkeep auth login` again"
        )
    elif record.last_error == "gone":
        warnings.append(
            "the legacy Fitbit Web API was switched off on 2026-11-02: connect the Google "
            "provider with `heartkeep auth login --provider google`"
        )
    if not tokens.refresh_token:
        warnings.append("no refresh token is stored: run `heartkeep auth login` again")
    if tokens.refresh_expires_at_s is not None:
        left_s = tokens.refresh_expires_at_s - now_s
        if left_s <= 0:
            warnings.append(
                f"the refresh token expired on {_day(tokens.refresh_expires_at_s)}: "
                "run `heartkeep auth login` again"
            )
        else:
            warnings.append(
                f"the refresh token dies on {_day(tokens.refresh_expires_at_s)} "
                f"({left_s / DAY_S:.1f} days left): Google gives apps in 'Testing' status "
                "7-day refresh tokens; publish the OAuth app (docs/google-oauth-setup.md) or "
                "log in again before then"
            )
    if record.pending_refresh is not None:
        warnings.append(
            f"a token refresh was interrupted at {_day(record.pending_refresh.started_at_s)}; "
            "the next command that talks to the provider completes it"
        )
    required = endpoints_for(record.provider).scopes
    missing = [scope for scope in required if scope not in tokens.scopes]
    if missing:
        warnings.append("permissions not granted: " + ", ".join(missing))
    last_used_s = record.last_refresh_at_s or record.refresh_token_issued_at_s
    if record.provider == GOOGLE_HEALTH and now_s - last_used_s > GOOGLE_IDLE_LIMIT_S - 14 * DAY_S:
        warnings.append(
            "the grant has been idle for nearly six months; Google drops refresh tokens unused "
            "that long: run `heartkeep sync` soon"
        )
    state = access_state(record, now_s)
    return AccountStatus(
        account_key=record.account_key,
        provider=record.provider,
        scopes=tokens.scopes,
        access_expires_at_s=tokens.expires_at_s,
        access_valid=state == "valid",
        access_state=state,
        sandbox_url=record.sandbox_url,
        refresh_token_present=bool(tokens.refresh_token),
        refresh_token_age_s=max(0.0, now_s - record.refresh_token_issued_at_s),
        refresh_expires_at_s=tokens.refresh_expires_at_s,
        last_refresh_at_s=record.last_refresh_at_s,
        connected_at_s=record.created_at_s,
        client_id=record.client.client_id,
        warnings=tuple(warnings),
    )


def auth_status(settings: Settings, *, clock: Clock) -> list[AccountStatus]:
    """Every readable account's status, sorted by account key (empty if none).

    Accounts whose vault is damaged are left out here: `damaged_vaults` lists them.
    """
    statuses: list[AccountStatus] = []
    for key in connected_accounts(settings):
        try:
            statuses.append(account_status(settings, key, clock=clock))
        except VaultDamaged:
            continue
    return statuses


def damaged_vaults(settings: Settings) -> list[VaultDamaged]:
    """One `VaultDamaged` (naming account, file and the way back) per unreadable vault file."""
    damaged: list[VaultDamaged] = []
    for key in connected_accounts(settings):
        try:
            Vault(settings.vault_dir, key).load()
        except VaultDamaged as failure:
            damaged.append(failure)
    return damaged
