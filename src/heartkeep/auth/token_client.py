"""The conversation with a token endpoint: exchange a code, refresh, revoke — and what failed.

Authlib builds the client authentication (form fields for Google, a Basic header for Fitbit);
this module sends the form, parses both error dialects (RFC 6749 `{"error": ...}` from Google,
`{"errors": [{"errorType": ...}], "success": false}` from Fitbit) and turns each failure into the
`heartkeep.errors` class a user can act on.  Network failures, 5xx, 429 and truncated bodies are
retried with bounded, jittered exponential backoff on the injected clock: a refresh whose answer
was lost is repeated with the *same* refresh token, which is exactly what Fitbit's 2-minute replay
is for.  Nothing here stores anything; the vault and the refresh policy decide that.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import msgspec
import orjson

from heartkeep import http_client
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import GOOGLE_HEALTH, ProviderEndpoints
from heartkeep.clock import Clock
from heartkeep.errors import (
    AuthorizationFailed,
    ConfigError,
    HeartkeepError,
    ProviderError,
    ReauthorizationNeeded,
    TransientError,
    legacy_fitbit_gone,
)
from heartkeep.https_trust import SchemeTransport
from heartkeep.model import TokenSet
from heartkeep.redaction import redact, register_secret

if TYPE_CHECKING:
    from authlib.oauth2.auth import ClientAuth

LOGIN_AGAIN = "run `heartkeep auth login` again"
TESTING_HINT = (
    "If your Google Cloud OAuth app is in 'Testing' status, Google lets its refresh tokens live "
    "only 7 days: publish the app (docs/google-oauth-setup.md) to stop this from recurring."
)


class RetryPolicy(msgspec.Struct, frozen=True):
    """Bounds on retrying the token endpoint: attempts *and* total waiting, both finite."""

    attempts: int = 5
    first_delay_s: float = 1.0
    max_delay_s: float = 20.0
    max_total_wait_s: float = 60.0


RetryHook = Callable[[int, float, str], None]
"""Called before each wait as (attempt number, wait in seconds, reason); for progress output."""


class _Transient(Exception):
    """A failure worth another attempt; carries the wait the server asked for, if any."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class _OAuthError(msgspec.Struct, frozen=True):
    status: int
    code: str
    description: str


def _token_request(grant_type: str, **fields: str) -> str:
    """The form body of a token request, by Authlib (imported here: only a grant needs it)."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    body: str = prepare_token_request(grant_type, **fields)
    return body


def _auth_method(endpoints: ProviderEndpoints, client: ClientCredentials) -> str:
    # Google's installed-app clients send id and secret as form fields (as google-auth does);
    # Fitbit wants HTTP Basic for Server and Personal apps, and only `client_id` for public ones.
    if not client.client_secret:
        return "none"
    return "client_secret_post" if endpoints.provider == GOOGLE_HEALTH else "client_secret_basic"


def _parse_error(response: http_client.Response) -> _OAuthError:
    code = ""
    description = ""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            code = body["error"]
            description = str(body.get("error_description") or "")
        elif isinstance(body.get("error"), dict):  # Google API-style envelope
            code = str(body["error"].get("status") or "")
            description = str(body["error"].get("message") or "")
        elif isinstance(body.get("errors"), list) and body["errors"]:  # Fitbit
            first = body["errors"][0]
            if isinstance(first, dict):
                code = str(first.get("errorType") or "")
                description = str(first.get("message") or "")
    return _OAuthError(response.status_code, code, redact(description))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _parse_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class TokenClient:
    """Talks to one provider's token and revocation endpoints on behalf of one OAuth client.

    `clock` is used for expiry arithmetic and for every backoff wait, so tests using a simulated
    clock never sleep.  Close it (or use it as a context manager) to release its connections.
    """

    def __init__(
        self,
        endpoints: ProviderEndpoints,
        client: ClientCredentials,
        *,
        clock: Clock,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryHook | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.client = client
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self._rng = rng or random.Random()
        self._auth_method = _auth_method(endpoints, client)
        self._client_auth: ClientAuth | None = None
        # The sync's trust, built on the first https request (none for the sandbox's http).
        self._http = http_client.Client(
            transport=SchemeTransport(), timeout=timeout_s, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def _auth(self) -> ClientAuth:
        """Authlib's client authentication, made on the first POST: a sync whose tokens are
        still good builds a `TokenClient` it never uses, and Authlib's import (~26 M
        instructions, 42 modules) was a tenth of that sync's start-up."""
        if self._client_auth is None:
            from authlib.oauth2.auth import ClientAuth

            self._client_auth = ClientAuth(
                self.client.client_id, self.client.client_secret, self._auth_method
            )
        return self._client_auth

    def __enter__(self) -> TokenClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- grants -------------------------------------------------------------------------------

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Trade an authorization code for tokens, at once (codes live about 10 minutes).

        Raises `AuthorizationFailed` for an expired, reused or PKCE-mismatched code,
        `ConfigError` for a rejected client, `ProviderGone` on 410, `TransientError` when the
        endpoint stays unreachable.
        """
        register_secret(code)
        register_secret(code_verifier)
        fields = {"code": code, "code_verifier": code_verifier}
        if not self.client.client_secret or self.endpoints.provider == GOOGLE_HEALTH:
            fields["client_id"] = self.client.client_id
        body = _token_request("authorization_code", redirect_uri=redirect_uri, **fields)
        what = "exchange the authorization code"
        response = self._post(self.endpoints.token_uri, body, what=what)
        if response.status_code == 200:
            return self._token_set(response, previous=None)
        error = _parse_error(response)
        if error.code == "invalid_grant":
            if "verifier" in error.description.lower():
                raise AuthorizationFailed(
                    "the provider rejected the PKCE code verifier for this authorization code "
                    f"({error.description or 'invalid_grant'})",
                    hint="The code was not issued to this login attempt; "
                    + LOGIN_AGAIN
                    + " and use the link it prints.",
                    provider_code=error.code,
                )
            raise AuthorizationFailed(
                "the authorization code was refused: it expired or was already used "
                "(codes are valid for 10 minutes and work only once)",
                hint="Run `heartkeep auth login` again; heartkeep exchanges the code the moment "
                "the browser hands it over, so just finish the consent page without a long pause.",
                provider_code=error.code,
            )
        raise self._failure(error, what="exchange the authorization code")

    def refresh(self, refresh_token: str, *, previous: TokenSet) -> TokenSet:
        """Spend `refresh_token` for a new access token (and, on rotating providers, a new pair).

        Fields the provider leaves out (Google sends no new refresh token) are kept from
        `previous`.  Raises `ReauthorizationNeeded` on `invalid_grant`.
        """
        register_secret(refresh_token)
        fields: dict[str, str] = {"refresh_token": refresh_token}
        if not self.client.client_secret or self.endpoints.provider == GOOGLE_HEALTH:
            fields["client_id"] = self.client.client_id
        body = _token_request("refresh_token", **fields)
        response = self._post(self.endpoints.token_uri, body, what="refresh the access token")
        if response.status_code == 200:
            return self._token_set(response, previous=previous)
        error = _parse_error(response)
        if error.code == "invalid_grant":
            raise ReauthorizationNeeded(
                f"access was revoked or expired, {LOGIN_AGAIN}",
                hint=TESTING_HINT if self.endpoints.provider == GOOGLE_HEALTH else None,
                provider_code=error.code,
            )
        raise self._failure(error, what="refresh the access token")

    def revoke_grant(self, tokens: TokenSet) -> None:
        """Revoke the grant behind `tokens`: through its refresh token where there is one (that
        ends the whole grant), else its access token."""
        self.revoke(tokens.refresh_token or tokens.access_token)

    def discard_grant(self, tokens: TokenSet) -> None:
        """`revoke_grant`, best effort: for a fresh grant that is never stored (a partial one, a
        wrong account's), which must not linger at the provider, but whose failed revocation
        must not hide the real problem from the person."""
        try:
            self.revoke_grant(tokens)
        except HeartkeepError:
            return

    def revoke(self, token: str) -> None:
        """Revoke `token` (and with it the grant).  A token the provider no longer knows is fine."""
        register_secret(token)
        fields = {"token": token}
        if not self.client.client_secret or self.endpoints.provider == GOOGLE_HEALTH:
            fields["client_id"] = self.client.client_id
        response = self._post(self.endpoints.revoke_uri, urlencode(fields), what="revoke access")
        if response.status_code == 200:
            return
        error = _parse_error(response)
        if error.code in {"invalid_token", "invalid_grant"} or response.status_code == 400:
            return  # already revoked or expired: the goal is reached
        raise self._failure(error, what="revoke access")

    # --- plumbing -----------------------------------------------------------------------------

    def _token_set(self, response: http_client.Response, *, previous: TokenSet | None) -> TokenSet:
        try:
            payload: Mapping[str, Any] = orjson.loads(response.content)
            access_token = str(payload["access_token"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ProviderError(
                "the token endpoint answered 200 without an access token", status=200
            ) from None
        now_s = self.clock.now_s()
        refresh_token = payload.get("refresh_token")
        register_secret(access_token)
        register_secret(refresh_token)
        scope = payload.get("scope")
        if isinstance(scope, str) and scope.strip():
            scopes = tuple(sorted(scope.split()))
        elif previous is not None:
            scopes = previous.scopes
        else:
            scopes = ()
        refresh_expires_in = _parse_seconds(_text(payload.get("refresh_token_expires_in")))
        if refresh_token:
            refresh_expires_at_s = (
                now_s + refresh_expires_in if refresh_expires_in is not None else None
            )
        else:
            refresh_expires_at_s = previous.refresh_expires_at_s if previous else None
        expires_in = _parse_seconds(_text(payload.get("expires_in"))) or 3600.0
        user_id = payload.get("user_id")
        return TokenSet(
            access_token=access_token,
            refresh_token=str(refresh_token)
            if refresh_token
            else (previous.refresh_token if previous else None),
            expires_at_s=now_s + expires_in,
            scopes=scopes,
            token_type=str(payload.get("token_type") or "Bearer"),
            obtained_at_s=now_s,
            refresh_expires_at_s=refresh_expires_at_s,
            user_id=str(user_id) if user_id else (previous.user_id if previous else None),
        )

    def _failure(self, error: _OAuthError, *, what: str) -> HeartkeepError:
        if error.status == 410:
            return legacy_fitbit_gone()
        if error.code in {"invalid_client", "unauthorized_client"} or error.status == 401:
            return ConfigError(
                f"the provider rejected heartkeep's OAuth client while trying to {what} "
                f"({error.code or error.status}): the client ID or client secret is wrong",
                hint=f"Check the client credentials (from {self.client.source}); for Google, "
                "download the client file again from Google Cloud Console.",
                provider_code=error.code or None,
            )
        detail = f"{error.code}: {error.description}" if error.description else error.code
        return ProviderError(
            f"the token endpoint refused to {what} (HTTP {error.status}"
            + (f", {detail})" if detail else ")"),
            status=error.status,
            provider_code=error.code or None,
        )

    def _post(self, url: str, body: str, *, what: str) -> http_client.Response:
        """POST a form, retrying transient failures; returns the first definitive response."""
        waited_s = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._post_once(url, body)
            except _Transient as transient:
                delay_s = min(
                    self.retry.max_delay_s,
                    self.retry.first_delay_s * 2 ** (attempt - 1) * (0.5 + self._rng.random()),
                )
                if transient.retry_after_s is not None:
                    delay_s = min(self.retry.max_delay_s, max(delay_s, transient.retry_after_s))
                out_of_budget = waited_s + delay_s > self.retry.max_total_wait_s
                if attempt >= self.retry.attempts or out_of_budget:
                    raise TransientError(
                        f"could not {what}: the provider's token endpoint kept failing "
                        f"({transient.reason}) after {attempt} attempts",
                        hint="Your saved tokens are untouched; try again in a few minutes.",
                    ) from None
                if self.on_retry is not None:
                    self.on_retry(attempt, delay_s, transient.reason)
                self.clock.sleep(delay_s)
                waited_s += delay_s

    def _post_once(self, url: str, body: str) -> http_client.Response:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        url, headers, body = self._auth().prepare("POST", url, headers, body)
        try:
            response = self._http.post(url, content=body.encode(), headers=headers)
        except http_client.TransportError as failure:
            raise _Transient(type(failure).__name__) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(
                f"HTTP {response.status_code}", _parse_seconds(response.headers.get("Retry-After"))
            )
        if response.status_code == 200:
            try:
                orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise _Transient("truncated response") from None
        return response
