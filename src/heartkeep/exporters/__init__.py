"""Exports: the store's samples in the formats other tools read, one entry point for all.

`export(store, fmt, dest, account_key=..., window=...)` streams the account's samples in
ascending order, batch by batch, into the chosen writer, so a year at one-second resolution
exports in bounded memory.  Every format keeps both the UTC instant and the offset the source
reported, so local time is never guessed on the way out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from heartkeep.errors import ConfigError, NoAccounts, UsageError
from heartkeep.exporters.source import SampleSource
from heartkeep.model import Window
from heartkeep.output_target import OutputTarget, Sink
from heartkeep.store import SqliteStore
from heartkeep.store.protocol import Store
from heartkeep.store.rows import bounds


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    FHIR = "fhir"
    OMH = "omh"


def export_format(fmt: ExportFormat | str) -> ExportFormat:
    """The format `fmt` names; `UsageError` (exit 2) naming the choices for anything else, so a
    command can refuse `--format xml` before it opens the store."""
    try:
        return ExportFormat(fmt)
    except ValueError as error:
        names = ", ".join(f.value for f in ExportFormat)
        raise UsageError(f"unknown export format {fmt!r} (choose one of {names})") from error


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote: where, how many samples, how many bytes, the span covered.

    `path` is `-` for standard output; `reader_left` is True when a reader of standard output
    or a FIFO stopped early (`| head`), so fewer bytes than the samples' worth were delivered.
    """

    format: ExportFormat
    path: Path
    account_key: str
    samples: int
    bytes: int
    first_instant_s: int | None
    last_instant_s: int | None
    reader_left: bool = False


def export(
    store: Store,
    fmt: ExportFormat | str,
    dest: Path,
    *,
    account_key: str,
    window: Window | None = None,
    fhir_bundle: bool = False,
    created_s: int | None = None,
    batch_size: int = 10_000,
) -> ExportReport:
    """Write the account's samples in `window` (all of them if None) to `dest` in `fmt`.

    `fhir_bundle` writes one FHIR `Bundle` instead of NDJSON; `created_s` stamps the export's
    creation time where a format records one (FHIR Bundle, Open mHealth headers; now if None).
    `dest` is written as `heartkeep.output_target` says: `-` is standard output; a symlink, FIFO
    or device is written through; a regular file is replaced atomically (temporary name next
    to it, renamed at the end), so a failed export never leaves a half file under the requested
    name.  Raises `NoAccounts` for an unknown account, `UsageError` for an unknown format and
    `StoreError` (exit 9) when the destination cannot be written or the store cannot be read.

    The samples are read from the store's SQLite file in batches of `batch_size` rows, in one
    read transaction (one snapshot, even while a sync writes), without a Python object per
    sample: see `sqltext.py` (text formats) and `parquet.py`.
    """
    chosen = export_format(fmt)
    account = store.account(account_key)
    if account is None:
        raise NoAccounts(f"no account {account_key!r} in the store")
    if not isinstance(store, SqliteStore):
        raise ConfigError("exports read a SQLite store; this store is not one")
    if created_s is None:
        created_s = int(dt.datetime.now(dt.UTC).timestamp())
    start_s, end_s = bounds(window)
    source = SampleSource(store.path, account, start_s, end_s, batch_size)
    target = OutputTarget(dest)
    with source, target as sink:
        _write(chosen, source, sink, fhir_bundle=fhir_bundle, created_s=created_s)
    return ExportReport(
        format=chosen,
        path=dest,
        account_key=account_key,
        samples=source.samples,
        bytes=target.bytes,
        first_instant_s=source.first_s,
        last_instant_s=source.last_s,
        reader_left=target.reader_left,
    )


def _write(
    fmt: ExportFormat, source: SampleSource, dest: Sink, *, fhir_bundle: bool, created_s: int
) -> None:
    # Imported here so that `import heartkeep.exporters` loads neither pyarrow nor the ADBC
    # driver for a CSV.
    if fmt is ExportFormat.CSV:
        from heartkeep.exporters.csv import write_csv

        write_csv(source, dest)
    elif fmt is ExportFormat.PARQUET:
        from heartkeep.exporters.parquet import write_parquet

        write_parquet(source, dest)
    elif fmt is ExportFormat.JSONL:
        from heartkeep.exporters.jsonl import write_jsonl

        write_jsonl(source, dest)
    elif fmt is ExportFormat.FHIR:
        from heartkeep.exporters.fhir import write_fhir

        write_fhir(source, dest, bundle=fhir_bundle, created_s=created_s)
    else:
        from heartkeep.exporters.omh import write_omh

        write_omh(source, dest, created_s=created_s)


__all__ = ["ExportFormat", "ExportReport", "export"]
