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
from typing import TYPE_CHECKING, Protocol

import msgspec

from heartkeep.lazy_names import on_first_use
from heartkeep.model import Account, Daily, DailyKind, Sample, SampleColumns, Source, Window
from heartkeep.store.forgetting import ForgetReport

if TYPE_CHECKING:  # numpy loads only where summaries are computed
    from heartkeep.aggregates import DayAggregate, MinuteSeries
    from heartkeep.store.import_rows import ImportFile as ImportFile
    from heartkeep.store.import_rows import ImportRun as ImportRun
    from heartkeep.store.import_rows import ImportWrite as ImportWrite
    from heartkeep.store.import_rows import Provenance as Provenance
    from heartkeep.store.import_rows import UndoResult as UndoResult

# The records of an import live in `import_rows.py`, loaded when a name is first asked for:
# `status` and a cron-run `sync` load this module but never import (issue 11).
_IMPORT_ROWS = ("ImportFile", "ImportRun", "ImportWrite", "Provenance", "UndoResult")
__getattr__, __dir__ = on_first_use(
    globals(), dict.fromkeys(_IMPORT_ROWS, "heartkeep.store.import_rows")
)


class WriteResult(msgspec.Struct, frozen=True):
    """What a write changed: rows that were new, existing rows whose values changed, and
    readings `merged` into another of the same whole second (the store keeps one per second)."""

    inserted: int = 0
    updated: int = 0
    merged: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.merged + other.merged,
        )


class Store(Protocol):
    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything written inside commits at exit, or nothing does if it raises."""
        ...

    # accounts ---------------------------------------------------------------------------------
    def upsert_account(self, account: Account) -> None: ...

    def accounts(self) -> list[Account]: ...

    def account(self, key: str) -> Account | None: ...

    def forget_account(self, account_key: str) -> ForgetReport:
        """Delete the account's samples, dailies, sync state, history and the account itself,
        in one transaction, then give the space back (SQLite: VACUUM).  Zeros if unknown."""
        ...

    # heart rate -------------------------------------------------------------------------------
    def write_samples(
        self, account_key: str, samples: Iterable[Sample], source: Source
    ) -> WriteResult:
        """Upsert samples in any order.

        Within one call, readings that share a whole second are merged into one row (the one
        with the larger bpm, so the result does not depend on their order) and counted in
        `WriteResult.merged` and in `merged_samples`; across calls the later write wins.
        """
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

    def sample_columns(self, account_key: str, window: Window | None = None) -> SampleColumns:
        """The window's samples in ascending instant order as numpy columns, all at once (for
        bounded windows: a day, a few hours)."""
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

    # aggregates (issue 11) ----------------------------------------------------------------------
    # Kept current with the samples: a write updates the per-minute table and marks the local
    # days it may change in its own transaction; `refresh_aggregates` recomputes those days.

    def day_aggregates(
        self, account_key: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DayAggregate]:
        """Each local day with samples, start <= day < end (either end open), in date order;
        exact at every instant (days awaiting a refresh are computed from the samples)."""
        ...

    def minute_aggregates(
        self, account_key: str, window: Window | None = None, *, bucket_s: int = 60
    ) -> MinuteSeries:
        """Samples and min/mean/max bpm per `bucket_s` (a multiple of 60, aligned to the UTC
        epoch) for the buckets starting in `window`, as numpy columns."""
        ...

    def refresh_aggregates(self, account_key: str) -> int:
        """Recompute the days marked by writes since the last refresh; how many there were."""
        ...

    def rebuild_aggregates(self, account_key: str | None = None) -> dict[str, int]:
        """Every aggregate from the samples, of one account or all; days stored per account."""
        ...

    def aggregate_problems(self, account_key: str, *, full: bool = False) -> list[str]:
        """Where stored aggregates disagree with the samples (a few days checked; `full`: all)."""
        ...


# --- sync state and ledger (issue 4) ----------------------------------------------------------
#
# The sync engine's bookkeeping lives in the same database as the data it describes, so a page
# of samples and the state that says "this span is fetched" commit in one transaction.


class StreamState(msgspec.Struct, frozen=True):
    """How far one stream ("heart-rate", "daily-resting-heart-rate", …) of an account is synced.

    `covered_from_s`..`complete_until_s` is the span known complete (everything the provider had
    there when it was fetched is stored).  A job in progress fetches [job_lo_s, job_hi_s) newest
    first; `job_frontier_s` is the lowest instant it has proven complete so far, so a killed run
    resumes with [job_lo_s, job_frontier_s + 1).  All instants are UTC epoch seconds; daily
    streams use midnight UTC of the local date.
    """

    covered_from_s: int | None = None
    complete_until_s: int | None = None
    job_lo_s: int | None = None
    job_hi_s: int | None = None
    job_frontier_s: int | None = None
    last_success_s: int | None = None

    @property
    def job_open(self) -> bool:
        return self.job_lo_s is not None and self.job_hi_s is not None


class LedgerEntry(msgspec.Struct, frozen=True):
    """One committed fetch: what span was fetched when, with how many requests and rows."""

    stream: str
    fetched_at_s: int
    start_s: int
    end_s: int
    requests: int
    received: int
    inserted: int
    updated: int


class SyncRun(msgspec.Struct, frozen=True):
    """One sync of one account, from start to its outcome ("running", "ok" or "failed")."""

    run_id: int
    account_key: str
    started_s: int
    finished_s: int | None
    status: str
    requests: int = 0
    samples_added: int = 0
    rate_limit_waits: int = 0
    error: str | None = None


class ImportStore(Store, Protocol):
    """A store that records import provenance and applies the precedence rule on import."""

    def find_import(self, account_key: str, kind: str, digest: str) -> ImportRun | None: ...

    def begin_import(self, account_key: str, provenance: Provenance, imported_s: int) -> int:
        """Record a new import (inside the import's transaction); return its id."""
        ...

    def write_import_samples(
        self, account_key: str, import_id: int, samples: Sequence[Sample], source: Source
    ) -> ImportWrite:
        """Write one file's samples (sorted ascending) under the precedence rule."""
        ...

    def write_import_dailies(
        self, account_key: str, import_id: int, dailies: Iterable[Daily], source: Source
    ) -> ImportWrite:
        """Write dailies (one per day and kind) under the precedence rule."""
        ...

    def finish_import(
        self,
        import_id: int,
        *,
        samples_read: int,
        samples: ImportWrite,
        dailies: int,
        first_s: int | None,
        last_s: int | None,
    ) -> None: ...

    def imports(self, account_key: str | None = None) -> list[ImportRun]:
        """Recorded imports, oldest first (of one account, or all)."""
        ...

    def undo_import(self, import_id: int) -> UndoResult:
        """Remove an import's rows, put back what it replaced, and forget it."""
        ...


class SyncStore(Store, Protocol):
    """A store that also keeps the sync engine's state, ledger and run history."""

    def stream_state(self, account_key: str, stream: str) -> StreamState: ...

    def save_stream_state(self, account_key: str, stream: str, state: StreamState) -> None:
        """Replace the stream's state; call inside the transaction that wrote its data."""
        ...

    def record_fetch(self, account_key: str, entry: LedgerEntry) -> None: ...

    def merged_samples(self, account_key: str) -> int:
        """Readings ever merged into another of the same second for this account (never lost
        silently: the sync report, `status` and `doctor` show this number)."""
        ...

    def after_bulk_write(self, rows_written: int) -> bool:
        """Let the backend tidy up after a large load (SQLite: VACUUM); True if it did."""
        ...

    def covered_minutes(self, account_key: str, window: Window) -> int:
        """Distinct UTC minutes in `window` with at least one sample (for coverage reports)."""
        ...

    def ledger(self, account_key: str, *, limit: int = 100) -> list[LedgerEntry]:
        """The most recent fetches, newest first."""
        ...

    def begin_run(self, account_key: str, started_s: int) -> int: ...

    def finish_run(
        self,
        run_id: int,
        *,
        finished_s: int,
        status: str,
        requests: int,
        samples_added: int,
        rate_limit_waits: int,
        error: str | None = None,
    ) -> None: ...

    def runs(self, account_key: str, *, limit: int = 20) -> list[SyncRun]:
        """The most recent runs, newest first."""
        ...
