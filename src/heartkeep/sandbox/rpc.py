"""Google's error bodies: `google.rpc.Status` for the API, as the real front end writes them.

An `ApiError` raised anywhere in a route becomes `{"error": {"code", "message", "status",
"details"}}` with the matching HTTP status.  `details` carry `ErrorInfo` (reason, domain,
metadata) and `BadRequest` field violations, the parts clients branch on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

HEALTH_DOMAIN = "health.googleapis.com"
GOOGLEAPIS_DOMAIN = "googleapis.com"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"

UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
MISSING_CREDENTIALS_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)

_STATUS_OF_CODE = {  # the usual status of each HTTP code; callers may name another
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error the API answers with; carries everything the JSON body and headers need."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: str | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS_OF_CODE[code]
        self.details = list(details)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()),
            status_code=self.code,
            media_type="application/json; charset=UTF-8",
            headers=self.headers,
        )


def error_info(
    reason: str, *, domain: str = HEALTH_DOMAIN, metadata: Mapping[str, str] | None = None
) -> dict[str, Any]:
    info: dict[str, Any] = {"@type": ERROR_INFO, "reason": reason, "domain": domain}
    if metadata:
        info["metadata"] = dict(metadata)
    return info


def bad_request(violations: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "@type": BAD_REQUEST,
        "fieldViolations": [{"field": f, "description": d} for f, d in violations],
    }


def invalid_argument(
    message: str,
    reason: str,
    violations: Sequence[tuple[str, str]] = (),
    metadata: Mapping[str, str] | None = None,
) -> ApiError:
    """400 INVALID_ARGUMENT with ErrorInfo and, when given, BadRequest field violations."""
    details: list[dict[str, Any]] = [error_info(reason, metadata=metadata)]
    if violations:
        details.append(bad_request(violations))
    return ApiError(400, message, details=details)


def unauthenticated(*, missing: bool) -> ApiError:
    """401: no credentials (with CREDENTIALS_MISSING) or bad ones (observed without details)."""
    challenge = 'Bearer realm="https://accounts.google.com/"'
    if missing:
        return ApiError(
            401,
            MISSING_CREDENTIALS_MESSAGE,
            details=[error_info("CREDENTIALS_MISSING", domain=GOOGLEAPIS_DOMAIN)],
            headers={"WWW-Authenticate": challenge},
        )
    return ApiError(
        401,
        UNAUTHENTICATED_MESSAGE,
        headers={"WWW-Authenticate": challenge + ', error="invalid_token"'},
    )


def permission_denied(message: str, reason: str, **metadata: str) -> ApiError:
    return ApiError(
        403, message, details=[error_info(reason, domain=GOOGLEAPIS_DOMAIN, metadata=metadata)]
    )


def not_found(message: str) -> ApiError:
    return ApiError(404, message, details=[error_info("RESOURCE_NOT_FOUND")])


def internal() -> ApiError:
    return ApiError(500, "Internal error encountered.")


def unavailable() -> ApiError:
    return ApiError(503, "The service is currently unavailable.")


def deadline_exceeded() -> ApiError:
    return ApiError(504, "The request took too long to complete.")


def html_not_found(path: str) -> Response:
    """Google's front-end 404 for an unknown path or verb: an HTML page, not JSON."""
    page = (
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
        "  <title>Error 404 (Not Found)!!1</title>\n"
        "  <p><b>404.</b> <ins>That’s an error.</ins>\n"
        f"  <p>The requested URL <code>{_escape(path)}</code> was not found on this server.  "
        "<ins>That’s all we know.</ins>\n"
    )
    return Response(page, status_code=404, media_type="text/html; charset=UTF-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Turn an `ApiError` raised anywhere in `handler` into its google.rpc.Status response."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as failure:
            return failure.response()

    return run
