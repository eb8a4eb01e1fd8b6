"""The emulated legacy Fitbit resource API: profile, devices and every heart-rate path.

Responses follow reference §4–§5 to the byte where it is known: `activities-heart` entries with
`heartRateZones` (Out of Range, Fat Burn, Cardio, Peak) and `restingHeartRate` (absent on a day
without enough wear), and `activities-heart-intraday` with `dataset` (`time` as local
`HH:mm:ss` **without date or offset**, integer `value`), `datasetInterval` and `datasetType`.
Data are the same synthetic person the Google side serves (`Physiology`), visible only up to the
device's last sync.  Choices where Fitbit's behaviour is undocumented (each listed in
docs/fitbit-legacy.md):

- Local times follow the user's zone *at each sample* (DST and travel): the spring-forward hour
  has no samples, and in the fall-back hour the times run backwards once.
- `timezone=UTC` makes the requested dates UTC days and the times UTC times.
- `1min`/`5min`/`15min` values are the rounded mean of the samples in each wall-clock bucket.
- An intraday interval may span at most 24 hours; date-only intervals at most two dates.
- A day that is not complete yet (last sync before its end) has neither `restingHeartRate` nor
  zone `minutes`; a day without any sample has zones without `minutes` or `caloriesOut`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from heartkeep.sandbox.fitbit_heart_days import (
    DAY_S,
    DETAILS,
    LegacyUser,
    day_summary,
    intraday_dataset,
)
from heartkeep.sandbox.fitbit_oauth import AccessGrant, FitbitAuthServer
from heartkeep.sandbox.fitbit_quota import HourlyQuota
from heartkeep.sandbox.fitbit_wire import DOCS_HINT, error_response, json_response

PERIOD_DAYS = {"1d": 1, "7d": 7, "30d": 30, "1w": 7, "1m": 30}
MAX_RANGE_DAYS = 366
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class _Reject(Exception):
    """A request the API refuses; carries the ready response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class FitbitResourceApi:
    """Request handlers for `/1/user/...`; wiring (users, visibility, clock) is passed in.

    `intraday_access` is a test hook: False serves what an app without intraday permission got
    (reference §3, the legacy behaviour): the daily summary, and no `activities-heart-intraday`.
    """

    auth: FitbitAuthServer
    quota: HourlyQuota
    now_s: Callable[[], float]
    user: Callable[[str], LegacyUser | None]
    visible_until_s: Callable[[str], float]
    last_sync_s: Callable[[str], float]
    intraday_access: bool = True

    async def handle(self, request: Request) -> Response:
        """Authenticate, count against the hourly budget, then serve the path."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            # Fitbit documents a missing Authorization header as a 400, not a 401.
            return error_response(
                400, "invalid_request", f"Authorization header required. {DOCS_HINT}"
            )
        grant, problem = self.auth.bearer(token)
        if grant is None:
            verb = "expired" if problem == "expired_token" else "invalid"
            return error_response(401, problem, f"Access token {verb}: {token}. {DOCS_HINT}")
        decision = self.quota.take(grant.user_id, grant.client_id)
        limit_headers = decision.headers()
        if not decision.allowed:
            return error_response(
                429,
                "system",
                "Too Many Requests",
                field_name="n/a",
                headers=limit_headers,
                success_flag=False,
            )
        try:
            response = self._serve(request, grant)
        except _Reject as rejected:
            response = rejected.response
        response.headers.update(limit_headers)
        return response

    # --- routing ------------------------------------------------------------------------------

    def _serve(self, request: Request, grant: AccessGrant) -> Response:
        path = request.url.path
        parts = path.strip("/").split("/")
        # parts: ["1", "user", uid, ...]
        if len(parts) < 4 or parts[0] != "1" or parts[1] != "user" or not path.endswith(".json"):
            raise _Reject(_not_found())
        uid = parts[2]
        if uid not in ("-", grant.user_id):
            raise _Reject(
                error_response(
                    403,
                    "insufficient_permissions",
                    "The caller is not authorized to view the requested resource.",
                )
            )
        user = self.user(grant.user_id)
        if user is None:
            raise _Reject(_not_found())
        rest = "/".join(parts[3:])[: -len(".json")]
        use_utc = request.query_params.get("timezone")
        if use_utc is not None and use_utc != "UTC":
            raise _Reject(
                _validation("timezone", f"Invalid timezone: {use_utc}. Only UTC is supported.")
            )
        if rest == "profile":
            _require_scope(grant, "profile")
            return json_response(self._profile(user))
        if rest == "devices":
            _require_scope(grant, "settings")
            return json_response(self._devices(user))
        prefix = "activities/heart/date/"
        if rest.startswith(prefix):
            _require_scope(grant, "heartrate")
            segments = rest[len(prefix) :].split("/")
            return json_response(self._heart(user, segments, utc=use_utc is not None))
        raise _Reject(_not_found())

    # --- profile and devices ------------------------------------------------------------------

    def _profile(self, user: LegacyUser) -> dict[str, Any]:
        now = int(self.now_s())
        physiology = user.physiology
        spec = user.spec
        today = physiology.local_date_of(now)
        born = dt.date(today.year - spec.age, 6, 15)
        return {
            "user": {
                "age": spec.age,
                "avatar": "https://static0.fitbit.com/images/profile/defaultProfile_100.png",
                "clockTimeDisplayFormat": "24hour",
                "dateOfBirth": born.isoformat(),
                "displayName": spec.display_name,
                "distanceUnit": "METRIC",
                "encodedId": spec.legacy_user_id,
                "features": {"exerciseGoal": True},
                "fullName": spec.display_name,
                "locale": "en_US",
                "memberSince": spec.member_since.isoformat(),
                "offsetFromUTCMillis": physiology.offset_s_at(now) * 1000,
                "startDayOfWeek": "MONDAY",
                "timezone": physiology.zone_at(now),
            }
        }

    def _devices(self, user: LegacyUser) -> list[dict[str, Any]]:
        synced = int(self.last_sync_s(user.spec.legacy_user_id))
        local = dt.datetime.fromtimestamp(synced, dt.UTC) + dt.timedelta(
            seconds=user.physiology.offset_s_at(synced)
        )
        return [
            {
                "battery": "High",
                "batteryLevel": 82,
                "deviceVersion": "Charge 6",
                "features": [],
                "id": str(2_000_000_000 + user.spec.seed % 1_000_000),
                "lastSyncTime": local.strftime("%Y-%m-%dT%H:%M:%S.000"),
                "mac": f"{user.spec.seed % 0xFFFFFFFFFFFF:012X}",
                "type": "TRACKER",
            }
        ]

    # --- heart rate ---------------------------------------------------------------------------

    def _heart(self, user: LegacyUser, segments: Sequence[str], *, utc: bool) -> dict[str, Any]:
        if len(segments) == 2:
            first = self._date(user, segments[0], utc=utc)
            if segments[1] in PERIOD_DAYS:
                days = PERIOD_DAYS[segments[1]]
                return {
                    "activities-heart": self._summaries(user, first - _days(days - 1), first, utc)
                }
            if _looks_like_date(segments[1]) or segments[1] == "today":
                last = self._date(user, segments[1], utc=utc)
                if last < first:
                    raise _Reject(_validation("date", "The end date precedes the start date."))
                if (last - first).days >= MAX_RANGE_DAYS:
                    raise _Reject(
                        _validation("date", "The date range must not be longer than 1 year.")
                    )
                return {"activities-heart": self._summaries(user, first, last, utc)}
            raise _Reject(_validation("period", f"Invalid period requested: {segments[1]}"))
        if len(segments) in (3, 6):
            first = self._date(user, segments[0], utc=utc)
            last = first if segments[1] == "1d" else self._date(user, segments[1], utc=utc)
            detail = segments[2]
            if detail not in DETAILS:
                raise _Reject(
                    _validation("detail-level", f"Invalid detail level requested: {detail}")
                )
            from_s, to_s = 0, DAY_S - 1
            if len(segments) == 6:
                if segments[3] != "time":
                    raise _Reject(_not_found())
                from_s = _clock_minutes(segments[4]) * 60
                to_s = _clock_minutes(segments[5]) * 60 + 59
            lo_local = _local_epoch(first) + from_s
            hi_local = _local_epoch(last) + to_s
            if hi_local < lo_local:
                raise _Reject(_validation("time", "The end time precedes the start time."))
            if len(segments) == 6 and hi_local - lo_local >= DAY_S:
                raise _Reject(_too_long())
            if (last - first).days > 1:
                raise _Reject(_too_long())
            return self._intraday(user, first, last, detail, lo_local, hi_local, utc)
        raise _Reject(_not_found())

    def _date(self, user: LegacyUser, token: str, *, utc: bool) -> dt.date:
        if token == "today":
            now = int(self.now_s())
            return (
                dt.datetime.fromtimestamp(now, dt.UTC).date()
                if utc
                else user.physiology.local_date_of(now)
            )
        if not _looks_like_date(token):
            raise _Reject(_validation("date", f"Invalid date: {token}"))
        try:
            return dt.date.fromisoformat(token)
        except ValueError:
            raise _Reject(_validation("date", f"Invalid date: {token}")) from None

    def _bounds(self, user: LegacyUser, day: dt.date, utc: bool) -> tuple[int, int]:
        if utc:
            start = (day.toordinal() - _EPOCH_ORDINAL) * DAY_S
            return start, start + DAY_S
        return user.physiology.local_day_bounds(day)

    def _summaries(
        self, user: LegacyUser, first: dt.date, last: dt.date, utc: bool
    ) -> list[dict[str, Any]]:
        visible = self.visible_until_s(user.spec.legacy_user_id)
        entries = []
        day = max(first, user.spec.member_since)
        while day <= last:
            start_s, _ = self._bounds(user, day, utc)
            if start_s >= visible:
                break
            entries.append(self._summary(user, day, utc))
            day += _days(1)
        return entries

    def _summary(self, user: LegacyUser, day: dt.date, utc: bool) -> dict[str, Any]:
        """One `activities-heart` entry: zones and resting HR of a (local) day."""
        _, end_s = self._bounds(user, day, utc)
        complete = end_s <= self.visible_until_s(user.spec.legacy_user_id)
        return day_summary(user, day, complete=complete)

    def _intraday(
        self,
        user: LegacyUser,
        first: dt.date,
        last: dt.date,
        detail: str,
        lo_local: int,
        hi_local: int,
        utc: bool,
    ) -> dict[str, Any]:
        visible = int(self.visible_until_s(user.spec.legacy_user_id))
        start_s, _ = self._bounds(user, first, utc)
        _, end_s = self._bounds(user, last, utc)
        end_s = min(end_s, visible)
        member_start, _ = self._bounds(user, user.spec.member_since, utc)
        start_s = max(start_s, member_start)
        instants, bpm, offsets = user.physiology.samples(start_s, max(start_s, end_s))
        local = instants if utc else instants + offsets
        keep = (local >= lo_local) & (local <= hi_local)
        local, bpm = local[keep], bpm[keep]
        summaries = []
        day = first
        while day <= last:
            summaries.append(self._summary(user, day, utc))
            day += _days(1)
        if not self.intraday_access:
            return {"activities-heart": summaries}
        return {
            "activities-heart": summaries,
            "activities-heart-intraday": intraday_dataset(local, bpm, detail),
        }


def _require_scope(grant: AccessGrant, scope: str) -> None:
    if scope not in grant.scopes:
        raise _Reject(
            error_response(
                403,
                "insufficient_scope",
                f"This application does not have permission to access {scope} data. {DOCS_HINT}",
            )
        )


def _looks_like_date(token: str) -> bool:
    return len(token) == 10 and token[4] == "-" and token[7] == "-"


def _clock_minutes(token: str) -> int:
    hours, sep, minutes = token.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise _Reject(_validation("time", f"Invalid time: {token}"))
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 23 or int(minutes) > 59:
        raise _Reject(_validation("time", f"Invalid time: {token}"))
    return value


def _local_epoch(day: dt.date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_S


def _days(count: int) -> dt.timedelta:
    return dt.timedelta(days=count)


def _validation(field: str, message: str) -> Response:
    return error_response(400, "validation", message, field_name=field)


def _too_long() -> Response:
    return error_response(
        400, "request", "Time range should not be bigger than 24 hours.", field_name="n/a"
    )


def _not_found() -> Response:
    return error_response(
        404, "not_found", "The API you are requesting could not be found.", field_name="n/a"
    )
