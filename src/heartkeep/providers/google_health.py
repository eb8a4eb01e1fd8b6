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

Parsing is the hot path (a year is ~10 million points): pages are decoded by msgspec straight
into small typed structs (unknown members such as `dataSource` and `civilTime` are skipped
without building objects), timestamps by caching the epoch of each `YYYY-MM-DDTHH:MM` prefix and
adding the seconds, offsets through a small cache — about 1 µs per point.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from heartkeep import http_client
from heartkeep.clock import Clock
from heartkeep.errors import ProviderError, ReauthorizationNeeded, ScopeMissing
from heartkeep.model import Account, Daily, DailyKind, Sample, SampleColumns, Source, Window, Zone
from heartkeep.providers import DailyPage, Page
from heartkeep.providers.paging import (
    SHRINK_AFTER_504S,
    PageSizer,
    TokenPaginator,
    response_json,
)
from heartkeep.timeline import (
    format_rfc3339,
    offset_min_from_seconds,
    parse_duration_s,
    parse_rfc3339_s,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

NAME = "google-health"
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
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


# gc=False: these hold no reference cycles, and keeping 30,000 small objects a page out of the
# cyclic garbage collector's sight makes decoding several times faster on long backfills.
class _SampleTime(msgspec.Struct, gc=False):
    physicalTime: str
    utcOffset: str = "0s"  # proto3 JSON omits zero values: UTC has no offset member


class _HeartRate(msgspec.Struct, gc=False):
    sampleTime: _SampleTime
    beatsPerMinute: int  # an int64, so a JSON string; strict=False below accepts both


class _Point(msgspec.Struct, gc=False):
    heartRate: _HeartRate | None = None


class _HeartRatePage(msgspec.Struct, gc=False):
    dataPoints: list[_Point] = msgspec.field(default_factory=list)
    nextPageToken: str = ""


_PAGE_DECODER = msgspec.json.Decoder(_HeartRatePage, strict=False)


def parse_heart_rate_page(content: bytes) -> tuple[list[Sample], str]:
    """A `ListDataPointsResponse` body → (samples in the order served, next page token or "").

    Points without a `heartRate` member are skipped; a malformed heart-rate point raises
    `ProviderError` (a silent skip would be a silent gap).
    """
    rates, token = _heart_rates(content)
    return _parse_points(rates), token


def parse_heart_rate_columns(
    content: bytes, *, smallest: int = 0
) -> tuple[SampleColumns | list[Sample], str]:
    """`parse_heart_rate_page` as numpy columns: the same samples in the same order, the same
    errors.  Columns whenever the page allows (stamps in UTC, as Google and the sandbox send
    them) and holds at least `smallest` points; a page with a numeric offset in a stamp or a
    value beyond int64, or a smaller one, comes back as the list instead (a list of fewer than
    `smallest` points loads no numpy).

    Why: a study worker stores hundreds of millions of samples a day, and its store wants
    columns; building a `Sample` per point and then an array from them was a third of its
    CPU.  Here the decoded structs give up their fields as plain lists, and the stamps
    (`YYYY-MM-DDTHH:MM:SSZ`, maybe with a fraction, which is floored) are read as one byte
    matrix: digits by column, each distinct date once through `datetime`.  Any other stamp
    form (a numeric offset) or a value out of range sends the page through the per-point
    parse, which decides exactly as before.  Loads numpy (the personal sync's small runs do
    without it).
    """
    rates, token = _heart_rates(content)
    if len(rates) < smallest:
        return _parse_points(rates), token
    if not rates:
        return _no_samples(), token
    columns = _fast_columns(rates)
    return (columns if columns is not None else _parse_points(rates)), token


def _heart_rates(content: bytes) -> tuple[list[_HeartRate], str]:
    """The page's heart-rate members, in order (points without one skipped), and its token."""
    try:
        page = _PAGE_DECODER.decode(content)
    except msgspec.DecodeError as failure:
        raise ProviderError(f"unexpected heart-rate page from Google: {failure}") from failure
    found = [point.heartRate for point in page.dataPoints]
    rates = [rate for rate in found if rate is not None] if None in found else found
    return rates, page.nextPageToken  # type: ignore[return-value]  # the Nones are gone


def _no_samples() -> SampleColumns:
    import numpy as np

    return SampleColumns(*(np.zeros(0, dtype=np.int64) for _ in range(3)))


# Byte offsets of the digits in `YYYY-MM-DDTHH:MM:SSZ`, and the separators between them.
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_SEPARATORS = ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":"), (19, b"Z"))
_FRACTION = re.compile(r"(?:\.[0-9]{0,9})?Z")


def _fast_columns(rates: list[_HeartRate]) -> SampleColumns | None:
    """The columns of these points when every stamp has the usual form and every value fits;
    None otherwise (the caller then parses point by point)."""
    import numpy as np

    times = [rate.sampleTime for rate in rates]
    texts = [time.physicalTime for time in times]
    stamps = "".join(texts)
    fractions = len(stamps) != 20 * len(texts)
    if fractions:
        # Fractions of a second (floored, as the per-point parse does): the stamps without them.
        if not all(_FRACTION.fullmatch(tail) for tail in {text[19:] for text in texts}):
            return None
        stamps = "Z".join([text[:19] for text in texts]) + "Z"
    if not stamps.isascii():
        return None
    text = np.frombuffer(stamps.encode("ascii"), dtype=np.uint8).reshape(-1, 20)
    for at, mark in _SEPARATORS:
        if (text[:, at] != mark[0]).any():
            return None
    digits = text[:, _DIGITS].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    tens = digits[:, 0::2] * 10 + digits[:, 1::2]  # CC YY MM DD hh mm ss
    hour, minute, second = tens[:, 4], tens[:, 5], tens[:, 6]
    # A leap second (:60) is read only without a fraction, as the per-point parse reads it.
    if (hour > 23).any() or (minute > 59).any() or (second > (59 if fractions else 60)).any():
        return None
    dates = (tens[:, 0] * 100 + tens[:, 1]) * 10_000 + tens[:, 2] * 100 + tens[:, 3]
    distinct, where = np.unique(dates, return_inverse=True)
    try:
        epoch_days = [
            dt.date(date // 10_000, date // 100 % 100, date % 100).toordinal() - _EPOCH_ORDINAL
            for date in distinct.tolist()
        ]
        bpm = np.array([rate.beatsPerMinute for rate in rates], dtype=np.int64)
        offsets = _offsets_min([time.utcOffset for time in times])
    except (ValueError, OverflowError):
        return None
    instants = np.array(epoch_days, dtype=np.int64)[where.reshape(-1)] * 86_400
    instants += hour * 3600 + minute * 60 + second
    return SampleColumns(instants, bpm, offsets)


def _offsets_min(texts: list[str]) -> npt.NDArray[np.int64]:
    """Minutes east of UTC of each `utcOffset` text (a page has one or two distinct ones)."""
    import numpy as np

    minutes = {
        text: offset_min_from_seconds(parse_duration_s(text)) for text in dict.fromkeys(texts)
    }
    if len(minutes) == 1:
        return np.full(len(texts), next(iter(minutes.values())), dtype=np.int64)
    return np.array([minutes[text] for text in texts], dtype=np.int64)


def _parse_points(rates: list[_HeartRate]) -> list[Sample]:
    """The per-point parse: any RFC 3339 form Google may send, errors as `ProviderError`."""
    samples: list[Sample] = []
    append = samples.append
    make = tuple.__new__  # builds the NamedTuple in C, skipping its Python-level __new__
    seconds = _SECONDS
    minutes: dict[str, int] = {}
    offsets: dict[str, int] = {"0s": 0}
    rate: _HeartRate | None = None
    try:
        for rate in rates:
            sample_time = rate.sampleTime
            text = sample_time.physicalTime
            base = minutes.get(text[:16])
            if base is None or len(text) != 20 or text[19] != "Z":
                base = _minute_base_s(text, minutes)
            offset = offsets.get(sample_time.utcOffset)
            if offset is None:
                offset = offset_min_from_seconds(parse_duration_s(sample_time.utcOffset))
                offsets[sample_time.utcOffset] = offset
            append(make(Sample, (base + seconds[text[17:19]], rate.beatsPerMinute, offset)))
    except (ValueError, KeyError) as failure:
        raise ProviderError(
            f"unexpected heart-rate data point from Google: {rate!r:.200} ({failure})"
        ) from failure
    return samples


# "00".."60" → int: a dict lookup is cheaper than int() on the hot path.
_SECONDS = {f"{second:02d}": second for second in range(61)}


def _minute_base_s(text: str, cache: dict[str, int]) -> int:
    """Epoch seconds of `text` minus its seconds field, caching whole-second `…:SSZ` forms."""
    if len(text) == 20 and text[19] == "Z":
        base = parse_rfc3339_s(text[:16] + ":00Z")
        cache[text[:16]] = base
        return base
    # fractions or a numeric offset: parse it whole (slow, rare)
    return parse_rfc3339_s(text) - _SECONDS[text[17:19]]


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
