"""A saved intraday response → columns of wall-clock seconds and bpm, and those to instants, fast.

Why a module of its own: a one-second day is 86,400 points, and reading them the obvious way
(a dict per point, `HH:MM:SS` cut up per point, a `Sample` per reading) cost several times what
storing them does.  msgspec decodes the response straight into typed structs (no dict per
point, unknown fields skipped, every time's length checked in C), the times are parsed as one
byte matrix with numpy, and wall times become instants with one zone lookup per 15-minute block
of wall time (`local_times_to_columns`, the column twin of `fitbit_json.local_times_to_samples`).

As with `takeout_days`, this is an accelerator: whenever anything in a response is not the
common shape, `decode` answers None and `fitbit_json.py`'s point-by-point reader, the reference
with its exact messages, reads the file.  `tests/importers/test_fitbit_intraday.py` holds the
two to the same answers.
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.importers.fixed_width import FixedLayout, clock_seconds
from heartkeep.importers.takeout_common import whole_bpm

_TIME_LAYOUT = FixedLayout("00:00:00")
_WIDTH = _TIME_LAYOUT.width


class _Point(msgspec.Struct, gc=False):
    time: Annotated[str, msgspec.Meta(min_length=_WIDTH, max_length=_WIDTH)]
    value: int | float


class _Intraday(msgspec.Struct, gc=False):
    dataset: list[_Point]


class _Response(msgspec.Struct):
    intraday: _Intraday = msgspec.field(name="activities-heart-intraday")
    summary: Any = msgspec.field(name="activities-heart", default=None)


_DECODER = msgspec.json.Decoder(_Response)


@dataclass(frozen=True, slots=True)
class Intraday:
    """A response's `activities-heart` (as parsed JSON, for the dailies and the date) and its
    readings: wall-clock seconds after midnight and rounded bpm, zero readings left out."""

    summary: Any
    clock_s: npt.NDArray[np.int64]
    bpm: npt.NDArray[np.int64]


def decode(raw: bytes | bytearray) -> Intraday | None:
    """The response in a saved file's bytes (UTF-8, with or without a BOM); None if it is not
    an object with a well-formed `activities-heart-intraday.dataset`, for the reference reader.

    The caller checks the hostile-file limits (`limits.check_json_tokens`) first.
    """
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        response = _DECODER.decode(memoryview(raw)[skip:])
    except msgspec.MsgspecError:
        return None
    points = response.intraday.dataset
    clock_s = parse_times([point.time for point in points])
    if clock_s is None:
        return None
    values = np.array([point.value for point in points], dtype=np.float64)
    keep = values != 0  # 0 is no reading; other implausible values are counted by load()
    return Intraday(response.summary, clock_s[keep], whole_bpm(values[keep]))


def parse_times(times: list[str]) -> npt.NDArray[np.int64] | None:
    """`HH:MM:SS` → seconds after midnight; None unless every time is exactly two digits, a
    colon, two digits, a colon and two digits naming a time of day (what the reference reader
    accepts, minus the oddities `int()` forgives, such as spaces or `+`)."""
    if not times:
        return np.zeros(0, dtype=np.int64)
    fields = _TIME_LAYOUT.fields(times)
    if fields is None:
        return None
    hours, minutes, seconds = fields.T
    return clock_seconds(hours, minutes, seconds)


def local_times_to_columns(
    day: dt.date, clock_s: npt.NDArray[np.int64], zone_name: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(instants, offsets) of wall-clock seconds after local midnight on `day`, in the order
    given: `fitbit_json.local_times_to_samples` over columns, with the same rule for the
    repeated hour (the second pass from the first backward step of the wall clock on)."""
    count = len(clock_s)
    if not count:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    folded = np.zeros(count, dtype=np.int64)
    backward = np.flatnonzero(clock_s[1:] < clock_s[:-1])
    if backward.size:
        folded[backward[0] + 1 :] = 1
    # Every zone changes its offset on a quarter hour: one lookup per block of wall time.
    blocks = clock_s // 900
    keys, which = np.unique(blocks * 2 + folded, return_inverse=True)
    midnight = dt.datetime.combine(day, dt.time())
    bases = np.empty(len(keys), dtype=np.int64)
    offsets = np.empty(len(keys), dtype=np.int64)
    for index, key in enumerate(keys.tolist()):
        block, fold = divmod(key, 2)
        wall = midnight + dt.timedelta(seconds=block * 900)
        bases[index] = timeline.local_to_instant(wall, zone_name, fold=fold)
        offsets[index] = timeline.zone_offset_min(zone_name, int(bases[index]))
    which = which.reshape(-1)
    instants: npt.NDArray[np.int64] = bases[which] + clock_s % 900
    return instants, offsets[which]


__all__ = ["Intraday", "decode", "local_times_to_columns", "parse_times"]
