"""Serve any ASGI app on loopback for a test (a webhook receiver, a flaky endpoint), over
plain HTTP or HTTPS with a throw-away certificate authority.

Google delivers webhooks to HTTPS endpoints only, and the sandbox does too by default; a test
makes a CA and a certificate for 127.0.0.1 (`make_tls`) and hands the CA file to the sandbox
(`webhook_ca_file`).  Validity spans 2000-2099, so nothing depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from heartkeep.loopback import LoopbackServer

_NOT_BEFORE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_NOT_AFTER = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_tls(folder: Path) -> Tls:
    """A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `folder`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "heartkeep test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(_pem_key(key))
    return tls


@dataclass(frozen=True)
class Served:
    url: str  # scheme://127.0.0.1:port, no trailing slash


@contextmanager
def serve_app(app: Any, *, tls: Tls | None = None) -> Iterator[Served]:
    """Run `app` on a free loopback port in a thread until the block ends (heartkeep's own
    `LoopbackServer`, as the sandbox and the dashboard start theirs)."""
    extra: dict[str, Any] = {"log_level": "warning"}
    if tls is not None:
        extra |= {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}
    server = LoopbackServer("127.0.0.1", 0, name="test app")
    port = server.bind()
    server.start(app, **extra)
    try:
        yield Served(f"{'https' if tls else 'http'}://127.0.0.1:{port}")
    finally:
        server.stop()


async def request_body(receive: Any) -> bytes:
    """The whole body of the request an ASGI app is serving (all its `http.request` messages)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body
