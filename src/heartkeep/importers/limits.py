"""How big a file an import will read, so a hostile or broken archive cannot exhaust memory.

A real heart-rate day file is small: one record a second for a 25-hour day is 90,000 records,
about 9 MB of pretty-printed JSON or 5 MB of CSV; a resting-heart-rate CSV grows by one short
line a day.  The limits below leave several times that headroom, and bound what one entry can
cost (its bytes, then the Python objects parsed from them) to well under 200 MB of memory
whatever the archive *claims* its sizes are: bytes are read through a cap, never trusted from
a header.  A file beyond a limit stops the import (exit 8) with the limit it broke.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np

MAX_ENTRY_BYTES = 20 * 1024 * 1024
"""Bytes of one file, after decompression: twice a pretty-printed one-second 25-hour day."""

MAX_COMPRESSION_RATIO = 200
"""Uncompressed ÷ compressed size of one zip entry over `RATIO_FLOOR_BYTES`.  Real day files
compress 10–30 times; a zip bomb compresses about a thousand times."""

RATIO_FLOOR_BYTES = 1024 * 1024
"""Entries smaller than this are read whatever their ratio: they cannot hurt."""

MAX_JSON_TOKENS = 600_000
"""Structural characters (`{`, `[`, `,`) in one JSON file: about five per heart-rate record,
so 120,000 records, 1.3 times a one-second 25-hour day (parsed, about 130 MB at most)."""

MAX_CSV_LINES = 150_000
"""Lines of one CSV file: a one-second UTC day is 86,400; a daily file one line a day."""

MAX_CSV_LINE_BYTES = 4096
"""Bytes of one CSV line: real lines are under 80."""

_CHUNK = 1024 * 1024


class LimitExceeded(ValueError):
    """A file is larger than heartkeep reads; the message names the limit."""


def read_capped(source: Path | IO[bytes], limit: int = MAX_ENTRY_BYTES) -> bytearray:
    """All bytes of a file or stream, refusing at `limit` + 1 without reading further.

    Raises `LimitExceeded`, or `OSError` from the file.
    """
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return read_capped(handle, limit)
    # One growing buffer rather than chunks joined at the end: joining holds the file twice.
    buffer = bytearray()
    while True:
        chunk = source.read(min(_CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            return buffer
        buffer += chunk
        if len(buffer) > limit:
            raise LimitExceeded(
                f"larger than the {_mb(limit)} heartkeep reads per file (a day of heart rate "
                "at one reading a second is under 10 MB); this is not a file Fitbit or Google "
                "wrote"
            )


def check_ratio(compressed: int, size: int) -> None:
    """Refuse a zip entry whose declared compression ratio only a zip bomb has."""
    if size > RATIO_FLOOR_BYTES and size > MAX_COMPRESSION_RATIO * max(compressed, 1):
        raise LimitExceeded(
            f"the entry expands {size // max(compressed, 1):,} times ({_mb(compressed)} → "
            f"{_mb(size)}); real exports compress at most {MAX_COMPRESSION_RATIO} times, so "
            "this looks like a zip bomb"
        )


def check_json_tokens(raw: bytes | bytearray) -> None:
    """Refuse JSON with more values than a day file holds, before parsing allocates them."""
    tokens = len(raw) - len(raw.translate(None, b"{[,"))  # one pass: a third of three counts
    if tokens > MAX_JSON_TOKENS:
        raise LimitExceeded(
            f"{tokens:,} JSON values, more than the {MAX_JSON_TOKENS:,} heartkeep reads per file "
            "(a day at one reading a second has about 450,000)"
        )


def check_csv_lines(raw: bytes | bytearray) -> None:
    """Refuse CSV with more lines, or longer lines, than a heart-rate CSV has."""
    lines = raw.count(b"\n") + 1
    if lines > MAX_CSV_LINES:
        raise LimitExceeded(
            f"{lines:,} lines, more than the {MAX_CSV_LINES:,} heartkeep reads per CSV file "
            "(a day at one reading a second has 86,401)"
        )
    data = np.frombuffer(raw, dtype=np.uint8)
    ends = np.append(np.flatnonzero(data == ord("\n")), data.size)
    lengths = np.diff(ends, prepend=-1) - 1
    too_long = np.flatnonzero(lengths > MAX_CSV_LINE_BYTES)
    if too_long.size:
        number = int(too_long[0]) + 1
        raise LimitExceeded(
            f"line {number:,} is {int(lengths[number - 1]):,} bytes long; heart-rate CSV lines "
            f"are under 100 bytes and heartkeep reads lines up to {MAX_CSV_LINE_BYTES:,}"
        )


def unsafe_name(name: str) -> bool:
    """True for an archive member name that points outside the archive (`..`, absolute, drive).

    heartkeep never writes members to disk, but no exporter writes such names: an archive
    holding them was made to attack something, so it is refused rather than half-read.
    """
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return True
    return ".." in PurePosixPath(text).parts


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_CSV_LINES",
    "MAX_CSV_LINE_BYTES",
    "MAX_ENTRY_BYTES",
    "MAX_JSON_TOKENS",
    "LimitExceeded",
    "check_csv_lines",
    "check_json_tokens",
    "check_ratio",
    "read_capped",
    "unsafe_name",
]
