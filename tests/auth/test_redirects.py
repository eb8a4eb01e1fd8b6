"""Reading the redirect (or a pasted code) back: state checked, errors explained, codes kept."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.auth.client_secrets import read_client_file, resolve_client
from heartkeep.auth.endpoints import GOOGLE_SCOPES, endpoints_for
from heartkeep.auth.flows import authorization_request, parse_redirect
from heartkeep.config import Settings
from heartkeep.errors import AuthorizationFailed, ConfigError
from heartkeep.sandbox import credentials

ENDPOINTS = endpoints_for("google", "http://127.0.0.1:9")
REDIRECT = "http://127.0.0.1:8085/"


def test_google_request_asks_offline_consent_with_pkce_s256_and_least_privilege() -> None:
    request = authorization_request(ENDPOINTS, "client-id", REDIRECT)
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == request.state
    assert query["redirect_uri"] == REDIRECT
    assert query["scope"].split() == list(GOOGLE_SCOPES)
    assert request.code_verifier not in request.url
    assert 43 <= len(request.code_verifier) <= 128


codes = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/", min_size=1
)


@given(code=codes, fragment=st.sampled_from(["", "#_=_", "#"]))
def test_pasted_redirect_url_yields_exactly_its_code(code: str, fragment: str) -> None:
    request = authorization_request(ENDPOINTS, "client-id", REDIRECT)
    pasted = f"{REDIRECT}?{urlencode({'state': request.state, 'code': code})}{fragment}"
    grant = parse_redirect(f"  {pasted}\n", request)
    assert grant.code == code
    assert grant.code_verifier == request.code_verifier
    assert grant.redirect_uri == REDIRECT


@given(code=codes.filter(lambda c: "=" not in c and "://" not in c))
def test_a_bare_pasted_code_is_accepted(code: str) -> None:
    request = authorization_request(ENDPOINTS, "client-id", REDIRECT)
    assert parse_redirect(code, request).code == code


def test_redirect_with_another_attempts_state_is_rejected() -> None:
    request = authorization_request(ENDPOINTS, "client-id", REDIRECT)
    forged = f"{REDIRECT}?state=somebody-elses&code=4/abc"
    with pytest.raises(AuthorizationFailed, match="state does not match"):
        parse_redirect(forged, request)
    with pytest.raises(AuthorizationFailed, match="state does not match"):
        parse_redirect(f"{REDIRECT}?code=4/abc", request)


def test_declined_consent_is_explained() -> None:
    request = authorization_request(ENDPOINTS, "client-id", REDIRECT)
    with pytest.raises(AuthorizationFailed, match="declined") as caught:
        parse_redirect(f"{REDIRECT}?error=access_denied&state={request.state}", request)
    assert caught.value.provider_code == "access_denied"


def test_google_desktop_client_file_and_web_client_file_are_read(tmp_path: Path) -> None:
    installed = tmp_path / "installed.json"
    installed.write_bytes(orjson.dumps(credentials.google_client_json("http://127.0.0.1:9")))
    client = read_client_file(installed)
    assert client.client_id == credentials.GOOGLE_CLIENT_ID
    assert client.client_secret == credentials.GOOGLE_CLIENT_SECRET
    assert credentials.GOOGLE_CLIENT_SECRET not in repr(client)
    web = tmp_path / "web.json"
    web.write_bytes(orjson.dumps({"web": {"client_id": "w.apps", "client_secret": "s3cret"}}))
    assert read_client_file(web).client_id == "w.apps"


@pytest.mark.parametrize(
    "content", [b"{", b"[]", b'{"installed": {}}', b'{"other": {"client_id": "x"}}']
)
def test_malformed_client_files_are_refused_without_echoing_them(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "client.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_client_file(path)
    assert str(path) in str(caught.value)


def test_without_any_client_heartkeep_explains_how_to_get_one(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="google-oauth-setup"):
        resolve_client(settings, "google")


def test_the_sandbox_demo_client_is_used_when_nothing_else_is_configured(
    settings: Settings,
) -> None:
    from msgspec.structs import replace

    sandboxed = replace(settings, sandbox_url="http://127.0.0.1:9")
    assert resolve_client(sandboxed, "google").client_id == credentials.GOOGLE_CLIENT_ID
    assert resolve_client(sandboxed, "fitbit").client_id == credentials.FITBIT_CLIENT_ID
    own = replace(sandboxed, google_client_id="mine.apps", google_client_secret="x-secret")
    assert resolve_client(own, "google").client_id == "mine.apps"
