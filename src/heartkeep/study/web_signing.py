"""Signed strings for the study's web pages: invite links, OAuth `state`, session cookies.

Why HMAC from the standard library rather than itsdangerous: every value signed here also has a
row in the database that decides whether it is still good (an invite is single-use, a session
ends), so the signature only has to prove "we made this" — a dozen lines of `hmac` — and expiry
must follow the injected clock (itsdangerous reads `time.time()`), so tests never depend on the
wall clock.  No new dependency on every worker host either.

Each use signs under its own `purpose` (domain separation): an invite token can never pass as a
session cookie or a `state`, even though one key signs them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SEPARATOR = "."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_signing_key() -> str:
    """A fresh random key (urlsafe base64 of 32 bytes) for `study serve` and `study invite`."""
    return _b64(secrets.token_bytes(32))


class Signer:
    """Signs and checks `payload.signature` strings; `key` is any secret of 16+ bytes."""

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode() if isinstance(key, str) else key
        if len(raw) < 16:
            raise ValueError("the signing key must be at least 16 bytes long")
        self._key = raw

    def _mac(self, purpose: str, payload: str) -> str:
        message = purpose.encode() + b"\x00" + payload.encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def sign(self, purpose: str, payload: str) -> str:
        """`payload` (urlsafe, no '.') with its signature appended."""
        if _SEPARATOR in payload:
            raise ValueError("a signed payload may not contain '.'")
        return f"{payload}{_SEPARATOR}{self._mac(purpose, payload)}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        """The payload when `signed` was made by `sign(purpose, …)` with this key, else None."""
        payload, separator, mac = signed.rpartition(_SEPARATOR)
        if not separator or not payload:
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(purpose, payload).encode()):
            return None
        return payload

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash of `value` to store instead of it (an OAuth state, a CSRF token)."""
        return self._mac(purpose, value)


def random_token(nbytes: int = 18) -> str:
    """A random urlsafe token without '.' (what `Signer.sign` payloads are built from)."""
    return _b64(secrets.token_bytes(nbytes))
