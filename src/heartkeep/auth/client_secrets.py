"""Which OAuth client heartkeep logs in with: from a client-secret file, settings, or the sandbox.

A person registers their own OAuth client (docs/google-oauth-setup.md) and hands heartkeep either
the JSON file Google Cloud Console downloads (`{"installed": {...}}` for a Desktop app, or
`{"web": {...}}`) or the id and secret through flags / `HEARTKEEP_*` variables.  Against the
sandbox, with nothing configured, the sandbox's public demo client is used.  The secret is held in
a `ClientCredentials` whose repr hides it, and is registered for redaction the moment it is read.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson

from heartkeep.auth.endpoints import GOOGLE_HEALTH, provider_name
from heartkeep.config import Settings
from heartkeep.errors import ConfigError
from heartkeep.model import repr_without
from heartkeep.redaction import register_secret


class ClientCredentials(msgspec.Struct, frozen=True):
    """An OAuth client: its id and secret.  `source` says where they came from, for messages."""

    client_id: str
    client_secret: str | None
    source: str = "settings"

    def __repr__(self) -> str:
        return repr_without(self, ("client_secret",))

    def __post_init__(self) -> None:
        register_secret(self.client_secret)


def read_client_file(path: Path) -> ClientCredentials:
    """Read a Google client-secret JSON file (`installed` or `web` client).

    Raises `ConfigError` naming the file (never its contents) when it is missing or malformed.
    """
    try:
        path = path.expanduser()
    except RuntimeError:  # `~nosuchuser/…`
        raise ConfigError(f"client file {path}: no such user's home folder") from None
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"client file {path} does not exist",
            hint="Download it from Google Cloud Console (see docs/google-oauth-setup.md).",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"client file {path} is a folder",
            hint="Give the client-secret JSON file itself (client_secret_….json).",
        ) from None
    except OSError as error:
        raise ConfigError(
            f"client file {path} cannot be read: {error.strerror or error}",
            hint="Check that the file is yours and readable (chmod 600 keeps it private).",
        ) from None
    except orjson.JSONDecodeError:
        raise ConfigError(f"client file {path} is not valid JSON") from None
    section = None
    if isinstance(document, dict):
        section = document.get("installed") or document.get("web")
    if not isinstance(section, dict) or not section.get("client_id"):
        raise ConfigError(
            f"client file {path} is not a Google OAuth client file",
            hint='Expected {"installed": {"client_id": ..., "client_secret": ...}} as downloaded '
            "for a Desktop app client.",
        )
    secret = section.get("client_secret")
    return ClientCredentials(
        client_id=str(section["client_id"]),
        client_secret=str(secret) if secret else None,
        source=str(path),
    )


def resolve_client(
    settings: Settings,
    provider: str,
    *,
    client_file: Path | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> ClientCredentials:
    """The client to log in with: explicit arguments, then settings, then the sandbox demo client.

    Raises `ConfigError` with setup instructions when nothing is configured and no sandbox is
    in use.
    """
    provider = provider_name(provider)
    if client_file is not None:
        return read_client_file(client_file)
    if client_id:
        return ClientCredentials(client_id, client_secret, source="command line")
    if provider == GOOGLE_HEALTH:
        if settings.google_client_file is not None:
            return read_client_file(settings.google_client_file)
        if settings.google_client_id:
            return ClientCredentials(settings.google_client_id, settings.google_client_secret)
    elif settings.fitbit_client_id:
        return ClientCredentials(settings.fitbit_client_id, settings.fitbit_client_secret)
    if settings.sandbox_url:
        from heartkeep.sandbox import credentials

        if provider == GOOGLE_HEALTH:
            return ClientCredentials(
                credentials.GOOGLE_CLIENT_ID, credentials.GOOGLE_CLIENT_SECRET, source="sandbox"
            )
        return ClientCredentials(
            credentials.FITBIT_CLIENT_ID, credentials.FITBIT_CLIENT_SECRET, source="sandbox"
        )
    if provider == GOOGLE_HEALTH:
        raise ConfigError(
            "no Google OAuth client is configured",
            hint="Create a Desktop-app client (docs/google-oauth-setup.md), then run "
            "`heartkeep auth login --client-file client_secret.json`, or set "
            "HEARTKEEP_GOOGLE_CLIENT_FILE.  To try heartkeep without an account: `heartkeep demo`.",
        )
    raise ConfigError(
        "no Fitbit OAuth client is configured",
        hint="Pass --client-id/--client-secret or set HEARTKEEP_FITBIT_CLIENT_ID and "
        "HEARTKEEP_FITBIT_CLIENT_SECRET.",
    )
