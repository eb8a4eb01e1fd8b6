"""Who may open the coordinator pages: one login, a scrypt password hash.

Why scrypt from `hashlib`: a memory-hard hash in the standard library (OpenSSL's), so the study
needs no argon2 wheel on its hosts; the parameters (n=2**14, r=8, p=1: 16 MiB, ~50 ms) are
stored with the hash, so they can be raised later without breaking old hashes.

Sessions, once logged in, are kept on the server (`coordinator_sessions.py`): the cookie holds
a signed random id, HttpOnly, SameSite=Strict, Secure behind HTTPS; logout deletes the row and
a changed password ends every session.  Each session's CSRF token is a keyed hash of its id:
every coordinator form carries it and every POST is checked against it (and against the
Origin header), so another site cannot make a logged-in coordinator's browser withdraw a
participant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

COOKIE = "heartkeep_study_session"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, *, n: int = _SCRYPT_N) -> str:
    """`scrypt$n$r$p$salt$hash` (base64) for the study's configuration file."""
    if not password:
        raise ValueError("the coordinator password may not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 << 20
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${encoded[0]}${encoded[1]}"


def check_password(password: str, stored: str) -> bool:
    """True when `password` matches the `hash_password` string `stored` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 << 20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class CoordinatorLogin:
    """The coordinator's user name and password hash (`hash_password`), from the study's
    configuration; the password itself is never kept."""

    user: str
    password_hash: str = field(repr=False)

    def check(self, user: str, password: str) -> bool:
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        return check_password(password, self.password_hash) and same_user
