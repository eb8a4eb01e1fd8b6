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
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Generator, Iterator, Sequence
from typing import IO, Any

import numpy as np

from heartkeep import timeline
from heartkeep.errors import ImportFormatError
from heartkeep.importers import (
    BATCH_SIZE,
    FileDone,
    ImportItem,
    jsontext,
    takeout_csv,
    takeout_days,
)
from heartkeep.importers.archive import Kind, Member, archive_owner, classify, scan
from heartkeep.importers.limits import LimitExceeded, check_json_tokens
from heartkeep.importers.takeout_common import (
    OffsetCache,
    parse_fitbit_datetime,
    read_member,
    zone_offsets,
)
from heartkeep.model import Daily, DailyKind, Sample, SampleColumns, Zone

# The archive's default zone keys, named as the legacy API names the same zones.
_FITBIT_ZONE_NAMES = {
    "BELOW_DEFAULT_ZONE_1": "Out of Range",
    "IN_DEFAULT_ZONE_1": "Fat Burn",
    "IN_DEFAULT_ZONE_2": "Cardio",
    "IN_DEFAULT_ZONE_3": "Peak",
}


def read_members(members: Sequence[Member], zone_name: str) -> Iterator[ImportItem]:
    """Stream every member's contents as sample batches and dailies, then a `FileDone`."""
    for member in members:
        mismatches = 0
        try:
            with member.opener() as handle:
                if member.kind is Kind.HEART_RATE_JSON:
                    mismatches = yield from _heart_rate_json(member, handle, zone_name)
                elif member.kind is Kind.HEART_RATE_CSV:
                    yield from takeout_csv.heart_rate_csv(member, handle, zone_name)
                elif member.kind is Kind.RESTING_JSON:
                    yield from _resting_json(member, handle)
                elif member.kind is Kind.RESTING_CSV:
                    yield from takeout_csv.resting_csv(member, handle)
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
        except (zlib.error, lzma.LZMAError) as error:  # a zip member's compressed bytes damaged
            raise ImportFormatError(
                f"the archive is damaged here ({error}): download or export it again",
                path=member.name,
            ) from error
        except LimitExceeded as error:
            raise ImportFormatError(str(error), path=member.name) from error
        except csv.Error as error:
            raise ImportFormatError(
                f"not a readable CSV file ({error})", path=member.name
            ) from error
        yield FileDone(member.name, day_mismatches=mismatches)


def _load_json_array(member: Member, handle: IO[bytes]) -> list[Any]:
    raw = read_member(member, handle)
    if _blank(raw):
        return []
    return _json_array(member, raw)


def _json_array(member: Member, raw: bytes | bytearray) -> list[Any]:
    try:
        data = jsontext.load_json(raw)
    except (jsontext.TextError, LimitExceeded) as error:
        raise ImportFormatError(str(error), path=member.name) from error
    if not isinstance(data, list):
        raise ImportFormatError(
            f"expected a JSON array of records, found {jsontext.kind_of(data)}", path=member.name
        )
    return data


def parse_label_day(text: Any) -> dt.date:
    """The local day a daily record labels: `MM/DD/YY[ HH:MM:SS]` as most archives write it, or
    ISO `YYYY-MM-DD[THH:MM:SS…]` as some zone and resting files do; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"date {text!r} is not text")
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text[:10])
    return parse_fitbit_datetime(text).date()


def _heart_rate_json(
    member: Member, handle: IO[bytes], zone_name: str
) -> Generator[ImportItem, None, int]:
    """Yield the file's samples; return how many fall outside the file's local day.

    A day file holds up to 86,400 records, so it is decoded and converted in one go as columns
    (`takeout_days`); if anything is off, the record-by-record path finds and reports the first
    bad record.
    """
    raw = read_member(member, handle)
    if _blank(raw):
        return 0
    try:
        check_json_tokens(raw)
    except LimitExceeded as error:
        raise ImportFormatError(str(error), path=member.name) from error
    parsed = takeout_days.from_json(raw)
    if parsed is None:
        records = _json_array(member, raw)
        parsed = takeout_days.from_records(records)
        if parsed is None:
            return (yield from _heart_rate_records(member, records, zone_name))
    instants, bpms = parsed
    offsets = zone_offsets(instants, zone_name)
    mismatches = 0
    if member.file_date is not None:
        ordinal = (member.file_date - _EPOCH_DATE).days
        mismatches = int(np.count_nonzero((instants + offsets * 60) // 86_400 != ordinal))
    yield SampleColumns(instants, bpms, offsets)
    return mismatches


_EPOCH_DATE = dt.date(1970, 1, 1)
_WHITE_SPACE = b" \t\n\r\x0b\x0c"
_NOT_WHITE = re.compile(b"[^" + re.escape(_WHITE_SPACE) + b"]")


def _blank(raw: bytes | bytearray) -> bool:
    """True for a file of nothing but white space, or a UTF-8 byte-order mark and white space
    (what `raw.strip()` finds empty or a lone BOM, without copying a 9 MB file twice)."""
    first = _NOT_WHITE.search(raw)
    if first is None:
        return True
    start = first.start()
    if raw[start : start + len(codecs.BOM_UTF8)] != codecs.BOM_UTF8:
        return False
    return _NOT_WHITE.search(raw, start + len(codecs.BOM_UTF8)) is None


def _heart_rate_records(
    member: Member, records: list[Any], zone_name: str
) -> Generator[ImportItem, None, int]:
    """Record by record, with the exact record and reason for the first bad one: the slow path
    `_heart_rate_json` falls back to when its vectorised checks find anything wrong."""
    offset_at = OffsetCache(zone_name)
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
