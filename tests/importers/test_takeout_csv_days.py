"""The fast CSV day-file reader answers what the row-by-row reader answers.

`takeout_csv._heart_rate_rows` (through `csv.reader`) is the reference.  The fast reader
(`takeout_csv_days`) may decline a file, but whatever it accepts must come out exactly as the
reference reads it, and whatever the reference refuses must still be refused the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from contextlib import nullcontext
from typing import Any

from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from heartkeep.errors import ImportFormatError
from heartkeep.importers import FileDone, takeout_csv_days
from heartkeep.importers.takeout import Kind, Member, read_members
from heartkeep.importers.takeout_csv import _heart_rate_rows, _lines
from heartkeep.model import SampleColumns
from heartkeep.plausibility import keep_plausible

ZONE = "America/New_York"
HEADER = "timestamp,beats per minute,data source\n"


def _member(data: bytes) -> Member:
    return Member(
        "heart_rate_2026-03-08.csv",
        Kind.HEART_RATE_CSV,
        dt.date(2026, 3, 8),
        lambda: nullcontext(io.BytesIO(data)),
    )


def _figures(samples: list[Any]) -> tuple[list[Any], int]:
    kept, rejected = keep_plausible(samples)
    return sorted(kept), rejected


def reference(text: str) -> Any:
    try:
        rows = list(_heart_rate_rows(_member(b""), csv.reader(_lines(text)), ZONE))
    except ImportFormatError as error:
        return str(error)
    return _figures([s for batch in rows for s in batch])


def fast(text: str) -> Any:
    try:
        items = list(read_members([_member(text.encode())], ZONE))
    except ImportFormatError as error:
        return str(error)
    return _figures([s for item in items if not isinstance(item, FileDone) for s in item])


moments = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2099, 12, 31))


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


stamps = st.one_of(
    moments.map(stamp),
    st.tuples(moments.map(stamp), st.integers(0, 19), st.sampled_from(list("09-T:Z +é\0"))).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
    ),
    st.sampled_from(
        ["2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2026-03-08T24:00:00Z",
         "2026-03-08T10:00:00", "2026-03-08T10:00:00+01:00", "0000-01-01T00:00:00Z",
         "2026-13-01T00:00:00Z", "2026-03-08T10:00:00.5Z"]
    ),
)  # fmt: skip
bpms = st.one_of(
    st.integers(0, 320).map(str),
    st.floats(0, 320, allow_nan=False).map(repr),
    st.sampled_from(
        ["65.0", "0", "0.0", "0.4", "0.5", "1.5", "65.", ".5", "1e2", " 65", "65 ", "inf", "nan",
         "1_0", "-3", "", "abc", "123456789012345678.5", '"65"']
    ),
)  # fmt: skip
sources = st.sampled_from(
    ["", ",Pixel Watch", ',"Garmin Connect, Health Connect"', ',"a""b"', ',"multi\nline"',
     ',"open', ",x,\"y\"", ',"a",b', ",\"\"", ",a\"b"]
)  # fmt: skip
lines = st.tuples(stamps, bpms, sources).map(lambda t: f"{t[0]},{t[1]}{t[2]}")
good_lines = st.tuples(moments, st.integers(30, 220), st.sampled_from(["", ",Pixel Watch"])).map(
    lambda t: f"{stamp(t[0])},{t[1]}.0{t[2]}"
)


@hsettings(max_examples=300, deadline=None)
@given(
    body=st.lists(st.one_of(good_lines, lines, st.just("")), max_size=12),
    ending=st.sampled_from(["\n", "\r\n"]),
    last_newline=st.booleans(),
)
@example(body=['2026-03-08T10:00:00Z,65,"multi', '2026-03-08T10:00:01Z,66"'], ending="\n",
         last_newline=True)  # fmt: skip
def test_a_csv_day_file_reads_as_the_row_by_row_reader_reads_it(
    body: list[str], ending: str, last_newline: bool
) -> None:
    text = HEADER + ending.join(body) + (ending if last_newline else "")
    assert fast(text) == reference(text)


@given(st.lists(good_lines, min_size=1, max_size=30))
def test_well_formed_files_take_the_fast_path(body: list[str]) -> None:
    text = "".join(f"{line}\n" for line in body)
    parsed = takeout_csv_days.parse(text.encode())
    assert parsed is not None
    assert parsed[0].tolist() == [
        int(dt.datetime.fromisoformat(line[:20]).timestamp()) for line in body
    ]
    items = list(read_members([_member((HEADER + text).encode())], ZONE))
    assert isinstance(items[0], SampleColumns)


def test_a_quoted_source_with_a_comma_takes_the_fast_path() -> None:
    text = '2026-03-08T10:00:00Z,65.0,"Garmin Connect, Health Connect"\n'
    assert takeout_csv_days.parse(text.encode()) is not None


decimals = st.tuples(
    st.text("0123456789", min_size=1, max_size=9), st.text("0123456789", max_size=8)
)


@given(st.lists(decimals, min_size=1, max_size=20))
def test_bpm_values_are_exactly_what_float_reads(numbers: list[tuple[str, str]]) -> None:
    fields = [whole + (f".{part}" if part else "") for whole, part in numbers]
    body = "".join(f"2026-03-08T10:00:{i:02d}Z,{field}\n" for i, field in enumerate(fields))
    parsed = takeout_csv_days.parse(body.encode())
    if any(len(w) + len(p) > 15 for w, p in numbers):
        assert parsed is None
    else:
        assert parsed is not None
        assert parsed[1].tolist() == [float(field) for field in fields]
