"""The emulated "Fitbit authorization" server: consent, codes, single-use refresh tokens, revoke.

This is the part of the legacy API whose behaviour decides whether a client keeps access for
months or loses it "every day or so" (reference §2, §10.4), so it is emulated closely:

- `GET /oauth2/authorize` validates every parameter and shows errors on its own page (no
  redirect, a deliberate deviation from RFC 6749); on success it redirects to
  `redirect_uri?code=…&state=…#_=_`.  With `auto_approve` off it serves a consent page whose
  scopes can be unticked.  `response_type=token` (implicit) answers in the fragment.
  (`fitbit_consent`: the checks and pages.)
- `POST /oauth2/token` takes its parameters from the form body or the query string; clients
  authenticate with HTTP Basic (Personal/Server apps) or `client_id` + PKCE (Client apps)
  (`fitbit_clients`).  Codes live `config.code_lifetime_s` (10 minutes) and are single-use;
  access tokens live `config.fitbit_access_token_lifetime_s` (8 hours; the seed saw 3600).
- Refresh tokens are single-use, one active per user and app, with Fitbit's 120-second replay
  of the identical answer (`fitbit_tokens`, which keeps every code and token).
- `POST /oauth2/revoke` kills every token of the user and app; `POST /1.1/oauth2/introspect`
  answers `active` true/false.

Test hooks (methods of `FitbitAuthServer`): `sign_in`, `withhold_scopes`, `revoke_all_tokens`,
`expire_access_tokens`, `issued_secrets`, and the counters `refresh_spends` / `refresh_replays`
that let a test prove no refresh token was ever spent twice.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from heartkeep.sandbox.fitbit_clients import (
    PUBLIC_CLIENT_ID,
    SUPPORTED_SCOPES,
    authenticate_client,
    bearer_token,
    form_pairs,
    invalid_request,
    request_params,
)
from heartkeep.sandbox.fitbit_consent import (
    AuthorizationPageError,
    Consent,
    consent_page,
    error_page,
    redirect_back,
    validate_authorize,
)
from heartkeep.sandbox.fitbit_tokens import AccessGrant, IssuedCode, TokenLedger
from heartkeep.sandbox.fitbit_wire import DOCS_HINT, error_response, json_response

__all__ = [
    "PUBLIC_CLIENT_ID",
    "SUPPORTED_SCOPES",
    "AccessGrant",
    "AuthorizationPageError",
    "FitbitAuthServer",
]

# Introspection reports scopes in Fitbit's odd `{NAME=READ, ...}` format (reference §2.6).
_INTROSPECT_NAMES = {
    "heartrate": "HEART_RATE",
    "profile": "PROFILE",
    "settings": "SETTINGS",
    "activity": "ACTIVITY",
    "sleep": "SLEEP",
    "weight": "WEIGHT",
    "location": "LOCATION",
    "nutrition": "NUTRITION",
    "social": "SOCIAL",
}


@dataclass
class FitbitAuthServer:
    """All OAuth state of the emulated Fitbit authorization server, guarded by one lock.

    `now_s` is the sandbox clock; `settings` returns the live `SandboxConfig` values this
    server needs (read on every call so a test can change them mid-run); `user_ids` lists the
    legacy user ids, the first being the person "signed in" at fitbit.com unless `sign_in` says
    otherwise.
    """

    now_s: Callable[[], float]
    code_lifetime_s: Callable[[], float]
    access_lifetime_s: Callable[[], float]
    auto_approve: Callable[[], bool]
    user_ids: Callable[[], list[str]]
    signed_in: str | None = None
    withheld_scopes: set[str] = field(default_factory=set)
    _consents: dict[str, Consent] = field(default_factory=dict)
    _ledger: TokenLedger = field(init=False)

    def __post_init__(self) -> None:
        self._ledger = TokenLedger(self.now_s, self.code_lifetime_s, self.access_lifetime_s)

    @property
    def refresh_spends(self) -> Counter[str]:
        """How often each refresh token was spent (never more than once, if clients behave)."""
        return self._ledger.refresh_spends

    @property
    def refresh_replays(self) -> Counter[str]:
        """How often each spent refresh token got its answer replayed within the window."""
        return self._ledger.refresh_replays

    # --- test hooks ---------------------------------------------------------------------------

    def sign_in(self, user_id: str) -> None:
        """Make `user_id` the person whose browser session consents next."""
        self.signed_in = user_id

    def withhold_scopes(self, *scopes: str) -> None:
        """The next consents leave these scopes unticked (partial consent, reference §2.2)."""
        self.withheld_scopes = set(scopes)

    def revoke_all_tokens(self, user_id: str) -> None:
        """The user removed the app at fitbit.com: every token of theirs dies."""
        self._ledger.revoke_user(user_id, client_id=None)

    def expire_access_tokens(self, user_id: str | None = None) -> None:
        """Every live access token (of one user, or of all) expires now; refresh still works."""
        self._ledger.expire_access_tokens(user_id)

    def owner_of(self, access_token: str) -> str | None:
        """The user an access token (live or not) was issued to, or None if it is not ours."""
        return self._ledger.owner_of(access_token)

    def active_refresh_tokens(self, user_id: str) -> list[str]:
        """The refresh tokens a client could still spend (at most one per app)."""
        return self._ledger.active_refresh_tokens(user_id)

    def issued_secrets(self) -> set[str]:
        """Every code, access token and refresh token ever issued."""
        return self._ledger.issued_secrets()

    # --- resource-side checks -----------------------------------------------------------------

    def bearer(self, token: str) -> tuple[AccessGrant | None, str]:
        """Look up an access token for a resource call: (grant, "") or (None, errorType); a
        successful lookup counts as using the token (see `TokenLedger.bearer`)."""
        return self._ledger.bearer(token)

    def grant_for(self, token: str) -> AccessGrant | None:
        """A valid access token's grant without marking it used (introspection)."""
        return self._ledger.grant_for(token)

    # --- endpoints ----------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        """`GET|POST /oauth2/authorize`: validate, consent (or auto-approve), redirect."""
        params = dict(request.query_params)
        if request.method == "POST":
            pairs = await form_pairs(request)
            params.update(pairs)
            ticked = [value for key, value in pairs if key == "scope_choice"]
            return self._consent_answer(params, ticked)
        users = self.user_ids()
        user_id = self.signed_in if self.signed_in in users else (users[0] if users else "")
        try:
            pending = validate_authorize(params, user_id or "")
        except AuthorizationPageError as failure:
            return error_page(failure)
        if self.auto_approve():
            granted = tuple(s for s in pending.scopes if s not in self.withheld_scopes)
            return self._approve(pending, granted)
        transaction = secrets.token_urlsafe(16)
        with self._ledger.lock:
            self._consents[transaction] = pending
        return consent_page(transaction, pending)

    async def token(self, request: Request) -> Response:
        """`POST /oauth2/token`: the authorization_code and refresh_token grants."""
        params = await request_params(request)
        client, failure = authenticate_client(request, params)
        if failure is not None:
            return failure
        assert client is not None
        grant_type = params.get("grant_type", "")
        if not grant_type:
            return invalid_request("grant_type")
        if grant_type == "authorization_code":
            return self._ledger.exchange_code(client, params)
        if grant_type == "refresh_token":
            return self._ledger.refresh(client, params)
        return error_response(
            400,
            "unsupported_grant_type",
            f"The grant_type value is invalid: {grant_type}. {DOCS_HINT}",
        )

    async def revoke(self, request: Request) -> Response:
        """`POST /oauth2/revoke`: revoking either token revokes all of the user's for the app."""
        params = await request_params(request)
        client, failure = authenticate_client(request, params)
        if failure is not None:
            return failure
        assert client is not None
        token = params.get("token", "")
        if not token:
            return invalid_request("token")
        with self._ledger.lock:
            user_id = self._ledger.owner_for_revocation(token, client.client_id)
            if user_id is not None:
                self._ledger.revoke_user(user_id, client_id=client.client_id)
        return json_response({})

    async def introspect(self, request: Request) -> Response:
        """`POST /1.1/oauth2/introspect` with a Bearer token; `token` names the one to inspect."""
        caller = bearer_token(request)
        if caller is None or self.grant_for(caller) is None:
            unknown = caller is None or self._ledger.unknown(caller)
            kind = "invalid_token" if unknown else "expired_token"
            verb = "invalid" if kind == "invalid_token" else "expired"
            return error_response(401, kind, f"Access token {verb}: {caller or ''}. {DOCS_HINT}")
        token = (await request_params(request)).get("token", "")
        if not token:
            return invalid_request("token")
        grant = self.grant_for(token)
        if grant is None:
            return json_response({"active": False})
        scope = ", ".join(
            f"{_INTROSPECT_NAMES.get(s, s.upper())}=READ" for s in sorted(grant.scopes)
        )
        return json_response(
            {
                "active": True,
                "scope": "{" + scope + "}",
                "client_id": grant.client_id,
                "user_id": grant.user_id,
                "token_type": "access_token",
                "exp": int(grant.expires_at_s * 1000),
                "iat": int(grant.issued_at_s * 1000),
            }
        )

    # --- consent internals --------------------------------------------------------------------

    def _consent_answer(self, params: Mapping[str, str], ticked: list[str]) -> Response:
        with self._ledger.lock:
            pending = self._consents.pop(params.get("transaction", ""), None)
        if pending is None:
            return error_page(
                AuthorizationPageError("invalid_request", "This authorization request expired")
            )
        if params.get("decision") != "allow":
            denied = {"error": "access_denied", "error_description": "The user denied the request"}
            return redirect_back(pending, denied, implicit=False)
        granted = tuple(s for s in pending.scopes if s in ticked)
        if not granted:
            none = {"error": "access_denied", "error_description": "No scope was granted"}
            return redirect_back(pending, none, implicit=False)
        return self._approve(pending, granted)

    def _approve(self, pending: Consent, granted: tuple[str, ...]) -> Response:
        if pending.response_type == "token":
            grant = self._ledger.issue_access(
                pending.client_id, pending.user_id, granted, pending.implicit_lifetime_s
            )
            answer = {
                "access_token": grant.token,
                "user_id": pending.user_id,
                "scope": " ".join(granted),
                "token_type": "Bearer",
                "expires_in": str(pending.implicit_lifetime_s),
            }
            return redirect_back(pending, answer, implicit=True)
        code = secrets.token_hex(20)
        self._ledger.issue_code(
            IssuedCode(
                code=code,
                client_id=pending.client_id,
                user_id=pending.user_id,
                scopes=granted,
                redirect_uri=pending.redirect_uri,
                challenge=pending.challenge,
                challenge_method=pending.challenge_method,
                expires_at_s=self.now_s() + self.code_lifetime_s(),
            )
        )
        return redirect_back(pending, {"code": code}, implicit=False)
