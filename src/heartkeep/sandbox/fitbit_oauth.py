"""The emulated "Fitbit authorization" server: consent, codes, single-use refresh tokens, revoke.

This is the part of the legacy API whose behaviour decides whether a client keeps access for
months or loses it "every day or so" (reference §2, §10.4), so it is emulated closely:

- `GET /oauth2/authorize` validates every parameter and shows errors on its own page (no
  redirect, a deliberate deviation from RFC 6749); on success it redirects to
  `redirect_uri?code=…&state=…#_=_`.  With `auto_approve` off it serves a consent page whose
  scopes can be unticked.  `response_type=token` (implicit) answers in the fragment.
- `POST /oauth2/token` takes its parameters from the form body or the query string; clients
  authenticate with HTTP Basic (Personal/Server apps) or `client_id` + PKCE (Client apps).
  Codes live `config.code_lifetime_s` (10 minutes) and are single-use; access tokens live
  `config.fitbit_access_token_lifetime_s` (8 hours; the seed saw 3600).
- Refresh tokens are single-use, one active per user and app.  Re-presenting a spent refresh
  token within 120 s returns the *identical* response, unless the pair it produced has been used
  meanwhile (an API call with the new access token, or a refresh with the new refresh token);
  otherwise 400 `invalid_grant`.  The replay is keyed on the refresh token alone.
- `POST /oauth2/revoke` kills every token of the user and app; `POST /1.1/oauth2/introspect`
  answers `active` true/false.

Test hooks (methods of `FitbitAuthServer`): `sign_in`, `withhold_scopes`, `revoke_all_tokens`,
`expire_access_tokens`, and the counters `refresh_spends` / `refresh_replays` that let a test
prove no refresh token was ever spent twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET
from heartkeep.sandbox.fitbit_wire import DOCS_HINT, error_response, json_response

REPLAY_WINDOW_S = 120.0
SUPPORTED_SCOPES = (
    "activity",
    "cardio_fitness",
    "electrocardiogram",
    "heartrate",
    "irregular_rhythm_notifications",
    "location",
    "nutrition",
    "oxygen_saturation",
    "profile",
    "respiratory_rate",
    "settings",
    "sleep",
    "social",
    "temperature",
    "weight",
)
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
PUBLIC_CLIENT_ID = "23SBXC"
"""A second demo app of type Client (public: no secret, PKCE required) for exercising that path."""


@dataclass(frozen=True, slots=True)
class ClientApp:
    """A registered application.  `app_type` is personal, server or client (reference §3)."""

    client_id: str
    client_secret: str | None
    app_type: str

    def redirect_allowed(self, uri: str) -> bool:
        """The demo apps are registered with loopback callbacks on any port and path.

        Fitbit compares `redirect_uri` exactly with the registered ones; a desktop tool listens on
        a free port, so the sandbox registers every `http://127.0.0.1:*` / `http://localhost:*`
        URI (and an `https://localhost` one) instead of one fixed port.
        """
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost")


CLIENT_APPS = {
    FITBIT_CLIENT_ID: ClientApp(FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET, "personal"),
    PUBLIC_CLIENT_ID: ClientApp(PUBLIC_CLIENT_ID, None, "client"),
}


@dataclass(slots=True)
class _Code:
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
class _Refresh:
    token: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    status: str = "active"  # active | used | revoked
    used_at_s: float = 0.0
    response: bytes = b""
    successor_access: str = ""
    successor_refresh: str = ""


@dataclass(slots=True)
class _Consent:
    """An authorization request waiting on the consent page (auto_approve off)."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str | None
    response_type: str
    challenge: str | None
    challenge_method: str | None
    implicit_lifetime_s: int


class AuthorizationPageError(Exception):
    """A bad authorize parameter: shown on Fitbit's own page, never redirected (§2.9)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error} - {description}")
        self.error = error
        self.description = description


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
    refresh_spends: Counter[str] = field(default_factory=Counter)
    refresh_replays: Counter[str] = field(default_factory=Counter)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _access: dict[str, AccessGrant] = field(default_factory=dict)
    _refresh: dict[str, _Refresh] = field(default_factory=dict)
    _consents: dict[str, _Consent] = field(default_factory=dict)
    _signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- test hooks ---------------------------------------------------------------------------

    def sign_in(self, user_id: str) -> None:
        """Make `user_id` the person whose browser session consents next."""
        self.signed_in = user_id

    def withhold_scopes(self, *scopes: str) -> None:
        """The next consents leave these scopes unticked (partial consent, reference §2.2)."""
        self.withheld_scopes = set(scopes)

    def revoke_all_tokens(self, user_id: str) -> None:
        """The user removed the app at fitbit.com: every token of theirs dies."""
        with self._lock:
            self._revoke_user(user_id, client_id=None)

    def expire_access_tokens(self, user_id: str | None = None) -> None:
        """Every live access token (of one user, or of all) expires now; refresh still works."""
        with self._lock:
            now = self.now_s()
            for grant in self._access.values():
                if user_id in (None, grant.user_id):
                    grant.expires_at_s = min(grant.expires_at_s, now)

    def owner_of(self, access_token: str) -> str | None:
        """The user an access token (live or not) was issued to, or None if it is not ours."""
        with self._lock:
            grant = self._access.get(access_token)
            return None if grant is None else grant.user_id

    def active_refresh_tokens(self, user_id: str) -> list[str]:
        """The refresh tokens a client could still spend (at most one per app)."""
        with self._lock:
            return [
                r.token
                for r in self._refresh.values()
                if r.user_id == user_id and r.status == "active"
            ]

    # --- resource-side checks -----------------------------------------------------------------

    def bearer(self, token: str) -> tuple[AccessGrant | None, str]:
        """Look up an access token for a resource call: (grant, "") or (None, errorType).

        A successful lookup counts as *using* the token, which ends the 2-minute replay window of
        the refresh that produced it.
        """
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.revoked:
                return None, "invalid_token"
            if grant.expires_at_s <= self.now_s():
                return None, "expired_token"
            grant.used = True
            return grant, ""

    def grant_for(self, token: str) -> AccessGrant | None:
        """A valid access token's grant without marking it used (introspection)."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.revoked or grant.expires_at_s <= self.now_s():
                return None
            return grant

    # --- endpoints ----------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        """`GET|POST /oauth2/authorize`: validate, consent (or auto-approve), redirect."""
        params = dict(request.query_params)
        if request.method == "POST":
            pairs = await _form_pairs(request)
            params.update(pairs)
            ticked = [value for key, value in pairs if key == "scope_choice"]
            return self._consent_answer(params, ticked)
        try:
            pending = self._validate_authorize(params)
        except AuthorizationPageError as failure:
            return _error_page(failure)
        if self.auto_approve():
            granted = tuple(s for s in pending.scopes if s not in self.withheld_scopes)
            return self._approve(pending, granted)
        transaction = secrets.token_urlsafe(16)
        with self._lock:
            self._consents[transaction] = pending
        return _consent_page(transaction, pending)

    async def token(self, request: Request) -> Response:
        """`POST /oauth2/token`: the authorization_code and refresh_token grants."""
        params = await _params(request)
        client, failure = self._authenticate_client(request, params)
        if failure is not None:
            return failure
        assert client is not None
        grant_type = params.get("grant_type", "")
        if not grant_type:
            return _invalid_request("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(client, params)
        if grant_type == "refresh_token":
            return self._refresh_grant(client, params)
        return error_response(
            400,
            "unsupported_grant_type",
            f"The grant_type value is invalid: {grant_type}. {DOCS_HINT}",
        )

    async def revoke(self, request: Request) -> Response:
        """`POST /oauth2/revoke`: revoking either token revokes all of the user's for the app."""
        params = await _params(request)
        client, failure = self._authenticate_client(request, params)
        if failure is not None:
            return failure
        assert client is not None
        token = params.get("token", "")
        if not token:
            return _invalid_request("token")
        with self._lock:
            user_id = None
            if token in self._access and self._access[token].client_id == client.client_id:
                user_id = self._access[token].user_id
            elif token in self._refresh and self._refresh[token].client_id == client.client_id:
                user_id = self._refresh[token].user_id
            if user_id is not None:
                self._revoke_user(user_id, client_id=client.client_id)
        return json_response({})

    async def introspect(self, request: Request) -> Response:
        """`POST /1.1/oauth2/introspect` with a Bearer token; `token` names the one to inspect."""
        caller = _bearer_token(request)
        if caller is None or self.grant_for(caller) is None:
            kind = "invalid_token" if caller is None or self._unknown(caller) else "expired_token"
            verb = "invalid" if kind == "invalid_token" else "expired"
            return error_response(401, kind, f"Access token {verb}: {caller or ''}. {DOCS_HINT}")
        token = (await _params(request)).get("token", "")
        if not token:
            return _invalid_request("token")
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

    # --- authorize internals ------------------------------------------------------------------

    def _validate_authorize(self, params: Mapping[str, str]) -> _Consent:
        client_id = params.get("client_id", "")
        if not client_id:
            raise AuthorizationPageError("invalid_request", "Missing parameters: client_id")
        client = CLIENT_APPS.get(client_id)
        if client is None:
            raise AuthorizationPageError("unauthorize_client", "Invalid client_id")
        response_type = params.get("response_type", "")
        if not response_type:
            raise AuthorizationPageError("invalid_request", "Missing response_type parameter value")
        if response_type not in ("code", "token"):
            raise AuthorizationPageError(
                "unsupported_response_type", "Invalid response_type parameter value"
            )
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            # The demo apps register more than one callback, so the parameter is required.
            raise AuthorizationPageError("invalid_request", "Missing redirect_uri parameter value")
        if not client.redirect_allowed(redirect_uri):
            raise AuthorizationPageError("invalid_request", "Invalid redirect_uri parameter value")
        scopes = tuple(dict.fromkeys(params.get("scope", "").replace("+", " ").split()))
        if not scopes:
            raise AuthorizationPageError("invalid_request", "Missing parameters: scope")
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown:
            raise AuthorizationPageError("invalid_scope", f"Invalid scope: {' '.join(unknown)}")
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or None
        if challenge is not None:
            if not 43 <= len(challenge) <= 128:
                raise AuthorizationPageError(
                    "invalid_request",
                    "The code_challenge parameter length must be between 43 and 128",
                )
            method = method or "plain"
            if method not in ("S256", "plain"):
                raise AuthorizationPageError("invalid_request", "Unsupported code_challenge_method")
        elif client.app_type == "client" and response_type == "code":
            raise AuthorizationPageError(
                "invalid_request", "The code_challenge parameter is invalid"
            )
        prompt = params.get("prompt", "none")
        if prompt not in ("none", "consent", "login", "login consent"):
            raise AuthorizationPageError("invalid_request", "Invalid prompt parameter value")
        implicit_lifetime_s = 86_400
        if response_type == "token" and params.get("expires_in"):
            if params["expires_in"] not in ("86400", "604800", "2592000", "31536000"):
                raise AuthorizationPageError("invalid_request", "Invalid expires_in parameter")
            implicit_lifetime_s = int(params["expires_in"])
        users = self.user_ids()
        user_id = self.signed_in if self.signed_in in users else (users[0] if users else "")
        if not user_id:
            raise AuthorizationPageError("invalid_request", "No Fitbit user is signed in")
        return _Consent(
            client_id=client_id,
            user_id=user_id,
            scopes=scopes,
            redirect_uri=redirect_uri,
            state=params.get("state"),
            response_type=response_type,
            challenge=challenge,
            challenge_method=method,
            implicit_lifetime_s=implicit_lifetime_s,
        )

    def _consent_answer(self, params: Mapping[str, str], ticked: list[str]) -> Response:
        with self._lock:
            pending = self._consents.pop(params.get("transaction", ""), None)
        if pending is None:
            return _error_page(
                AuthorizationPageError("invalid_request", "This authorization request expired")
            )
        if params.get("decision") != "allow":
            query = {"error": "access_denied", "error_description": "The user denied the request"}
            if pending.state is not None:
                query["state"] = pending.state
            return _redirect(pending.redirect_uri, query, implicit=False)
        granted = tuple(s for s in pending.scopes if s in ticked)
        if not granted:
            query = {"error": "access_denied", "error_description": "No scope was granted"}
            if pending.state is not None:
                query["state"] = pending.state
            return _redirect(pending.redirect_uri, query, implicit=False)
        return self._approve(pending, granted)

    def _approve(self, pending: _Consent, granted: tuple[str, ...]) -> Response:
        now = self.now_s()
        with self._lock:
            if pending.response_type == "token":
                grant = self._issue_access(
                    pending.client_id, pending.user_id, granted, pending.implicit_lifetime_s
                )
                query = {
                    "access_token": grant.token,
                    "user_id": pending.user_id,
                    "scope": " ".join(granted),
                    "token_type": "Bearer",
                    "expires_in": str(pending.implicit_lifetime_s),
                }
                if pending.state is not None:
                    query["state"] = pending.state
                return _redirect(pending.redirect_uri, query, implicit=True)
            code = secrets.token_hex(20)
            self._codes[code] = _Code(
                code=code,
                client_id=pending.client_id,
                user_id=pending.user_id,
                scopes=granted,
                redirect_uri=pending.redirect_uri,
                challenge=pending.challenge,
                challenge_method=pending.challenge_method,
                expires_at_s=now + self.code_lifetime_s(),
            )
        query = {"code": code}
        if pending.state is not None:
            query["state"] = pending.state
        return _redirect(pending.redirect_uri, query, implicit=False)

    # --- token internals ----------------------------------------------------------------------

    def _authenticate_client(
        self, request: Request, params: Mapping[str, str]
    ) -> tuple[ClientApp | None, Response | None]:
        header = request.headers.get("authorization")
        body_id = params.get("client_id") or None
        if header is not None:
            scheme, _, encoded = header.partition(" ")
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, sep, secret = decoded.partition(":")
            if scheme.lower() != "basic" or not sep:
                return None, _invalid_client(
                    "Invalid authorization header format. The header was not recognized to be a "
                    "valid header for any of known implementations or a client_id was not "
                    f"specified in case of a public client Received header = {header}. " + DOCS_HINT
                )
            client = CLIENT_APPS.get(client_id)
            if (
                client is None
                or client.client_secret is None
                or not hmac.compare_digest(client.client_secret, secret)
            ):
                return None, _invalid_client(
                    "Invalid authorization header. Client id invalid or client secret invalid. "
                    + DOCS_HINT
                )
            if body_id is not None and body_id != client_id:
                return None, _invalid_client(
                    "The client_id parameter does not match the authorization header. " + DOCS_HINT
                )
            return client, None
        if body_id is None:
            return None, _invalid_client(
                "Authorization header required. A client_id must be given for a public client. "
                + DOCS_HINT
            )
        client = CLIENT_APPS.get(body_id)
        if client is None:
            return None, _invalid_client(f"Invalid client_id: {body_id}. {DOCS_HINT}")
        body_secret = params.get("client_secret")
        if body_secret is not None:
            # Some clients send the secret in the body too; accepted when it is right.
            if client.client_secret is None or not hmac.compare_digest(
                client.client_secret, body_secret
            ):
                return None, _invalid_client(f"Invalid client secret. {DOCS_HINT}")
            return client, None
        if client.app_type == "server":
            return None, _invalid_client(
                f"A server application must authenticate with its client secret. {DOCS_HINT}"
            )
        # Personal and Client apps may authenticate by client_id alone; PKCE is then required.
        return ClientApp(client.client_id, None, client.app_type), None

    def _exchange_code(self, client: ClientApp, params: Mapping[str, str]) -> Response:
        code_value = params.get("code", "")
        if not code_value:
            return _invalid_request("code")
        lifetime = self._requested_lifetime(params)
        if lifetime is None:
            return error_response(
                400, "invalid_request", f"Invalid expires_in parameter value. {DOCS_HINT}"
            )
        with self._lock:
            code = self._codes.get(code_value)
            if (
                code is None
                or code.used
                or code.expires_at_s <= self.now_s()
                or code.client_id != client.client_id
            ):
                if code is not None and code.used:
                    # RFC 6749 §4.1.2: a replayed code revokes what it produced.
                    self._revoke_user(code.user_id, client_id=code.client_id)
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
                    return _invalid_request("code_verifier")
                if not _pkce_matches(verifier, code.challenge, code.challenge_method or "plain"):
                    return error_response(
                        400, "invalid_grant", f"Code verifier invalid: {verifier}. {DOCS_HINT}"
                    )
            elif client.client_secret is None:
                return _invalid_client(
                    f"A client without a secret must use PKCE (code_verifier). {DOCS_HINT}"
                )
            code.used = True
            # A new authorization supersedes the user's previous refresh token for this app.
            for old in self._refresh.values():
                if old.user_id == code.user_id and old.client_id == code.client_id:
                    old.status = "revoked"
            body = self._issue_pair(code.client_id, code.user_id, code.scopes, lifetime)
        return Response(body, media_type="application/json;charset=utf-8")

    def _refresh_grant(self, client: ClientApp, params: Mapping[str, str]) -> Response:
        token = params.get("refresh_token", "")
        if not token:
            return _invalid_request("refresh_token")
        lifetime = self._requested_lifetime(params)
        if lifetime is None:
            return error_response(
                400, "invalid_request", f"Invalid expires_in parameter value. {DOCS_HINT}"
            )
        invalid = error_response(
            400, "invalid_grant", f"Refresh token invalid: {token}. {DOCS_HINT}"
        )
        with self._lock:
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
                return Response(record.response, media_type="application/json;charset=utf-8")
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
                    return Response(record.response, media_type="application/json;charset=utf-8")
            return invalid

    def _requested_lifetime(self, params: Mapping[str, str]) -> float | None:
        """`expires_in` may only be 28800 (or the historical 3600); absent → the configured one."""
        asked = params.get("expires_in")
        if asked is None or asked == "":
            return self.access_lifetime_s()
        if asked in ("28800", "3600"):
            return float(asked)
        return None

    def _issue_pair(
        self,
        client_id: str,
        user_id: str,
        scopes: tuple[str, ...],
        lifetime_s: float,
        parent: _Refresh | None = None,
    ) -> bytes:
        grant = self._issue_access(client_id, user_id, scopes, lifetime_s)
        refresh = secrets.token_hex(32)
        self._refresh[refresh] = _Refresh(refresh, client_id, user_id, scopes)
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

    def _issue_access(
        self, client_id: str, user_id: str, scopes: tuple[str, ...], lifetime_s: float
    ) -> AccessGrant:
        now = self.now_s()
        token = self._jwt(client_id, user_id, scopes, int(now), int(now + lifetime_s))
        grant = AccessGrant(token, client_id, user_id, scopes, now, now + lifetime_s)
        self._access[token] = grant
        return grant

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

    def _revoke_user(self, user_id: str, *, client_id: str | None) -> None:
        for grant in self._access.values():
            if grant.user_id == user_id and client_id in (None, grant.client_id):
                grant.revoked = True
        for record in self._refresh.values():
            if record.user_id == user_id and client_id in (None, record.client_id):
                record.status = "revoked"

    def _unknown(self, token: str) -> bool:
        with self._lock:
            grant = self._access.get(token)
            return grant is None or grant.revoked


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    """The url-encoded form body as (key, value) pairs (no multipart: Fitbit takes none)."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(body, keep_blank_values=True)


async def _params(request: Request) -> dict[str, str]:
    """Query-string parameters overlaid by the form body: Fitbit accepts both (reference §2.3)."""
    params = dict(request.query_params)
    params.update(await _form_pairs(request))
    return params


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return hmac.compare_digest(_b64url(digest), challenge)
    return hmac.compare_digest(verifier, challenge)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _invalid_request(missing: str) -> Response:
    return error_response(400, "invalid_request", f"Missing parameters: {missing} {DOCS_HINT}")


def _invalid_client(message: str) -> Response:
    return error_response(
        401,
        "invalid_client",
        message,
        headers={"WWW-Authenticate": 'Basic realm="api.fitbit.com"'},
    )


def _redirect(uri: str, query: Mapping[str, str], *, implicit: bool) -> Response:
    """Fitbit appends `#_=_` to code redirects; the implicit flow answers in the fragment."""
    if implicit:
        target = f"{uri}#{urlencode(query)}"
    else:
        separator = "&" if urlsplit(uri).query else "?"
        target = f"{uri}{separator}{urlencode(query)}#_=_"
    return RedirectResponse(target, status_code=302)


def _error_page(failure: AuthorizationPageError) -> Response:
    text = html.escape(f"{failure.error} - {failure.description}")
    page = (
        "<!doctype html><html><head><title>Fitbit authorization error</title></head>"
        f'<body><h1>Something went wrong</h1><p class="error">{text}</p></body></html>'
    )
    return HTMLResponse(page, status_code=400)


def _consent_page(transaction: str, pending: _Consent) -> Response:
    boxes = "".join(
        f'<label><input type="checkbox" name="scope_choice" value="{html.escape(s)}" checked> '
        f"{html.escape(s)}</label><br>"
        for s in pending.scopes
    )
    page = (
        "<!doctype html><html><head><title>Fitbit — allow access</title></head><body>"
        f"<h1>{html.escape(pending.client_id)} would like to access your Fitbit account"
        f" ({html.escape(pending.user_id)})</h1>"
        '<form method="post" action="/oauth2/authorize">'
        f'<input type="hidden" name="transaction" value="{html.escape(transaction)}">'
        f"{boxes}"
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form></body></html>"
    )
    return HTMLResponse(page)
