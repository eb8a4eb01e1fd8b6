"""Takeout `heart_rate_YYYY-MM-DD.csv` day files → columns of UTC instants and bpm, fast.

Why a module of its own: a one-second UTC day is 86,400 lines, and `csv.reader` with a list per
row, then numpy's string-to-datetime conversion, cost twice what storing the samples does.  The
common file is a fixed layout — `YYYY-MM-DDTHH:MM:SSZ,<bpm>[,<source>]` — so it is read as one
byte array: line ends found at once, the 20-byte stamps cut out as a matrix and parsed as
digits (each distinct date once by the exact parser), the bpm field cut out as a
short digit matrix and computed exactly as `float()` would.

As with `takeout_days`, this is an accelerator: anything it is not sure about (a carriage
return but before a line feed, a NUL, a quote but two around a whole last field, a stamp or bpm
of another form) makes it answer None, and `takeout_csv.py`'s row-by-row reader, the reference
with its exact messages, reads the file.  `tests/importers/test_takeout_csv_days.py` holds the
two to the same answers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from heartkeep.importers.fixed_width import clock_seconds
from heartkeep.importers.takeout_common import day_starts

Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
"""(instants_s, bpm as written) of every row, in file order."""

STAMP_LAYOUT = "0000-00-00T00:00:00Z"
_WIDTH = len(STAMP_LAYOUT)
_SEPARATOR_AT = np.array([i for i, c in enumerate(STAMP_LAYOUT) if c != "0"])
_SEPARATORS = np.frombuffer(bytes(c for c in STAMP_LAYOUT.encode() if c != ord("0")), np.uint8)
_DIGIT_AT = np.array([i for i, c in enumerate(STAMP_LAYOUT) if c == "0"])
_BPM_WIDTH = 16
"""Longest bpm field read here (`65.0` in real files; longer ones go to the row-by-row reader)."""
_EXACT_DIGITS = 15
"""Most digits in a bpm read here: their integer stays exact in a double (below 2^53)."""

_NEWLINE, _CR, _QUOTE, _COMMA, _DOT = (ord(c) for c in '\n\r",.')
_POWERS = 10 ** np.arange(_EXACT_DIGITS + 1, dtype=np.int64)


def parse(body: bytes) -> Columns | None:
    """The rows of a heart-rate CSV after its header line; None unless every non-empty line is
    `YYYY-MM-DDTHH:MM:SSZ,<digits>[.<digits>]` optionally followed by `,` and a field without
    quotes or one quoted whole (`"Garmin Connect, Health Connect"`), with a real date and time.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    if not data.size:
        return _empty()
    if b"\0" in body:
        return None
    line_ends = np.flatnonzero(data == _NEWLINE)
    if data[-1] != _NEWLINE:
        line_ends = np.append(line_ends, data.size)
    starts = np.empty(line_ends.size, dtype=np.int64)
    starts[0] = 0
    starts[1:] = line_ends[:-1] + 1
    returns = np.flatnonzero(data == _CR) if b"\r" in body else np.zeros(0, dtype=np.int64)
    if returns.size:
        # `\r\n` ends a line as `\n` does; a carriage return anywhere else is left to csv.
        if not np.all(np.isin(returns + 1, line_ends)):
            return None
        line_ends = line_ends - np.isin(line_ends - 1, returns)
    filled = line_ends > starts  # csv skips empty lines
    starts, ends = starts[filled], line_ends[filled]
    if not starts.size:
        return _empty()
    if np.any(ends - starts < _WIDTH + 2):
        return None
    # Room after the last line, so fixed-width windows never run off the end.
    padded = np.concatenate([data, np.zeros(_WIDTH + _BPM_WIDTH + 2, dtype=np.uint8)])
    stamps = padded[starts[:, None] + np.arange(_WIDTH + 1)]
    if not np.array_equal(
        stamps[:, _SEPARATOR_AT], np.broadcast_to(_SEPARATORS, (starts.size, _SEPARATORS.size))
    ) or np.any(stamps[:, _WIDTH] != _COMMA):
        return None
    instants = _instants(stamps[:, _DIGIT_AT] - np.uint8(ord("0")))
    if instants is None:
        return None
    bpm = _bpm(padded, starts + _WIDTH + 1, ends)
    if bpm is None or (b'"' in body and not _quotes_whole_last_field(padded, starts, ends, bpm[1])):
        return None
    return instants, bpm[0]


def _empty() -> Columns:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def _instants(digits: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64] | None:
    """Epoch seconds of (n, 14) stamp digits; None for a non-digit or no such date or time."""
    if np.any(digits > 9):  # bytes below '0' wrapped around to large values
        return None
    wide = digits.astype(np.int64)
    year = wide[:, 0] * 1000 + wide[:, 1] * 100 + wide[:, 2] * 10 + wide[:, 3]
    month, day, hours, minutes, seconds = (wide[:, 4::2] * 10 + wide[:, 5::2]).T
    clock = clock_seconds(hours, minutes, seconds)
    if clock is None:
        return None
    # The exact parser decides which dates exist (no 02-30, no year 0).
    starts = day_starts((year * 100 + month) * 100 + day, _date)
    if starts is None:
        return None
    instants: npt.NDArray[np.int64] = starts + clock
    return instants


def _date(key: int) -> dt.date:
    return dt.date(key // 10_000, key // 100 % 100, key % 100)


def _bpm(
    padded: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None:
    """The bpm fields from `starts` to the next comma or the line's end, as numbers, and where
    each field ends; None unless each is digits with at most one inner decimal point."""
    commas = np.flatnonzero(padded == _COMMA)
    following = np.searchsorted(commas, starts)
    stops = np.minimum(np.append(commas, padded.size)[following], ends)
    length = stops - starts
    if not length.size or length.min() < 1 or length.max() > _BPM_WIDTH:
        return None
    width = int(length.max())
    window = padded[starts[:, None] + np.arange(width)]
    field = np.arange(width) < length[:, None]
    digit = (window >= ord("0")) & (window <= ord("9")) & field
    dot = (window == _DOT) & field
    rows = np.arange(starts.size)
    if (
        np.any(field & ~(digit | dot))
        or np.any(dot.sum(axis=1) > 1)
        or not np.all(digit[:, 0])
        or not np.all(digit[rows, length - 1])
    ):
        return None
    # The digits as one integer and the count after the point: integer ÷ 10^count is the
    # correctly rounded double of the decimal, as float() gives, while the integer is exact.
    after = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit  # digits to the right of each
    if np.any(after[:, 0] + 1 > _EXACT_DIGITS):
        return None
    number = np.where(digit, (window - np.uint8(ord("0"))) * _POWERS[after], 0).sum(axis=1)
    decimals = np.where(dot, after, 0).sum(axis=1)
    values: npt.NDArray[np.float64] = number / _POWERS[decimals].astype(np.float64)
    return values, stops


def _quotes_whole_last_field(
    padded: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    bpm_ends: npt.NDArray[np.int64],
) -> bool:
    """True unless a line holds a quote other than two around the whole field after the bpm
    (`…,65.0,"Garmin Connect, Health Connect"`): anything else could make `csv` read a row
    across lines, and then reading line by line is not sure."""
    quotes = padded == _QUOTE
    counted = np.concatenate([[0], np.cumsum(quotes, dtype=np.int64)])
    per_line = counted[ends] - counted[starts]
    quoted = np.flatnonzero(per_line)
    opening, closing = bpm_ends[quoted] + 1, ends[quoted] - 1
    return bool(
        np.all(per_line[quoted] == 2)
        and np.all(padded[bpm_ends[quoted]] == _COMMA)
        and np.all(padded[opening] == _QUOTE)
        and np.all(padded[closing] == _QUOTE)
        and np.all(closing > opening)
    )


__all__ = ["STAMP_LAYOUT", "Columns", "parse"]
