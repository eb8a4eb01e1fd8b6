"""Imports: history the APIs no longer serve, read from files into the same store.

Each importer (`takeout`, `fitbit_json`) turns files into a stream of `Sample` batches and
`Daily` values; `load()` writes that stream into the store inside *one* transaction, so a bad
file anywhere aborts the whole import with nothing committed (invariant 3), and re-importing adds
nothing because the store upserts on (account, instant) and samples already stored (for example
synced ones, whose offsets the provider reported) are never replaced.  Progress is reported
through a callback with plain values; the CLI decides how to draw it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from heartkeep.model import Account, Daily, Sample, Source, Window
from heartkeep.store.protocol import Store, WriteResult

BATCH_SIZE = 10_000
"""Samples per batch an importer yields: large enough for executemany, small enough to stay flat."""

FILE_CHUNK = 100_000
"""Samples of one file written (sorted) in one `write_samples` call: a day file is one call, so
readings of the same second anywhere in it are found and counted as merged."""


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import stands: files finished out of the files it recognised, samples read."""

    files_done: int
    files_total: int
    samples_read: int
    current_file: str = ""


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True, slots=True)
class FileDone:
    """Marker an importer yields after each file, so `load()` can report progress per file."""

    name: str
    day_mismatches: int = 0
    zone_changes_inferred: int = 0
    samples_reoffset: int = 0


ImportItem = Sequence[Sample] | Daily | FileDone
"""What importers yield: a batch of samples, one daily value, or the end of a file."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did.  `inserted` counts new rows: zero on a repeated import.  An import
    never replaces samples already stored, so `updated` is non-zero only where one import holds
    the same instant twice with different values (JSON and CSV twins that disagree).

    `day_mismatches` counts Takeout JSON records whose local date (under the account's zone)
    differs from the local day named by their file: more than a handful means the time zone
    given for the import is probably wrong.

    `merged` counts readings of one file that fell on a second another reading of that file
    already holds (the store keeps one sample per second; the larger bpm stays).

    `zone_changes_inferred` counts backward jumps of a saved legacy response's wall clock read
    as a trip across zones, and `samples_reoffset` the samples stored with the offset inferred
    from them (see `timeline.infer_zone_changes`).
    """

    account_key: str
    files: int
    samples_read: int
    inserted: int
    updated: int
    dailies: int
    day_mismatches: int = 0
    ignored_files: int = 0
    merged: int = 0
    zone_changes_inferred: int = 0
    samples_reoffset: int = 0

    def as_json(self) -> dict[str, Any]:
        """The documented `import … --json` shape: every field, `account_key` as `account`."""
        out = asdict(self)
        out["account"] = out.pop("account_key")
        return out


def load(
    store: Store,
    account_key: str,
    items: Iterable[ImportItem],
    source: Source,
    *,
    files_total: int,
    ignored_files: int = 0,
    on_progress: ProgressCallback | None = None,
    create_account: Account | None = None,
) -> ImportReport:
    """Write an importer's stream into the store in one transaction; return what changed.

    `create_account` is upserted inside the same transaction, so a failed first import leaves
    no empty account behind.

    Raises whatever the importer raises (`ImportFormatError` for a bad file) after the
    transaction has rolled back, so the store is exactly as it was before the call.
    """
    written = WriteResult()
    dailies: list[Daily] = []
    pending: list[Sample] = []
    files = 0
    samples_read = 0
    mismatches = 0
    zone_changes = 0
    reoffset = 0

    span = store.sample_span(account_key)

    def flush() -> None:
        nonlocal written
        if pending:
            fresh = _not_stored(store, account_key, pending, span)
            if fresh:
                fresh.sort()
                written += store.write_samples(account_key, fresh, source)
            pending.clear()

    with store.transaction():
        if create_account is not None:
            store.upsert_account(create_account)
        for item in items:
            if isinstance(item, FileDone):
                # One file's samples go in one write, never mixed with its twin's: readings
                # of one second within a file are merges, the same reading in two files is not.
                flush()
                files += 1
                mismatches += item.day_mismatches
                zone_changes += item.zone_changes_inferred
                reoffset += item.samples_reoffset
                if on_progress is not None:
                    on_progress(ImportProgress(files, files_total, samples_read, item.name))
            elif isinstance(item, Daily):
                dailies.append(item)
            else:
                pending.extend(item)
                samples_read += len(item)
                if len(pending) >= FILE_CHUNK:
                    flush()
        flush()
        if dailies:
            written_dailies = store.write_dailies(account_key, dailies, source)
        else:
            written_dailies = WriteResult()
    return ImportReport(
        account_key=account_key,
        files=files,
        samples_read=samples_read,
        inserted=written.inserted,
        updated=written.updated,
        dailies=written_dailies.inserted + written_dailies.updated,
        day_mismatches=mismatches,
        ignored_files=ignored_files,
        merged=written.merged,
        zone_changes_inferred=zone_changes,
        samples_reoffset=reoffset,
    )


def _not_stored(
    store: Store, account_key: str, batch: list[Sample], span: Window | None
) -> list[Sample]:
    """The samples of `batch` whose instants the account does not hold yet.

    An import never replaces a stored sample: synced samples carry the offset the provider
    reported, which is better than the zone-rule guess an archive allows.  Only the part of the
    batch that overlaps what was stored before the import is looked up.
    """
    if span is None:
        return list(batch)
    low = min(sample.instant_s for sample in batch)
    high = max(sample.instant_s for sample in batch)
    if high < span.start_s or low >= span.end_s:
        return list(batch)
    window = Window(max(low, span.start_s), min(high + 1, span.end_s))
    stored = {
        sample.instant_s for chunk in store.iter_samples(account_key, window) for sample in chunk
    }
    return [sample for sample in batch if sample.instant_s not in stored]


__all__ = [
    "BATCH_SIZE",
    "FileDone",
    "ImportItem",
    "ImportProgress",
    "ImportReport",
    "ProgressCallback",
    "load",
]
