"""The `projects.subscribers` resource: who gets webhook notifications, and where.

Methods as discovery lists them [disc `resources.projects.resources.subscribers`]: `create`
(POST, `?subscriberId=`, body `CreateSubscriberPayload`, answers an `Operation`), `list` (GET,
`pageSize` default 50, max 1000, `pageToken`), `patch` (PATCH, `?updateMask=` of
`endpoint_uri`, `subscriber_configs`, `endpoint_authorization`) and `delete` (`?force=`).
Discovery has no `get`, so neither has the sandbox.  Every method needs a token with the
`cloud-platform` scope; the path must name the project by *number* [doc G-TS].  `create`, and a
`patch` that touches the endpoint or its secret, run the endpoint-verification handshake
(`delivery.verify_endpoint`) before anything is stored.  The `subscriptions` sub-resource
(MANUAL policy) is not emulated: a MANUAL subscriber is stored and never notified.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heartkeep.sandbox.catalog import CLOUD_PLATFORM, DATA_TYPES
from heartkeep.sandbox.credentials import SANDBOX_PROJECT_ID, SANDBOX_PROJECT_NUMBER
from heartkeep.sandbox.delivery import verify_endpoint
from heartkeep.sandbox.notifications import baseline
from heartkeep.sandbox.rpc import (
    ApiError,
    guarded,
    invalid_argument,
    not_found,
    permission_denied,
    unauthenticated,
)
from heartkeep.sandbox.signing import KEYSET_PATH
from heartkeep.sandbox.state import SandboxState
from heartkeep.sandbox.webhooks import Subscriber

SUBSCRIBER_TYPE = "type.googleapis.com/google.devicesandservices.health.v4.Subscriber"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
JSON_TYPE = "application/json; charset=UTF-8"
POLICIES = ("AUTOMATIC", "MANUAL")
MASK_FIELDS = {
    "endpoint_uri": "endpointUri",
    "subscriber_configs": "subscriberConfigs",
    "endpoint_authorization": "endpointAuthorization",
}
_SUBSCRIBER_ID = re.compile(r"^[a-z]([a-z0-9-]{2,34}[a-z0-9])$")
_PAYLOAD_FIELDS = frozenset({"endpointUri", "endpointAuthorization", "subscriberConfigs"})


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE)


def _operation(response: dict[str, Any]) -> dict[str, Any]:
    """A finished long-running operation: the sandbox verifies before it answers."""
    name = f"projects/{SANDBOX_PROJECT_NUMBER}/operations/{uuid.uuid4()}"
    return {"name": name, "done": True, "response": response}


def _configs(raw: object) -> tuple[tuple[tuple[str, ...], str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid_argument("subscriberConfigs must be a list.", "INVALID_ARGUMENT")
    out: list[tuple[tuple[str, ...], str]] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"dataTypes", "subscriptionCreatePolicy"}:
            raise invalid_argument("Invalid SubscriberConfig.", "INVALID_ARGUMENT")
        types = item.get("dataTypes")
        policy = item.get("subscriptionCreatePolicy")
        if not isinstance(types, list) or not types:
            raise invalid_argument(
                "SubscriberConfig.dataTypes is required.",
                "INVALID_ARGUMENT",
                [("subscriber_configs.data_types", "Required.")],
            )
        for data_type in types:
            if data_type not in DATA_TYPES:
                raise invalid_argument(
                    f"Unsupported data type: {data_type}",
                    "INVALID_ARGUMENT",
                    [("subscriber_configs.data_types", f"'{data_type}' is not supported.")],
                )
        if policy not in POLICIES:
            raise invalid_argument(
                "SubscriberConfig.subscriptionCreatePolicy must be AUTOMATIC or MANUAL.",
                "INVALID_ARGUMENT",
                [("subscriber_configs.subscription_create_policy", "Required.")],
            )
        out.append((tuple(types), str(policy)))
    return tuple(out)


class SubscribersApi:
    """The subscriber routes, bound to one `SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def _authorize(self, request: Request) -> None:
        """401 without a live token, 403 without `cloud-platform`, then the project check."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        state = self.state
        with state.lock:
            record = (
                state.grants.check_access(token.strip(), state.now_s())
                if scheme.lower() == "bearer" and token.strip()
                else None
            )
        if record is None:
            raise unauthenticated(missing=not header)
        if CLOUD_PLATFORM not in record.scopes:
            raise permission_denied(
                "Request had insufficient authentication scopes.",
                "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                service="health.googleapis.com",
            )
        project = request.path_params["project"]
        if project == SANDBOX_PROJECT_ID:
            raise invalid_argument(
                "Use the Google Cloud project number, not the project ID, in the resource name.",
                "INVALID_ARGUMENT",
                [("parent", "Expected projects/{project_number}.")],
            )
        if project != SANDBOX_PROJECT_NUMBER:
            raise permission_denied(
                "The caller does not have permission", "PERMISSION_DENIED", project=project
            )

    async def _payload(self, request: Request) -> dict[str, Any]:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise invalid_argument("Invalid JSON payload received.", "INVALID_ARGUMENT") from None
        if not isinstance(body, dict):
            raise invalid_argument("Invalid JSON payload received.", "INVALID_ARGUMENT")
        unknown = sorted(set(body) - _PAYLOAD_FIELDS - {"name", "state"})
        if unknown:
            raise invalid_argument(
                f'Invalid JSON payload received. Unknown name "{unknown[0]}".',
                "INVALID_ARGUMENT",
                [(unknown[0], "Unknown field.")],
            )
        return body

    def _endpoint(self, raw: object) -> str:
        if not isinstance(raw, str) or not re.match(r"^https?://[^/\s]+", raw):
            raise invalid_argument(
                "endpointUri must be a valid URL.",
                "INVALID_ARGUMENT",
                [("endpoint_uri", "Invalid URI.")],
            )
        if self.state.config.webhook_https_only and not raw.startswith("https://"):
            raise invalid_argument(
                "endpointUri must use HTTPS.",
                "INVALID_ARGUMENT",
                [("endpoint_uri", "The URI must use HTTPS as the scheme.")],
            )
        return raw

    @staticmethod
    def _secret(raw: object) -> str:
        secret = raw.get("secret") if isinstance(raw, dict) else None
        if not isinstance(secret, str) or not secret:
            raise invalid_argument(
                "endpointAuthorization.secret is required.",
                "INVALID_ARGUMENT",
                [("endpoint_authorization.secret", "Required.")],
            )
        return secret

    async def _verify(self, uri: str, secret: str) -> None:
        failure = await verify_endpoint(self.state, uri, secret)
        if failure is not None:
            raise ApiError(
                400,
                f"Endpoint verification failed for {uri}: {failure}",
                status="FAILED_PRECONDITION",
            )

    async def create(self, request: Request) -> Response:
        self._authorize(request)
        subscriber_id = request.query_params.get("subscriberId") or str(uuid.uuid4())
        if "subscriberId" in request.query_params and not _SUBSCRIBER_ID.match(subscriber_id):
            raise invalid_argument(
                "subscriberId must be 4-36 characters matching [a-z]([a-z0-9-]{2,34}[a-z0-9]).",
                "INVALID_ARGUMENT",
                [("subscriber_id", "Invalid subscriber ID.")],
            )
        body = await self._payload(request)
        uri = self._endpoint(body.get("endpointUri"))
        secret = self._secret(body.get("endpointAuthorization"))
        configs = _configs(body.get("subscriberConfigs"))
        with self.state.lock:
            if subscriber_id in self.state.webhooks.subscribers:
                raise ApiError(409, f"Subscriber {subscriber_id} already exists.")
        await self._verify(uri, secret)
        now = self.state.now_s()
        subscriber = Subscriber(subscriber_id, uri, secret, configs, "ACTIVE", now, now)
        with self.state.lock:
            self.state.webhooks.subscribers[subscriber_id] = subscriber
        baseline(self.state)
        return _json(_operation({"@type": SUBSCRIBER_TYPE, **subscriber.json()}))

    async def list(self, request: Request) -> Response:
        self._authorize(request)
        raw_size = request.query_params.get("pageSize", "0")
        raw_token = request.query_params.get("pageToken", "")
        if not raw_size.isdigit() or (raw_token and not raw_token.isdigit()):
            raise invalid_argument("Invalid pageSize or pageToken.", "INVALID_ARGUMENT")
        size = min(int(raw_size) or 50, 1000)
        start = int(raw_token or 0)
        with self.state.lock:
            everyone = sorted(self.state.webhooks.subscribers.values(), key=lambda s: s.create_s)
        page = everyone[start : start + size]
        body: dict[str, Any] = {"totalSize": len(everyone)}
        if page:
            body["subscribers"] = [subscriber.json() for subscriber in page]
        if start + size < len(everyone):
            body["nextPageToken"] = str(start + size)
        return _json(body)

    def _existing(self, request: Request) -> Subscriber:
        subscriber_id = request.path_params["subscriber"]
        with self.state.lock:
            found = self.state.webhooks.subscribers.get(subscriber_id)
        if found is None:
            raise not_found(f"Subscriber {subscriber_id} not found.")
        return found

    async def patch(self, request: Request) -> Response:
        self._authorize(request)
        current = self._existing(request)
        body = await self._payload(request)
        mask = [part.strip() for part in request.query_params.get("updateMask", "").split(",")]
        mask = [part for part in mask if part]
        if not mask:  # no mask: every field the body carries
            inverse = {camel: snake for snake, camel in MASK_FIELDS.items()}
            mask = [inverse[field] for field in body if field in inverse]
        unknown = [field for field in mask if field not in MASK_FIELDS]
        if unknown:
            raise invalid_argument(
                f"Invalid update mask path: {unknown[0]}",
                "INVALID_ARGUMENT",
                [("update_mask", f"'{unknown[0]}' cannot be updated.")],
            )
        updated = current
        if "endpoint_uri" in mask:
            updated = replace(updated, endpoint_uri=self._endpoint(body.get("endpointUri")))
        if "endpoint_authorization" in mask:
            updated = replace(updated, secret=self._secret(body.get("endpointAuthorization")))
        if "subscriber_configs" in mask:
            updated = replace(updated, configs=_configs(body.get("subscriberConfigs")))
        if "endpoint_uri" in mask or "endpoint_authorization" in mask:
            await self._verify(updated.endpoint_uri, updated.secret)
        updated = replace(updated, update_s=self.state.now_s())
        with self.state.lock:
            self.state.webhooks.subscribers[updated.subscriber_id] = updated
        return _json(_operation({"@type": SUBSCRIBER_TYPE, **updated.json()}))

    async def delete(self, request: Request) -> Response:
        self._authorize(request)
        current = self._existing(request)
        with self.state.lock:
            self.state.webhooks.subscribers.pop(current.subscriber_id, None)
        return _json(_operation({"@type": EMPTY_TYPE}))


def routes(state: SandboxState) -> list[BaseRoute]:
    """The subscriber routes under `/v4/projects/{project}/subscribers`, and the public keyset
    at gstatic's path (the sandbox is its own gstatic)."""
    api = SubscribersApi(state)
    base = "/v4/projects/{project}/subscribers"

    async def keyset(request: Request) -> Response:
        return _json(state.webhooks.signer.public_keyset())

    return [
        Route(KEYSET_PATH, keyset, methods=["GET"]),
        Route(base, guarded(api.create), methods=["POST"]),
        Route(base, guarded(api.list), methods=["GET"]),
        Route(base + "/{subscriber}", guarded(api.patch), methods=["PATCH"]),
        Route(base + "/{subscriber}", guarded(api.delete), methods=["DELETE"]),
    ]
