"""The legacy Fitbit Web API's response conventions: JSON bodies, error bodies, the 410 answer.

Fitbit does not use RFC 6749's `{"error": ...}`; every 4xx/5xx of the legacy stack (OAuth and
resource API alike) carries `{"errors":[{"errorType":…,"message":…}],"success":false}`
(reference §2.8, §7), and messages about tokens echo the offending token — a faithful emulation
keeps that, so clients are tested on redacting it.  Bodies are `application/json;charset=utf-8`
as the real servers sent them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JSON_TYPE = "application/json;charset=utf-8"
DOCS_HINT = (
    "Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API "
    "authorization process."
)
GONE_MESSAGE = "The Fitbit Web API was turned off on 2026-11-02. Use the Google Health API instead."


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response with Fitbit's content type."""
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(
    status: int,
    error_type: str,
    message: str,
    *,
    field_name: str | None = None,
    headers: Mapping[str, str] | None = None,
    success_flag: bool = True,
) -> Response:
    """A Fitbit error body.  `success_flag=False` drops `"success"` (as 429 bodies were seen)."""
    error: dict[str, str] = {"errorType": error_type}
    if field_name is not None:
        error["fieldName"] = field_name
    error["message"] = message
    body: dict[str, Any] = {"errors": [error]}
    if success_flag:
        body["success"] = False
    return json_response(body, status, headers)


def gone_response() -> Response:
    """What every legacy endpoint answers after the 2026-11-02 shutdown (switch `fitbit_shutdown`).

    Google documented only the status (410 Gone), not the body; clients must key on the status.
    """
    return error_response(410, "gone", GONE_MESSAGE)
