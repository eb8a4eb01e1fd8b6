"""Takeout CSV files → samples and dailies: `heart_rate_YYYY-MM-DD.csv` (ISO-8601 UTC stamps
with `Z`, float bpm, one file per UTC day) and `daily_resting_heart_rate.csv` (dates that
label local days).  Time semantics: see `takeout.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import BATCH_SIZE, ImportItem, jsontext
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
    """A day file (≤ 86,400 rows) is read whole and converted with numpy; if any row is off,
    the row-by-row path reports the first bad line."""
    text = _read_text(member, handle)
    reader = csv.reader(_lines(text))
    if not _check_header(member, next(reader, None), _CSV_HEADERS):
        return
    parsed = _vectorised_csv([row[:2] for row in reader if row])
    if parsed is None:
        slow = csv.reader(_lines(text))
        yield from _heart_rate_rows(member, slow, zone_name)
        return
    instants, bpms = parsed
    yield SampleColumns(instants, bpms, zone_offsets(instants, zone_name))


_CSV_STAMP_LAYOUT = "0000-00-00T00:00:00Z"
_CSV_SEPARATORS = [(i, ord(c)) for i, c in enumerate(_CSV_STAMP_LAYOUT) if c != "0"]
_CSV_DIGITS = [i for i, c in enumerate(_CSV_STAMP_LAYOUT) if c == "0"]


def _vectorised_csv(
    rows: list[list[str]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(instants, bpm) of rows with bpm ≠ 0, or None if any row is not well formed."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if any(len(row) < 2 for row in rows):
        return None
    text = np.array([row[0] for row in rows])
    width = len(_CSV_STAMP_LAYOUT)
    if text.dtype.itemsize != 4 * width or np.any(np.char.str_len(text) != width):
        return None
    codes = text.view(np.uint32).reshape(-1, width)
    if any(np.any(codes[:, i] != code) for i, code in _CSV_SEPARATORS):
        return None
    digits = codes[:, _CSV_DIGITS].astype(np.int64) - 48
    if np.any((digits < 0) | (digits > 9)):
        return None
    try:
        instants = text.astype(f"U{width - 1}").astype("datetime64[s]").astype(np.int64)
        values = np.array([row[1] for row in rows], dtype=np.float64)
    except ValueError:
        return None
    if not np.all(np.isfinite(values)):
        return None
    bpm = whole_bpm(values)
    keep = bpm != 0
    return instants[keep], bpm[keep]


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
