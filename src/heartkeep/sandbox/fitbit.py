"""The legacy Fitbit Web API emulator, mounted next to the Google emulation on the same server.

`routes(state)` returns the Starlette routes of the legacy stack — the OAuth endpoints
(`/oauth2/authorize`, `/oauth2/token`, `/oauth2/revoke`, `/1.1/oauth2/introspect`, see
`fitbit_oauth`) and the resource API under `/1/user/...` (see `fitbit_api`), rate-limited per
user and app per clock hour (`fitbit_quota`).  The paths do not collide with Google's.  With
`SandboxConfig.fitbit_shutdown` every one of them answers 410 Gone, as api.fitbit.com has since
2026-11-02.

The emulator's own records live in one `FitbitSandbox` per `SandboxState` (in
`state.extensions["fitbit"]`); tests reach it with `fitbit_sandbox(state)` for hooks such as
`auth.revoke_all_tokens(legacy_user_id)` or `quota.used(...)`.  Users are the sandbox's users,
identified by their `legacy_user_id`, so both APIs serve the same person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from heartkeep.sandbox.fitbit_api import FitbitResourceApi
from heartkeep.sandbox.fitbit_heart_days import LegacyUser
from heartkeep.sandbox.fitbit_oauth import FitbitAuthServer
from heartkeep.sandbox.fitbit_quota import HourlyQuota
from heartkeep.sandbox.fitbit_wire import gone_response
from heartkeep.sandbox.state import SandboxState

_EXTENSION = "fitbit"
Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class FitbitSandbox:
    """The legacy emulator's parts, sharing the sandbox's clock, config and users."""

    auth: FitbitAuthServer
    quota: HourlyQuota
    api: FitbitResourceApi

    def user(self, legacy_user_id: str) -> LegacyUser | None:
        return self.api.user(legacy_user_id)


def fitbit_sandbox(state: SandboxState) -> FitbitSandbox:
    """The legacy emulator attached to `state`, created on first use."""
    with state.lock:
        existing = state.extensions.get(_EXTENSION)
        if isinstance(existing, FitbitSandbox):
            return existing
        created = _build(state)
        state.extensions[_EXTENSION] = created
        return created


def spoil_token(state: SandboxState, access_token: str, kind: str) -> bool:
    """Apply a `revoke` or `expire_token` fault to a legacy Fitbit access token.

    For the fault middleware: revokes every token of the token's user (`revoke`, as when they
    remove the app mid-sync) or expires their access tokens (`expire_token`).  Returns False,
    doing nothing, when the token is not one the Fitbit emulator issued.
    """
    auth = fitbit_sandbox(state).auth
    user_id = auth.owner_of(access_token)
    if user_id is None:
        return False
    if kind == "revoke":
        auth.revoke_all_tokens(user_id)
    elif kind == "expire_token":
        auth.expire_access_tokens(user_id)
    else:
        raise ValueError(f"not a token fault: {kind!r}")
    return True


def _build(state: SandboxState) -> FitbitSandbox:
    def legacy_ids() -> list[str]:
        return [spec.legacy_user_id for spec in state.users.values()]

    def health_id(legacy_user_id: str) -> str | None:
        for health_user_id, spec in state.users.items():
            if spec.legacy_user_id == legacy_user_id:
                return health_user_id
        return None

    def user(legacy_user_id: str) -> LegacyUser | None:
        found = health_id(legacy_user_id)
        if found is None:
            return None
        return LegacyUser(state.users[found], state.physiology[found])

    def visible_until_s(legacy_user_id: str) -> float:
        found = health_id(legacy_user_id)
        return float(state.visible_end_s(found)) if found is not None else 0.0

    def last_sync_s(legacy_user_id: str) -> float:
        found = health_id(legacy_user_id)
        return state.last_sync_s(found) if found is not None else 0.0

    auth = FitbitAuthServer(
        now_s=state.clock.now_s,
        code_lifetime_s=lambda: float(state.config.code_lifetime_s),
        access_lifetime_s=lambda: float(state.config.fitbit_access_token_lifetime_s),
        auto_approve=lambda: state.config.auto_approve,
        user_ids=legacy_ids,
    )
    quota = HourlyQuota(
        now_s=state.clock.now_s, limit=lambda: state.config.fitbit_per_user_per_hour
    )
    api = FitbitResourceApi(
        auth=auth,
        quota=quota,
        now_s=state.clock.now_s,
        user=user,
        visible_until_s=visible_until_s,
        last_sync_s=last_sync_s,
    )
    return FitbitSandbox(auth=auth, quota=quota, api=api)


def routes(state: SandboxState) -> list[BaseRoute]:
    """The legacy Fitbit routes for `create_app` to mount."""
    sandbox = fitbit_sandbox(state)

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if state.config.fitbit_shutdown:
                return gone_response()
            return await handler(request)

        return endpoint

    return [
        Route("/oauth2/authorize", guarded(sandbox.auth.authorize), methods=["GET", "POST"]),
        Route("/oauth2/token", guarded(sandbox.auth.token), methods=["POST"]),
        Route("/oauth2/revoke", guarded(sandbox.auth.revoke), methods=["POST"]),
        Route("/1.1/oauth2/introspect", guarded(sandbox.auth.introspect), methods=["POST"]),
        Route("/1/{path:path}", guarded(sandbox.api.handle), methods=["GET"]),
    ]
