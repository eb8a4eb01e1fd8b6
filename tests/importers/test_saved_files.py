"""Files as people really have them: byte-order marks, UTF-16, double-encoded responses, the
older `activities-heart` layout and ISO dates in zone files.  Every file is built here."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.errors import ImportFormatError
from heartkeep.importers import jsontext
from heartkeep.model import DailyKind, Zone
from heartkeep.store import open_store

ZONE = "Europe/Berlin"
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-32 with BOM": lambda text: text.encode("utf-32"),
}
ASCII_ENCODINGS = {
    **ENCODINGS,
    "utf-16-le without BOM": lambda text: text.encode("utf-16-le"),
    "utf-16-be without BOM": lambda text: text.encode("utf-16-be"),
}


def intraday(day: str = "2026-06-01") -> dict:
    return {
        "activities-heart": [
            {
                "dateTime": day,
                "value": {
                    "customHeartRateZones": [],
                    "heartRateZones": [
                        {"max": 94, "min": 30, "minutes": 1300, "name": "Out of Range"},
                        {"max": 131, "min": 94, "minutes": 100, "name": "Fat Burn"},
                    ],
                    "restingHeartRate": 61,
                },
            }
        ],
        "activities-heart-intraday": {
            "dataset": [
                {"time": f"{h:02d}:{m:02d}:00", "value": 60 + m % 30}
                for h in range(24)
                for m in range(0, 60, 10)
            ],
            "datasetInterval": 1,
            "datasetType": "minute",
        },
    }


def stored_counts(settings: Settings, key: str) -> tuple[int, dict]:
    with open_store(settings.database) as store:
        samples = sum(len(batch) for batch in store.iter_samples(key))
        dailies = {
            kind: store.dailies(key, kind=kind) for kind in (DailyKind.RESTING_HR, DailyKind.ZONES)
        }
    return samples, dailies


@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    wraps=st.integers(min_value=0, max_value=jsontext.MAX_NESTED_ENCODINGS),
)
def test_json_reads_the_same_whatever_the_encoding_or_nesting(data, encoding, wraps):
    if not isinstance(data, dict | list):
        data = [data]
    text = json.dumps(data, ensure_ascii=False)
    for _ in range(wraps):
        text = json.dumps(text, ensure_ascii=False)
    assert jsontext.load_json(ENCODINGS[encoding](text)) == data


# A text starting with NUL cannot be told apart: UTF-16-LE's BOM followed by "\x00" is the bytes
# FF FE 00 00, which is UTF-32-LE's BOM.  No saved response starts with NUL, so leave it out.
@given(
    text=st.text().filter(lambda text: not text.startswith("\x00")),
    encoding=st.sampled_from(sorted(ENCODINGS)),
)
def test_text_decodes_the_same_whatever_the_encoding(text, encoding):
    assert jsontext.decode(ENCODINGS[encoding](text)) == text


@pytest.mark.parametrize("encoding", sorted(ASCII_ENCODINGS))
@pytest.mark.parametrize("wraps", [0, 1, 2])
def test_saved_responses_import_in_every_encoding_and_nesting(
    settings: Settings, tmp_path: Path, encoding: str, wraps: int
):
    text = json.dumps(intraday())
    for _ in range(wraps):
        text = json.dumps(text)
    path = tmp_path / "heart.json"
    path.write_bytes(ASCII_ENCODINGS[encoding](text))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    assert (report.samples_read, report.inserted, report.dailies) == (144, 144, 2)


def test_the_older_layout_keeps_its_zones_summed_over_time_windows(
    settings: Settings, tmp_path: Path
):
    older = {
        "activities-heart": [
            {
                "dateTime": "today",
                "customHeartRateZones": [],
                "heartRateZones": [
                    {"caloriesOut": "2.3", "max": "94", "min": "30", "minutes": "2", "name": "Out"},
                    {"caloriesOut": 0, "max": 131, "min": 94, "minutes": 1, "name": "Fat Burn"},
                ],
                "value": "55.44",
            },
            {
                "dateTime": "today",
                "heartRateZones": [
                    {"max": 94, "min": 30, "minutes": 10, "name": "Out"},
                    {"max": 131, "min": 94, "minutes": 4.5, "name": "Fat Burn"},
                ],
                "value": "64.2",
            },
        ],
        "activities-heart-intraday": intraday()["activities-heart-intraday"],
    }
    path = tmp_path / "heart-2019-11-01.json"
    path.write_text(json.dumps(older))
    report = api.import_fitbit_json(settings, [path], time_zone=ZONE)
    assert report.dailies == 1
    samples, dailies = stored_counts(settings, report.account_key)
    assert samples == 144
    assert not dailies[DailyKind.RESTING_HR]  # "55.44" is not documented as resting HR
    (zones,) = dailies[DailyKind.ZONES]
    assert zones.day == dt.date(2019, 11, 1)
    assert zones.zones == (Zone("Out", 30, 94, 12.0), Zone("Fat Burn", 94, 131, 5.5))


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"", "an empty file"),
        (b'"just a note"', "'\"just a note\"'"),
        (b"<html><body>Too Many Requests</body></html>", "HTML or XML"),
        (b'{"errors": [{"errorType": "expired_token"}]}', "an object with keys 'errors'"),
        (b"PK\x03\x04rest", "a zip archive"),
        (b"\xff\xfe\x00\x00garbage", "not UTF-32-LE text"),
        (b"{\xc3\x28}", "not UTF-8 text"),
        (codecs.BOM_UTF16_BE + b"\x00{\xdc\x00", "not UTF-16-BE text"),
    ],
)
def test_an_unreadable_response_says_what_the_file_holds(
    settings: Settings, tmp_path: Path, content: bytes, found: str
):
    path = tmp_path / "heart-2026-06-01.json"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as caught:
        api.import_fitbit_json(settings, [path], time_zone=ZONE)
    assert found in str(caught.value)
    assert "activities-heart-intraday" not in str(caught.value) or "found" in str(caught.value)


def takeout_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "takeout.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"Takeout/Fitbit/Global Export Data/{name}", content)
    return path


@pytest.mark.parametrize("encoding", sorted(ASCII_ENCODINGS))
def test_takeout_json_and_csv_import_in_every_encoding(
    settings: Settings, tmp_path: Path, encoding: str
):
    encode = ASCII_ENCODINGS[encoding]
    records = [
        {"dateTime": f"06/01/26 10:{m:02d}:00", "value": {"bpm": 60 + m, "confidence": 2}}
        for m in range(30)
    ]
    csv_rows = "timestamp,beats per minute\n" + "".join(
        f"2026-06-01T11:{m:02d}:00Z,{70 + m}.0\n" for m in range(20)
    )
    resting = "timestamp,beats per minute\n2026-06-01T00:00:00Z,55.5\n"
    archive = takeout_zip(
        tmp_path,
        {
            "heart_rate-2026-06-01.json": encode(json.dumps(records)),
            "heart_rate_2026-06-01.csv": encode(csv_rows),
            "daily_resting_heart_rate.csv": encode(resting),
        },
    )
    report = api.import_takeout(settings, [archive], time_zone=ZONE)
    assert (report.samples_read, report.inserted, report.dailies) == (50, 50, 1)


@pytest.mark.parametrize(
    "stamp", ["11/01/19 00:00:00", "11/01/19", "2019-11-01", "2019-11-01T00:00:00"]
)
def test_zone_files_accept_fitbit_and_iso_dates(settings: Settings, tmp_path: Path, stamp: str):
    zones = [{"dateTime": stamp, "value": {"valuesInZones": {"IN_DEFAULT_ZONE_1": "55.44"}}}]
    archive = takeout_zip(
        tmp_path, {"time_in_heart_rate_zones-2019-11-01.json": json.dumps(zones).encode()}
    )
    report = api.import_takeout(settings, [archive], time_zone=ZONE)
    assert report.dailies == 1
    _, dailies = stored_counts(settings, report.account_key)
    (daily,) = dailies[DailyKind.ZONES]
    assert daily.day == dt.date(2019, 11, 1)
    assert daily.zones == (Zone("Fat Burn", 0, 0, 55.44),)


def test_a_takeout_file_of_the_wrong_shape_says_what_it_found(settings: Settings, tmp_path: Path):
    archive = takeout_zip(tmp_path, {"heart_rate-2026-06-01.json": b'{"dateTime": "x"}'})
    with pytest.raises(ImportFormatError, match="found an object with keys 'dateTime'"):
        api.import_takeout(settings, [archive], time_zone=ZONE)
