"""The store's contract: what every backend (SQLite now, PostgreSQL later) promises.

Writes are upserts keyed by (account, instant) for samples and (account, local day, kind) for
dailies, so re-ingesting anything is harmless.  `transaction()` groups writes so that a sync page
and the cursor that covers it, or a whole import, commit together or not at all (invariants 2
and 3).  Outside a transaction each write call commits on its own.  Reads stream in batches in
ascending instant order, so callers never hold a year of samples in memory (invariant 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from heartkeep.model import Account, Daily, DailyKind, Sample, Source, Window


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write changed: rows that were new, and existing rows whose values changed."""

    inserted: int = 0
    updated: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.inserted + other.inserted, self.updated + other.updated)


class Store(Protocol):
    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything written inside commits at exit, or nothing does if it raises."""
        ...

    # accounts ---------------------------------------------------------------------------------
    def upsert_account(self, account: Account) -> None: ...

    def accounts(self) -> list[Account]: ...

    def account(self, key: str) -> Account | None: ...

    # heart rate -------------------------------------------------------------------------------
    def write_samples(
        self, account_key: str, samples: Iterable[Sample], source: Source
    ) -> WriteResult:
        """Upsert samples (any order; the same instant twice keeps the last)."""
        ...

    def iter_samples(
        self, account_key: str, window: Window | None = None, *, batch_size: int = 10_000
    ) -> Iterator[Sequence[Sample]]:
        """Samples in ascending instant order, `batch_size` at a time."""
        ...

    def sample_count(self, account_key: str, window: Window | None = None) -> int: ...

    def sample_span(self, account_key: str) -> Window | None:
        """[first instant, last instant + 1) of the account's samples, or None if it has none."""
        ...

    # dailies ----------------------------------------------------------------------------------
    def write_dailies(
        self, account_key: str, dailies: Iterable[Daily], source: Source
    ) -> WriteResult: ...

    def dailies(
        self,
        account_key: str,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        kind: DailyKind | None = None,
    ) -> list[Daily]:
        """Dailies with start <= day < end, ordered by day then kind."""
        ...
