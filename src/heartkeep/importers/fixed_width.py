"""Columns of fixed-width date and time texts (`MM/DD/YY HH:MM:SS`, `HH:MM:SS`) read at once.

Why: a day file holds ~86,400 stamps; parsing each with `strptime` costs more than the rest of
the import.  Joined into one byte matrix, a column is checked and converted with a few numpy
operations.  Exactness is kept: a text must match its layout to the byte (ASCII digits where
the layout has `0`, its separators elsewhere), so what `int()` would forgive (spaces, `+`) is
refused and the caller falls back to its reference reader.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class FixedLayout:
    """A layout written with `0` for each digit, e.g. "00/00/00 00:00:00"; its digits come
    in two-digit fields."""

    def __init__(self, layout: str) -> None:
        self.width = len(layout)
        self._separator_at = np.array([i for i, c in enumerate(layout) if c != "0"])
        self._separators = np.frombuffer(
            bytes(c for c in layout.encode() if c != ord("0")), dtype=np.uint8
        )
        self._digit_at = np.array([i for i, c in enumerate(layout) if c == "0"])

    def fields(self, texts: list[str]) -> npt.NDArray[np.int64] | None:
        """Each text's two-digit fields as numbers, one row per text (texts not empty); None
        unless every text has the layout exactly."""
        count = len(texts)
        joined = "".join(texts)
        # One byte matrix: a text of another length would shift every later row, so the
        # total and the longest together prove that every text has the width.
        if len(joined) != count * self.width or max(map(len, texts)) != self.width:
            return None
        try:
            data = joined.encode("ascii")
        except UnicodeEncodeError:
            return None
        codes = np.frombuffer(data, dtype=np.uint8).reshape(count, self.width)
        if not np.array_equal(
            codes[:, self._separator_at],
            np.broadcast_to(self._separators, (count, len(self._separators))),
        ):
            return None
        digits = codes[:, self._digit_at] - np.uint8(ord("0"))  # wraps below '0' to large values
        if np.any(digits > 9):
            return None
        pairs: npt.NDArray[np.int64] = digits[:, 0::2].astype(np.int64) * 10 + digits[:, 1::2]
        return pairs


def clock_seconds(
    hours: npt.NDArray[np.int64], minutes: npt.NDArray[np.int64], seconds: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64] | None:
    """Seconds after midnight; None unless each names a time of day (no 24:00, no 23:60)."""
    if np.any(hours > 23) or np.any(minutes > 59) or np.any(seconds > 59):
        return None
    clock: npt.NDArray[np.int64] = hours * 3600 + minutes * 60 + seconds
    return clock
