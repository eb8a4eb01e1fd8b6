"""Takeout `heart_rate-YYYY-MM-DD.json` day files → columns of UTC instants and bpm, fast.

Why a module of its own: a day file holds up to 86,400 records, and reading them the obvious
way (a dict per record, then a `datetime` per stamp) cost more than everything else an import
does.  Here msgspec decodes the file straight into two small typed structs per record (no
dict, unknown fields such as `confidence` skipped, every stamp's length checked in C) and the
`MM/DD/YY HH:MM:SS` stamps are parsed as one byte matrix with numpy, each distinct date once by
the exact parser.

It is an accelerator, not a second reader: whenever anything in a file is not exactly the
common shape — another encoding, a record of another form, a stamp that is not 17 digits and
separators, a date or time that does not exist — these functions answer None and
`takeout.py`'s record-by-record reader, the reference with its exact error messages, reads the
file.  `tests/importers/test_takeout_days.py` holds the two to the same answers.
"""

from __future__ import annotations

import codecs
import datetime as dt
from typing import Annotated, Any

import msgspec
import numpy as np
import numpy.typing as npt

from heartkeep.importers.fixed_width import FixedLayout, clock_seconds
from heartkeep.importers.takeout_common import day_starts, parse_fitbit_datetime, whole_bpm

STAMP_LAYOUT = "00/00/00 00:00:00"
"""`MM/DD/YY HH:MM:SS`: `0` marks a digit, anything else a separator that must be there."""

_STAMPS = FixedLayout(STAMP_LAYOUT)
_WIDTH = _STAMPS.width

Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
"""(instants_s, bpm) of the records with a reading, in file order."""


class _Value(msgspec.Struct, gc=False):
    bpm: int | float


class _Record(msgspec.Struct, gc=False):
    dateTime: Annotated[str, msgspec.Meta(min_length=_WIDTH, max_length=_WIDTH)]
    value: _Value


_DECODER = msgspec.json.Decoder(list[_Record])


def from_json(raw: bytes | bytearray) -> Columns | None:
    """The columns of a day file's bytes (UTF-8, with or without a BOM); None if the file is
    not a plain array of well-formed records, for the reference reader to deal with.

    The caller checks the hostile-file limits (`limits.check_json_tokens`) first.
    """
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        records = _DECODER.decode(memoryview(raw)[skip:])
    except msgspec.MsgspecError:
        return None
    return _columns(records)


def from_records(records: list[Any]) -> Columns | None:
    """The columns of already parsed records (a file in another encoding); None as above."""
    try:
        typed = msgspec.convert(records, list[_Record])
    except msgspec.MsgspecError:
        return None
    return _columns(typed)


def _columns(records: list[_Record]) -> Columns | None:
    if not records:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    instants = parse_stamps([record.dateTime for record in records])
    if instants is None:
        return None
    values = np.array([record.value.bpm for record in records], dtype=np.float64)
    # Fitbit writes 0 for "no reading": a gap is data, not a zero.  Tested on the value as
    # written, as the reference reader does, so 0.4 is an (implausible) reading, not a gap.
    keep = values != 0
    return instants[keep], whole_bpm(values[keep])


def parse_stamps(stamps: list[str]) -> npt.NDArray[np.int64] | None:
    """UTC `MM/DD/YY HH:MM:SS` stamps (20YY) → epoch seconds; None unless every stamp is
    exactly two digits, `/`, two, `/`, two, a space, two, `:`, two, `:`, two and names a real
    date and time of day (what `takeout.parse_fitbit_datetime` accepts, minus the oddities
    `int()` forgives, such as spaces or `+`, which the reference reader handles).
    """
    if not stamps:
        return np.zeros(0, dtype=np.int64)
    fields = _STAMPS.fields(stamps)
    if fields is None:
        return None
    month, day, year, hours, minutes, seconds = fields.T
    clock = clock_seconds(hours, minutes, seconds)
    if clock is None:
        return None
    # The exact parser decides which dates exist (no 02/30, 02/29 only in leap years).
    starts = day_starts((year * 100 + month) * 100 + day, _parse_date)
    if starts is None:
        return None
    instants: npt.NDArray[np.int64] = starts + clock
    return instants


def _parse_date(key: int) -> dt.date:
    year, rest = divmod(key, 10_000)
    month, day = divmod(rest, 100)
    return parse_fitbit_datetime(f"{month:02d}/{day:02d}/{year:02d}").date()


__all__ = ["STAMP_LAYOUT", "Columns", "from_json", "from_records", "parse_stamps"]
