"""Who may open the coordinator pages: one login, a scrypt password hash, a signed session.

Why scrypt from `hashlib`: a memory-hard hash in the standard library (OpenSSL's), so the study
needs no argon2 wheel on its hosts; the parameters (n=2**14, r=8, p=1: 16 MiB, ~50 ms) are
stored with the hash, so they can be raised later without breaking old hashes.

The session is a cookie holding `user|issued_s|nonce`, signed (`web_signing.Signer`), HttpOnly,
SameSite=Strict, Secure behind HTTPS, and valid for `SESSION_S`.  Each session's CSRF token is
a keyed hash of its nonce: every coordinator form carries it and every POST is checked against
it (and against the Origin header), so another site cannot make a logged-in coordinator's
browser withdraw a participant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from heartkeep.study.web_signing import Signer, random_token

SESSION_S = 8 * 3600
COOKIE = "heartkeep_study_session"
_PURPOSE = "coordinator-session"
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


@dataclass(frozen=True)
class Session:
    """A logged-in coordinator: who, since when, and the CSRF token their forms carry."""

    user: str
    issued_s: int
    csrf: str


class Sessions:
    """Makes and reads session cookies with one signing key and a clock."""

    def __init__(self, signer: Signer, *, lifetime_s: int = SESSION_S) -> None:
        self._signer = signer
        self.lifetime_s = lifetime_s

    def new_cookie(self, user: str, now_s: float) -> str:
        user_b64 = base64.urlsafe_b64encode(user.encode()).decode().rstrip("=")
        return self._signer.sign(_PURPOSE, f"{user_b64}~{int(now_s)}~{random_token()}")

    def read(self, cookie: str | None, now_s: float) -> Session | None:
        """The session in `cookie`, or None (missing, forged, or older than its lifetime)."""
        if not cookie:
            return None
        payload = self._signer.unsign(_PURPOSE, cookie)
        if payload is None:
            return None
        try:
            user_b64, issued, nonce = payload.split("~")
            user = base64.urlsafe_b64decode(user_b64 + "=" * (-len(user_b64) % 4)).decode()
            issued_s = int(issued)
        except (ValueError, UnicodeDecodeError):
            return None
        if not 0 <= now_s - issued_s < self.lifetime_s:
            return None
        return Session(user, issued_s, self._signer.digest("csrf", nonce))
