"""Google Health API v4: time windows in, pages of `Sample`s and `Daily`s out.

What this module knows and nothing else: paths, the filter grammar, the proto3-JSON wire format
and Google's error bodies (reference: google-health-api.md §3, §5, §8, §9).  Storage, quota,
retries and tokens belong to the layers around it.

The request plan is the physical floor: a window of any length is **one** listing,
`heart_rate.sample_time.physical_time >= lo AND < hi` of the wearables' stream, always asking
for `pageSize=10000` and following `nextPageToken` to the end, whatever page size the server
really serves.  A page that times out twice (504 DEADLINE_EXCEEDED) is asked again with half
the `pageSize` and the same page token (down to 250; `paging.PageSizer`), and the size grows
back after a run of successes.  Pages come newest first; page *k* proves complete the span from
its oldest sample up to where page *k-1* began, and the last page reaches down to the window's
start — so `Page.covers` tiles the window.

Reading a heart-rate page is the hot path (a year is ~10 million points) and lives in
`google_heart_rate.py`; this module decides when a page is read as numpy columns.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import Any

from heartkeep import http_client
from heartkeep.clock import Clock
from heartkeep.errors import ProviderError, ReauthorizationNeeded, ScopeMissing
from heartkeep.model import Account, Daily, DailyKind, Sample, SampleColumns, Source, Window, Zone
from heartkeep.providers import DailyPage, Page
from heartkeep.providers.google_heart_rate import parse_heart_rate_columns
from heartkeep.providers.paging import (
    SHRINK_AFTER_504S,
    PageSizer,
    TokenPaginator,
    response_json,
)
from heartkeep.timeline import format_rfc3339, parse_rfc3339_s

NAME = "google-health"
MAX_PAGE_SIZE = 10_000
MIN_PAGE_SIZE = 250
# A heart-rate page this large reaches the store as columns (the store's own threshold,
# `store.sample_batches.COLUMNS_FROM`, for the same reason: below it numpy costs more than it
# saves, and an up-to-date sync's pages stay below it).
COLUMNS_FROM = 1_000
# 504s in a row on one page before it is asked again with half the page size.
DEADLINES_BEFORE_SHRINKING = 2
HEART_RATE_PATH = "/v4/users/me/dataTypes/heart-rate/dataPoints"
RESTING_PATH = "/v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints"
ZONES_PATH = "/v4/users/me/dataTypes/daily-heart-rate-zones/dataPoints"
# Heart rate from Fitbit trackers and Pixel Watches only.  The default family ("all-sources")
# also returns what phone apps wrote through Health Connect, a second stream whose points can
# share instants with the watch's and would collapse into one row keyed by (account, instant).
WEARABLES = "users/me/dataSourceFamilies/google-wearables"
_SCOPE_REASONS = {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "MISSING_OAUTH_SCOPE"}


class GoogleHealthProvider:
    """The `heartkeep.providers.Provider` for Google Health API v4."""

    name = NAME
    source = Source.GOOGLE_HEALTH

    def __init__(
        self,
        client: http_client.Client,
        *,
        clock: Clock,
        page_size: int = MAX_PAGE_SIZE,
        columns: bool = False,
    ):
        """`columns`: every page carries `SampleColumns` (`parse_heart_rate_columns`), for a
        store that writes columns (a study's PostgreSQL); otherwise only pages of at least
        `COLUMNS_FROM` points do (a backfill's), and a personal sync's small runs never load
        numpy."""
        self.client = client
        self.clock = clock
        self.page_size = page_size
        self.columns = columns
        self.sizer = PageSizer(largest=page_size, smallest=min(page_size, MIN_PAGE_SIZE))

    # who ----------------------------------------------------------------------------------------
    def account(self) -> Account:
        """Identity (the stable `healthUserId`), profile (membership start) and settings (zone)."""
        identity = self._get("/v4/users/me/identity")
        profile = self._get("/v4/users/me/profile")
        settings = self._get("/v4/users/me/settings")
        try:
            user_id = str(identity["healthUserId"])
        except (KeyError, TypeError) as failure:
            raise ProviderError("Google's identity response has no healthUserId") from failure
        member_since = _date_or_none(profile.get("membershipStartDate"))
        return Account(
            provider=NAME,
            user_id=user_id,
            display_name=str(profile.get("displayName", "")),
            time_zone=_valid_zone(settings.get("timeZone")),
            member_since=member_since,
        )

    def delivered_until_s(self) -> int | None:
        """The newest `lastSyncTime` of the user's paired devices (one request per run)."""
        body = self._get("/v4/users/me/pairedDevices", {"pageSize": "100"})
        devices = body.get("pairedDevices")
        if not isinstance(devices, list):
            return None
        stamps = [
            parse_rfc3339_s(device["lastSyncTime"])
            for device in devices
            if isinstance(device, dict) and isinstance(device.get("lastSyncTime"), str)
        ]
        return max(stamps, default=None)

    # heart rate ---------------------------------------------------------------------------------
    def sample_pages(self, window: Window) -> Iterator[Page]:
        """One listing over `window`, pages newest first, `covers` tiling the window."""
        if window.seconds <= 0:
            return
        field = "heart_rate.sample_time.physical_time"
        query = (
            f'{field} >= "{format_rfc3339(window.start_s)}" AND '
            f'{field} < "{format_rfc3339(window.end_s)}"'
        )
        paginator = TokenPaginator()
        upper = window.end_s
        while paginator.has_next:
            params = {"filter": query, "dataSourceFamily": WEARABLES, **paginator.params()}
            response = self._sized_request(HEART_RATE_PATH, params)
            # A large page (a backfill's) as columns: no `Sample` per reading, and the store
            # sorts, counts and aggregates it in numpy; a small one (an hourly sync's) as a
            # list, so an up-to-date sync never loads numpy.
            samples, token = parse_heart_rate_columns(
                response.content, smallest=0 if self.columns else COLUMNS_FROM
            )
            paginator.advance(token)
            if paginator.done:
                lower = window.start_s
            elif samples:
                lower = max(window.start_s, min(upper, _oldest_s(samples)))
            else:
                lower = upper  # an empty page that still carries a token proves nothing new
            yield Page(samples=samples, covers=Window(lower, upper))
            upper = lower

    # dailies ------------------------------------------------------------------------------------
    def daily_pages(self, start: dt.date, end: dt.date) -> Iterator[DailyPage]:
        """Resting heart rate, then zones, each one listing over [start, end) by local date."""
        if end <= start:
            return
        for path, field, parse in (
            (RESTING_PATH, "daily_resting_heart_rate.date", _parse_resting),
            (ZONES_PATH, "daily_heart_rate_zones.date", _parse_zones),
        ):
            query = f'{field} >= "{start.isoformat()}" AND {field} < "{end.isoformat()}"'
            paginator = TokenPaginator()
            while paginator.has_next:
                body = self._get(
                    path, {"filter": query, "pageSize": str(self.page_size), **paginator.params()}
                )
                paginator.update(body)
                dailies = [parse(point) for point in body.get("dataPoints", ())]
                yield DailyPage(dailies=dailies, start=start, end=end)

    # wire ---------------------------------------------------------------------------------------
    def _sized_request(self, path: str, params: dict[str, str]) -> http_client.Response:
        """A listing page at the sizer's `pageSize`, halved while the page times out."""
        sizer = self.sizer
        while True:
            extensions = {SHRINK_AFTER_504S: DEADLINES_BEFORE_SHRINKING} if sizer.can_shrink else {}
            response = self.client.get(
                path, params={**params, "pageSize": str(sizer.size)}, extensions=extensions
            )
            if response.status_code == 504 and sizer.can_shrink:
                sizer.shrink()
                continue
            if response.status_code != 200:
                raise error_from_response(response)
            sizer.succeeded()
            return response

    def _request(self, path: str, params: dict[str, str] | None = None) -> http_client.Response:
        response = self.client.get(path, params=params)
        if response.status_code != 200:
            raise error_from_response(response)
        return response

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        body = response_json(self._request(path, params))
        if not isinstance(body, dict):
            raise ProviderError(f"{path}: expected a JSON object, got {type(body).__name__}")
        return body


def _oldest_s(samples: Sequence[Sample]) -> int:
    if isinstance(samples, SampleColumns):
        return int(samples.instants_s.min())
    return min(samples)[0]  # min() over the tuples compares instants first, in C


def make_provider(client: http_client.Client, *, clock: Clock) -> GoogleHealthProvider:
    """The provider factory `heartkeep.providers.get_provider_factory("google-health")` returns."""
    return GoogleHealthProvider(client, clock=clock)


def _parse_resting(point: Any) -> Daily:
    try:
        body = point["dailyRestingHeartRate"]
        day = _date(body["date"])
        bpm = body.get("beatsPerMinute")
        return Daily(day, DailyKind.RESTING_HR, value=None if bpm is None else float(bpm))
    except (KeyError, TypeError, ValueError) as failure:
        raise ProviderError(f"unexpected daily resting heart rate: {point!r:.200}") from failure


def _parse_zones(point: Any) -> Daily:
    try:
        body = point["dailyHeartRateZones"]
        zones = tuple(
            Zone(
                name=str(zone.get("heartRateZoneType", "HEART_RATE_ZONE_TYPE_UNSPECIFIED")),
                min_bpm=int(zone.get("minBeatsPerMinute", 0)),
                max_bpm=int(zone.get("maxBeatsPerMinute", 0)),
            )
            for zone in body.get("heartRateZones", ())
        )
        return Daily(_date(body["date"]), DailyKind.ZONES, zones=zones)
    except (KeyError, TypeError, ValueError, AttributeError) as failure:
        raise ProviderError(f"unexpected daily heart-rate zones: {point!r:.200}") from failure


def _date(value: Any) -> dt.date:
    """A google.type.Date (`{"year", "month", "day"}`, zero fields omitted) → date."""
    return dt.date(int(value["year"]), int(value.get("month", 1)), int(value.get("day", 1)))


def _date_or_none(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return _date(value)
    except (KeyError, TypeError, ValueError):
        return None


def _valid_zone(name: Any) -> str:
    """The IANA zone the settings report, or UTC if missing or unknown to this machine."""
    if isinstance(name, str) and name:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return "UTC"
        return name
    return "UTC"


def error_from_response(
    response: http_client.Response,
) -> ProviderError | ReauthorizationNeeded | ScopeMissing:
    """Turn a non-200 answer into the error a user can act on (google-health-api.md §9)."""
    status = response.status_code
    message, reason = _google_error(response)
    path = response.request.url.path
    if status == 401:
        return ReauthorizationNeeded(
            "Google no longer accepts heartkeep's authorization for this account",
            hint="Run `heartkeep auth login` to connect it again.",
            provider_code=reason or "UNAUTHENTICATED",
        )
    if status == 403 and reason in _SCOPE_REASONS:
        return ScopeMissing(
            "heartkeep lacks a permission it needs to read your heart-rate data",
            hint="Run `heartkeep auth login` again and allow every permission on Google's page.",
            provider_code=reason,
        )
    if reason == "ACCOUNT_NOT_LINKED":
        return ProviderError(
            "this Google account has no Google Health data (the Fitbit account is not linked)",
            status=status,
            hint="Move your Fitbit account to your Google account in the Fitbit app, then retry.",
            provider_code=reason,
        )
    return ProviderError(
        f"Google Health API refused {path}: HTTP {status}" + (f" — {message}" if message else ""),
        status=status,
        provider_code=reason,
    )


def _google_error(response: http_client.Response) -> tuple[str, str | None]:
    """(message, ErrorInfo.reason) from a `google.rpc.Status` body, tolerant of anything else."""
    try:
        body = response.json()
    except ValueError:
        return "", None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", None
    reason = None
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("reason"):
            reason = str(detail["reason"])
            break
    return str(error.get("message", ""))[:300], reason
