"""`heartkeep study export`: the study's heart rate as a Parquet dataset partitioned by participant
and month.

Why this layout: a study's analysts read the data with DuckDB, pandas or Spark, and all three
read a hive-partitioned folder directly (`participant=…/month=…/part-0.parquet`), pruning the
partitions a query does not touch — one participant's month is one file, never a scan of the
whole study.  Months are UTC months (as the store partitions them); each file holds the
month's samples in instant order with the personal export's columns (`instant` as a UTC
timestamp, `utc_offset_min`, `bpm`), so a person's own export and a study's read alike.  The
partition value is the participant's account key with `:` made `_` (`google-health_4809…`):
Hadoop's paths (Spark) refuse `:`, and the prefix keeps engines from reading ids as numbers.

The dataset is written beside the destination and renamed into place at the end, so a reader
never sees half an export and an interrupted one leaves nothing behind; files are 0600 and
folders 0700 (health data).  Memory holds one participant-month at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartkeep.errors import NoAccounts, StoreError, UsageError
from heartkeep.model import Window
from heartkeep.store.postgres import PostgresStore

if TYPE_CHECKING:
    import psycopg

FILE_NAME = "part-0.parquet"


@dataclass(frozen=True)
class StudyExport:
    """What was written: the dataset's folder and its size."""

    path: Path
    participants: int
    files: int
    samples: int
    bytes: int


def partition_value(account_key: str) -> str:
    """The `participant=` folder value of an account (`google-health:48…` → `google-health_48…`)."""
    return account_key.replace(":", "_").replace("/", "_")


def export_study(
    store: PostgresStore,
    destination: Path,
    *,
    participants: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> StudyExport:
    """Write every (or each named) participant's samples under `destination`, which must not
    exist or be an empty folder.  `progress(account_key, samples)` after each participant.

    Raises `UsageError` (exit 2) for a non-empty destination or an unknown participant,
    `NoAccounts` (exit 10) when nobody is enrolled, `StoreError` (exit 9) when writing fails.
    """
    import pyarrow as pa  # only this command pays for Arrow
    import pyarrow.parquet as pq

    schema = pa.schema(  # the personal export's columns (exporters/parquet.py)
        [
            pa.field("instant", pa.timestamp("s", tz="UTC"), nullable=False),
            pa.field("utc_offset_min", pa.int64(), nullable=False),
            pa.field("bpm", pa.int64(), nullable=False),
        ]
    )
    destination = destination.expanduser().absolute()
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise UsageError(
            f"{destination} exists and is not an empty folder",
            hint="Give a new folder: an export never mixes with or replaces older files.",
        )
    keys = [account.key for account in store.accounts()]
    if participants:
        wanted = {_account_key(store, name, keys) for name in participants}
        keys = [key for key in keys if key in wanted]
    if not keys:
        raise NoAccounts("nobody is enrolled in this study yet: nothing to export")
    files = samples = size = 0
    with _staging(destination) as staging:
        for key in keys:
            written = 0
            span = store.sample_span(key)
            for label, window in _months(span):
                columns = store.sample_columns(key, window)
                if not len(columns):
                    continue
                table = pa.Table.from_arrays(
                    [
                        pa.array(columns.instants_s, pa.int64()).cast(schema.field(0).type),
                        pa.array(columns.offsets_min, pa.int64()),
                        pa.array(columns.bpm, pa.int64()),
                    ],
                    schema=schema,
                )
                person = staging / f"participant={partition_value(key)}"
                person.mkdir(mode=0o700, exist_ok=True)  # not `parents=True`: that ignores mode
                folder = person / f"month={label}"
                folder.mkdir(mode=0o700)
                target = folder / FILE_NAME
                pq.write_table(table, target, compression="zstd")
                os.chmod(target, 0o600)
                files += 1
                written += len(columns)
                size += target.stat().st_size
            samples += written
            if progress is not None:
                progress(key, written)
    return StudyExport(destination, len(keys), files, samples, size)


def _account_key(store: PostgresStore, name: str, keys: Sequence[str]) -> str:
    """The account key of a participant named by account key or by study id (`P-017`, as
    invited); `UsageError` (exit 2) naming how to find them when it is neither."""
    if name in keys:
        return name
    from heartkeep.study import enrolment_tables as tables

    conn = tables.connection(store)
    row = tables.enrolled(conn, name) if _has_enrolments(conn) else None
    if row is not None and row.account_key in keys:
        return str(row.account_key)
    raise UsageError(
        f"no participant {name} with data in this study",
        hint="Name them by study id (as invited) or by account key, as `heartkeep study "
        "status` lists them.",
    )


def _has_enrolments(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('study_enrolment') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _months(span: Window | None) -> Iterator[tuple[str, Window]]:
    """("YYYY-MM", the UTC month's window) for every month `span` touches."""
    if span is None:
        return
    first = dt.datetime.fromtimestamp(span.start_s, dt.UTC)
    year, month = first.year, first.month
    while True:
        start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = dt.datetime(year, month, 1, tzinfo=dt.UTC)
        yield f"{start:%Y-%m}", Window(int(start.timestamp()), int(end.timestamp()))
        if end.timestamp() >= span.end_s:
            return


@contextlib.contextmanager
def _staging(destination: Path) -> Iterator[Path]:
    """A private folder for the dataset, renamed into place on success, removed otherwise.

    A new destination is staged beside it (`.NAME.partial-…`) and renamed onto it.  An
    existing empty folder is staged inside (`.partial-…`), its contents moved up at the end:
    the folder may be a mount point (an empty disk mounted for the export), which can be
    neither removed nor replaced, and its parent may be another, smaller or read-only disk.
    Either way the staging name says "partial", should the process be killed outright."""
    inside = destination.is_dir()
    parent = destination if inside else destination.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        prefix = ".partial-" if inside else f".{destination.name}.partial-"
        staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as failure:
        raise _write_failure(f"cannot create the export folder in {parent}", failure) from failure
    try:
        yield staging
        if inside:
            for part in sorted(staging.iterdir()):
                part.rename(destination / part.name)
            staging.rmdir()
        else:
            staging.rename(destination)
    except OSError as failure:
        _remove(staging, destination if inside else None)
        raise _write_failure(f"cannot write the export {destination}", failure) from failure
    except BaseException:
        _remove(staging, destination if inside else None)
        raise


def _remove(staging: Path, moved_into: Path | None) -> None:
    """Undo a failed export: the staging folder, and what was already moved out of it into
    `moved_into` (a folder that was empty when the export began: all of it is ours)."""
    shutil.rmtree(staging, ignore_errors=True)
    if moved_into is not None:
        for part in moved_into.glob("participant=*"):
            shutil.rmtree(part, ignore_errors=True)


def _write_failure(what: str, failure: OSError) -> StoreError:
    """A `StoreError` (exit 9) saying what the operating system refused and what to do."""
    reason = failure.strerror or str(failure)
    if failure.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or "No space" in str(failure):
        hint = "The disk is full: free some space, or export to another disk."
    elif failure.errno == errno.EROFS:
        hint = "That file system is read-only: export to a folder on a writable disk."
    elif failure.errno in (errno.EACCES, errno.EPERM):
        hint = "You may not write there: export to a folder you own, or fix its permissions."
    else:
        hint = "Check the path, its permissions and the free disk space."
    return StoreError(
        f"{what}: {reason}; nothing was exported (the partial dataset was removed)", hint=hint
    )
