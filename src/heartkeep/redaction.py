"""Redaction: the one place that knows what a secret looks like and removes it from text.

Every message shown to a user or written to a log passes through `redact`.  Known secret values
(registered by the vault when it loads or receives tokens) are replaced wherever they appear, and
a named list of patterns catches secrets we were never told about (bearer headers, token-shaped
query parameters and JSON fields, Google and Fitbit token formats).
"""

from __future__ import annotations

import re
import threading
from functools import cache

MASK = "[redacted]"

# Patterns for secrets we have not been told about.  Each names what it catches.  Compiled on
# the first `redact` (`_patterns`): every command imports this module, few print a message, and
# compiling them at import was a few per cent of `--help` (issue 11).
PATTERN_SOURCES: tuple[tuple[str, str], ...] = (
    ("bearer header", r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    ("basic header", r"(?i)(basic\s+)[A-Za-z0-9+/=]{8,}"),
    (
        "token field",
        r"(?i)((?:access_token|refresh_token|id_token|client_secret|code_verifier|code|token)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]{6,}",
    ),
    (
        # Fitbit echoes the offending credential in its error messages ("Refresh token invalid:
        # 3bb4….", "Authorization code invalid: …", "Code verifier invalid: …").
        "fitbit error echo",
        r"(?i)((?:refresh token|access token|authorization code|code verifier)"
        r" invalid:\s*)[^\s]+",
    ),
    ("google access token", r"ya29\.[A-Za-z0-9._-]+"),
    ("google refresh token", r"1//[A-Za-z0-9._-]{10,}"),
    ("jwt", r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(source)) for name, source in PATTERN_SOURCES)


_known: set[str] = set()
_lock = threading.Lock()


# Shorter strings are not remembered: every real token, code, verifier and client secret is far
# longer, and masking a short word ("wrong", "test") everywhere would garble unrelated messages.
MIN_SECRET_LENGTH = 8


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it later appears."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _known.add(value)


def forget_secrets() -> None:
    """Drop every remembered secret (a long-lived process between unrelated jobs; tests)."""
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    """`text` with every known secret and every secret-shaped substring masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for _name, pattern in _patterns():
        if pattern.groups:
            text = pattern.sub(lambda match: match.group(1) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text
