"""The emulated Fitbit authorization page: which `/oauth2/authorize` requests are valid, and the
pages and redirects a browser sees (an error page, the consent form, the answer by redirect).

Fitbit shows a bad authorize parameter on its own page and never redirects it (reference §2.9,
a deliberate deviation from RFC 6749); a good one redirects to `redirect_uri?code=…&state=…#_=_`,
or answers in the fragment for the implicit flow.  The state (codes, tokens) lives in
`fitbit_tokens`; this module only judges requests and draws pages.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from heartkeep.sandbox.fitbit_clients import CLIENT_APPS, SUPPORTED_SCOPES

IMPLICIT_LIFETIMES_S = ("86400", "604800", "2592000", "31536000")


@dataclass(slots=True)
class Consent:
    """A valid authorization request, waiting on the consent page (auto_approve off) or
    approved at once."""

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


def validate_authorize(params: Mapping[str, str], user_id: str) -> Consent:
    """The request as a `Consent` for `user_id` (the person signed in at fitbit.com, "" for
    nobody), or `AuthorizationPageError` with Fitbit's wording for the first problem."""
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
        raise AuthorizationPageError("invalid_request", "The code_challenge parameter is invalid")
    prompt = params.get("prompt", "none")
    if prompt not in ("none", "consent", "login", "login consent"):
        raise AuthorizationPageError("invalid_request", "Invalid prompt parameter value")
    implicit_lifetime_s = 86_400
    if response_type == "token" and params.get("expires_in"):
        if params["expires_in"] not in IMPLICIT_LIFETIMES_S:
            raise AuthorizationPageError("invalid_request", "Invalid expires_in parameter")
        implicit_lifetime_s = int(params["expires_in"])
    if not user_id:
        raise AuthorizationPageError("invalid_request", "No Fitbit user is signed in")
    return Consent(
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


def redirect_back(pending: Consent, query: Mapping[str, str], *, implicit: bool) -> Response:
    """The answer to the app's `redirect_uri`, carrying the request's `state` when it had one."""
    answer = dict(query)
    if pending.state is not None:
        answer["state"] = pending.state
    return redirect(pending.redirect_uri, answer, implicit=implicit)


def redirect(uri: str, query: Mapping[str, str], *, implicit: bool) -> Response:
    """Fitbit appends `#_=_` to code redirects; the implicit flow answers in the fragment."""
    if implicit:
        target = f"{uri}#{urlencode(query)}"
    else:
        separator = "&" if urlsplit(uri).query else "?"
        target = f"{uri}{separator}{urlencode(query)}#_=_"
    return RedirectResponse(target, status_code=302)


def error_page(failure: AuthorizationPageError) -> Response:
    text = html.escape(f"{failure.error} - {failure.description}")
    page = (
        "<!doctype html><html><head><title>Fitbit authorization error</title></head>"
        f'<body><h1>Something went wrong</h1><p class="error">{text}</p></body></html>'
    )
    return HTMLResponse(page, status_code=400)


def consent_page(transaction: str, pending: Consent) -> Response:
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
