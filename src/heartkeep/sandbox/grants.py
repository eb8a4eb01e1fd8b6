"""The authorization server's memory: clients, codes, grants and tokens, with their rules.

One `Grant` is one user's consent to one client for a set of scopes.  Codes turn into a grant's
first token pair; refresh tokens mint access tokens.  Expiry follows Google: access tokens live
`access_token_lifetime_s`, codes `code_lifetime_s` and once, refresh tokens until revoked, idle
for six months, or — for an app in 'Testing' status — seven days after consent.  With
`rotate_refresh_tokens` every refresh replaces the refresh token, and the replaced one may be
replayed (same response) within `refresh_replay_window_s` as long as its successor is unused:
Fitbit's documented behaviour, which lets a client that lost a response recover.

Every method is called with the state lock held; nothing here locks on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from heartkeep.sandbox.config import SandboxConfig

ClientKind = Literal["installed", "web"]


@dataclass(frozen=True)
class OAuthClient:
    """A registered OAuth client; installed clients accept any loopback redirect port."""

    client_id: str
    client_secret: str
    kind: ClientKind
    redirect_uris: tuple[str, ...] = ()


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str
    offline: bool
    consent_shown: bool
    expires_s: float
    used: bool = False
    grant_id: int | None = None


@dataclass
class Grant:
    grant_id: int
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    created_s: float
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: int
    scopes: tuple[str, ...]
    expires_s: float
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: int
    issued_s: float
    last_used_s: float
    expires_s: float | None
    scopes: tuple[str, ...]
    revoked: bool = False
    # Rotation: the token that replaced this one, when, and the response to replay.
    successor: str | None = None
    rotated_s: float | None = None
    rotation_response: dict[str, Any] | None = None
    rotation_access_token: str | None = None


class TokenError(Exception):
    """An OAuth error for the token endpoint: `{"error": ..., "error_description": ...}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding: the PKCE S256 challenge."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass
class Grants:
    """All clients, codes, grants and tokens of one sandbox."""

    config: SandboxConfig
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    # How many refresh requests presented each refresh token (any outcome).
    refresh_presentations: dict[str, int] = field(default_factory=dict)
    # (client_id, user_id) pairs that have consented before: a refresh token is only issued
    # again when the consent screen is shown again (prompt=consent), as Google does.
    consented: set[tuple[str, str]] = field(default_factory=set)
    _next_grant_id: int = 1

    # --- clients ------------------------------------------------------------------------

    def register(self, client: OAuthClient) -> None:
        self.clients[client.client_id] = client

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        """Check the client's id and secret; raises invalid_client (401) as Google does."""
        if not client_id:
            raise TokenError("invalid_request", "Missing required parameter: client_id")
        client = self.clients.get(client_id)
        if client is None:
            raise TokenError("invalid_client", "The OAuth client was not found.", 401)
        if client_secret is None or not hmac.compare_digest(
            client_secret.encode(), client.client_secret.encode()
        ):
            raise TokenError("invalid_client", "Unauthorized", 401)
        return client

    def granted_before(self, client_id: str, user_id: str) -> tuple[str, ...]:
        """Scopes of the pair's live grants (`include_granted_scopes=true` adds them)."""
        scopes: dict[str, None] = {}
        for grant in self.grants.values():
            if grant.client_id == client_id and grant.user_id == user_id and not grant.revoked:
                scopes.update(dict.fromkeys(grant.scopes))
        return tuple(scopes)

    # --- codes --------------------------------------------------------------------------

    def issue_code(
        self,
        *,
        client_id: str,
        user_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        code_challenge: str | None,
        code_challenge_method: str,
        offline: bool,
        consent_shown: bool,
        now_s: float,
    ) -> str:
        code = "4/0Sbx" + secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            offline=offline,
            consent_shown=consent_shown,
            expires_s=now_s + self.config.code_lifetime_s,
        )
        return code

    def exchange_code(
        self,
        client: OAuthClient,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        now_s: float,
    ) -> dict[str, Any]:
        """The authorization_code grant: single use, short-lived, PKCE-checked."""
        record = self.codes.get(code)
        if record is None:
            raise TokenError("invalid_grant", "Malformed auth code.")
        if record.used:
            # A replayed code means it leaked: revoke what it produced (RFC 6749 §4.1.2).
            if record.grant_id is not None:
                self.grants[record.grant_id].revoked = True
            raise TokenError("invalid_grant", "Bad Request")
        if now_s >= record.expires_s:
            raise TokenError("invalid_grant", "Bad Request")
        if record.client_id != client.client_id:
            raise TokenError("unauthorized_client", "Unauthorized")
        if redirect_uri is None:
            raise TokenError("invalid_request", "Missing required parameter: redirect_uri")
        if redirect_uri != record.redirect_uri:
            raise TokenError("redirect_uri_mismatch", "Bad Request")
        if record.code_challenge is not None:
            if not code_verifier:
                raise TokenError("invalid_grant", "Missing code verifier.")
            if not (43 <= len(code_verifier) <= 128) or not set(code_verifier) <= _VERIFIER_CHARS:
                raise TokenError("invalid_grant", "Invalid code verifier.")
            expected = (
                s256(code_verifier) if record.code_challenge_method == "S256" else code_verifier
            )
            if not hmac.compare_digest(expected.encode(), record.code_challenge.encode()):
                raise TokenError("invalid_grant", "Invalid code verifier.")
        grant = Grant(
            grant_id=self._next_grant_id,
            client_id=client.client_id,
            user_id=record.user_id,
            scopes=record.scopes,
            created_s=now_s,
        )
        self._next_grant_id += 1
        self.grants[grant.grant_id] = grant
        record.used = True
        record.grant_id = grant.grant_id
        response = self._mint_access(grant, grant.scopes, now_s)
        if record.offline and record.consent_shown:
            refresh = self._mint_refresh(grant, now_s)
            response["refresh_token"] = refresh.token
            if refresh.expires_s is not None:
                response["refresh_token_expires_in"] = int(refresh.expires_s - now_s) - 1
        self.consented.add((client.client_id, record.user_id))
        return response

    # --- refresh ------------------------------------------------------------------------

    def refresh(
        self, client: OAuthClient, token: str, scope: str | None, now_s: float
    ) -> dict[str, Any]:
        """The refresh_token grant, with Google's expiry rules and optional rotation."""
        self.refresh_presentations[token] = self.refresh_presentations.get(token, 0) + 1
        record = self.refresh_tokens.get(token)
        if record is None:
            raise TokenError("invalid_grant", "Bad Request")
        grant = self.grants[record.grant_id]
        if grant.client_id != client.client_id:
            raise TokenError("unauthorized_client", "Unauthorized")
        if record.revoked or grant.revoked or self._refresh_expired(record, now_s):
            raise TokenError("invalid_grant", "Token has been expired or revoked.")
        if record.successor is not None:
            return self._replay(record, now_s)
        scopes = record.scopes
        if scope:
            asked = tuple(scope.split())
            if not set(asked) <= set(record.scopes):
                raise TokenError("invalid_scope", "Some requested scopes were invalid.")
            scopes = asked
        record.last_used_s = now_s
        response = self._mint_access(grant, scopes, now_s)
        if self.config.rotate_refresh_tokens:
            successor = self._mint_refresh(grant, now_s, expires_s=record.expires_s)
            response["refresh_token"] = successor.token
            record.successor = successor.token
            record.rotated_s = now_s
            record.rotation_response = dict(response)
            record.rotation_access_token = response["access_token"]
        if record.expires_s is not None:
            response["refresh_token_expires_in"] = int(record.expires_s - now_s) - 1
        return response

    def _replay(self, record: RefreshToken, now_s: float) -> dict[str, Any]:
        """A rotated refresh token presented again: the same answer within the window, once
        neither the new refresh token nor the new access token has been used."""
        if record.successor is None or record.rotated_s is None:
            raise TokenError("invalid_grant", "Token has been expired or revoked.")
        successor = self.refresh_tokens[record.successor]
        access = self.access_tokens.get(record.rotation_access_token or "")
        successor_used = self.refresh_presentations.get(successor.token, 0) > 0
        access_used = access is not None and access.used
        within = now_s - record.rotated_s <= self.config.refresh_replay_window_s
        if not within or successor_used or access_used or record.rotation_response is None:
            raise TokenError("invalid_grant", "Token has been expired or revoked.")
        return dict(record.rotation_response)

    def _refresh_expired(self, record: RefreshToken, now_s: float) -> bool:
        if record.expires_s is not None and now_s >= record.expires_s:
            return True
        return now_s - record.last_used_s >= self.config.refresh_idle_lifetime_s

    # --- minting ------------------------------------------------------------------------

    def _mint_access(self, grant: Grant, scopes: tuple[str, ...], now_s: float) -> dict[str, Any]:
        token = "ya29.sbx-" + secrets.token_urlsafe(40)
        lifetime = self.config.access_token_lifetime_s
        self.access_tokens[token] = AccessToken(token, grant.grant_id, scopes, now_s + lifetime)
        return {
            "access_token": token,
            "expires_in": lifetime - 1,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }

    def _mint_refresh(
        self, grant: Grant, now_s: float, *, expires_s: float | None = None
    ) -> RefreshToken:
        if expires_s is None and self.config.testing_app:
            expires_s = grant.created_s + self.config.testing_refresh_lifetime_s
        token = "1//0sbx-" + secrets.token_urlsafe(48)
        record = RefreshToken(token, grant.grant_id, now_s, now_s, expires_s, grant.scopes)
        self.refresh_tokens[token] = record
        self._evict_beyond_cap(grant)
        return record

    def _evict_beyond_cap(self, grant: Grant) -> None:
        """Google silently invalidates the oldest refresh tokens beyond 100 per client+user."""
        live = [
            r
            for r in self.refresh_tokens.values()
            if not r.revoked and r.successor is None and self._same_pair(r, grant)
        ]
        excess = len(live) - self.config.max_refresh_tokens_per_grant
        for record in sorted(live, key=lambda r: r.issued_s)[: max(0, excess)]:
            record.revoked = True

    def _same_pair(self, record: RefreshToken, grant: Grant) -> bool:
        other = self.grants[record.grant_id]
        return other.client_id == grant.client_id and other.user_id == grant.user_id

    def issue_direct(
        self, client_id: str, user_id: str, scopes: tuple[str, ...], now_s: float
    ) -> dict[str, Any]:
        """A grant and its token pair without the browser dance (a test and benchmark hook).

        The tokens behave exactly like ones from the authorization-code flow.
        """
        grant = Grant(self._next_grant_id, client_id, user_id, scopes, now_s)
        self._next_grant_id += 1
        self.grants[grant.grant_id] = grant
        response = self._mint_access(grant, scopes, now_s)
        refresh = self._mint_refresh(grant, now_s)
        response["refresh_token"] = refresh.token
        if refresh.expires_s is not None:
            response["refresh_token_expires_in"] = int(refresh.expires_s - now_s) - 1
        return response

    # --- use and revocation ---------------------------------------------------------------

    def check_access(self, token: str, now_s: float) -> AccessToken | None:
        """The live access token record for `token`, or None if unknown, expired or revoked."""
        record = self.access_tokens.get(token)
        if record is None or now_s >= record.expires_s:
            return None
        if self.grants[record.grant_id].revoked:
            return None
        record.used = True
        return record

    def user_of(self, record: AccessToken) -> str:
        return self.grants[record.grant_id].user_id

    def revoke(self, token: str) -> bool:
        """Revoke the grant behind an access or refresh token (Google revokes both kinds)."""
        record: AccessToken | RefreshToken | None = self.access_tokens.get(token)
        if record is None:
            record = self.refresh_tokens.get(token)
        if record is None:
            return False
        grant = self.grants[record.grant_id]
        if grant.revoked:
            return False
        grant.revoked = True
        return True

    def revoke_user(self, user_id: str) -> None:
        for grant in self.grants.values():
            if grant.user_id == user_id:
                grant.revoked = True

    def expire_access_tokens(self, now_s: float, user_id: str | None = None) -> None:
        for record in self.access_tokens.values():
            if user_id is None or self.user_of(record) == user_id:
                record.expires_s = min(record.expires_s, now_s)
