"""Where https trust comes from, for every HTTP client of heartkeep's (sync and token refresh).

One place, so the sync and the token endpoint trust the same certificate authorities: a CA an
administrator added to the system store (a company proxy) works for both or for neither.  Built
on the first https request only, never for plain http (the sandbox on loopback): loading a CA
bundle is most of a sync that has nothing new to fetch.
"""

from __future__ import annotations

import os
import re
import ssl

from heartkeep.http_wire import WireTransport

_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def _hashed_dir(path: str | None) -> bool:
    """Whether `path` is a certificate directory OpenSSL can look issuers up in by hash."""
    if not path:
        return False
    try:
        with os.scandir(path) as entries:
            return any(_HASHED_NAME.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


def trust_context() -> ssl.SSLContext:
    """The verifying TLS context of https requests: hostname checked, certificate required.

    Where trust comes from, first match wins: `SSL_CERT_FILE` or `SSL_CERT_DIR` (as curl and
    httpx honour them); the system's hashed certificate directory (`/etc/ssl/certs` on Debian
    and most Linux), which OpenSSL reads lazily, one issuer per handshake; otherwise certifi's
    bundle, as httpx does by default.  A bundle is parsed whole when the context is made (~280 M
    instructions, more than the rest of an up-to-date sync); the directory costs nothing until a
    handshake needs an issuer.  The system store is the one curl and the OS trust, so a CA an
    administrator added (or removed) counts here too.  Verification is never turned off.
    """
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    system = ssl.get_default_verify_paths().capath
    if _hashed_dir(system):
        return ssl.create_default_context(capath=system)
    import certifi  # only where the system offers no certificate directory

    return ssl.create_default_context(cafile=certifi.where())


class SchemeTransport(WireTransport):
    """The plain network transport of heartkeep's clients (`http_wire.WireTransport`), whose
    https connections verify against `trust_context()`, made on the first https request.

    Plain http (the sandbox on loopback) never builds any trust.
    """

    def __init__(self) -> None:
        super().__init__(lambda: trust_context())
