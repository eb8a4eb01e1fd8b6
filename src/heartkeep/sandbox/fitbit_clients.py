"""The emulated Fitbit authorization server's registered apps, and how a request proves which
app it comes from (HTTP Basic, or `client_id` alone for public clients), with the small
request and error helpers every OAuth endpoint shares.

Apart from `fitbit_oauth` (the endpoints) so the rules of client authentication (reference
§3: Personal, Server and Client apps) read in one place.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET
from heartkeep.sandbox.fitbit_wire import DOCS_HINT, error_response

SUPPORTED_SCOPES = (
    "activity",
    "cardio_fitness",
    "electrocardiogram",
    "heartrate",
    "irregular_rhythm_notifications",
    "location",
    "nutrition",
    "oxygen_saturation",
    "profile",
    "respiratory_rate",
    "settings",
    "sleep",
    "social",
    "temperature",
    "weight",
)
PUBLIC_CLIENT_ID = "23SBXC"
"""A second demo app of type Client (public: no secret, PKCE required) for exercising that path."""


@dataclass(frozen=True, slots=True)
class ClientApp:
    """A registered application.  `app_type` is personal, server or client (reference §3)."""

    client_id: str
    client_secret: str | None
    app_type: str

    def redirect_allowed(self, uri: str) -> bool:
        """The demo apps are registered with loopback callbacks on any port and path.

        Fitbit compares `redirect_uri` exactly with the registered ones; a desktop tool listens on
        a free port, so the sandbox registers every `http://127.0.0.1:*` / `http://localhost:*`
        URI (and an `https://localhost` one) instead of one fixed port.
        """
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost")


CLIENT_APPS = {
    FITBIT_CLIENT_ID: ClientApp(FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET, "personal"),
    PUBLIC_CLIENT_ID: ClientApp(PUBLIC_CLIENT_ID, None, "client"),
}


def authenticate_client(
    request: Request, params: Mapping[str, str]
) -> tuple[ClientApp | None, Response | None]:
    """(the app, None) or (None, Fitbit's 401): Basic credentials, a body secret, or a bare
    `client_id` for Personal and Client apps (which must then use PKCE)."""
    header = request.headers.get("authorization")
    body_id = params.get("client_id") or None
    if header is not None:
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, sep, secret = decoded.partition(":")
        if scheme.lower() != "basic" or not sep:
            return None, invalid_client(
                "Invalid authorization header format. The header was not recognized to be a "
                "valid header for any of known implementations or a client_id was not "
                f"specified in case of a public client Received header = {header}. " + DOCS_HINT
            )
        client = CLIENT_APPS.get(client_id)
        if (
            client is None
            or client.client_secret is None
            or not hmac.compare_digest(client.client_secret, secret)
        ):
            return None, invalid_client(
                "Invalid authorization header. Client id invalid or client secret invalid. "
                + DOCS_HINT
            )
        if body_id is not None and body_id != client_id:
            return None, invalid_client(
                "The client_id parameter does not match the authorization header. " + DOCS_HINT
            )
        return client, None
    if body_id is None:
        return None, invalid_client(
            "Authorization header required. A client_id must be given for a public client. "
            + DOCS_HINT
        )
    client = CLIENT_APPS.get(body_id)
    if client is None:
        return None, invalid_client(f"Invalid client_id: {body_id}. {DOCS_HINT}")
    body_secret = params.get("client_secret")
    if body_secret is not None:
        # Some clients send the secret in the body too; accepted when it is right.
        if client.client_secret is None or not hmac.compare_digest(
            client.client_secret, body_secret
        ):
            return None, invalid_client(f"Invalid client secret. {DOCS_HINT}")
        return client, None
    if client.app_type == "server":
        return None, invalid_client(
            f"A server application must authenticate with its client secret. {DOCS_HINT}"
        )
    # Personal and Client apps may authenticate by client_id alone; PKCE is then required.
    return ClientApp(client.client_id, None, client.app_type), None


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    """The url-encoded form body as (key, value) pairs (no multipart: Fitbit takes none)."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qsl(body, keep_blank_values=True)


async def request_params(request: Request) -> dict[str, str]:
    """Query-string parameters overlaid by the form body: Fitbit accepts both (reference §2.3)."""
    params = dict(request.query_params)
    params.update(await form_pairs(request))
    return params


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def invalid_request(missing: str) -> Response:
    return error_response(400, "invalid_request", f"Missing parameters: {missing} {DOCS_HINT}")


def invalid_client(message: str) -> Response:
    return error_response(
        401,
        "invalid_client",
        message,
        headers={"WWW-Authenticate": 'Basic realm="api.fitbit.com"'},
    )
