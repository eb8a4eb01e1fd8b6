"""Columnar exports: the bytes SQLite formats equal what the documented plain tools produce.

CSV against `PLAIN_SQLITE3_QUERY` run by Python's sqlite3 module through `csv.writer`, and by
the `sqlite3` shell where it is installed; Parquet against the store's rows; JSON Lines, FHIR
and Open mHealth against one `orjson.dumps` per sample (what the exporters did before); every
format the same whatever the batch size (group_concat keeps the order, batches carry no state).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import sqlite3
import subprocess
import uuid

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.errors import StoreError
from heartkeep.exporters import export
from heartkeep.exporters.csv import LINE_SQL as CSV_LINE_SQL
from heartkeep.exporters.csv import PLAIN_SQLITE3_QUERY, plain_sqlite3_sql
from heartkeep.exporters.jsonl import LOCAL_TIME_SQL
from heartkeep.exporters.omh import uuid5_ids
from heartkeep.model import Account, Sample, Source, Window
from heartkeep.store import open_store
from heartkeep.store.rows import MAX_INSTANT, MIN_INSTANT
from heartkeep.timeline import format_rfc3339, local_day_window

# A quote in the key and non-ASCII in the name: the SQL literal and the JSON pieces must cope.
ACCOUNT = Account("google-health", "o'brien", 'Zoë "Z" Ünal', "America/New_York")
OTHER = Account("google-health", "other", "Other", "UTC")
START = int(dt.datetime(2026, 3, 7, tzinfo=dt.UTC).timestamp())
CREATED_S = int(dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp())


def samples() -> list[Sample]:
    """Four days across New York's spring-forward change, one sample every 53 s (+ a Kolkata
    day), so offsets of both signs and a half-hour offset appear."""
    out = []
    for instant in range(START, START + 4 * 86_400, 53):
        offset = -300 if instant < START + 86_400 + 7 * 3600 else -240
        if instant >= START + 3 * 86_400:
            offset = 330
        out.append(Sample(instant, 40 + instant % 150, offset))
    return out


@pytest.fixture
def filled(settings: Settings) -> list[Sample]:
    stored = samples()
    with open_store(settings.database) as store:
        store.upsert_account(OTHER)
        store.write_samples(OTHER.key, stored[::7], Source.GOOGLE_HEALTH)
        store.upsert_account(ACCOUNT)
        store.write_samples(ACCOUNT.key, stored, Source.GOOGLE_HEALTH)
    return stored


def _plain_csv(database: str, account_key: str, start_s: int, end_s: int) -> bytes:
    """PLAIN_SQLITE3_QUERY through Python's sqlite3 and csv (the shell's `-csv` dialect: LF)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    with sqlite3.connect(database) as db:
        cursor = db.execute(
            PLAIN_SQLITE3_QUERY, {"account_key": account_key, "start_s": start_s, "end_s": end_s}
        )
        writer.writerow([column[0] for column in cursor.description])
        writer.writerows(cursor)
    return out.getvalue().encode()


def test_csv_is_byte_identical_to_the_documented_query(settings, filled, tmp_path):
    api.export(settings, "csv", tmp_path / "all.csv", account=ACCOUNT.key)
    plain = _plain_csv(settings.database, ACCOUNT.key, MIN_INSTANT, MAX_INSTANT)
    assert (tmp_path / "all.csv").read_bytes() == plain
    assert plain.count(b"\n") == len(filled) + 1

    day = dt.date(2026, 3, 8)
    api.export(settings, "csv", tmp_path / "day.csv", account=ACCOUNT.key, since=day, until=day)
    window = local_day_window(day, ACCOUNT.time_zone)
    plain = _plain_csv(settings.database, ACCOUNT.key, window.start_s, window.end_s)
    assert (tmp_path / "day.csv").read_bytes() == plain
    assert plain.count(b"\n") == 1 + sum(window.contains(s.instant_s) for s in filled)


def test_csv_is_byte_identical_to_the_sqlite3_shell(settings, filled, tmp_path):
    shell = shutil.which("sqlite3")
    if shell is None:
        pytest.skip("the sqlite3 command-line shell is not installed (Debian package sqlite3)")
    day = dt.date(2026, 3, 8)
    api.export(settings, "csv", tmp_path / "day.csv", account=ACCOUNT.key, since=day, until=day)
    window = local_day_window(day, ACCOUNT.time_zone)
    sql = plain_sqlite3_sql(ACCOUNT.key, window.start_s, window.end_s)
    done = subprocess.run(
        [shell, "-csv", "-header", settings.database, sql], capture_output=True, check=True
    )
    assert done.stdout == (tmp_path / "day.csv").read_bytes()
    everything = subprocess.run(
        [shell, "-csv", "-header", settings.database, plain_sqlite3_sql(ACCOUNT.key, 0, 2**62)],
        capture_output=True,
        check=True,
    )
    api.export(settings, "csv", tmp_path / "all.csv", account=ACCOUNT.key)
    assert everything.stdout == (tmp_path / "all.csv").read_bytes()


def test_parquet_holds_the_stores_rows_and_types(settings, filled, tmp_path):
    report = api.export(settings, "parquet", tmp_path / "hr.parquet", account=ACCOUNT.key)
    table = pq.read_table(tmp_path / "hr.parquet")
    assert table.schema.names == ["instant", "utc_offset_min", "bpm"]
    assert [f.nullable for f in table.schema] == [False, False, False]
    assert table.schema.field("instant").type == pa.timestamp("ms", tz="UTC")
    with sqlite3.connect(settings.database) as db:
        rows = db.execute(
            "SELECT instant, offset_min, bpm FROM heart_rate WHERE account_id = "
            "(SELECT id FROM account WHERE key = ?) ORDER BY instant",
            (ACCOUNT.key,),
        ).fetchall()
    instants = table.column("instant").cast(pa.int64()).to_pylist()
    back = list(
        zip(
            [i // 1000 for i in instants],
            table.column("utc_offset_min").to_pylist(),
            table.column("bpm").to_pylist(),
            strict=True,
        )
    )
    assert back == rows
    assert (report.samples, report.first_instant_s, report.last_instant_s) == (
        len(rows),
        rows[0][0],
        rows[-1][0],
    )
    metadata = pq.ParquetFile(tmp_path / "hr.parquet").metadata
    assert metadata.num_row_groups == 4  # one per UTC day, 7..10 March


def _local(sample: Sample) -> str:
    zone = dt.timezone(dt.timedelta(minutes=sample.offset_min))
    return dt.datetime.fromtimestamp(sample.instant_s, zone).isoformat()


def _fhir(sample: Sample, account: Account) -> bytes:
    """One Observation as the FHIR exporter wrote it before it was columnar."""
    tag = hashlib.sha256(account.key.encode()).hexdigest()[:12]
    return orjson.dumps(
        {
            "resourceType": "Observation",
            "id": f"hr-{tag}-{sample.instant_s}",
            "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/heartrate"]},
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ],
                    "text": "Vital Signs",
                }
            ],
            "code": {
                "coding": [
                    {"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}
                ],
                "text": "Heart rate",
            },
            "subject": {
                "identifier": {"system": "urn:heartkeep:account", "value": account.key},
                "display": account.display_name or account.key,
            },
            "effectiveDateTime": _local(sample),
            "valueQuantity": {
                "value": sample.bpm,
                "unit": "beats/minute",
                "system": "http://unitsofmeasure.org",
                "code": "/min",
            },
        }
    )


def _omh(sample: Sample, account: Account) -> bytes:
    """One Open mHealth data point as the exporter wrote it before it was columnar."""
    namespace = uuid.UUID("9a6c3f0e-5b7a-4f57-9d43-2f1c1b7f6e2a")
    return orjson.dumps(
        {
            "header": {
                "id": str(uuid.uuid5(namespace, f"{account.key}@{sample.instant_s}")),
                "creation_date_time": format_rfc3339(CREATED_S),
                "schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"},
                "acquisition_provenance": {
                    "source_name": f"heartkeep ({account.provider})",
                    "modality": "sensed",
                },
                "user_id": account.key,
            },
            "body": {
                "heart_rate": {"value": sample.bpm, "unit": "beats/min"},
                "effective_time_frame": {"date_time": _local(sample)},
            },
        }
    )


def _jsonl(sample: Sample) -> bytes:
    return orjson.dumps(
        {
            "time": _local(sample),
            "instant_s": sample.instant_s,
            "utc_offset_min": sample.offset_min,
            "bpm": sample.bpm,
        }
    )


def _expected(fmt: str, chosen: list[Sample], *, bundle: bool = False) -> bytes:
    if fmt == "jsonl":
        return b"".join(_jsonl(s) + b"\n" for s in chosen)
    if fmt == "omh":
        return b"".join(_omh(s, ACCOUNT) + b"\n" for s in chosen)
    if not bundle:
        return b"".join(_fhir(s, ACCOUNT) + b"\n" for s in chosen)
    head = orjson.dumps(
        {"resourceType": "Bundle", "type": "collection", "timestamp": format_rfc3339(CREATED_S)}
    )
    entries = b",".join(b'{"resource":' + _fhir(s, ACCOUNT) + b"}" for s in chosen)
    return head[:-1] + b',"entry":[' + entries + b"]}\n"


@pytest.mark.parametrize(
    ("fmt", "bundle"), [("jsonl", False), ("fhir", False), ("fhir", True), ("omh", False)]
)
@pytest.mark.parametrize("batch_size", [1, 997, 10_000])
def test_text_formats_equal_one_dumps_per_sample(
    settings, filled, tmp_path, fmt, bundle, batch_size
):
    window = Window(START + 86_400 - 3600, START + 2 * 86_400 + 3600)
    chosen = [s for s in filled if window.contains(s.instant_s)]
    if batch_size == 1:
        window = Window(window.start_s, window.start_s + 600)  # a dozen one-row statements
        chosen = [s for s in chosen if window.contains(s.instant_s)]
    with open_store(settings.database, readonly=True) as store:
        report = export(
            store,
            fmt,
            tmp_path / "out",
            account_key=ACCOUNT.key,
            window=window,
            fhir_bundle=bundle,
            created_s=CREATED_S,
            batch_size=batch_size,
        )
    assert (tmp_path / "out").read_bytes() == _expected(fmt, chosen, bundle=bundle)
    assert report.samples == len(chosen)
    assert report.first_instant_s == chosen[0].instant_s
    assert report.last_instant_s == chosen[-1].instant_s


def test_an_empty_window_gives_the_empty_shapes(settings, filled, tmp_path):
    window = Window(START - 100, START - 10)
    with open_store(settings.database, readonly=True) as store:
        for fmt, bundle in [("jsonl", False), ("fhir", True), ("omh", False)]:
            path = tmp_path / f"{fmt}-{bundle}"
            export(
                store,
                fmt,
                path,
                account_key=ACCOUNT.key,
                window=window,
                fhir_bundle=bundle,
                created_s=CREATED_S,
            )
            assert path.read_bytes() == _expected(fmt, [], bundle=bundle)


def test_a_sample_no_clock_can_show_stops_the_export_with_a_message(settings, filled, tmp_path):
    # The store's write path keeps day aggregates and refuses such an instant, so the row is put
    # there the way another program (or an older heartkeep) could have left it.
    with sqlite3.connect(settings.database) as db:
        db.execute(
            "INSERT INTO heart_rate (account_id, instant, bpm, offset_min, source) "
            "SELECT id, 300000000000, 70, 0, 0 FROM account WHERE key = ?",
            (ACCOUNT.key,),
        )
    (tmp_path / "hr.csv").write_text("previous\n")
    with pytest.raises(StoreError, match="cannot be written as a date"):
        api.export(settings, "csv", tmp_path / "hr.csv", account=ACCOUNT.key)
    assert (tmp_path / "hr.csv").read_text() == "previous\n"
    report = api.export(
        settings, "csv", tmp_path / "hr.csv", account=ACCOUNT.key, until=dt.date(2026, 3, 31)
    )
    assert report.samples == len(filled)


def test_the_shell_literal_quotes_the_account_key():
    sql = plain_sqlite3_sql("google-health:o'brien", -5, 7)
    assert "key = 'google-health:o''brien'" in sql
    assert "instant >= -5 AND instant < 7" in sql
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE account (id INTEGER, key TEXT)")
        db.execute("CREATE TABLE heart_rate (account_id, instant, bpm, offset_min)")
        assert db.execute(sql).fetchall() == []


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.integers(-62_135_596_800 + 2 * 86_400, 253_402_300_799 - 2 * 86_400),  # years 1..9999
    st.integers(-12 * 60, 14 * 60),
)
def test_sqlite_formats_times_as_datetime_does(instant_s: int, offset_min: int) -> None:
    with sqlite3.connect(":memory:") as db:
        utc, local = db.execute(
            f"SELECT strftime('%Y-%m-%dT%H:%M:%SZ', instant, 'unixepoch'), {LOCAL_TIME_SQL} "  # noqa: S608
            "FROM (SELECT :instant AS instant, :offset_min AS offset_min)",
            {"instant": instant_s, "offset_min": offset_min},
        ).fetchone()
    zone = dt.timezone(dt.timedelta(minutes=offset_min))
    moment = dt.datetime.fromtimestamp(instant_s, zone)
    # isoformat, not strftime: glibc's %Y leaves years before 1000 unpadded.
    assert utc == moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"
    assert local == moment.isoformat()


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    # 0000-01-02 .. 9999-12-30: local times stay within the years 0000-9999 (before year 0
    # strftime writes -001 and datetime() -0001; the exporter's NUL check covers years > 9999)
    st.integers(-62_167_219_200 + 86_400, 253_402_300_799 - 86_400),
    st.integers(-24 * 60, 24 * 60),
    st.integers(-1000, 1000),
)
def test_the_csv_line_is_the_plain_querys_row(instant_s: int, offset_min: int, bpm: int) -> None:
    """heartkeep's cheaper `datetime()` formatting gives the plain query's `strftime` text."""
    plain = PLAIN_SQLITE3_QUERY.replace("FROM heart_rate", "FROM sample").replace(
        "account_id = (SELECT id FROM account WHERE key = :account_key)", "1"
    )
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE sample (instant, bpm, offset_min)")
        db.execute("INSERT INTO sample VALUES (?, ?, ?)", (instant_s, bpm, offset_min))
        row = db.execute(plain, {"start_s": MIN_INSTANT, "end_s": MAX_INSTANT}).fetchone()
        (line,) = db.execute(f"SELECT {CSV_LINE_SQL} FROM sample").fetchone()  # noqa: S608
    assert line == ",".join(str(value) for value in row)


@given(st.lists(st.text(max_size=40), max_size=20), st.uuids())
def test_uuid5_ids_equal_the_standard_librarys(names: list[str], namespace: uuid.UUID) -> None:
    ids = uuid5_ids([name.encode() for name in names], namespace).tolist()
    assert ids == [f'"{uuid.uuid5(namespace, name)}"'.encode() for name in names]
