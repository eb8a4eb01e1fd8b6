"""Getting an authorization code: the loopback flow and the headless paste flow.

Both build the same authorization request — `state` against cross-site forgery, PKCE S256 so an
intercepted code is useless, and for Google `access_type=offline` + `prompt=consent` so a refresh
token is always issued — with Authlib doing the protocol pieces.  The loopback flow opens the
browser (an injectable `open_browser`, `webbrowser.open` by default) and catches the redirect on
127.0.0.1; the paste flow prints the address and reads back the redirected URL or the bare code
from an injectable `read_line`.  Both return an `AuthorizationGrant` to be exchanged at once.
"""

from __future__ import annotations

import hmac
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from heartkeep.auth.callback import CallbackServer
from heartkeep.auth.endpoints import GOOGLE_HEALTH, ProviderEndpoints
from heartkeep.errors import AuthorizationFailed, HeartkeepError
from heartkeep.redaction import register_secret

DEFAULT_PASTE_PORT = 8085
DEFAULT_TIMEOUT_S = 300.0

OpenBrowser = Callable[[str], object]
ReadLine = Callable[[], str]
ShowUrl = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One login attempt: the address to visit and the secrets to check its answer with."""

    url: str
    redirect_uri: str
    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AuthorizationGrant:
    """A code ready for exchange, with the redirect URI and PKCE verifier it is bound to."""

    code: str = field(repr=False)
    redirect_uri: str
    code_verifier: str = field(repr=False)


def authorization_request(
    endpoints: ProviderEndpoints, client_id: str, redirect_uri: str
) -> AuthorizationRequest:
    """Build the consent-page address with a fresh `state` and PKCE verifier."""
    state = generate_token(32)
    verifier = generate_token(64)
    register_secret(verifier)
    extra: dict[str, str] = {
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if endpoints.provider == GOOGLE_HEALTH:
        extra.update(access_type="offline", prompt="consent")
    else:
        extra.update(prompt="consent")
    url = prepare_grant_uri(
        endpoints.auth_uri,
        client_id=client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=" ".join(endpoints.scopes),
        state=state,
        **extra,
    )
    return AuthorizationRequest(
        url=url, redirect_uri=redirect_uri, state=state, code_verifier=verifier
    )


def parse_redirect(text: str, request: AuthorizationRequest) -> AuthorizationGrant:
    """The grant in a redirected URL (state checked) or a bare code pasted by hand.

    Raises `AuthorizationFailed` when consent was declined, the state does not match this
    attempt, or no code is present.
    """
    text = text.strip()
    if not text:
        raise AuthorizationFailed("nothing was pasted", hint="Paste the whole address or the code.")
    looks_like_url = "://" in text or text.startswith("?") or "code=" in text or "error=" in text
    if not looks_like_url:
        register_secret(text)
        return AuthorizationGrant(text, request.redirect_uri, request.code_verifier)
    query = urlsplit(text).query if "://" in text else text.lstrip("?").split("#", 1)[0]
    return grant_from_query(query, request)


def grant_from_query(query: str, request: AuthorizationRequest) -> AuthorizationGrant:
    """Check a redirect's query string against `request` and extract the code."""
    params = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
    code = params.get("code")
    register_secret(code)
    error = params.get("error")
    if error:
        if error == "access_denied":
            raise AuthorizationFailed(
                "consent was declined on the provider's page, so heartkeep got no access",
                hint="Run `heartkeep auth login` again and choose Allow.",
                provider_code=error,
            )
        raise AuthorizationFailed(
            f"the provider refused the authorization request ({error})", provider_code=error
        )
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), request.state.encode()):
        raise AuthorizationFailed(
            "the redirect's state does not match this login attempt, so it was rejected "
            "(it may come from an older attempt or from someone else)",
            hint="Run `heartkeep auth login` again and use the address it prints.",
        )
    if not code:
        raise AuthorizationFailed("the redirect carries no authorization code")
    return AuthorizationGrant(code, request.redirect_uri, request.code_verifier)


def loopback_flow(
    endpoints: ProviderEndpoints,
    client_id: str,
    *,
    port: int = 0,
    open_browser: OpenBrowser = webbrowser.open,
    show_url: ShowUrl | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> AuthorizationGrant:
    """Open the consent page in a browser and catch its redirect on 127.0.0.1:`port`.

    `show_url` receives the address too, for when no browser opens.  Raises
    `AuthorizationFailed` (declined, state mismatch, timeout) or `ConfigError` (port in use).
    """
    server = CallbackServer(port)
    try:
        request = authorization_request(endpoints, client_id, server.redirect_uri)
    except BaseException:
        server.close()
        raise
    outcome: list[AuthorizationGrant | HeartkeepError] = []

    def judge(query: str) -> tuple[int, str, str]:
        try:
            outcome.append(grant_from_query(query, request))
        except AuthorizationFailed as failure:
            outcome.append(failure)
            return 400, "heartkeep could not connect", failure.message
        return 200, "heartkeep received your consent", "You can close this tab."

    server.start(judge)
    try:
        if show_url is not None:
            show_url(request.url)
        open_browser(request.url)
    except BaseException:
        server.close()
        raise
    server.wait(timeout_s)
    result = outcome[0]
    if isinstance(result, HeartkeepError):
        raise result
    return result


def paste_flow(
    endpoints: ProviderEndpoints,
    client_id: str,
    *,
    read_line: ReadLine,
    show_url: ShowUrl,
    port: int = 0,
) -> AuthorizationGrant:
    """For machines without a browser: print the address, read back where the browser landed.

    The redirect goes to http://127.0.0.1:`port`/ (8085 unless configured), where nothing
    listens: the browser shows an error page whose address (or just its `code`) is pasted back.
    """
    redirect_uri = f"http://127.0.0.1:{port or DEFAULT_PASTE_PORT}/"
    request = authorization_request(endpoints, client_id, redirect_uri)
    show_url(request.url)
    return parse_redirect(read_line(), request)
