"""The legacy Fitbit Web API provider: one request per local day, local wall times → instants.

The legacy API serves heart rate per *local* day of the user, as wall-clock `HH:mm:ss` strings
without a date or an offset; the intraday `1sec` response for a day also carries that day's
zones and resting heart rate.  So a window becomes one request per local day, newest first,
and each response becomes one `Page` whose `covers` is that day's UTC span (clipped to the
window) and whose `dailies` are that day's resting HR and zones.

Wall times become instants with the rules of the profile's IANA time zone (the only zone the API
tells us; it is the *current* one, so data from a trip abroad shifts — see
docs/fitbit-legacy.md).  DST is exact: a spring-forward day has no wall times in its gap, and in
a fall-back day's repeated hour the dataset, which is in time order, runs backwards once —
samples before that step are the first pass (summer time, PEP 495 fold 0), samples after it the
second (fold 1).

Quota, retries and auth belong to the `http_client.Client` handed in (see `sync.transport` and
`auth.refresh`); this module only turns windows into requests and responses into data, and maps
the API's refusals onto heartkeep's errors — above all 410 Gone, the API's state since
2026-11-02, onto one `ProviderGone` that tells the user what to do instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import orjson

from heartkeep import http_client, timeline
from heartkeep.clock import Clock
from heartkeep.errors import (
    AuthError,
    ProviderError,
    ProviderGone,
    RateLimited,
    ReauthorizationNeeded,
    ScopeMissing,
    TransientError,
    legacy_fitbit_gone,
)
from heartkeep.model import Account, Daily, DailyKind, Sample, Source, Window, Zone
from heartkeep.providers import DailyPage, Page
from heartkeep.providers.fitbit_clock import clock_seconds, local_clock_to_instants
from heartkeep.providers.paging import response_json
from heartkeep.redaction import redact

NAME = "fitbit-legacy"
PROFILE_PATH = "/1/user/-/profile.json"
DEVICES_PATH = "/1/user/-/devices.json"
_TIME = itemgetter("time")
_VALUE = itemgetter("value")


def provider_gone() -> ProviderGone:
    """The one error a 410 from any legacy Fitbit endpoint becomes (OAuth endpoints included)."""
    return legacy_fitbit_gone()


def intraday_path(day: dt.date) -> str:
    """The seed's request: one local day of intraday heart rate at the finest detail."""
    return f"/1/user/-/activities/heart/date/{day.isoformat()}/1d/1sec.json"


class IntradayDay(NamedTuple):
    """One day's intraday response, read: what the provider stores and what it had to infer."""

    samples: list[Sample]
    """Ascending by instant."""
    dailies: list[Daily]
    zone_changes: int
    """Backward jumps of the wall clock read as a change of zone (a flight west)."""
    samples_reoffset: int
    """Samples stored with an inferred offset instead of the profile zone's."""


def parse_intraday(
    body: Mapping[str, Any], day: dt.date, zone_name: str, window: Window | None = None
) -> tuple[list[Sample], list[Daily]]:
    """One day's intraday response → (samples ascending by instant, that day's dailies)."""
    read = read_intraday(body, day, zone_name, window)
    return read.samples, read.dailies


def read_intraday(
    body: Mapping[str, Any], day: dt.date, zone_name: str, window: Window | None = None
) -> IntradayDay:
    """One day's intraday response → its samples, dailies and the zone changes inferred.

    Wall times are read under the zone's rules, then every backward jump of the wall clock is
    read as a trip across zones (`timeline.infer_zone_changes`): without that, the hours a
    flight west repeats would land on instants already taken and be lost.  With `window`, only
    samples whose zone-rule reading falls inside it are kept — the day's own samples, even those
    a trip moves to before the day's span in the profile zone.

    Raises `ProviderError` when the intraday part is missing — the API's way of saying the app
    has no intraday access, which must not be mistaken for a day without data — or malformed.
    """
    intraday = body.get("activities-heart-intraday")
    if not isinstance(intraday, Mapping):
        raise ProviderError(
            "The Fitbit API returned no intraday heart rate for "
            f"{day.isoformat()}: this app has no intraday access.",
            hint="Intraday data needs a Fitbit app of type 'Personal' (your own account) or "
            "Fitbit's approval for Server/Client apps.",
        )
    dataset = intraday.get("dataset")
    if not isinstance(dataset, list):
        raise ProviderError(f"The Fitbit API sent an unreadable dataset for {day.isoformat()}.")
    lookup = clock_seconds()
    try:
        # map/itemgetter keep the per-point work in C: ~25,000 points a day, a year at a time.
        clock_s = np.fromiter(map(lookup.__getitem__, map(_TIME, dataset)), np.int64, len(dataset))
        bpm = np.fromiter(map(_VALUE, dataset), np.int64, len(dataset))
    except (KeyError, TypeError, ValueError) as error:
        raise ProviderError(
            f"The Fitbit API sent an unreadable heart-rate point for {day.isoformat()} ({error})."
        ) from None
    by_rules, rule_offsets = local_clock_to_instants(day, clock_s, zone_name)
    instants, offsets, zone_changes, _ = timeline.infer_zone_changes(
        by_rules, rule_offsets, clock_s
    )
    if window is not None:
        keep = (by_rules >= window.start_s) & (by_rules < window.end_s)
        by_rules, instants, bpm, offsets = by_rules[keep], instants[keep], bpm[keep], offsets[keep]
    order = np.argsort(instants, kind="stable")
    rows = zip(instants[order].tolist(), bpm[order].tolist(), offsets[order].tolist(), strict=True)
    return IntradayDay(
        list(map(Sample._make, rows)),
        parse_dailies(body, day),
        zone_changes,
        int(np.count_nonzero(instants != by_rules)),
    )


def parse_dailies(body: Mapping[str, Any], day: dt.date) -> list[Daily]:
    """Resting HR and zones of `day` from `activities-heart` (zones only with their minutes).

    Zones without `minutes` (a day still in progress, or one without data) are left out, so a
    partial day never overwrites a complete one.  The old documented shape (a string `value`)
    carries no daily values and yields nothing.
    """
    entries = body.get("activities-heart")
    if not isinstance(entries, list):
        return []
    dailies: list[Daily] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("dateTime") != day.isoformat():
            continue
        value = entry.get("value")
        if not isinstance(value, Mapping):
            continue
        resting = value.get("restingHeartRate")
        if isinstance(resting, int | float) and resting > 0:
            dailies.append(Daily(day, DailyKind.RESTING_HR, value=float(resting)))
        raw = value.get("heartRateZones")
        if (
            isinstance(raw, list)
            and raw
            and all(isinstance(z, Mapping) and z.get("minutes") is not None for z in raw)
        ):
            try:
                zones = tuple(
                    Zone(str(z["name"]), int(z["min"]), int(z["max"]), float(z["minutes"]))
                    for z in raw
                )
            except (KeyError, TypeError, ValueError):
                continue
            dailies.append(Daily(day, DailyKind.ZONES, zones=zones))
    return dailies


class FitbitLegacyProvider:
    """Turns time windows into legacy Fitbit requests (see the module docstring).

    `last_sync_s` is the device's last sync as an instant, known after the first
    `sample_pages` call: data after it have not reached Fitbit yet, so a day that ends after it
    is incomplete and will be re-read by the next sync's trailing window.
    """

    name = NAME
    source = Source.FITBIT_LEGACY

    def __init__(self, client: http_client.Client, *, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self._account: Account | None = None
        self.last_sync_s: int | None = None

    def account(self) -> Account:
        """The connected user from `GET /1/user/-/profile.json` (fetched once per provider)."""
        if self._account is None:
            body = self._get_json(PROFILE_PATH)
            user = body.get("user") if isinstance(body, Mapping) else None
            if not isinstance(user, Mapping) or not user.get("encodedId"):
                raise ProviderError("The Fitbit API sent a profile without a user id.")
            try:
                since = dt.date.fromisoformat(str(user["memberSince"]))
            except (KeyError, ValueError):
                since = None  # the engine then starts a first backfill a year back
            zone_name = str(user.get("timezone") or "UTC")
            try:
                timeline.zone(zone_name)
            except (KeyError, ValueError):
                raise ProviderError(
                    f"The Fitbit profile names an unknown time zone {zone_name!r}."
                ) from None
            self._account = Account(
                provider=NAME,
                user_id=str(user["encodedId"]),
                display_name=str(user.get("displayName") or user.get("fullName") or ""),
                time_zone=zone_name,
                member_since=since,
            )
        return self._account

    def delivered_until_s(self) -> int | None:
        """The trackers' newest `lastSyncTime` (`GET /1/user/-/devices.json`, once per run)."""
        if self.last_sync_s is None:
            self.last_sync_s = self._last_sync_s(self.account().time_zone)
        return self.last_sync_s

    def sample_pages(self, window: Window) -> Iterator[Page]:
        """One page per local day, newest first, covering `window` without gaps.

        Days before the membership start, and days after the tracker's last sync, are answered
        without a request: no data can exist there (yet).
        """
        if window.seconds == 0:
            return
        account = self.account()
        zone_name = account.time_zone
        self.last_sync_s = self._last_sync_s(zone_name)
        member_start_s = (
            timeline.local_day_window(account.member_since, zone_name).start_s
            if account.member_since is not None
            else window.start_s
        )
        day = timeline.local_date(
            window.end_s - 1, timeline.zone_offset_min(zone_name, window.end_s - 1)
        )
        while True:
            span = timeline.local_day_window(day, zone_name)
            covers = Window(max(span.start_s, window.start_s), min(span.end_s, window.end_s))
            if covers.end_s <= member_start_s:
                yield Page(samples=(), covers=Window(window.start_s, covers.end_s), requests=0)
                return
            if self.last_sync_s is not None and span.start_s > self.last_sync_s:
                # The tracker has not synced anything of this day yet: nothing to ask for.
                yield Page(samples=(), covers=covers, requests=0)
            else:
                body = self._get_json(intraday_path(day))
                read = read_intraday(body, day, zone_name, covers)
                yield Page(
                    samples=read.samples,
                    covers=covers,
                    dailies=read.dailies,
                    requests=1,
                    zone_changes_inferred=read.zone_changes,
                    samples_reoffset=read.samples_reoffset,
                )
            if covers.start_s <= window.start_s:
                return
            day -= dt.timedelta(days=1)

    def daily_pages(self, start: dt.date, end: dt.date) -> Iterator[DailyPage]:
        """Nothing: each day's zones and resting HR ride on that day's sample page."""
        return iter(())

    # --- HTTP ---------------------------------------------------------------------------------

    def _last_sync_s(self, zone_name: str) -> int | None:
        """The newest `lastSyncTime` of the user's trackers, as an instant (local, no offset)."""
        devices = self._get_json(DEVICES_PATH)
        newest: int | None = None
        if isinstance(devices, list):
            for device in devices:
                stamp = device.get("lastSyncTime") if isinstance(device, Mapping) else None
                if not isinstance(stamp, str):
                    continue
                try:
                    wall = dt.datetime.fromisoformat(stamp)
                except ValueError:
                    continue
                instant = timeline.local_to_instant(wall.replace(tzinfo=None), zone_name)
                newest = instant if newest is None else max(newest, instant)
        return newest

    def _get_json(self, path: str) -> Any:
        try:
            response = self.client.get(path)
        except http_client.HTTPError as error:
            raise TransientError(
                f"Could not reach the Fitbit API ({type(error).__name__}).",
                hint="Check the network connection and run the sync again.",
            ) from None
        if response.status_code != 200:
            raise error_for(response)
        return response_json(response)


def error_for(response: http_client.Response) -> Exception:
    """The heartkeep error for a refusal of the legacy API (its message redacted: Fitbit echoes
    tokens in error messages)."""
    status = response.status_code
    if status == 410:
        return provider_gone()
    error_type, message = _first_error(response)
    detail = redact(message) if message else f"HTTP {status}"
    if status == 401:
        return ReauthorizationNeeded(
            f"Fitbit refused the access token ({error_type or 'unauthorized'}): {detail}",
            hint="Run `heartkeep auth login --provider fitbit` again.",
            provider_code=error_type,
        )
    if status == 403:
        if error_type == "insufficient_scope":
            return ScopeMissing(
                f"Fitbit says this app may not read that data: {detail}",
                hint="Log in again and leave the heartrate, profile and settings boxes ticked: "
                "`heartkeep auth login --provider fitbit`.",
                provider_code=error_type,
            )
        return AuthError(f"Fitbit refused access: {detail}", provider_code=error_type)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        return RateLimited(
            "Fitbit's hourly request limit is spent.",
            retry_after_s=float(retry_after) if retry_after and retry_after.isdigit() else None,
            hint="The next sync continues where this one stopped.",
        )
    if status >= 500:
        return TransientError(f"The Fitbit API failed (HTTP {status}): {detail}")
    return ProviderError(
        f"The Fitbit API refused the request (HTTP {status}): {detail}",
        status=status,
        provider_code=error_type,
    )


def _first_error(response: http_client.Response) -> tuple[str | None, str | None]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, None
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if isinstance(errors, Sequence) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        return (
            str(first.get("errorType")) if first.get("errorType") else None,
            str(first.get("message")) if first.get("message") else None,
        )
    return None, None


def make_provider(client: http_client.Client, *, clock: Clock) -> FitbitLegacyProvider:
    """The provider factory the sync engine looks up by the name "fitbit-legacy"."""
    return FitbitLegacyProvider(client, clock=clock)
