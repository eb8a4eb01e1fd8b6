"""The fast day-file reader (`takeout_days`) answers what the record-by-record reader answers.

The record-by-record reader in `takeout.py` is the reference: it names the first bad record
and is what every other test of the Takeout JSON files was written against.  The fast reader
may decline a file (None: the reference then reads it), but whatever it accepts must come out
exactly as the reference reads it, and whatever the reference refuses it must decline.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
from contextlib import nullcontext
from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from heartkeep.errors import ImportFormatError
from heartkeep.importers import FileDone, takeout_days
from heartkeep.importers.takeout import Kind, Member, _heart_rate_records, read_members
from heartkeep.model import Sample, SampleColumns
from heartkeep.plausibility import keep_plausible

ZONE = "Europe/Berlin"
DAY = dt.date(2026, 3, 29)  # a spring-forward day in the zone


def _member(data: bytes) -> Member:
    return Member(
        f"heart_rate-{DAY}.json", Kind.HEART_RATE_JSON, DAY, lambda: nullcontext(io.BytesIO(data))
    )


def reference(records: list[Any]) -> tuple[list[Sample], int, int] | str:
    """(plausible samples sorted, implausible count, day mismatches) as the record-by-record
    reader reads `records`, or its error message."""
    reader = _heart_rate_records(_member(b""), records, ZONE)
    batches: list[Sample] = []
    try:
        while True:
            batches.extend(next(reader))
    except StopIteration as done:
        mismatches = done.value
    except ImportFormatError as error:
        return str(error)
    kept, rejected = keep_plausible(batches)
    return sorted(kept), rejected, mismatches


def fast(data: bytes) -> tuple[list[Sample], int, int] | str:
    """The same figures as `read_members` (fast reader first) gives them for the file."""
    samples: list[Sample] = []
    mismatches = 0
    try:
        for item in read_members([_member(data)], ZONE):
            if isinstance(item, FileDone):
                mismatches = item.day_mismatches
            else:
                samples.extend(item)
    except ImportFormatError as error:
        return str(error)
    kept, rejected = keep_plausible(samples)
    return sorted(kept), rejected, mismatches


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%m/%d/%y %H:%M:%S")


moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31))
# Stamps near the valid form: a valid one with a character or two replaced, cut or added.
near_stamps = st.one_of(
    moments.map(stamp),
    st.tuples(
        moments.map(stamp), st.integers(0, 16), st.sampled_from(list("0919 /:+-_aé\x00"))
    ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]),
    st.tuples(moments.map(stamp), st.integers(0, 17)).map(lambda t: t[0][: t[1]]),
    moments.map(lambda m: stamp(m) + "0"),
    st.sampled_from(
        [
            "02/29/24 00:00:00",
            "02/29/25 00:00:00",
            "13/01/26 00:00:00",
            "00/10/26 10:00:00",
            "04/31/26 10:00:00",
            "01/01/26 24:00:00",
            "01/01/26 23:60:00",
            "01/01/26 23:59:60",
            " 1/01/26 23:59:59",
            "+1/01/26 23:59:59",
            "1_/01/26 23:59:59",
        ]
    ),
    st.text(max_size=20),
)
bpms = st.one_of(
    st.integers(-5, 400),
    st.floats(-1, 400, allow_nan=False),
    st.sampled_from([0, 0.0, -0.0, 0.4, 0.5, 1.5, 2.5, 19.5, 20, 300, 300.5, 10**30, 1e300]),
)
good_records = st.lists(
    st.tuples(moments, st.integers(20, 300)).map(
        lambda t: {"dateTime": stamp(t[0]), "value": {"bpm": t[1], "confidence": 2}}
    ),
    max_size=30,
)
odd_records = st.lists(
    st.one_of(
        st.tuples(near_stamps, bpms).map(lambda t: {"dateTime": t[0], "value": {"bpm": t[1]}}),
        st.tuples(moments, bpms).map(lambda t: {"dateTime": stamp(t[0]), "value": {"bpm": t[1]}}),
        st.sampled_from(
            [
                {"dateTime": "01/01/26 00:00:00"},
                {"dateTime": "01/01/26 00:00:00", "value": {"bpm": True}},
                {"dateTime": "01/01/26 00:00:00", "value": {"bpm": "60"}},
                {"dateTime": "01/01/26 00:00:00", "value": {"bpm": None}},
                {"dateTime": "01/01/26 00:00:00", "value": 60},
                {"dateTime": 20260101, "value": {"bpm": 60}},
                {"value": {"bpm": 60}},
                [1, 2],
                "text",
                None,
            ]
        ),
    ),
    max_size=12,
)


@given(st.lists(moments, max_size=50))
def test_valid_stamps_parse_as_the_reference_parses_them(stamps: list[dt.datetime]) -> None:
    texts = [stamp(m) for m in stamps]
    expected = [int(m.replace(tzinfo=dt.UTC).timestamp()) for m in stamps]
    parsed = takeout_days.parse_stamps(texts)
    assert parsed is not None
    assert parsed.tolist() == expected


@given(st.lists(near_stamps, min_size=1, max_size=8))
@example(["01/02/26 00:00:0", "001/02/26 00:00:00"])  # lengths that add up: rows would shift
@example(["02/29/25 00:00:00"])
def test_stamps_parse_as_the_reference_or_not_at_all(texts: list[str]) -> None:
    parsed = takeout_days.parse_stamps(texts)
    records = [{"dateTime": text, "value": {"bpm": 60}} for text in texts]
    expected = reference(records)
    if isinstance(expected, str):
        assert parsed is None, expected
    elif parsed is not None:
        assert sorted(parsed.tolist()) == [s.instant_s for s in expected[0]]


@hsettings(max_examples=200, deadline=None)
@given(st.one_of(good_records, odd_records), st.booleans(), st.booleans())
def test_a_day_file_reads_as_the_record_by_record_reader_reads_it(
    records: list[Any], pretty: bool, bom: bool
) -> None:
    text = json.dumps(records, indent=2 if pretty else None).encode()
    data = codecs.BOM_UTF8 + text if bom else text
    assert fast(data) == reference(orjson.loads(text))


@given(good_records)
def test_well_formed_files_take_the_fast_path(records: list[Any]) -> None:
    columns = takeout_days.from_json(orjson.dumps(records))
    assert columns is not None
    items = [i for i in read_members([_member(orjson.dumps(records))], ZONE)]
    assert all(isinstance(item, SampleColumns | FileDone) for item in items)


def test_files_in_other_encodings_take_the_fast_path_after_decoding() -> None:
    records = [{"dateTime": "03/29/26 00:59:59", "value": {"bpm": 61}}]
    data = codecs.BOM_UTF16_LE + json.dumps(records).encode("utf-16-le")
    assert takeout_days.from_json(data) is None
    items = list(read_members([_member(data)], ZONE))
    assert isinstance(items[0], SampleColumns)
    assert list(items[0]) == [Sample(1_774_745_999, 61, 60)]


@pytest.mark.parametrize("blank", [b"", b"  \n", codecs.BOM_UTF8, b"\n" + codecs.BOM_UTF8 + b" "])
def test_blank_files_hold_no_samples(blank: bytes) -> None:
    assert fast(blank) == ([], 0, 0)
