"""Takeout CSV files → samples and dailies: `heart_rate_YYYY-MM-DD.csv` (ISO-8601 UTC stamps
with `Z`, float bpm, one file per UTC day) and `daily_resting_heart_rate.csv` (dates that
label local days).  Time semantics: see `takeout.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import IO, Any

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import BATCH_SIZE, ImportItem, jsontext, takeout_csv_days
from heartkeep.importers.archive import Member
from heartkeep.importers.limits import LimitExceeded, check_csv_lines
from heartkeep.importers.takeout_common import (
    OffsetCache,
    read_member,
    whole_bpm,
    zone_offsets,
)
from heartkeep.model import Daily, DailyKind, Sample, SampleColumns

_CSV_HEADERS = (
    ["timestamp", "beats per minute"],
    ["timestamp", "beats per minute", "data source"],
)


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, ends kept, for `csv.reader`: unlike `io.StringIO`, which copies
    the text at four bytes a character, this holds one line at a time."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _read_text(member: Member, handle: IO[bytes]) -> str:
    """A CSV member's text in any encoding `jsontext.decode` accepts, within the line limits."""
    raw = read_member(member, handle)
    try:
        check_csv_lines(raw)
        return jsontext.decode(raw)
    except (jsontext.TextError, LimitExceeded) as error:
        raise ImportFormatError(str(error), path=member.name) from error


_CsvReader = Any  # csv's reader type is private (_csv.reader); it has `line_num` and iterates rows


def _check_header(member: Member, header: list[str] | None, allowed: Sequence[list[str]]) -> bool:
    """True if the file has rows to read; False for an empty or `no data` file."""
    if header is None or header == ["no data"]:
        return False
    if [cell.strip().lower() for cell in header] not in allowed:
        expected = " or ".join(",".join(columns) for columns in allowed)
        raise ImportFormatError(
            f"unexpected header {','.join(header)!r} (expected {expected})",
            path=member.name,
            record="line 1",
        )
    return True


def heart_rate_csv(member: Member, handle: IO[bytes], zone_name: str) -> Iterator[ImportItem]:
    """A day file (≤ 86,400 rows) is read whole as columns (`takeout_csv_days`); if anything
    is off, the row-by-row path reads it and reports the first bad line."""
    text = _read_text(member, handle)
    reader = csv.reader(_lines(text))
    if not _check_header(member, next(reader, None), _CSV_HEADERS):
        return
    fast = takeout_csv_days.parse(_after_lines(text, reader.line_num).encode())
    if fast is not None:
        instants, bpms = fast[0], whole_bpm(fast[1])
        keep = bpms != 0  # as the row-by-row reader: a bpm that rounds to 0 is no reading
        instants, bpms = instants[keep], bpms[keep]
        yield SampleColumns(instants, bpms, zone_offsets(instants, zone_name))
        return
    yield from _heart_rate_rows(member, csv.reader(_lines(text)), zone_name)


def _after_lines(text: str, count: int) -> str:
    """`text` after its first `count` lines."""
    start = 0
    for _ in range(count):
        start = text.find("\n", start) + 1 or len(text)
    return text[start:]


def _heart_rate_rows(member: Member, reader: _CsvReader, zone_name: str) -> Iterator[ImportItem]:
    if not _check_header(member, next(reader, None), _CSV_HEADERS):
        return
    offset_at = OffsetCache(zone_name)
    batch: list[Sample] = []
    for row in reader:
        if not row:
            continue
        try:
            stamp = row[0]
            if not stamp.endswith("Z"):
                raise ValueError(f"timestamp {stamp!r} is not UTC (no Z)")
            instant = timeline.parse_rfc3339_s(stamp)
            bpm = round(float(row[1]))
            if bpm == 0:
                continue
        except (IndexError, ValueError, OverflowError) as error:
            raise ImportFormatError(
                f"not a heart-rate row ({error})",
                path=member.name,
                record=f"line {reader.line_num}",
            ) from error
        batch.append(Sample(instant, bpm, offset_at(instant)))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def resting_csv(member: Member, handle: IO[bytes]) -> Iterator[ImportItem]:
    text = _read_text(member, handle)
    yield from _resting_rows(member, csv.reader(_lines(text)))


def _resting_rows(member: Member, reader: _CsvReader) -> Iterator[ImportItem]:
    if not _check_header(member, next(reader, None), _CSV_HEADERS):
        return
    for row in reader:
        if not row:
            continue
        try:
            # `2026-06-10T00:00:00Z` labels the local date 2026-06-10; it is not an instant.
            day = dt.date.fromisoformat(row[0][:10])
            bpm = float(row[1])
        except (IndexError, ValueError) as error:
            raise ImportFormatError(
                f"not a resting-heart-rate row ({error})",
                path=member.name,
                record=f"line {reader.line_num}",
            ) from error
        if bpm > 0:
            yield Daily(day, DailyKind.RESTING_HR, value=bpm)


__all__ = ["heart_rate_csv", "resting_csv"]
