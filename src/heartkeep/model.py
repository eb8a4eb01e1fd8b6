"""Plain data that crosses heartkeep's layers: samples, dailies, windows, accounts and tokens.

Nothing here does I/O.  Instants are UTC epoch **seconds** as integers (heart rate arrives at
one-second resolution at best, and 4-byte integers keep the store near 16 bytes a sample); UTC
offsets are whole **minutes** east of UTC, as the provider reported them for that instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, overload

import msgspec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Sample(NamedTuple):
    """One heart-rate reading.  A NamedTuple so a batch feeds `executemany` without copying."""

    instant_s: int
    bpm: int
    offset_min: int


class SampleColumns(Sequence[Sample]):
    """Samples as three equal-length int64 numpy arrays: instants, bpm and offsets.

    Why: an importer reads a day file of 86,400 readings at once; handing it to the store as
    columns (converted to rows only inside `executemany`) saves building a `Sample` per reading,
    which cost more than parsing the file.  It is a `Sequence[Sample]` as well, so code written
    for sample batches (tests, `keep_plausible`) reads it unchanged; rows come out as `Sample`s
    of Python ints.  numpy is imported only by code that builds columns, so this type costs the
    start-up nothing.
    """

    __slots__ = ("bpm", "instants_s", "offsets_min")

    def __init__(
        self,
        instants_s: npt.NDArray[np.int64],
        bpm: npt.NDArray[np.int64],
        offsets_min: npt.NDArray[np.int64],
    ) -> None:
        if not len(instants_s) == len(bpm) == len(offsets_min):
            raise ValueError("sample columns of different lengths")
        self.instants_s = instants_s
        self.bpm = bpm
        self.offsets_min = offsets_min

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> SampleColumns:
        """Columns of `samples` (a `SampleColumns` is returned as it is).  Values must fit in
        int64: pass samples through `plausibility.keep_plausible` first."""
        if isinstance(samples, SampleColumns):
            return samples
        import numpy as np  # here, not at the top: only importers and writers pay for numpy

        table = np.array(samples, dtype=np.int64).reshape(-1, 3)
        return cls(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())

    @classmethod
    def joined(cls, parts: Sequence[SampleColumns]) -> SampleColumns:
        """One batch of the rows of `parts`, in order."""
        if len(parts) == 1:
            return parts[0]
        import numpy as np  # here, not at the top: only importers and writers pay for numpy

        return cls(
            np.concatenate([part.instants_s for part in parts]),
            np.concatenate([part.bpm for part in parts]),
            np.concatenate([part.offsets_min for part in parts]),
        )

    def where(self, mask: npt.NDArray[np.bool_]) -> SampleColumns:
        """The rows where `mask` is true."""
        return SampleColumns(self.instants_s[mask], self.bpm[mask], self.offsets_min[mask])

    def __len__(self) -> int:
        return len(self.instants_s)

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> SampleColumns: ...

    def __getitem__(self, index: int | slice) -> Sample | SampleColumns:
        if isinstance(index, slice):
            return SampleColumns(self.instants_s[index], self.bpm[index], self.offsets_min[index])
        return Sample(
            int(self.instants_s[index]), int(self.bpm[index]), int(self.offsets_min[index])
        )

    def __iter__(self) -> Iterator[Sample]:
        return map(Sample._make, self.rows())

    def rows(self) -> Iterator[tuple[int, int, int]]:
        """(instant, bpm, offset) tuples of Python ints, made one at a time: `executemany`'s
        input, never held all at once."""
        return zip(
            self.instants_s.tolist(), self.bpm.tolist(), self.offsets_min.tolist(), strict=True
        )


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


class Zone(msgspec.Struct, frozen=True):
    """A heart-rate zone of one day: its name, bounds in bpm, and minutes spent if known."""

    name: str
    min_bpm: int
    max_bpm: int
    minutes: float | None = None


class Daily(msgspec.Struct, frozen=True):
    """One per-day value keyed by the user's *local* date: resting HR (value) or zones."""

    day: dt.date
    kind: DailyKind
    value: float | None = None
    zones: tuple[Zone, ...] = ()


class Window(msgspec.Struct, frozen=True):
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


class Account(msgspec.Struct, frozen=True):
    """A connected provider account.  `key` ("google-health:4809…") names it everywhere."""

    provider: str
    user_id: str
    display_name: str = ""
    time_zone: str = "UTC"
    member_since: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.user_id}"


def repr_without(value: msgspec.Struct, hidden: tuple[str, ...]) -> str:
    """A struct's usual repr with the `hidden` fields left out: how types that hold a secret
    (a token, a client secret) show themselves in logs and tracebacks."""
    shown = ", ".join(
        f"{name}={getattr(value, name)!r}" for name in value.__struct_fields__ if name not in hidden
    )
    return f"{type(value).__name__}({shown})"


class TokenSet(msgspec.Struct, frozen=True):
    """An OAuth token pair.  Its repr never shows a token (secrets never leave the vault)."""

    access_token: str
    refresh_token: str | None
    expires_at_s: float
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    obtained_at_s: float = 0.0
    refresh_expires_at_s: float | None = None
    user_id: str | None = None

    def __repr__(self) -> str:
        return repr_without(self, ("access_token", "refresh_token"))

    def expires_within(self, now_s: float, leeway_s: float) -> bool:
        return self.expires_at_s - leeway_s <= now_s

    def to_fields(self) -> dict[str, Any]:
        """The pair as plain JSON-ready fields: how the vault file and the store's sealed
        tokens both keep it (`from_fields` reads it back)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at_s": self.expires_at_s,
            "scopes": list(self.scopes),
            "token_type": self.token_type,
            "obtained_at_s": self.obtained_at_s,
            "refresh_expires_at_s": self.refresh_expires_at_s,
            "user_id": self.user_id,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> TokenSet:
        """The pair `to_fields` wrote; a field older files lack takes its default."""
        return cls(
            access_token=str(fields["access_token"]),
            refresh_token=fields.get("refresh_token"),
            expires_at_s=float(fields["expires_at_s"]),
            scopes=tuple(fields.get("scopes") or ()),
            token_type=str(fields.get("token_type") or "Bearer"),
            obtained_at_s=float(fields.get("obtained_at_s") or 0.0),
            refresh_expires_at_s=fields.get("refresh_expires_at_s"),
            user_id=fields.get("user_id"),
        )
