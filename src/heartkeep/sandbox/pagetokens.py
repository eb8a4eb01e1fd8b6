"""Opaque page tokens bound to the query they continue.

A token carries the position where the previous page stopped (for heart rate: the last served
instant, so the next page is found by binary search instead of re-walking) and a digest of the
query (user, data type, filter bounds, source family, roll-up request).  It is signed with a
per-server key, so a tampered token, one from another server, or one replayed with a different
filter is rejected with 400 INVALID_ARGUMENT, as AIP-158 prescribes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import orjson

from heartkeep.sandbox.rpc import ApiError, invalid_argument

_MAC_BYTES = 12


class PageTokens:
    """Encoder/decoder of page tokens for one sandbox (one signing key)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def encode(self, query_key: str, position: dict[str, Any]) -> str:
        body = orjson.dumps({"q": _digest(query_key), "p": position})
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(mac + body).rstrip(b"=").decode("ascii")

    def decode(self, token: str, query_key: str) -> dict[str, Any]:
        """The position inside `token`; raises 400 if it is malformed or from another query."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise _bad_token("The page token is malformed.") from None
        mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        expected = hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise _bad_token("The page token is invalid.")
        payload = orjson.loads(body)
        if payload.get("q") != _digest(query_key):
            raise _bad_token(
                "The page token does not match the request: every parameter except the page "
                "size must equal the first request's."
            )
        position = payload.get("p")
        if not isinstance(position, dict):
            raise _bad_token("The page token is invalid.")
        return position


def _digest(query_key: str) -> str:
    return hashlib.sha256(query_key.encode()).hexdigest()[:16]


def _bad_token(message: str) -> ApiError:
    return invalid_argument(message, "INVALID_PAGE_TOKEN", [("page_token", message)])
