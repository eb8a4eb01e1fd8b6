"""Google Takeout and Fitbit account-export archives → samples and dailies, streamed per file.

Every generation of the archive is recognised by file *name*, wherever it sits in the tree, so
the flat `user-site-export/`, `MyFitbitData/<Name>/Physical Activity/`, `Takeout/Fitbit/Global
Export Data/`, `Takeout/Fitbit/Physical Activity_GoogleData/` and `Takeout/Google Health/...`
layouts (including the per-metric sub-folders of late 2026) all import the same way, from a zip
(split parts too), a `.tgz` or an unpacked folder (`archive.py` finds and opens the files; this
module reads their records).  Files we do not read are counted and skipped.

Time semantics (see docs/formats.md):

* `heart_rate-YYYY-MM-DD.json`: `dateTime` is **UTC** (`MM/DD/YY HH:MM:SS`); the file holds the
  user's *local* day named in the file name.  The offset is not in the file, so each instant
  gets the offset the account's IANA zone gives *at that instant* (DST-correct; a trip abroad is
  not visible in the archive).  Records whose local date disagrees with the file's date are
  counted as `day_mismatches`, a check on the zone the user gave.
* `heart_rate_YYYY-MM-DD.csv`: `timestamp` is ISO-8601 UTC with `Z`, bpm a float (rounded);
  offsets as above.  It is a twin of the JSON: both land on the same (account, instant) rows.
* `resting_heart_rate-*.json` and `daily_resting_heart_rate.csv`: dates are *labels of local
  days* (the CSV's `T00:00:00Z` is not an instant); null placeholders are skipped.
* `time_in_heart_rate_zones-*.json`: minutes per Fitbit default zone; the archive carries no
  bounds, so those zones are stored with bounds (0, 0).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import tarfile
import zipfile
from collections.abc import Generator, Iterator, Sequence
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import BATCH_SIZE, FileDone, ImportItem, jsontext
from heartkeep.importers.archive import Kind, Member, archive_owner, classify, scan
from heartkeep.importers.limits import LimitExceeded, check_csv_lines, read_capped
from heartkeep.model import Daily, DailyKind, Sample, Zone

# The archive's default zone keys, named as the legacy API names the same zones.
_FITBIT_ZONE_NAMES = {
    "BELOW_DEFAULT_ZONE_1": "Out of Range",
    "IN_DEFAULT_ZONE_1": "Fat Burn",
    "IN_DEFAULT_ZONE_2": "Cardio",
    "IN_DEFAULT_ZONE_3": "Peak",
}
_CSV_HEADERS = (
    ["timestamp", "beats per minute"],
    ["timestamp", "beats per minute", "data source"],
)


def read_members(members: Sequence[Member], zone_name: str) -> Iterator[ImportItem]:
    """Stream every member's contents as sample batches and dailies, then a `FileDone`."""
    for member in members:
        mismatches = 0
        try:
            with member.opener() as handle:
                if member.kind is Kind.HEART_RATE_JSON:
                    mismatches = yield from _heart_rate_json(member, handle, zone_name)
                elif member.kind is Kind.HEART_RATE_CSV:
                    yield from _heart_rate_csv(member, handle, zone_name)
                elif member.kind is Kind.RESTING_JSON:
                    yield from _resting_json(member, handle)
                elif member.kind is Kind.RESTING_CSV:
                    yield from _resting_csv(member, handle)
                else:
                    yield from _zones_json(member, handle)
        except (
            OSError,
            zipfile.BadZipFile,
            tarfile.TarError,
            EOFError,
            UnicodeDecodeError,
        ) as error:
            raise ImportFormatError(f"cannot read the file ({error})", path=member.name) from error
        except LimitExceeded as error:
            raise ImportFormatError(str(error), path=member.name) from error
        except csv.Error as error:
            raise ImportFormatError(
                f"not a readable CSV file ({error})", path=member.name
            ) from error
        yield FileDone(member.name, day_mismatches=mismatches)


def _read(member: Member, handle: IO[bytes]) -> bytearray:
    """The member's bytes, read through the size cap (`limits`), never trusting its header."""
    try:
        return read_capped(handle)
    except LimitExceeded as error:
        raise ImportFormatError(str(error), path=member.name) from error


def _load_json_array(member: Member, handle: IO[bytes]) -> list[Any]:
    raw = _read(member, handle)
    if not raw.strip() or raw.strip() == codecs.BOM_UTF8:
        return []
    try:
        data = jsontext.load_json(raw)
    except (jsontext.TextError, LimitExceeded) as error:
        raise ImportFormatError(str(error), path=member.name) from error
    if not isinstance(data, list):
        raise ImportFormatError(
            f"expected a JSON array of records, found {jsontext.kind_of(data)}", path=member.name
        )
    return data


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
    raw = _read(member, handle)
    try:
        check_csv_lines(raw)
        return jsontext.decode(raw)
    except (jsontext.TextError, LimitExceeded) as error:
        raise ImportFormatError(str(error), path=member.name) from error


def parse_fitbit_datetime(text: str) -> dt.datetime:
    """`MM/DD/YY HH:MM:SS` (or `MM/DD/YY`) → naive datetime; ValueError when malformed.

    Two-digit years are 20YY: Fitbit data starts in 2008.
    """
    if len(text) == 17 and text[2] == "/" and text[5] == "/" and text[8] == " ":
        return dt.datetime(
            2000 + int(text[6:8]),
            int(text[0:2]),
            int(text[3:5]),
            int(text[9:11]),
            int(text[12:14]),
            int(text[15:17]),
        )
    if len(text) == 8 and text[2] == "/" and text[5] == "/":
        return dt.datetime(2000 + int(text[6:8]), int(text[0:2]), int(text[3:5]))
    raise ValueError(f"expected MM/DD/YY HH:MM:SS, got {text!r}")


def parse_label_day(text: Any) -> dt.date:
    """The local day a daily record labels: `MM/DD/YY[ HH:MM:SS]` as most archives write it, or
    ISO `YYYY-MM-DD[THH:MM:SS…]` as some zone and resting files do; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"date {text!r} is not text")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text[:10])
    return parse_fitbit_datetime(text).date()


class _OffsetCache:
    """Zone offsets by UTC hour: zone changes happen on whole hours (or half/quarter hours in
    a handful of zones, which the 15-minute key covers), and `ZoneInfo` lookups are the
    importer's hot path."""

    def __init__(self, zone_name: str) -> None:
        self.zone_name = zone_name
        self._cache: dict[int, int] = {}

    def __call__(self, instant_s: int) -> int:
        key = instant_s // 900
        offset = self._cache.get(key)
        if offset is None:
            offset = timeline.zone_offset_min(self.zone_name, key * 900)
            self._cache[key] = offset
        return offset


def _heart_rate_json(
    member: Member, handle: IO[bytes], zone_name: str
) -> Generator[ImportItem, None, int]:
    """Yield the file's samples; return how many fall outside the file's local day.

    A day file holds up to 86,400 records, so they are checked and converted with numpy in one
    go; if anything is off, the record-by-record path finds and reports the first bad record.
    """
    records = _load_json_array(member, handle)
    parsed = _vectorised(records)
    if parsed is None:
        return (yield from _heart_rate_records(member, records, zone_name))
    instants, bpms = parsed
    offsets = _offsets(instants, zone_name)
    mismatches = 0
    if member.file_date is not None:
        ordinal = (member.file_date - _EPOCH_DATE).days
        mismatches = int(np.count_nonzero((instants + offsets * 60) // 86_400 != ordinal))
    yield from _batches(instants, bpms, offsets)
    return mismatches


_EPOCH_DATE = dt.date(1970, 1, 1)
_STAMP_LAYOUT = "00/00/00 00:00:00"
_SEPARATORS = [(i, ord(c)) for i, c in enumerate(_STAMP_LAYOUT) if c != "0"]
_DIGITS = [i for i, c in enumerate(_STAMP_LAYOUT) if c == "0"]


def _vectorised(records: list[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(instants, bpm) of the records with bpm ≠ 0, or None if any record is not well formed."""
    if not records:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    try:
        stamps = [record["dateTime"] for record in records]
        values = [record["value"]["bpm"] for record in records]
    except (KeyError, TypeError):
        return None
    if not all(type(stamp) is str for stamp in stamps):
        return None
    if not all(type(value) is int or type(value) is float for value in values):
        return None
    text = np.array(stamps)
    if text.dtype.itemsize != 4 * len(_STAMP_LAYOUT) or np.any(np.char.str_len(text) != 17):
        return None
    codes = text.view(np.uint32).reshape(-1, len(_STAMP_LAYOUT)).astype(np.int64)
    for position, code in _SEPARATORS:
        if np.any(codes[:, position] != code):
            return None
    digits = codes[:, _DIGITS] - 48
    if np.any((digits < 0) | (digits > 9)):
        return None
    hours = digits[:, 6] * 10 + digits[:, 7]
    minutes = digits[:, 8] * 10 + digits[:, 9]
    seconds = digits[:, 10] * 10 + digits[:, 11]
    if np.any(hours > 23) or np.any(minutes > 59) or np.any(seconds > 59):
        return None
    # Few distinct dates per file: validate each once with the exact parser.
    prefixes, inverse = np.unique(text.astype("U8"), return_inverse=True)
    try:
        starts = np.array(
            [timeline.day_start_s(parse_fitbit_datetime(str(p)).date()) for p in prefixes],
            dtype=np.int64,
        )
    except ValueError:
        return None
    instants = starts[inverse] + hours * 3600 + minutes * 60 + seconds
    bpm = _whole_bpm(np.asarray(values, dtype=np.float64))
    keep = bpm != 0  # Fitbit writes 0 for "no reading"; a gap is data, not a zero
    return instants[keep], bpm[keep]


def _whole_bpm(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Rounded bpm, clipped into int32 so that `1e30` stays an (implausible, counted) number
    instead of wrapping around; `load()` rejects whatever is outside `plausibility`."""
    return np.clip(np.rint(values), -(2**31), 2**31 - 1).astype(np.int64)


def _heart_rate_records(
    member: Member, records: list[Any], zone_name: str
) -> Generator[ImportItem, None, int]:
    """Record by record, with the exact record and reason for the first bad one: the slow path
    `_heart_rate_json` falls back to when its vectorised checks find anything wrong."""
    offset_at = _OffsetCache(zone_name)
    day_start_by_prefix: dict[str, int] = {}
    batch: list[Sample] = []
    mismatches = 0
    for index, record in enumerate(records, start=1):
        try:
            stamp = record["dateTime"]
            bpm = record["value"]["bpm"]
            if not isinstance(bpm, int | float) or isinstance(bpm, bool):
                raise TypeError(f"bpm is {bpm!r}")
            # Records of one file share a few dates: parse each date once, then add the clock.
            prefix = stamp[:8]
            day_start = day_start_by_prefix.get(prefix)
            if day_start is None:
                day_start = timeline.day_start_s(parse_fitbit_datetime(prefix).date())
                day_start_by_prefix[prefix] = day_start
            if len(stamp) != 17 or stamp[8] != " " or stamp[11] != ":" or stamp[14] != ":":
                raise ValueError(f"expected MM/DD/YY HH:MM:SS, got {stamp!r}")
            hours, minutes, seconds = int(stamp[9:11]), int(stamp[12:14]), int(stamp[15:17])
            if hours > 23 or minutes > 59 or seconds > 59:
                raise ValueError(f"no such time of day in {stamp!r}")
        except (KeyError, TypeError, ValueError) as error:
            raise ImportFormatError(
                f"not a heart-rate record ({_reason(error)})", path=member.name, record=index
            ) from error
        if bpm == 0:
            continue  # Fitbit writes 0 for "no reading"; a gap is data, not a zero
        instant = day_start + hours * 3600 + minutes * 60 + seconds
        offset = offset_at(instant)
        if member.file_date is not None and timeline.local_date(instant, offset) != (
            member.file_date
        ):
            mismatches += 1
        batch.append(Sample(instant, round(bpm), offset))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch
    return mismatches


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error)


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


def _heart_rate_csv(member: Member, handle: IO[bytes], zone_name: str) -> Iterator[ImportItem]:
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
    yield from _batches(instants, bpms, _offsets(instants, zone_name))


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
    bpm = _whole_bpm(values)
    keep = bpm != 0
    return instants[keep], bpm[keep]


def _offsets(instants: npt.NDArray[np.int64], zone_name: str) -> npt.NDArray[np.int64]:
    """The zone's offset at each instant, looked up once per 15-minute block (zones change
    offsets on quarter hours)."""
    blocks, inverse = np.unique(instants // 900, return_inverse=True)
    return np.array(
        [timeline.zone_offset_min(zone_name, int(block) * 900) for block in blocks],
        dtype=np.int64,
    )[inverse]


def _batches(
    instants: npt.NDArray[np.int64], bpms: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]
) -> Iterator[list[Sample]]:
    make = Sample._make
    for start in range(0, len(instants), BATCH_SIZE):
        end = start + BATCH_SIZE
        columns = (instants[start:end], bpms[start:end], offsets[start:end])
        yield list(map(make, zip(*(column.tolist() for column in columns), strict=True)))


def _heart_rate_rows(member: Member, reader: _CsvReader, zone_name: str) -> Iterator[ImportItem]:
    if not _check_header(member, next(reader, None), _CSV_HEADERS):
        return
    offset_at = _OffsetCache(zone_name)
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


def _resting_json(member: Member, handle: IO[bytes]) -> Iterator[ImportItem]:
    for index, record in enumerate(_load_json_array(member, handle), start=1):
        try:
            value = record["value"]
            if value.get("date") is None:
                continue  # placeholder for a day without a value
            day = parse_label_day(value["date"])
            bpm = float(value["value"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ImportFormatError(
                f"not a resting-heart-rate record ({_reason(error)})",
                path=member.name,
                record=index,
            ) from error
        if bpm > 0:
            yield Daily(day, DailyKind.RESTING_HR, value=bpm)


def _resting_csv(member: Member, handle: IO[bytes]) -> Iterator[ImportItem]:
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


def _zones_json(member: Member, handle: IO[bytes]) -> Iterator[ImportItem]:
    for index, record in enumerate(_load_json_array(member, handle), start=1):
        try:
            stamp = record.get("dateTime")
            day = parse_label_day(stamp) if stamp else member.file_date
            minutes = record["value"]["valuesInZones"]
            zones = tuple(
                Zone(_FITBIT_ZONE_NAMES.get(key, key), 0, 0, float(value))
                for key, value in sorted(minutes.items())
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ImportFormatError(
                f"not a heart-rate-zones record ({_reason(error)})",
                path=member.name,
                record=index,
            ) from error
        if day is not None:
            yield Daily(day, DailyKind.ZONES, zones=zones)


__all__ = [
    "Kind",
    "Member",
    "archive_owner",
    "classify",
    "parse_fitbit_datetime",
    "read_members",
    "scan",
]
