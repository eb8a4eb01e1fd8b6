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
receiver may call the sandbox back from its handler.
"""

from __future__ import annotations

import ssl

import httpx

from heartkeep.sandbox.notifications import announce_changes
from heartkeep.sandbox.signing import SIGNATURE_HEADER
from heartkeep.sandbox.state import SandboxState

VERIFICATION_BODY = b'{"type": "verification"}'


def _verify_setting(state: SandboxState) -> ssl.SSLContext | bool:
    ca_file = state.config.webhook_ca_file
    return ssl.create_default_context(cafile=ca_file) if ca_file else True


def _headers(state: SandboxState, body: bytes, secret: str | None) -> dict[str, str]:
    signature = state.webhooks.signer.sign(body)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    if secret is not None:
        headers["Authorization"] = secret
    return headers


async def verify_endpoint(state: SandboxState, uri: str, secret: str) -> str | None:
    """Run the handshake against `uri`; None when it passed, else what went wrong."""
    timeout = state.config.webhook_timeout_s
    async with httpx.AsyncClient(
        verify=_verify_setting(state), timeout=timeout, trust_env=False
    ) as client:
        try:
            with_auth = await client.post(
                uri, content=VERIFICATION_BODY, headers=_headers(state, VERIFICATION_BODY, secret)
            )
            without = await client.post(
                uri, content=VERIFICATION_BODY, headers=_headers(state, VERIFICATION_BODY, None)
            )
        except httpx.HTTPError as failure:
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
        with httpx.Client(
            verify=_verify_setting(state), timeout=state.config.webhook_timeout_s, trust_env=False
        ) as client:
            for delivery in due:
                target = targets[delivery.delivery_id]
                try:
                    response = client.post(
                        target.endpoint_uri,
                        content=delivery.body,
                        headers=_headers(state, delivery.body, target.secret),
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                with state.lock:
                    state.webhooks.record(delivery, status, state.now_s())
        return len(due)
