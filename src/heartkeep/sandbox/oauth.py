"""Google's OAuth 2.0 endpoints as the sandbox serves them: authorize, token, revoke.

`GET /o/oauth2/v2/auth` checks the client and redirect URI (an error *page* when either is
wrong, never a redirect to an unverified target), requires PKCE (S256 or plain), then either
approves at once (`auto_approve`, for tests and the demo) or shows the consent screen, and
redirects back with `code`, `state` and the granted `scope`.  A refresh token is issued only for
`access_type=offline` when consent was actually shown (first consent, or `prompt=consent`).
`POST /token` runs the `authorization_code` and `refresh_token` grants with the client
authenticated by form fields or HTTP Basic; errors are RFC 6749 bodies with Google's texts.
`POST /revoke` kills the grant behind an access or refresh token.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from heartkeep.sandbox.catalog import KNOWN_SCOPES
from heartkeep.sandbox.consent import consent_page, error_page
from heartkeep.sandbox.grants import OAuthClient, TokenError
from heartkeep.sandbox.state import SandboxState

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def _token_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=_NO_STORE,
    )


def _token_error(failure: TokenError) -> Response:
    return _token_response(
        {"error": failure.error, "error_description": failure.description}, failure.status
    )


def redirect_allowed(client: OAuthClient, redirect_uri: str) -> bool:
    """Desktop clients: any loopback port (Google's loopback rule); web clients: exact match."""
    if client.kind == "web":
        return redirect_uri in client.redirect_uris
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.fragment:
        return False
    host = parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def form_fields(request: Request) -> list[tuple[str, str]]:
    """The request's `application/x-www-form-urlencoded` body as ordered pairs.

    Parsed here rather than with `request.form()`, which would pull in python-multipart for a
    format the standard library already reads.
    """
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return []
    return parse_qsl(text, keep_blank_values=True)


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


class AuthorizationServer:
    """The OAuth routes, bound to one `SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._pending: dict[str, dict[str, Any]] = {}

    # --- authorization endpoint -----------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._decide(request)
        params = dict(request.query_params)
        client = self.state.grants.clients.get(params.get("client_id", ""))
        if client is None:
            return error_page(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            return error_page(400, "invalid_request", "Missing required parameter: redirect_uri")
        if not redirect_allowed(client, redirect_uri):
            return error_page(
                400,
                "redirect_uri_mismatch",
                "You can't sign in to this app because it doesn't comply with Google's OAuth "
                f"2.0 policy. Request details: redirect_uri={redirect_uri}",
            )
        state_param = params.get("state")
        problem = self._check_request(params)
        if problem is not None:
            error, description = problem
            if error == "unsupported_response_type":
                return self._redirect_error(redirect_uri, error, state_param)
            return error_page(400, error, description)
        scopes = tuple(dict.fromkeys(params["scope"].split()))
        user_id = self._login_user(params.get("login_hint"))
        prompts = params.get("prompt", "").split()
        returning = (client.client_id, user_id) in self.state.grants.consented
        request_info = {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state_param,
            "scopes": scopes,
            "code_challenge": params.get("code_challenge"),
            "code_challenge_method": params.get("code_challenge_method", "plain"),
            "offline": params.get("access_type") == "offline",
            "include_granted": params.get("include_granted_scopes") == "true",
        }
        if "none" in prompts and not returning:
            # prompt=none may not show a screen, and this user has never consented.
            return self._redirect_error(redirect_uri, "consent_required", state_param)
        if returning and "consent" not in prompts:
            # Google skips the screen for an app already allowed, and then gives no new
            # refresh token: the reason clients pass prompt=consent.
            granted = self._auto_scopes(scopes)
            return self._approve(request_info, user_id, granted, consent_shown=False)
        if self.state.config.auto_approve:
            granted = self._auto_scopes(scopes)
            return self._approve(request_info, user_id, granted, consent_shown=True)
        consent_id = secrets.token_urlsafe(16)
        with self.state.lock:
            self._pending[consent_id] = request_info
        users = [(uid, spec.display_name) for uid, spec in self.state.users.items()]
        return consent_page(
            consent_id=consent_id,
            client_name="heartkeep",
            user_choices=users,
            chosen_user=user_id,
            scopes=scopes,
        )

    def _check_request(self, params: dict[str, str]) -> tuple[str, str] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", "Only response_type=code is supported."
        scope = params.get("scope", "").split()
        if not scope:
            return "invalid_request", "Missing required parameter: scope"
        unknown = [s for s in scope if s not in KNOWN_SCOPES]
        if unknown:
            return "invalid_scope", f"Some requested scopes were invalid: {' '.join(unknown)}"
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain")
        if challenge is None:
            if self.state.config.require_pkce:
                return "invalid_request", "Missing required parameter: code_challenge"
        elif method not in ("S256", "plain"):
            return "invalid_request", f"Invalid code_challenge_method: {method}"
        elif not 43 <= len(challenge) <= 128:
            return "invalid_request", "Invalid code_challenge."
        access_type = params.get("access_type", "online")
        if access_type not in ("online", "offline"):
            return "invalid_request", f"Invalid access_type: {access_type}"
        return None

    def _login_user(self, hint: str | None) -> str:
        if hint:
            for uid, spec in self.state.users.items():
                if hint in (uid, spec.legacy_user_id, spec.display_name):
                    return uid
        return self.state.login_user_id

    def _auto_scopes(self, scopes: tuple[str, ...]) -> tuple[str, ...]:
        with self.state.lock:
            declined = set(self.state.declined_scopes)
        return tuple(s for s in scopes if s not in declined)

    def _redirect_error(self, redirect_uri: str, error: str, state: str | None) -> Response:
        params = {"error": error}
        if state is not None:
            params["state"] = state
        return RedirectResponse(_with_query(redirect_uri, params), status_code=302)

    def _approve(
        self, info: dict[str, Any], user_id: str, granted: tuple[str, ...], *, consent_shown: bool
    ) -> Response:
        if not granted:
            return self._redirect_error(info["redirect_uri"], "access_denied", info["state"])
        with self.state.lock:
            if info["include_granted"]:  # incremental authorization keeps earlier scopes
                earlier = self.state.grants.granted_before(info["client_id"], user_id)
                granted = tuple(dict.fromkeys((*granted, *earlier)))
            code = self.state.grants.issue_code(
                client_id=info["client_id"],
                user_id=user_id,
                redirect_uri=info["redirect_uri"],
                scopes=granted,
                code_challenge=info["code_challenge"],
                code_challenge_method=info["code_challenge_method"],
                offline=info["offline"],
                consent_shown=consent_shown,
                now_s=self.state.now_s(),
            )
        params = {"code": code}
        if info["state"] is not None:
            params["state"] = info["state"]
        params["scope"] = " ".join(granted)
        params["authuser"] = "0"
        params["prompt"] = "consent" if consent_shown else "none"
        return RedirectResponse(_with_query(info["redirect_uri"], params), status_code=302)

    async def _decide(self, request: Request) -> Response:
        pairs = await form_fields(request)
        form = dict(pairs)
        consent_id = form.get("consent_id", "")
        with self.state.lock:
            info = self._pending.pop(consent_id, None)
        if info is None:
            return error_page(400, "invalid_request", "This consent screen has expired.")
        if form.get("decision") != "allow":
            return self._redirect_error(info["redirect_uri"], "access_denied", info["state"])
        ticked = {value for key, value in pairs if key == "scope"}
        granted = tuple(s for s in info["scopes"] if s in ticked)
        user_id = form.get("user") or self.state.login_user_id
        if user_id not in self.state.users:
            return error_page(400, "invalid_request", "Unknown account.")
        return self._approve(info, user_id, granted, consent_shown=True)

    # --- token endpoint -------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        fields = dict(await form_fields(request))
        try:
            client = self._client(request, fields)
            grant_type = fields.get("grant_type")
            now = self.state.now_s()
            with self.state.lock:
                if not grant_type:
                    raise TokenError("invalid_request", "Missing required parameter: grant_type")
                if grant_type == "authorization_code":
                    code = fields.get("code")
                    if not code:
                        raise TokenError("invalid_request", "Missing required parameter: code")
                    body = self.state.grants.exchange_code(
                        client, code, fields.get("redirect_uri"), fields.get("code_verifier"), now
                    )
                elif grant_type == "refresh_token":
                    refresh = fields.get("refresh_token")
                    if not refresh:
                        raise TokenError(
                            "invalid_request", "Missing required parameter: refresh_token"
                        )
                    body = self.state.grants.refresh(client, refresh, fields.get("scope"), now)
                else:
                    raise TokenError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        except TokenError as failure:
            return _token_error(failure)
        return _token_response(body)

    def _client(self, request: Request, fields: dict[str, str]) -> OAuthClient:
        header = request.headers.get("authorization", "")
        client_id = fields.get("client_id")
        secret = fields.get("client_secret")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise TokenError("invalid_client", "Unauthorized", 401) from None
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = unquote(basic_id), unquote(basic_secret)
        with self.state.lock:
            return self.state.grants.authenticate_client(client_id, secret)

    # --- revocation -----------------------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        token = request.query_params.get("token")
        if token is None and request.method == "POST":
            token = dict(await form_fields(request)).get("token")
        if not token:
            return _token_response(
                {
                    "error": "invalid_request",
                    "error_description": "Missing required parameter: token",
                },
                400,
            )
        with self.state.lock:
            revoked = self.state.grants.revoke(token)
        if not revoked:
            return _token_response(
                {"error": "invalid_token", "error_description": "Token expired or revoked"}, 400
            )
        return _token_response({})


def routes(state: SandboxState) -> list[BaseRoute]:
    server = AuthorizationServer(state)
    return [
        Route("/o/oauth2/v2/auth", server.authorize, methods=["GET", "POST"]),
        Route("/token", server.token, methods=["POST"]),
        Route("/revoke", server.revoke, methods=["GET", "POST"]),
    ]
