"""Imports: history the APIs no longer serve, read from files into the same store.

Each importer (`takeout`, `fitbit_json`) turns files into a stream of `Sample` batches and
`Daily` values; `load()` writes that stream into the store inside *one* transaction, so a bad
file anywhere aborts the whole import with nothing committed (invariant 3).  Each import is
recorded with its files' digests and zone: importing the same files again replaces that import
(a corrected `--time-zone` corrects), and where sources disagree one rule decides
(`heartkeep.store.precedence`: synced data beats archives; the fuller, then larger, archive
record wins, whatever the order).  Progress is reported through a callback with plain values;
the CLI decides how to draw it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from heartkeep.model import Account, Daily, Sample, SampleColumns, Source
from heartkeep.plausibility import keep_plausible, keep_plausible_columns
from heartkeep.store.precedence import best_dailies
from heartkeep.store.protocol import ImportStore, ImportWrite, Provenance

BATCH_SIZE = 10_000
"""Samples per batch an importer yields: large enough for executemany, small enough to stay flat."""

FILE_CHUNK = 100_000
"""Samples of one file written in one `write_import_samples` call: a day file is one call, so
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
"""What importers yield: a batch of samples, one daily value, or the end of a file.  A batch
is best a `SampleColumns` (a whole file as numpy columns): it reaches the store without a
Python object per sample."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did.  `inserted` counts rows new to the store, net of the rows of an
    earlier import of the same files that it replaced: zero on a repeated import.

    Stored rows are weighed by one rule (`heartkeep.store.precedence`): synced samples and
    dailies always stay (`kept`); another import's row gives way to a larger reading or a
    fuller day (`replaced`, set aside so `import undo` can restore it); `updated` is
    `replaced` plus `conflicts`, the seconds and days this import's own files disagreed on.
    `merged` counts readings of one file that fell on a second that file already held (the
    larger stays): on fitbit-json files this means the zone skipped or repeated an hour the
    recording did not, i.e. a wrong `--time-zone`.

    `day_mismatches` counts Takeout JSON records whose local date (under the account's zone)
    differs from the local day named by their file: more than a handful means the time zone
    given for the import is probably wrong.

    `zone_changes_inferred` counts backward jumps of a saved legacy response's wall clock read
    as a trip across zones, and `samples_reoffset` the samples stored with the offset inferred
    from them (see `timeline.infer_zone_changes`).

    `import_id` names the recorded import (`heartkeep import list`); `replaced_import` the
    earlier import of the same files it replaced, whose `removed_samples` were taken out first.
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
    replaced: int = 0
    kept: int = 0
    conflicts: int = 0
    import_id: int | None = None
    replaced_import: int | None = None
    removed_samples: int = 0
    samples_implausible: int = 0
    """Samples outside the plausible heart-rate range (`heartkeep.plausibility`), not stored."""

    def as_json(self) -> dict[str, Any]:
        """The documented `import … --json` shape: every field, `account_key` as `account`."""
        out = asdict(self)
        out["account"] = out.pop("account_key")
        return out


def load(
    store: ImportStore,
    account_key: str,
    items: Iterable[ImportItem],
    source: Source,
    *,
    files_total: int,
    provenance: Provenance,
    imported_s: int,
    ignored_files: int = 0,
    on_progress: ProgressCallback | None = None,
    create_account: Account | None = None,
) -> ImportReport:
    """Write an importer's stream into the store in one transaction; return what changed.

    The import is recorded with its `provenance`; an earlier import of the same files (same
    digests, any order) into this account is undone first, inside the same transaction, so a
    re-import with a corrected zone replaces rather than adds.  `create_account` is upserted
    inside the same transaction, so a failed first import leaves no empty account behind.

    Raises whatever the importer raises (`ImportFormatError` for a bad file) after the
    transaction has rolled back, so the store is exactly as it was before the call.
    """
    written = ImportWrite()
    dailies: list[Daily] = []
    pending: list[SampleColumns] = []
    pending_count = 0
    files = 0
    samples_read = 0
    mismatches = 0
    zone_changes = 0
    reoffset = 0
    implausible = 0
    first_s: int | None = None
    last_s: int | None = None

    with store.transaction():
        if create_account is not None:
            store.upsert_account(create_account)
        previous = store.find_import(account_key, provenance.kind, provenance.digest)
        undone = None if previous is None else store.undo_import(previous.import_id)
        import_id = store.begin_import(account_key, provenance, imported_s)

        def flush() -> None:
            nonlocal written, first_s, last_s, pending_count
            if pending_count:
                columns = SampleColumns.joined(pending)
                low, high = int(columns.instants_s.min()), int(columns.instants_s.max())
                first_s = low if first_s is None else min(first_s, low)
                last_s = high if last_s is None else max(last_s, high)
                written += store.write_import_samples(account_key, import_id, columns, source)
            pending.clear()
            pending_count = 0

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
                if isinstance(item, SampleColumns):
                    columns, rejected = keep_plausible_columns(item)
                else:
                    plausible, rejected = keep_plausible(item)
                    columns = SampleColumns.from_samples(plausible)
                implausible += rejected
                samples_read += len(item)
                if len(columns):
                    pending.append(columns)
                    pending_count += len(columns)
                if pending_count >= FILE_CHUNK:
                    flush()
        flush()
        daily_write = store.write_import_dailies(
            account_key, import_id, best_dailies(dailies), source
        )
        store.finish_import(
            import_id,
            samples_read=samples_read,
            samples=written,
            dailies=daily_write.inserted + daily_write.replaced + daily_write.conflicts,
            first_s=first_s,
            last_s=last_s,
        )
    removed = 0 if undone is None else undone.samples_removed
    return ImportReport(
        account_key=account_key,
        files=files,
        samples_read=samples_read,
        # Net of the earlier import of the same files: repeating an import adds nothing.
        inserted=max(0, written.inserted - removed),
        updated=written.replaced + written.conflicts,
        dailies=max(
            0,
            daily_write.inserted
            + daily_write.replaced
            + daily_write.conflicts
            - (0 if undone is None else undone.dailies_removed),
        ),
        day_mismatches=mismatches,
        ignored_files=ignored_files,
        merged=written.merged,
        zone_changes_inferred=zone_changes,
        samples_reoffset=reoffset,
        replaced=written.replaced + daily_write.replaced,
        kept=written.kept + daily_write.kept,
        conflicts=written.conflicts + daily_write.conflicts,
        import_id=import_id,
        replaced_import=None if previous is None else previous.import_id,
        removed_samples=removed,
        samples_implausible=implausible,
    )


__all__ = [
    "BATCH_SIZE",
    "FileDone",
    "ImportItem",
    "ImportProgress",
    "ImportReport",
    "ProgressCallback",
    "load",
]
