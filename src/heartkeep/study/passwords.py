"""The coordinator's password, kept only as a slow salted hash (scrypt from the standard library).

Why scrypt and not a library: hashlib ships it (OpenSSL's), it is memory-hard like argon2, and
the format below is all a verifier needs; a new dependency would add nothing.  Stored as
`scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>` in the study's config file, so `study init`
(which writes it) and the coordinator login (which checks it) agree without sharing code
beyond these two functions.  Parameters: n = 2**15, r = 8, p = 1 (about 32 MB and 0.1 s per
check on a laptop: a stolen config file costs an attacker that per guess).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

_N, _R, _P = 2**15, 8, 1
_MAX_MEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """The stored form of `password` (a fresh random salt each time)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEM)
    return "$".join(
        ("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)),
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (constant-time); False for a malformed `stored`."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt, digest = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        given = hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEM, dklen=len(digest)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(given, digest)


def is_password_hash(stored: str) -> bool:
    """Whether `stored` has the shape `hash_password` writes (for `study doctor`)."""
    parts = stored.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(parts[1:])


def new_password() -> str:
    """A random password for a new study's coordinator, easy to type (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
