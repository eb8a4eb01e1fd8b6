"""Vectorised time formatting shared by the text exporters.

Formatting 30 million timestamps one `strftime` at a time would dominate an export; numpy's
`datetime64` renders a whole batch of ISO-8601 strings in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt

from heartkeep.model import Sample


def columns(
    batch: Sequence[Sample],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A batch of samples as (instant_s, bpm, offset_min) integer arrays."""
    # fromiter over the flattened tuples is ~2.5x faster than np.array on a list of tuples.
    flat = np.fromiter(chain.from_iterable(batch), dtype=np.int64, count=3 * len(batch))
    table = flat.reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


def iso_utc(instant_s: npt.NDArray[np.int64]) -> list[str]:
    """`2026-11-20T12:00:00Z` for each instant."""
    return list(
        np.datetime_as_string(instant_s.astype("datetime64[s]"), unit="s", timezone="UTC").tolist()
    )


def iso_wall(instant_s: npt.NDArray[np.int64], offset_min: npt.NDArray[np.int64]) -> list[str]:
    """Local wall time without offset (`2026-11-20T13:00:00`) under each reported offset."""
    local = instant_s + offset_min * 60
    return list(local.astype("datetime64[s]").astype(str).tolist())


def offset_suffix(offset_min: int) -> str:
    """`+01:00`, `-05:30`, `+00:00` for an offset in minutes."""
    sign = "-" if offset_min < 0 else "+"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def iso_local(instant_s: npt.NDArray[np.int64], offset_min: npt.NDArray[np.int64]) -> list[str]:
    """RFC 3339 local time with the reported offset: `2026-11-20T13:00:00+01:00`."""
    suffixes: dict[int, str] = {}
    out = []
    for wall, offset in zip(iso_wall(instant_s, offset_min), offset_min.tolist(), strict=True):
        suffix = suffixes.get(offset)
        if suffix is None:
            suffix = suffixes[offset] = offset_suffix(offset)
        out.append(wall + suffix)
    return out
