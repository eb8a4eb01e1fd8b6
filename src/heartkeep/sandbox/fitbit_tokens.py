"""The emulated Fitbit authorization server's ledger: codes, access tokens and single-use
refresh tokens, how they are issued, spent, replayed and revoked.

This is the part whose behaviour decides whether a client keeps access for months or loses it
"every day or so" (reference §2, §10.4).  Refresh tokens are single-use, one active per user and
app.  Re-presenting a spent refresh token within 120 s returns the *identical* response, unless
the pair it produced has been used meanwhile (an API call with the new access token, or a
refresh with the new refresh token); otherwise 400 `invalid_grant`.  The counters
`refresh_spends` / `refresh_replays` let a test prove no refresh token was ever spent twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson
from starlette.responses import Response

from heartkeep.sandbox.fitbit_clients import ClientApp, invalid_client, invalid_request
from heartkeep.sandbox.fitbit_wire import DOCS_HINT, error_response

REPLAY_WINDOW_S = 120.0
# The abbreviations Fitbit's access-token JWT uses in its `scopes` claim (reference §2.4).
_SCOPE_ABBREVIATIONS = {
    "activity": "act",
    "heartrate": "hr",
    "location": "loc",
    "nutrition": "nut",
    "profile": "pro",
    "settings": "set",
    "sleep": "sle",
    "social": "soc",
    "weight": "wei",
}
_JSON = "application/json;charset=utf-8"


@dataclass(slots=True)
class IssuedCode:
    code: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    challenge: str | None
    challenge_method: str | None
    expires_at_s: float
    used: bool = False


@dataclass(slots=True)
class AccessGrant:
    """A live access token: whose, for which app, which scopes, until when."""

    token: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    issued_at_s: float
    expires_at_s: float
    revoked: bool = False
    used: bool = False


@dataclass(slots=True)
class RefreshRecord:
    token: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    status: str = "active"  # active | used | revoked
    used_at_s: float = 0.0
    response: bytes = b""
    successor_access: str = ""
    successor_refresh: str = ""


@dataclass
class TokenLedger:
    """Every code and token, guarded by `lock` (re-entrant: the server holds it around
    several ledger calls).  `now_s` is the sandbox clock; the lifetimes are read on every call
    so a test can change them mid-run."""

    now_s: Callable[[], float]
    code_lifetime_s: Callable[[], float]
    access_lifetime_s: Callable[[], float]
    refresh_spends: Counter[str] = field(default_factory=Counter)
    refresh_replays: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _codes: dict[str, IssuedCode] = field(default_factory=dict)
    _access: dict[str, AccessGrant] = field(default_factory=dict)
    _refresh: dict[str, RefreshRecord] = field(default_factory=dict)
    _signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    # --- lookups --------------------------------------------------------------------------------

    def bearer(self, token: str) -> tuple[AccessGrant | None, str]:
        """Look up an access token for a resource call: (grant, "") or (None, errorType).

        A successful lookup counts as *using* the token, which ends the 2-minute replay window of
        the refresh that produced it.
        """
        with self.lock:
            grant = self._access.get(token)
            if grant is None or grant.revoked:
                return None, "invalid_token"
            if grant.expires_at_s <= self.now_s():
                return None, "expired_token"
            grant.used = True
            return grant, ""

    def grant_for(self, token: str) -> AccessGrant | None:
        """A valid access token's grant without marking it used (introspection)."""
        with self.lock:
            grant = self._access.get(token)
            if grant is None or grant.revoked or grant.expires_at_s <= self.now_s():
                return None
            return grant

    def unknown(self, token: str) -> bool:
        """Whether an access token was never issued or is revoked (rather than expired)."""
        with self.lock:
            grant = self._access.get(token)
            return grant is None or grant.revoked

    def owner_of(self, access_token: str) -> str | None:
        """The user an access token (live or not) was issued to, or None if it is not ours."""
        with self.lock:
            grant = self._access.get(access_token)
            return None if grant is None else grant.user_id

    def owner_for_revocation(self, token: str, client_id: str) -> str | None:
        """The user whose access or refresh token of this app `token` is, or None."""
        with self.lock:
            if token in self._access and self._access[token].client_id == client_id:
                return self._access[token].user_id
            if token in self._refresh and self._refresh[token].client_id == client_id:
                return self._refresh[token].user_id
            return None

    def active_refresh_tokens(self, user_id: str) -> list[str]:
        """The refresh tokens a client could still spend (at most one per app)."""
        with self.lock:
            return [
                r.token
                for r in self._refresh.values()
                if r.user_id == user_id and r.status == "active"
            ]

    def issued_secrets(self) -> set[str]:
        """Every code, access token and refresh token ever issued (a test proves none of them
        reaches a client's output or logs)."""
        with self.lock:
            return {*self._codes, *self._access, *self._refresh}

    # --- changes --------------------------------------------------------------------------------

    def expire_access_tokens(self, user_id: str | None) -> None:
        """Every live access token (of one user, or of all) expires now; refresh still works."""
        with self.lock:
            now = self.now_s()
            for grant in self._access.values():
                if user_id in (None, grant.user_id):
                    grant.expires_at_s = min(grant.expires_at_s, now)

    def revoke_user(self, user_id: str, *, client_id: str | None) -> None:
        """Every token of the user (for one app, or for all) dies."""
        with self.lock:
            for grant in self._access.values():
                if grant.user_id == user_id and client_id in (None, grant.client_id):
                    grant.revoked = True
            for record in self._refresh.values():
                if record.user_id == user_id and client_id in (None, record.client_id):
                    record.status = "revoked"

    def issue_code(self, issued: IssuedCode) -> None:
        with self.lock:
            self._codes[issued.code] = issued

    def issue_access(
        self, client_id: str, user_id: str, scopes: tuple[str, ...], lifetime_s: float
    ) -> AccessGrant:
        with self.lock:
            now = self.now_s()
            token = self._jwt(client_id, user_id, scopes, int(now), int(now + lifetime_s))
            grant = AccessGrant(token, client_id, user_id, scopes, now, now + lifetime_s)
            self._access[token] = grant
            return grant

    # --- the token endpoint's grants ------------------------------------------------------------

    def exchange_code(self, client: ClientApp, params: Mapping[str, str]) -> Response:
        """The authorization_code grant: a fresh pair, or Fitbit's error."""
        code_value = params.get("code", "")
        if not code_value:
            return invalid_request("code")
        lifetime = self._requested_lifetime(params)
        if isinstance(lifetime, Response):
            return lifetime
        with self.lock:
            code = self._codes.get(code_value)
            if (
                code is None
                or code.used
                or code.expires_at_s <= self.now_s()
                or code.client_id != client.client_id
            ):
                if code is not None and code.used:
                    # RFC 6749 §4.1.2: a replayed code revokes what it produced.
                    self.revoke_user(code.user_id, client_id=code.client_id)
                return error_response(
                    400, "invalid_grant", f"Authorization code invalid: {code_value} {DOCS_HINT}"
                )
            if code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
                return error_response(
                    400,
                    "invalid_request",
                    f"Invalid redirect_uri parameter value. {DOCS_HINT}",
                )
            verifier = params.get("code_verifier")
            if code.challenge is not None:
                if not verifier:
                    return invalid_request("code_verifier")
                if not _pkce_matches(verifier, code.challenge, code.challenge_method or "plain"):
                    return error_response(
                        400, "invalid_grant", f"Code verifier invalid: {verifier}. {DOCS_HINT}"
                    )
            elif client.client_secret is None:
                return invalid_client(
                    f"A client without a secret must use PKCE (code_verifier). {DOCS_HINT}"
                )
            code.used = True
            # A new authorization supersedes the user's previous refresh token for this app.
            for old in self._refresh.values():
                if old.user_id == code.user_id and old.client_id == code.client_id:
                    old.status = "revoked"
            body = self._issue_pair(code.client_id, code.user_id, code.scopes, lifetime)
        return Response(body, media_type=_JSON)

    def refresh(self, client: ClientApp, params: Mapping[str, str]) -> Response:
        """The refresh_token grant: spend the token once, or replay its answer within the
        window while the pair it produced is untouched."""
        token = params.get("refresh_token", "")
        if not token:
            return invalid_request("refresh_token")
        lifetime = self._requested_lifetime(params)
        if isinstance(lifetime, Response):
            return lifetime
        invalid = error_response(
            400, "invalid_grant", f"Refresh token invalid: {token}. {DOCS_HINT}"
        )
        with self.lock:
            record = self._refresh.get(token)
            if record is None or record.client_id != client.client_id:
                return invalid
            now = self.now_s()
            if record.status == "active":
                record.status = "used"
                record.used_at_s = now
                self.refresh_spends[token] += 1
                record.response = self._issue_pair(
                    record.client_id, record.user_id, record.scopes, lifetime, parent=record
                )
                return Response(record.response, media_type=_JSON)
            if record.status == "used" and now - record.used_at_s <= REPLAY_WINDOW_S:
                access = self._access.get(record.successor_access)
                successor = self._refresh.get(record.successor_refresh)
                untouched = (
                    access is not None
                    and not access.used
                    and not access.revoked
                    and successor is not None
                    and successor.status == "active"
                )
                if untouched:
                    self.refresh_replays[token] += 1
                    return Response(record.response, media_type=_JSON)
            return invalid

    # --- internals ------------------------------------------------------------------------------

    def _requested_lifetime(self, params: Mapping[str, str]) -> float | Response:
        """`expires_in` may only be 28800 (or the historical 3600); absent → the configured one;
        anything else → Fitbit's 400, which both grants answer alike."""
        asked = params.get("expires_in")
        if asked is None or asked == "":
            return self.access_lifetime_s()
        if asked in ("28800", "3600"):
            return float(asked)
        return error_response(
            400, "invalid_request", f"Invalid expires_in parameter value. {DOCS_HINT}"
        )

    def _issue_pair(
        self,
        client_id: str,
        user_id: str,
        scopes: tuple[str, ...],
        lifetime_s: float,
        parent: RefreshRecord | None = None,
    ) -> bytes:
        grant = self.issue_access(client_id, user_id, scopes, lifetime_s)
        refresh = secrets.token_hex(32)
        self._refresh[refresh] = RefreshRecord(refresh, client_id, user_id, scopes)
        if parent is not None:
            parent.successor_access = grant.token
            parent.successor_refresh = refresh
        return orjson.dumps(
            {
                "access_token": grant.token,
                "expires_in": int(lifetime_s),
                "refresh_token": refresh,
                "scope": " ".join(scopes),
                "token_type": "Bearer",
                "user_id": user_id,
            }
        )

    def _jwt(
        self, client_id: str, user_id: str, scopes: tuple[str, ...], iat: int, exp: int
    ) -> str:
        """An HS256 JWT shaped like Fitbit's (clients must treat it as opaque)."""
        claims = {
            "aud": client_id,
            "sub": user_id,
            "iss": "Fitbit",
            "typ": "access_token",
            "scopes": " ".join("r" + _SCOPE_ABBREVIATIONS.get(s, s[:3]) for s in scopes),
            "exp": exp,
            "iat": iat,
            "jti": secrets.token_hex(8),
        }
        head = _b64url(orjson.dumps({"alg": "HS256"}))
        body = _b64url(orjson.dumps(claims))
        signature = hmac.new(self._signing_key, f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{_b64url(signature.digest())}"


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return hmac.compare_digest(_b64url(digest), challenge)
    return hmac.compare_digest(verifier, challenge)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
