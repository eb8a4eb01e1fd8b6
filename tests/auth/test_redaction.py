"""Redaction catches the secrets the auth code handles, even ones it was never told about."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.redaction import MASK, redact, register_secret

DOCS = "Visit https://dev.fitbit.com/docs/oauth2 for more information."


@pytest.mark.parametrize(
    "template",
    [
        "Refresh token invalid: {secret}. " + DOCS,
        "Authorization code invalid: {secret} " + DOCS,
        "Code verifier invalid: {secret}. " + DOCS,
        "Authorization: Bearer {secret}",
        '{{"refresh_token": "{secret}", "expires_in": 3600}}',
        "grant_type=refresh_token&refresh_token={secret}&client_id=x",
    ],
)
def test_unregistered_secrets_in_provider_messages_are_masked(template: str) -> None:
    secret = secrets.token_hex(32)  # Fitbit's refresh tokens are 64 hex characters
    text = redact(template.format(secret=secret))
    assert secret not in text
    assert MASK in text


@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_a_registered_secret_never_survives_redaction(prefix: str, suffix: str) -> None:
    secret = "hk-" + secrets.token_urlsafe(24)
    register_secret(secret)
    assert secret not in redact(prefix + secret + suffix)
