"""Plain data that crosses heartkeep's layers: samples, dailies, windows, accounts and tokens.

Nothing here does I/O.  Instants are UTC epoch **seconds** as integers (heart rate arrives at
one-second resolution at best, and 4-byte integers keep the store near 16 bytes a sample); UTC
offsets are whole **minutes** east of UTC, as the provider reported them for that instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Sample(NamedTuple):
    """One heart-rate reading.  A NamedTuple so a batch feeds `executemany` without copying."""

    instant_s: int
    bpm: int
    offset_min: int


class Source(StrEnum):
    """Where a sample came from; stored as a small integer (its position in this enum)."""

    GOOGLE_HEALTH = "google-health"
    FITBIT_LEGACY = "fitbit-legacy"
    TAKEOUT = "takeout"
    FITBIT_JSON = "fitbit-json"

    @property
    def code(self) -> int:
        return list(Source).index(self)

    @classmethod
    def from_code(cls, code: int) -> Source:
        return list(Source)[code]


class DailyKind(StrEnum):
    RESTING_HR = "resting_hr"
    ZONES = "zones"


@dataclass(frozen=True, slots=True)
class Zone:
    """A heart-rate zone of one day: its name, bounds in bpm, and minutes spent if known."""

    name: str
    min_bpm: int
    max_bpm: int
    minutes: float | None = None


@dataclass(frozen=True, slots=True)
class Daily:
    """One per-day value keyed by the user's *local* date: resting HR (value) or zones."""

    day: dt.date
    kind: DailyKind
    value: float | None = None
    zones: tuple[Zone, ...] = ()


@dataclass(frozen=True, slots=True)
class Window:
    """A closed-open span of UTC instants [start_s, end_s)."""

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"window ends before it starts: {self.start_s} > {self.end_s}")

    @property
    def seconds(self) -> int:
        return self.end_s - self.start_s

    def contains(self, instant_s: int) -> bool:
        return self.start_s <= instant_s < self.end_s


@dataclass(frozen=True, slots=True)
class Account:
    """A connected provider account.  `key` ("google-health:4809…") names it everywhere."""

    provider: str
    user_id: str
    display_name: str = ""
    time_zone: str = "UTC"
    member_since: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An OAuth token pair.  Its repr never shows a token (secrets never leave the vault)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at_s: float
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    obtained_at_s: float = 0.0
    refresh_expires_at_s: float | None = None
    user_id: str | None = None

    def expires_within(self, now_s: float, leeway_s: float) -> bool:
        return self.expires_at_s - leeway_s <= now_s
