"""TLS trust of heartkeep's HTTP clients (`https_trust.py`): built on the first https request
only, from the system's hashed certificate directory when there is one, and always verifying.

A real HTTPS server on loopback with a throw-away CA (`loopback_asgi.make_tls`) stands in for
the provider; no network, no mocked HTTP client."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heartkeep import http_client, https_trust
from heartkeep.https_trust import SchemeTransport, trust_context
from loopback_asgi import Served, Tls, make_tls, serve_app


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest ASGI app: 200 and a JSON body for any request."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https(tls: Tls) -> Iterator[Served]:
    with serve_app(_ok, tls=tls) as served:
        yield served


@pytest.fixture(scope="module")
def http() -> Iterator[Served]:
    with serve_app(_ok) as served:
        yield served


@pytest.fixture(autouse=True)
def no_trust_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _system_dir(monkeypatch: pytest.MonkeyPatch, capath: Path) -> None:
    """Make `capath` the system's certificate directory, as OpenSSL reports it."""
    real = ssl.get_default_verify_paths()
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: real._replace(capath=str(capath)))


def _hashed_dir(folder: Path, ca_file: Path) -> Path:
    """A certificate directory in OpenSSL's layout holding `ca_file` under its subject hash."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to name the certificate by its hash")
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    folder.mkdir()
    shutil.copy(ca_file, folder / f"{digest}.0")
    return folder


def _get(client: SchemeTransport, url: str) -> http_client.Response:
    response = client.handle_request(http_client.Request("GET", url))
    response.read()
    return response


def test_plain_http_builds_no_trust(http: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox on loopback (an up-to-date cron sync) never pays for a CA bundle."""

    def refuse() -> ssl.SSLContext:
        raise AssertionError("trust built for a plain http request")

    monkeypatch.setattr(https_trust, "trust_context", refuse)
    client = SchemeTransport()
    assert _get(client, http.url + "/x").status_code == 200
    client.close()


def test_https_trusts_the_system_directory(
    https: Served, tls: Tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _system_dir(monkeypatch, _hashed_dir(tmp_path / "certs", tls.ca_file))
    client = SchemeTransport()
    assert _get(client, https.url + "/x").json() == {"ok": True}
    client.close()


def test_https_with_an_unknown_issuer_fails_closed(
    https: Served, tls: Tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system directory without the server's CA (and certifi's bundle, which lacks it too)."""
    (tmp_path / "other").mkdir()
    other = make_tls(tmp_path / "other")
    _system_dir(monkeypatch, _hashed_dir(tmp_path / "certs", other.ca_file))
    client = SchemeTransport()
    with pytest.raises(http_client.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        _get(client, https.url + "/x")
    client.close()


def test_without_a_hashed_directory_certifi_is_the_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README").write_text("not a certificate")
    _system_dir(monkeypatch, empty)
    context = trust_context()
    bundle = ssl.create_default_context(cafile=certifi.where())
    assert context.cert_store_stats() == bundle.cert_store_stats()
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_ssl_cert_file_overrides_the_system(
    https: Served, tls: Tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As httpx and curl honour it: a private CA for a proxy that inspects TLS, say."""
    (tmp_path / "empty").mkdir()
    _system_dir(monkeypatch, tmp_path / "empty")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    client = SchemeTransport()
    assert _get(client, https.url + "/x").status_code == 200
    client.close()


def test_the_token_endpoint_trusts_what_the_sync_trusts(
    https: Served, tls: Tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CA only the system store holds (a company proxy's) serves token refreshes too, not
    just the data requests: both clients take their trust from `https_trust`."""
    from heartkeep.auth.client_secrets import ClientCredentials
    from heartkeep.auth.endpoints import endpoints_for
    from heartkeep.auth.token_client import TokenClient
    from heartkeep.clock import FakeClock

    _system_dir(monkeypatch, _hashed_dir(tmp_path / "certs", tls.ca_file))
    endpoints = endpoints_for("google", https.url)
    with TokenClient(endpoints, ClientCredentials("id", "secret"), clock=FakeClock(0)) as tokens:
        tokens.revoke("a-token")  # raises on a certificate it does not trust
