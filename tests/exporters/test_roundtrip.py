"""Store → each export → read back with the ecosystem's own readers → equal to the store."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.errors import HeartkeepError, NoAccounts, UsageError
from heartkeep.exporters import export
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store
from heartkeep.timeline import local_day_window

ACCOUNT = Account("google-health", "4809", "Jo Doe", "Europe/Berlin")
SCHEMA = json.loads((Path(__file__).parent / "data" / "omh-heart-rate-2.0.json").read_text())
START = int(dt.datetime(2026, 10, 24, tzinfo=dt.UTC).timestamp())


def traveller_samples() -> list[Sample]:
    """Three days every 37 s: Berlin summer time, the fall-back change, then New York."""
    samples = []
    for instant in range(START, START + 3 * 86_400, 37):
        if instant < int(dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC).timestamp()):
            offset = 120
        elif instant < START + 2 * 86_400:
            offset = 60
        else:
            offset = -240
        samples.append(Sample(instant, 45 + instant % 120, offset))
    return samples


@pytest.fixture
def filled(settings: Settings) -> list[Sample]:
    samples = traveller_samples()
    with open_store(settings.database) as store:
        store.upsert_account(ACCOUNT)
        store.write_samples(ACCOUNT.key, samples, Source.GOOGLE_HEALTH)
    return samples


def local(sample: Sample) -> dt.datetime:
    return dt.datetime.fromtimestamp(
        sample.instant_s, dt.timezone(dt.timedelta(minutes=sample.offset_min))
    )


def test_csv_reads_back_equal(settings: Settings, filled, tmp_path: Path):
    report = api.export(settings, "csv", tmp_path / "hr.csv")
    with (tmp_path / "hr.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert report.samples == len(rows) == len(filled)
    back = [
        Sample(
            int(dt.datetime.fromisoformat(row["instant_utc"]).timestamp()),
            int(row["bpm"]),
            int(row["utc_offset_min"]),
        )
        for row in rows
    ]
    assert back == filled
    assert all(
        row["local_time"] == local(s).replace(tzinfo=None).isoformat()
        for row, s in zip(rows, filled, strict=True)
    )
    assert rows[0] == {
        "instant_utc": "2026-10-24T00:00:00Z",
        "local_time": "2026-10-24T02:00:00",
        "utc_offset_min": "120",
        "bpm": str(filled[0].bpm),
    }


def test_parquet_is_typed_compressed_grouped_by_day_and_equal(settings, filled, tmp_path):
    api.export(settings, "parquet", tmp_path / "hr.parquet")
    table = pq.read_table(tmp_path / "hr.parquet")
    # Written as timestamp[s, tz=UTC]; Parquet has no seconds unit, so the file stores
    # TIMESTAMP(MILLIS, UTC) and Arrow reads milliseconds back (same whole-second values).
    assert table.schema.field("instant").type == pa.timestamp("ms", tz="UTC")
    logical = pq.ParquetFile(tmp_path / "hr.parquet").schema.column(0).logical_type
    assert "isAdjustedToUTC=true" in str(logical)
    assert table.schema.field("utc_offset_min").type == pa.int64()
    assert table.schema.field("bpm").type == pa.int64()
    back = [
        Sample(int(i.timestamp()), b, o)
        for i, o, b in zip(
            table.column("instant").to_pylist(),
            table.column("utc_offset_min").to_pylist(),
            table.column("bpm").to_pylist(),
            strict=True,
        )
    ]
    assert back == filled
    meta = pq.ParquetFile(tmp_path / "hr.parquet").metadata
    assert meta.num_row_groups == 3  # one per UTC day
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert meta.metadata[b"heartkeep.account"] == ACCOUNT.key.encode()


def test_jsonl_reads_back_equal(settings, filled, tmp_path):
    api.export(settings, "jsonl", tmp_path / "hr.jsonl")
    lines = (tmp_path / "hr.jsonl").read_text().splitlines()
    back = []
    for line in lines:
        record = json.loads(line)
        moment = dt.datetime.fromisoformat(record["time"])
        assert int(moment.timestamp()) == record["instant_s"]
        assert moment.utcoffset() == dt.timedelta(minutes=record["utc_offset_min"])
        back.append(Sample(record["instant_s"], record["bpm"], record["utc_offset_min"]))
    assert back == filled


def _from_observation(observation: Observation) -> Sample:
    moment = observation.effectiveDateTime
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    offset = moment.utcoffset()
    assert offset is not None
    return Sample(
        int(moment.timestamp()),
        int(observation.valueQuantity.value),
        int(offset.total_seconds() // 60),
    )


def test_fhir_ndjson_is_valid_r4_heart_rate_and_equal(settings, filled, tmp_path):
    day = dt.date(2026, 10, 25)
    api.export(settings, "fhir", tmp_path / "hr.ndjson", since=day, until=day)
    observations = [
        Observation.model_validate_json(line)
        for line in (tmp_path / "hr.ndjson").read_text().splitlines()
    ]
    # The local day in Berlin (25 hours long on the fall-back day).
    expected = [s for s in filled if local(s).date() == day and s.offset_min > 0]
    assert [_from_observation(o) for o in observations] == expected
    first = observations[0]
    assert first.status == "final"
    assert first.code.coding[0].system == "http://loinc.org"
    assert first.code.coding[0].code == "8867-4"
    assert first.category[0].coding[0].code == "vital-signs"
    assert (first.valueQuantity.system, first.valueQuantity.code) == (
        "http://unitsofmeasure.org",
        "/min",
    )
    assert len({o.id for o in observations}) == len(observations)


def test_fhir_bundle_is_a_valid_r4_bundle_and_equal(settings, filled, tmp_path):
    day = dt.date(2026, 10, 26)
    api.export(settings, "fhir", tmp_path / "hr.json", since=day, until=day, fhir_bundle=True)
    bundle = Bundle.model_validate_json((tmp_path / "hr.json").read_text())
    assert bundle.type == "collection"
    back = [_from_observation(entry.resource) for entry in bundle.entry]
    # since/until are local days in the account's zone (Berlin), whatever zone a sample is in.
    window = local_day_window(day, ACCOUNT.time_zone)
    assert back == [s for s in filled if window.contains(s.instant_s)]


def test_open_mhealth_points_validate_and_equal(settings, filled, tmp_path):
    api.export(settings, "omh", tmp_path / "hr.omh.jsonl")
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    back = []
    ids = set()
    for line in (tmp_path / "hr.omh.jsonl").read_text().splitlines():
        point = json.loads(line)
        validator.validate(point)
        assert point["header"]["schema_id"] == {
            "namespace": "omh",
            "name": "heart-rate",
            "version": "2.0",
        }
        moment = dt.datetime.fromisoformat(point["body"]["effective_time_frame"]["date_time"])
        offset = moment.utcoffset()
        assert offset is not None
        back.append(
            Sample(
                int(moment.timestamp()),
                point["body"]["heart_rate"]["value"],
                int(offset.total_seconds()) // 60,
            )
        )
        ids.add(point["header"]["id"])
    assert back == filled
    assert len(ids) == len(filled)


@pytest.mark.parametrize(
    "broken",
    [
        lambda p: p["body"].pop("effective_time_frame"),
        lambda p: p["body"]["heart_rate"].update(unit="bpm"),
        lambda p: p["body"]["effective_time_frame"].update(date_time="2026-10-24 02:00"),
    ],
    ids=["missing-time-frame", "incorrect-unit", "not-rfc3339"],
)
def test_the_omh_schema_rejects_what_the_standard_rejects(settings, filled, tmp_path, broken):
    """The schema we validate against is not a rubber stamp (openmhealth's shouldFail cases)."""
    api.export(settings, "omh", tmp_path / "hr.jsonl", until=dt.date(2026, 10, 24))
    point = json.loads((tmp_path / "hr.jsonl").read_text().splitlines()[0])
    broken(point)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(point)


def test_since_until_are_inclusive_local_days(settings, filled, tmp_path):
    report = api.export(
        settings,
        "jsonl",
        tmp_path / "x.jsonl",
        since=dt.date(2026, 10, 25),
        until=dt.date(2026, 10, 25),
    )
    # Berlin's 25-hour local day, from 22:00 UTC on the 24th to 23:00 UTC on the 25th.
    start = int(dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(2026, 10, 25, 23, tzinfo=dt.UTC).timestamp())
    assert report.samples == sum(1 for s in filled if start <= s.instant_s < end)
    assert report.first_instant_s is not None
    assert report.first_instant_s >= start


def test_an_empty_range_writes_a_valid_empty_file(settings, filled, tmp_path):
    for fmt in ("csv", "parquet", "jsonl", "fhir", "omh"):
        report = api.export(settings, fmt, tmp_path / f"e.{fmt}", since=dt.date(2030, 1, 1))
        assert report.samples == 0
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0
    assert (tmp_path / "e.csv").read_text() == "instant_utc,local_time,utc_offset_min,bpm\n"


def test_unknown_format_and_account_are_user_errors(settings, filled, tmp_path):
    with pytest.raises(UsageError, match="unknown export format"):
        api.export(settings, "xml", tmp_path / "x.xml")
    with pytest.raises(NoAccounts):
        api.export(settings, "csv", tmp_path / "x.csv", account="google-health:nobody")
    assert not (tmp_path / "x.xml").exists()


def test_a_failed_export_keeps_the_previous_file_and_leaves_no_partial(settings, filled, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "hr.csv").write_text("previous export\n")
    with open_store(settings.database) as store, pytest.raises(UsageError):
        export(store, "nope", out / "hr.csv", account_key=ACCOUNT.key)
    with pytest.raises(NoAccounts):
        api.export(settings, "csv", out / "hr.csv", account="google-health:nobody")
    assert [p.name for p in out.iterdir()] == ["hr.csv"]
    assert (out / "hr.csv").read_text() == "previous export\n"


def test_export_streams_in_batches(settings, filled, tmp_path):
    """Small batches give the same file as one big batch: the writers carry no state across."""
    with open_store(settings.database) as store:
        export(store, "parquet", tmp_path / "a.parquet", account_key=ACCOUNT.key, batch_size=997)
        export(store, "csv", tmp_path / "a.csv", account_key=ACCOUNT.key, batch_size=997)
        export(store, "csv", tmp_path / "b.csv", account_key=ACCOUNT.key)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert pq.read_table(tmp_path / "a.parquet").num_rows == len(filled)
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 3


def test_an_unwritable_destination_is_a_clear_error(settings, filled, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "csv-not-a-folder.csv").write_text("")
    with pytest.raises(HeartkeepError, match="cannot write"):
        api.export(settings, "csv", tmp_path / "taken")
    with pytest.raises(HeartkeepError, match="cannot write"):
        api.plot_trend(settings, tmp_path / "csv-not-a-folder.csv" / "trend.png")
    with pytest.raises(HeartkeepError, match="cannot write"):
        api.report(settings, tmp_path / "taken")
