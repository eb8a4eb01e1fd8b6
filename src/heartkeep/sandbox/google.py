"""Google Health API v4 routes: identity, profile, settings, paired devices, data points.

Every route runs the same gate, in the order Google's front end applies it: authentication
(401), quota (429), query parameters (400), the `{user}` segment (`me` or the token's own
`healthUserId`, else 403), the data type (400 for unknown ids), the type's read scope (403),
then the method's own checks.  Bodies are proto3 JSON (see `wire`); errors are
`google.rpc.Status` (see `rpc`).  Heavy work runs in a worker thread, so one slow page does not
stall the event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heartkeep.sandbox import rollups
from heartkeep.sandbox.catalog import (
    ALL_GOOGLEHEALTH_SCOPES,
    DATA_TYPES,
    PROFILE_READ,
    SETTINGS_READ,
    DataType,
)
from heartkeep.sandbox.filters import parse_filter
from heartkeep.sandbox.listing import ListQuery, list_page
from heartkeep.sandbox.pagetokens import PageTokens
from heartkeep.sandbox.rpc import (
    ApiError,
    error_info,
    guarded,
    invalid_argument,
    not_found,
    permission_denied,
    unauthenticated,
)
from heartkeep.sandbox.state import SandboxState
from heartkeep.sandbox.wire import date_json, duration, timestamp

JSON_TYPE = "application/json; charset=UTF-8"
# System parameters every Google API accepts (the Python client always sends alt=json).
SYSTEM_PARAMS = frozenset(
    {
        "alt",
        "prettyPrint",
        "fields",
        "quotaUser",
        "$.xgafv",
        "key",
        "callback",
        "access_token",
        "oauth_token",
        "uploadType",
        "upload_protocol",
    }
)
FAMILIES = ("all-sources", "google-wearables", "google-sources", "self-sources")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user behind the token and what the token may read."""

    user_id: str
    scopes: frozenset[str]


def _json(body: object) -> Response:
    return Response(orjson.dumps(body), media_type=JSON_TYPE)


def _raw_json(body: bytes) -> Response:
    return Response(body, media_type=JSON_TYPE)


class GoogleHealthApi:
    """The v4 routes, bound to one `SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.tokens = PageTokens()

    # --- the gate -------------------------------------------------------------------------

    def _bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            return value.strip() if scheme.lower() == "bearer" and value.strip() else ""
        return request.query_params.get("access_token") or request.query_params.get("oauth_token")

    def authenticate(self, request: Request) -> Caller:
        """401 for missing/bad/expired/revoked tokens, then the per-user quota (429)."""
        token = self._bearer(request)
        state = self.state
        with state.lock:
            now = state.now_s()
            if token is None:
                state.quotas.charge(None, now)
                raise unauthenticated(missing=True)
            record = state.grants.check_access(token, now) if token else None
            if record is None:
                state.quotas.charge(None, now)
                raise unauthenticated(missing=False)
            user_id = state.grants.user_of(record)
            state.quotas.charge(user_id, now)
            if user_id in state.unlinked_users:
                raise ApiError(
                    400,
                    "The Google account is not linked to a Google Health profile.",
                    status="FAILED_PRECONDITION",
                    details=[error_info("ACCOUNT_NOT_LINKED")],
                )
            return Caller(user_id, frozenset(record.scopes))

    @staticmethod
    def check_params(request: Request, allowed: Iterable[str]) -> None:
        names = set(allowed) | SYSTEM_PARAMS
        for name in request.query_params:
            if name not in names:
                message = (
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message."
                )
                raise invalid_argument(
                    message,
                    "INVALID_ARGUMENT",
                    [(name, f"Cannot bind query parameter '{name}'.")],
                )
        alt = request.query_params.get("alt", "json")
        if alt != "json":
            raise invalid_argument(
                f"Unsupported response format alt={alt}; the sandbox serves JSON.",
                "INVALID_ARGUMENT",
                [("alt", "Only alt=json is supported.")],
            )

    @staticmethod
    def check_user(caller: Caller, user: str) -> None:
        if user not in ("me", caller.user_id):
            raise permission_denied(
                "The caller does not have permission", "PERMISSION_DENIED", user=user
            )

    def check_scope(self, caller: Caller, scope: str, method: str) -> None:
        if scope not in caller.scopes:
            raise permission_denied(
                "Request had insufficient authentication scopes.",
                self.state.config.scope_error_reason,
                service="health.googleapis.com",
                method=f"google.devicesandservices.health.v4.HealthService.{method}",
            )

    @staticmethod
    def data_type(path_id: str) -> DataType:
        data_type = DATA_TYPES.get(path_id)
        if data_type is None:
            raise invalid_argument(
                f"Invalid data type ID referenced in the parent data type collection: {path_id}",
                "INVALID_PARENT_DATA_TYPE_COLLECTION",
                [("parent", f"The data type ID '{path_id}' is not supported.")],
                metadata={"dataType": path_id},
            )
        return data_type

    # --- users -----------------------------------------------------------------------------

    async def identity(self, request: Request) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ())
        user = request.path_params["user"]
        self.check_user(caller, user)
        if not caller.scopes & ALL_GOOGLEHEALTH_SCOPES:  # any googlehealth scope will do
            raise permission_denied(
                "Request had insufficient authentication scopes.",
                self.state.config.scope_error_reason,
                service="health.googleapis.com",
                method="google.devicesandservices.health.v4.HealthService.GetIdentity",
            )
        spec = self.state.users[caller.user_id]
        return _json(
            {
                "name": "users/me/identity",
                "healthUserId": spec.health_user_id,
                "legacyUserId": spec.legacy_user_id,
            }
        )

    async def profile(self, request: Request) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ())
        self.check_user(caller, request.path_params["user"])
        self.check_scope(caller, PROFILE_READ, "GetProfile")
        spec = self.state.users[caller.user_id]
        return _json(
            {
                "name": f"users/{spec.health_user_id}/profile",
                "age": spec.age,
                "membershipStartDate": date_json(spec.member_since),
            }
        )

    async def settings(self, request: Request) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ())
        self.check_user(caller, request.path_params["user"])
        self.check_scope(caller, SETTINGS_READ, "GetSettings")
        spec = self.state.users[caller.user_id]
        physiology = self.state.physiology[caller.user_id]
        now = int(self.state.now_s())
        return _json(
            {
                "name": f"users/{spec.health_user_id}/settings",
                "timeZone": physiology.zone_at(now),
                "utcOffset": duration(physiology.offset_s_at(now)),
                "languageLocale": "en_GB",
                "distanceUnit": "DISTANCE_UNIT_KILOMETERS",
                "heightUnit": "HEIGHT_UNIT_CENTIMETERS",
                "weightUnit": "WEIGHT_UNIT_KILOGRAMS",
                "waterUnit": "WATER_UNIT_ML",
                "swimUnit": "SWIM_UNIT_METERS",
                "temperatureUnit": "TEMPERATURE_UNIT_CELSIUS",
                "glucoseUnit": "GLUCOSE_UNIT_MMOL_L",
                "strideLengthRunningType": "STRIDE_LENGTH_TYPE_DEFAULT",
                "strideLengthWalkingType": "STRIDE_LENGTH_TYPE_DEFAULT",
                "autoStrideEnabled": True,
                "foodLanguageCode": "en_GB",
            }
        )

    def _device(self, user_id: str) -> dict[str, object]:
        device_id = str(int(hashlib.sha256(user_id.encode()).hexdigest()[:8], 16))
        return {
            "name": f"users/{user_id}/pairedDevices/{device_id}",
            "deviceType": "TRACKER",
            "deviceVersion": "Charge 6",
            "batteryStatus": "High",
            "batteryLevel": 87,
            "lastSyncTime": timestamp(self.state.last_sync_s(user_id)),
            "macAddress": "F4:5C:89:" + ":".join(device_id[i : i + 2] for i in (0, 2, 4)),
            "features": ["HEART_RATE", "STEPS", "SLEEP"],
        }

    async def paired_devices(self, request: Request) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ("pageSize", "page_size", "pageToken", "page_token"))
        self.check_user(caller, request.path_params["user"])
        self.check_scope(caller, SETTINGS_READ, "ListPairedDevices")
        _page_size(request, default=5, cap=100)
        return _json({"pairedDevices": [self._device(caller.user_id)]})

    async def paired_device(self, request: Request) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ())
        self.check_user(caller, request.path_params["user"])
        self.check_scope(caller, SETTINGS_READ, "GetPairedDevice")
        device = self._device(caller.user_id)
        if str(device["name"]).rsplit("/", 1)[1] != request.path_params["device"]:
            raise not_found(f"Paired device {request.path_params['device']} was not found.")
        return _json(device)

    # --- data points -----------------------------------------------------------------------

    async def list_points(self, request: Request) -> Response:
        return await self._list(request, reconciled=False)

    async def reconcile_points(self, request: Request) -> Response:
        return await self._list(request, reconciled=True)

    async def _list(self, request: Request, *, reconciled: bool) -> Response:
        caller = self.authenticate(request)
        params = request.query_params
        self.check_params(
            request,
            (
                "filter",
                "pageSize",
                "page_size",
                "pageToken",
                "page_token",
                "dataSourceFamily",
                "data_source_family",
            ),
        )
        self.check_user(caller, request.path_params["user"])
        data_type = self.data_type(request.path_params["data_type"])
        self.check_scope(
            caller, data_type.read_scope, "ReconcileDataPoints" if reconciled else "ListDataPoints"
        )
        time_filter = parse_filter(params.get("filter"), data_type)
        requested = _page_size(request, default=None, cap=None)
        if data_type.path_id in ("exercise", "sleep"):
            page_size = min(requested or 25, 25)
        else:
            page_size = self.state.config.page_size(requested)
        family = _family(params.get("dataSourceFamily") or params.get("data_source_family"))
        query = ListQuery(caller.user_id, data_type, time_filter, family, reconciled)
        token = params.get("pageToken") or params.get("page_token") or None
        body = await run_in_threadpool(list_page, self.state, self.tokens, query, page_size, token)
        return _raw_json(body)

    async def get_point(self, request: Request) -> Response:
        """`dataPoints.get`: only identifiable types have names; heart-rate samples have none,
        and the synthetic user has no identifiable data, so every name is NOT_FOUND."""
        caller = self.authenticate(request)
        self.check_params(request, ())
        self.check_user(caller, request.path_params["user"])
        data_type = self.data_type(request.path_params["data_type"])
        self.check_scope(caller, data_type.read_scope, "GetDataPoint")
        raise not_found(f"Data point {request.path_params['point']} was not found.")

    async def roll_up(self, request: Request) -> Response:
        return await self._roll(request, daily=False)

    async def daily_roll_up(self, request: Request) -> Response:
        return await self._roll(request, daily=True)

    async def _roll(self, request: Request, *, daily: bool) -> Response:
        caller = self.authenticate(request)
        self.check_params(request, ())
        self.check_user(caller, request.path_params["user"])
        data_type = self.data_type(request.path_params["data_type"])
        self.check_scope(
            caller, data_type.read_scope, "DailyRollUpDataPoints" if daily else "RollUpDataPoints"
        )
        body = await request.body()
        if daily:
            result = await run_in_threadpool(
                rollups.daily_roll_up, self.state, self.tokens, caller.user_id, data_type, body
            )
        else:
            result = await run_in_threadpool(
                rollups.roll_up, self.state, self.tokens, caller.user_id, data_type, body
            )
        return _json(result)


def _page_size(request: Request, *, default: int | None, cap: int | None) -> int | None:
    raw = request.query_params.get("pageSize") or request.query_params.get("page_size")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_argument(
            f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"",
            "INVALID_ARGUMENT",
            [("page_size", f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"")],
        ) from None
    if value < 0:
        raise invalid_argument(
            "page_size must not be negative.",
            "INVALID_ARGUMENT",
            [("page_size", "page_size must not be negative.")],
        )
    if value == 0:
        return default
    return min(value, cap) if cap is not None else value


def _family(raw: str | None) -> str:
    if raw is None or raw == "":
        return "users/me/dataSourceFamilies/all-sources"
    parts = raw.split("/")
    well_formed = len(parts) == 4 and parts[0] == "users" and parts[2] == "dataSourceFamilies"
    if well_formed and parts[3] in FAMILIES:
        return f"users/me/dataSourceFamilies/{parts[3]}"
    raise invalid_argument(
        "Data family is missing or is not supported",
        "INVALID_DATA_POINT_DATA_SOURCE_FAMILY",
        [("data_source_family", f"Data family '{raw}' is missing or is not supported.")],
    )


def routes(state: SandboxState) -> list[BaseRoute]:
    """The v4 routes.  Unknown paths and verbs fall through to the app's HTML 404."""
    api = GoogleHealthApi(state)
    base = "/v4/users/{user}"
    points = base + "/dataTypes/{data_type}/dataPoints"
    return [
        Route(base + "/identity", guarded(api.identity), methods=["GET"]),
        Route(base + "/profile", guarded(api.profile), methods=["GET"]),
        Route(base + "/settings", guarded(api.settings), methods=["GET"]),
        Route(base + "/pairedDevices", guarded(api.paired_devices), methods=["GET"]),
        Route(base + "/pairedDevices/{device}", guarded(api.paired_device), methods=["GET"]),
        Route(points, guarded(api.list_points), methods=["GET"]),
        Route(points + ":reconcile", guarded(api.reconcile_points), methods=["GET"]),
        Route(points + "/{point}", guarded(api.get_point), methods=["GET"]),
        Route(points + ":rollUp", guarded(api.roll_up), methods=["POST"]),
        Route(points + ":dailyRollUp", guarded(api.daily_roll_up), methods=["POST"]),
    ]
