"""The webhook service's HTTP side: the endpoint-verification handshake and delivery.

Verification [disc `subscribers.create`]: two POSTs of `{"type": "verification"}` with
`Content-Type: application/json`, one carrying `Authorization: <secret exactly as configured>`
(must answer 201), one without it (must answer 401 or 403).  Both bodies are signed, as "all
requests sent by the Webhooks service" are [disc `EndpointAuthorization`].

Delivery (`pump`): announce what changed since the last pump (`notifications`), then POST each
due notification with the subscriber's `Authorization` and the body's signature; 204 ends it,
anything else (or no answer within `webhook_timeout_s`) is retried on the outbox's schedule.
Tests call `pump` themselves after moving the simulated clock; a sandbox on wall time runs it
in a background thread (`SandboxServer`).  No lock is held while a request is in flight, so a
receiver may call the sandbox back from its handler; the handshake runs in a worker thread for
the same reason (the sandbox's event loop keeps serving while it waits).

Requests go out through heartkeep's HTTP client (`http_client`, on `http_wire`): an HTTP
client, not the API's parsing, so the emulator still shares none of heartkeep's reading of the
API.  HTTPS endpoints are verified against the system's trust (or `webhook_ca_file`).
"""

from __future__ import annotations

import asyncio
import ssl

from heartkeep import http_client
from heartkeep.http_wire import WireTransport
from heartkeep.sandbox.notifications import announce_changes
from heartkeep.sandbox.signing import SIGNATURE_HEADER
from heartkeep.sandbox.state import SandboxState

VERIFICATION_BODY = b'{"type": "verification"}'


def _client(state: SandboxState) -> http_client.Client:
    """A client whose https trust is `webhook_ca_file` when set, else the system's; made on
    the first https request only."""
    ca_file = state.config.webhook_ca_file
    transport = WireTransport(lambda: ssl.create_default_context(cafile=ca_file))
    return http_client.Client(transport=transport, timeout=state.config.webhook_timeout_s)


def _headers(state: SandboxState, body: bytes, secret: str | None) -> dict[str, str]:
    signature = state.webhooks.signer.sign(body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    if secret is not None:
        headers["Authorization"] = secret
    return headers


async def verify_endpoint(state: SandboxState, uri: str, secret: str) -> str | None:
    """Run the handshake against `uri`; None when it passed, else what went wrong."""
    return await asyncio.to_thread(_verify, state, uri, secret)


def _verify(state: SandboxState, uri: str, secret: str) -> str | None:
    with _client(state) as client:
        try:
            with_auth = client.post(
                uri, content=VERIFICATION_BODY, headers=_headers(state, VERIFICATION_BODY, secret)
            )
            without = client.post(
                uri, content=VERIFICATION_BODY, headers=_headers(state, VERIFICATION_BODY, None)
            )
        except http_client.HTTPError as failure:
            return f"the endpoint did not answer ({type(failure).__name__})"
    if with_auth.status_code != 201:
        return f"with the Authorization header it answered {with_auth.status_code}, not 201"
    if without.status_code not in (401, 403):
        return f"without the Authorization header it answered {without.status_code}, not 401/403"
    return None


def pump(state: SandboxState) -> int:
    """Announce new data, then attempt every due delivery once; returns how many POSTs."""
    with state.webhooks.pump_lock:
        announce_changes(state)
        with state.lock:
            now = state.now_s()
            due = state.webhooks.due(now)
            targets = {d.delivery_id: state.webhooks.subscribers[d.subscriber_id] for d in due}
        if not due:
            return 0
        with _client(state) as client:
            for delivery in due:
                target = targets[delivery.delivery_id]
                try:
                    response = client.post(
                        target.endpoint_uri,
                        content=delivery.body,
                        headers=_headers(state, delivery.body, target.secret),
                    )
                    status = response.status_code
                except http_client.HTTPError:
                    status = 0
                with state.lock:
                    state.webhooks.record(delivery, status, state.now_s())
        return len(due)
