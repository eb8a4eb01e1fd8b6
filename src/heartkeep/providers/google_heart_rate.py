"""Google Health heart-rate pages decoded into samples: the sync's hot path.

Why a module of its own: `google_health.py` decides what to ask Google for and what its answers
mean; this reads one `ListDataPointsResponse` body of heart-rate points as fast as Python
allows, and that is a different job with its own tests and benchmarks (a year is ~10 million
points).  Pages are decoded by msgspec straight into small typed structs (unknown members such
as `dataSource` and `civilTime` are skipped without building objects); timestamps by caching
the epoch of each `YYYY-MM-DDTHH:MM` prefix and adding the seconds, offsets through a small
cache — about 1 µs per point.  A large page can come back as numpy columns instead
(`parse_heart_rate_columns`), for a store that writes columns; numpy loads only then.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import msgspec

from heartkeep.errors import ProviderError
from heartkeep.model import Sample, SampleColumns
from heartkeep.timeline import offset_min_from_seconds, parse_duration_s, parse_rfc3339_s

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


# gc=False: these hold no reference cycles, and keeping 30,000 small objects a page out of the
# cyclic garbage collector's sight makes decoding several times faster on long backfills.
class _SampleTime(msgspec.Struct, gc=False):
    physicalTime: str
    utcOffset: str = "0s"  # proto3 JSON omits zero values: UTC has no offset member


class _HeartRate(msgspec.Struct, gc=False):
    sampleTime: _SampleTime
    beatsPerMinute: int  # an int64, so a JSON string; strict=False below accepts both


class _Point(msgspec.Struct, gc=False):
    heartRate: _HeartRate | None = None


class _HeartRatePage(msgspec.Struct, gc=False):
    dataPoints: list[_Point] = msgspec.field(default_factory=list)
    nextPageToken: str = ""


_PAGE_DECODER = msgspec.json.Decoder(_HeartRatePage, strict=False)


def parse_heart_rate_page(content: bytes) -> tuple[list[Sample], str]:
    """A `ListDataPointsResponse` body → (samples in the order served, next page token or "").

    Points without a `heartRate` member are skipped; a malformed heart-rate point raises
    `ProviderError` (a silent skip would be a silent gap).
    """
    rates, token = _heart_rates(content)
    return _parse_points(rates), token


def parse_heart_rate_columns(
    content: bytes, *, smallest: int = 0
) -> tuple[SampleColumns | list[Sample], str]:
    """`parse_heart_rate_page` as numpy columns: the same samples in the same order, the same
    errors.  Columns whenever the page allows (stamps in UTC, as Google and the sandbox send
    them) and holds at least `smallest` points; a page with a numeric offset in a stamp or a
    value beyond int64, or a smaller one, comes back as the list instead (a list of fewer than
    `smallest` points loads no numpy).

    Why: a study worker stores hundreds of millions of samples a day, and its store wants
    columns; building a `Sample` per point and then an array from them was a third of its
    CPU.  Here the decoded structs give up their fields as plain lists, and the stamps
    (`YYYY-MM-DDTHH:MM:SSZ`, maybe with a fraction, which is floored) are read as one byte
    matrix: digits by column, each distinct date once through `datetime`.  Any other stamp
    form (a numeric offset) or a value out of range sends the page through the per-point
    parse, which decides exactly as before.  Loads numpy (the personal sync's small runs do
    without it).
    """
    rates, token = _heart_rates(content)
    if len(rates) < smallest:
        return _parse_points(rates), token
    if not rates:
        return _no_samples(), token
    columns = _fast_columns(rates)
    return (columns if columns is not None else _parse_points(rates)), token


def _heart_rates(content: bytes) -> tuple[list[_HeartRate], str]:
    """The page's heart-rate members, in order (points without one skipped), and its token."""
    try:
        page = _PAGE_DECODER.decode(content)
    except msgspec.DecodeError as failure:
        raise ProviderError(f"unexpected heart-rate page from Google: {failure}") from failure
    found = [point.heartRate for point in page.dataPoints]
    rates = [rate for rate in found if rate is not None] if None in found else found
    return rates, page.nextPageToken  # type: ignore[return-value]  # the Nones are gone


def _no_samples() -> SampleColumns:
    import numpy as np

    return SampleColumns(*(np.zeros(0, dtype=np.int64) for _ in range(3)))


# Byte offsets of the digits in `YYYY-MM-DDTHH:MM:SSZ`, and the separators between them.
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)
_SEPARATORS = ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":"), (19, b"Z"))
_FRACTION = re.compile(r"(?:\.[0-9]{0,9})?Z")


def _fast_columns(rates: list[_HeartRate]) -> SampleColumns | None:
    """The columns of these points when every stamp has the usual form and every value fits;
    None otherwise (the caller then parses point by point)."""
    import numpy as np

    times = [rate.sampleTime for rate in rates]
    texts = [time.physicalTime for time in times]
    stamps = "".join(texts)
    fractions = len(stamps) != 20 * len(texts)
    if fractions:
        # Fractions of a second (floored, as the per-point parse does): the stamps without them.
        if not all(_FRACTION.fullmatch(tail) for tail in {text[19:] for text in texts}):
            return None
        stamps = "Z".join([text[:19] for text in texts]) + "Z"
    if not stamps.isascii():
        return None
    text = np.frombuffer(stamps.encode("ascii"), dtype=np.uint8).reshape(-1, 20)
    for at, mark in _SEPARATORS:
        if (text[:, at] != mark[0]).any():
            return None
    digits = text[:, _DIGITS].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    tens = digits[:, 0::2] * 10 + digits[:, 1::2]  # CC YY MM DD hh mm ss
    hour, minute, second = tens[:, 4], tens[:, 5], tens[:, 6]
    # A leap second (:60) is read only without a fraction, as the per-point parse reads it.
    if (hour > 23).any() or (minute > 59).any() or (second > (59 if fractions else 60)).any():
        return None
    dates = (tens[:, 0] * 100 + tens[:, 1]) * 10_000 + tens[:, 2] * 100 + tens[:, 3]
    distinct, where = np.unique(dates, return_inverse=True)
    try:
        epoch_days = [
            dt.date(date // 10_000, date // 100 % 100, date % 100).toordinal() - _EPOCH_ORDINAL
            for date in distinct.tolist()
        ]
        bpm = np.array([rate.beatsPerMinute for rate in rates], dtype=np.int64)
        offsets = _offsets_min([time.utcOffset for time in times])
    except (ValueError, OverflowError):
        return None
    instants = np.array(epoch_days, dtype=np.int64)[where.reshape(-1)] * 86_400
    instants += hour * 3600 + minute * 60 + second
    return SampleColumns(instants, bpm, offsets)


def _offsets_min(texts: list[str]) -> npt.NDArray[np.int64]:
    """Minutes east of UTC of each `utcOffset` text (a page has one or two distinct ones)."""
    import numpy as np

    minutes = {
        text: offset_min_from_seconds(parse_duration_s(text)) for text in dict.fromkeys(texts)
    }
    if len(minutes) == 1:
        return np.full(len(texts), next(iter(minutes.values())), dtype=np.int64)
    return np.array([minutes[text] for text in texts], dtype=np.int64)


def _parse_points(rates: list[_HeartRate]) -> list[Sample]:
    """The per-point parse: any RFC 3339 form Google may send, errors as `ProviderError`."""
    samples: list[Sample] = []
    append = samples.append
    make = tuple.__new__  # builds the NamedTuple in C, skipping its Python-level __new__
    seconds = _SECONDS
    minutes: dict[str, int] = {}
    offsets: dict[str, int] = {"0s": 0}
    rate: _HeartRate | None = None
    try:
        for rate in rates:
            sample_time = rate.sampleTime
            text = sample_time.physicalTime
            base = minutes.get(text[:16])
            if base is None or len(text) != 20 or text[19] != "Z":
                base = _minute_base_s(text, minutes)
            offset = offsets.get(sample_time.utcOffset)
            if offset is None:
                offset = offset_min_from_seconds(parse_duration_s(sample_time.utcOffset))
                offsets[sample_time.utcOffset] = offset
            append(make(Sample, (base + seconds[text[17:19]], rate.beatsPerMinute, offset)))
    except (ValueError, KeyError) as failure:
        raise ProviderError(
            f"unexpected heart-rate data point from Google: {rate!r:.200} ({failure})"
        ) from failure
    return samples


# "00".."60" → int: a dict lookup is cheaper than int() on the hot path.
_SECONDS = {f"{second:02d}": second for second in range(61)}


def _minute_base_s(text: str, cache: dict[str, int]) -> int:
    """Epoch seconds of `text` minus its seconds field, caching whole-second `…:SSZ` forms."""
    if len(text) == 20 and text[19] == "Z":
        base = parse_rfc3339_s(text[:16] + ":00Z")
        cache[text[:16]] = base
        return base
    # fractions or a numeric offset: parse it whole (slow, rare)
    return parse_rfc3339_s(text) - _SECONDS[text[17:19]]
