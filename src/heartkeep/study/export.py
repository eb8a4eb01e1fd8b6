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
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from heartkeep.errors import NoAccounts, StoreError, UsageError
from heartkeep.model import Window
from heartkeep.store.postgres import PostgresStore

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
        unknown = sorted(set(participants) - set(keys))
        if unknown:
            raise UsageError(f"no such participant: {', '.join(unknown)}")
        keys = [key for key in keys if key in set(participants)]
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
                folder = staging / f"participant={partition_value(key)}" / f"month={label}"
                folder.mkdir(parents=True, mode=0o700)
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
    """A private folder beside `destination`, renamed onto it on success, removed otherwise."""
    parent = destination.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=parent))
    except OSError as failure:
        raise StoreError(f"cannot create the export folder in {parent}: {failure}") from failure
    try:
        yield staging
        if destination.exists():
            destination.rmdir()  # checked empty above
        staging.rename(destination)
    except OSError as failure:
        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(f"cannot write the export {destination}: {failure}") from failure
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
