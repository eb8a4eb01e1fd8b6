"""Takeout / Fitbit archives: every layout, DST days, twins, broken files, re-imports."""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import zipfile
from contextlib import nullcontext
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from takeout_archive import LAYOUTS, archive_files, heart_rate_json, minute_samples, write

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.errors import ConfigError, ImportFormatError
from heartkeep.importers import FileDone
from heartkeep.importers.takeout import Kind, Member, parse_fitbit_datetime, read_members
from heartkeep.model import Account, DailyKind, Sample, Source
from heartkeep.store import open_store

ZONE = "Europe/Berlin"
# Spring forward (23 h), an ordinary day, fall back (25 h).
DAYS = (dt.date(2026, 3, 29), dt.date(2026, 6, 1), dt.date(2026, 10, 25))


def expected(samples: list[tuple[int, int]], zone: str = ZONE) -> list[Sample]:
    tz = ZoneInfo(zone)
    return [
        Sample(i, b, int(dt.datetime.fromtimestamp(i, tz).utcoffset().total_seconds()) // 60)
        for i, b in sorted(samples)
    ]


def stored(settings: Settings, key: str) -> list[Sample]:
    with open_store(settings.database) as store:
        return [s for batch in store.iter_samples(key) for s in batch]


@pytest.fixture(scope="module")
def samples() -> list[tuple[int, int]]:
    return minute_samples(ZONE, DAYS)


@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_imports_every_sample_with_dst_correct_offsets(
    settings: Settings, tmp_path: Path, samples, layout: str, as_zip: bool
) -> None:
    files = archive_files(layout, samples, ZONE)
    path = write(files, tmp_path / ("a.zip" if as_zip else "a"), as_zip=as_zip)

    report = api.import_takeout(settings, [path], time_zone=ZONE)

    assert report.inserted == len(samples)
    assert report.ignored_files == 2
    assert report.day_mismatches == 0
    rows = stored(settings, report.account_key)
    assert rows == expected(samples)
    # The local days are 23, 24 and 25 hours long.
    per_day = {day: sum(1 for r in rows if _local_day(r) == day) for day in DAYS}
    assert per_day == {DAYS[0]: 23 * 60, DAYS[1]: 24 * 60, DAYS[2]: 25 * 60}


def _local_day(sample: Sample) -> dt.date:
    return dt.datetime.fromtimestamp(sample.instant_s + sample.offset_min * 60, dt.UTC).date()


def test_json_and_csv_twins_land_on_the_same_rows(settings: Settings, tmp_path: Path, samples):
    """Importing an archive holding both twins counts every sample once."""
    path = write(
        archive_files("takeout-google-health", samples, ZONE), tmp_path / "a.zip", as_zip=True
    )
    report = api.import_takeout(settings, [path], time_zone=ZONE)
    assert report.samples_read == 2 * len(samples)
    assert report.inserted == len(samples)
    assert len(stored(settings, report.account_key)) == len(samples)


def test_reimport_and_overlapping_archives_add_nothing(settings: Settings, tmp_path: Path, samples):
    first = write(archive_files("myfitbitdata", samples, ZONE), tmp_path / "a.zip", as_zip=True)
    later = write(archive_files("takeout-fitbit", samples, ZONE), tmp_path / "b", as_zip=False)
    report = api.import_takeout(settings, [first], time_zone=ZONE)
    assert report.account_key == "takeout:jodoe"
    again = api.import_takeout(settings, [first])
    more = api.import_takeout(settings, [later])
    assert (again.inserted, again.updated) == (0, 0)
    assert (more.inserted, more.updated) == (0, 0)
    assert len(stored(settings, report.account_key)) == len(samples)


def test_split_archive_parts_import_together(settings: Settings, tmp_path: Path, samples):
    files = archive_files("takeout-fitbit", samples, ZONE)
    names = sorted(files)
    part1 = write({n: files[n] for n in names[::2]}, tmp_path / "takeout-1-001.zip", as_zip=True)
    part2 = write({n: files[n] for n in names[1::2]}, tmp_path / "takeout-1-002.zip", as_zip=True)
    report = api.import_takeout(settings, [part1, part2], time_zone=ZONE)
    assert report.inserted == len(samples)


@pytest.mark.parametrize(
    ("name", "text", "where", "reason"),
    [
        (
            "Takeout/Fitbit/Global Export Data/heart_rate-2026-06-02.json",
            '[{"dateTime" : ',
            "heart_rate-2026-06-02.json",
            "not valid JSON",
        ),
        (
            "Takeout/Fitbit/Global Export Data/heart_rate-2026-06-02.json",
            '[{"dateTime" : "06/02/26 10:00:00", "value" : {"bpm" : 60}}, '
            '{"dateTime" : "06/02/26 25:00:00", "value" : {"bpm" : 61}}]',
            "record 2",
            "no such time of day",
        ),
        (
            "Takeout/Fitbit/Global Export Data/heart_rate-2026-06-02.json",
            '[{"dateTime" : "06/02/26 10:00:00", "value" : {}}]',
            "record 1",
            "missing field 'bpm'",
        ),
        (
            "Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_2026-06-02.csv",
            "timestamp,beats per minute\n2026-06-02T00:00:04Z,65.0\n2026-06-02T00:00:09Z,sixty\n",
            "line 3",
            "not a heart-rate row",
        ),
        (
            "Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_2026-06-02.csv",
            "time,bpm\n2026-06-02T00:00:04Z,65.0\n",
            "line 1",
            "unexpected header",
        ),
        (
            "Takeout/Fitbit/Physical Activity_GoogleData/heart_rate_2026-06-02.csv",
            "timestamp,beats per minute\n2026-06-02T00:00:04,65.0\n",
            "line 2",
            "not UTC",
        ),
    ],
    ids=["bad-json", "bad-time", "missing-bpm", "bad-row", "wrong-header", "naive-stamp"],
)
def test_a_broken_file_names_file_and_record_and_commits_nothing(
    settings: Settings, tmp_path: Path, samples, name: str, text: str, where: str, reason: str
) -> None:
    files = archive_files("takeout-fitbit", samples, ZONE)
    files[name] = text
    path = write(files, tmp_path / "a.zip", as_zip=True)
    with pytest.raises(ImportFormatError) as caught:
        api.import_takeout(settings, [path], time_zone=ZONE)
    message = str(caught.value)
    assert name.rsplit("/", 1)[-1] in message
    assert where in message
    assert reason in message
    with open_store(settings.database) as store:
        assert store.accounts() == []  # not even the new account survives


def test_resting_heart_rate_files_skip_placeholders_and_read_dates_as_labels(
    settings: Settings, tmp_path: Path, samples
) -> None:
    files = archive_files("takeout-fitbit", samples, ZONE)
    files["Takeout/Fitbit/Global Export Data/resting_heart_rate-2026-03-29.json"] = (
        '[{"dateTime" : "03/29/26 00:00:00", "value" : {"date" : "03/29/26", "value" : '
        '54.01231098175049, "error" : 6.787}},{"dateTime" : "03/30/26 00:00:00", "value" : '
        '{"date" : null, "value" : 0.0, "error" : 0.0}}]'
    )
    files[
        "Takeout/Google Health/Physical Activity_GoogleData/Daily Resting Heart Rate/"
        "daily_resting_heart_rate.csv"
    ] = "timestamp,beats per minute,data source\n2026-06-01T00:00:00Z,66.876,Fitbit App\n"
    files["Takeout/Fitbit/Global Export Data/time_in_heart_rate_zones-2026-06-01.json"] = (
        '[{"dateTime": "06/01/26 00:00:00", "value": {"valuesInZones": {"IN_DEFAULT_ZONE_2": 9.0,'
        ' "BELOW_DEFAULT_ZONE_1": 807.0, "IN_DEFAULT_ZONE_1": 70.0, "IN_DEFAULT_ZONE_3": 0.0}}}]'
    )
    path = write(files, tmp_path / "a.zip", as_zip=True)
    report = api.import_takeout(settings, [path], time_zone="America/Los_Angeles")
    assert report.dailies == 3
    with open_store(settings.database) as store:
        resting = store.dailies(report.account_key, kind=DailyKind.RESTING_HR)
        zones = store.dailies(report.account_key, kind=DailyKind.ZONES)
    # A western zone must not shift the label 2026-06-01T00:00:00Z to May 31.
    assert [(d.day, d.value) for d in resting] == [
        (dt.date(2026, 3, 29), pytest.approx(54.01231098175049)),
        (dt.date(2026, 6, 1), pytest.approx(66.876)),
    ]
    assert zones[0].day == dt.date(2026, 6, 1)
    assert {z.name: z.minutes for z in zones[0].zones} == {
        "Out of Range": 807.0,
        "Fat Burn": 70.0,
        "Cardio": 9.0,
        "Peak": 0.0,
    }


def test_a_wrong_time_zone_shows_up_as_day_mismatches(settings: Settings, tmp_path: Path, samples):
    path = write(archive_files("user-site-export", samples, ZONE), tmp_path / "a", as_zip=False)
    report = api.import_takeout(settings, [path], time_zone="America/New_York")
    assert report.day_mismatches > len(samples) // 5


def test_the_first_import_needs_a_time_zone_and_several_accounts_need_a_choice(
    settings: Settings, tmp_path: Path, samples
) -> None:
    path = write(archive_files("takeout-fitbit", samples, ZONE), tmp_path / "a.zip", as_zip=True)
    with pytest.raises(ConfigError, match="time zone"):
        api.import_takeout(settings, [path])
    with pytest.raises(ConfigError, match="unknown time zone"):
        api.import_takeout(settings, [path], time_zone="Mars/Olympus")
    api.import_takeout(settings, [path], time_zone=ZONE, name="first")
    api.import_takeout(settings, [path], account="takeout:first")
    with open_store(settings.database) as store:
        store.upsert_account(Account("google-health", "42", "Other", "UTC"))
    with pytest.raises(ConfigError, match="--account"):
        api.import_takeout(settings, [path])


def test_an_archive_without_heart_data_is_an_error(settings: Settings, tmp_path: Path):
    path = write({"Takeout/Fitbit/readme.txt": "hello"}, tmp_path / "a.zip", as_zip=True)
    with pytest.raises(ImportFormatError, match="no heart-rate"):
        api.import_takeout(settings, [path], time_zone=ZONE)
    (tmp_path / "not.zip").write_text("plain text")
    with pytest.raises(ImportFormatError, match="not a zip"):
        api.import_takeout(settings, [tmp_path / "not.zip"], time_zone=ZONE)


def test_unordered_records_and_zero_bpm_are_handled(tmp_path: Path) -> None:
    """Real files contain steps back in time and zero readings (which are gaps, not data)."""
    base = int(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC).timestamp())
    text = heart_rate_json([(base + 60, 70), (base, 65), (base + 120, 0)])
    member = _member(text, dt.date(2026, 6, 1))
    batches = [item for item in read_members([member], ZONE) if not isinstance(item, FileDone)]
    assert sorted(s for batch in batches for s in batch) == [
        Sample(base, 65, 120),
        Sample(base + 60, 70, 120),
    ]


def _member(text: str, day: dt.date) -> Member:
    data = text.encode()
    return Member(
        f"heart_rate-{day}.json", Kind.HEART_RATE_JSON, day, lambda: nullcontext(io.BytesIO(data))
    )


@hsettings(max_examples=60, deadline=None)
@given(
    instants=st.lists(
        st.integers(1_230_768_000, 1_924_991_999), min_size=1, max_size=40, unique=True
    ),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
    ),
)
def test_json_records_are_read_as_utc_with_the_zone_offset_at_each_instant(instants, zone):
    text = heart_rate_json([(i, 60) for i in instants])
    items = list(read_members([_member(text, dt.date(2026, 1, 1))], zone))
    got = sorted(s for item in items if not isinstance(item, FileDone) for s in item)
    assert got == expected([(i, 60) for i in instants], zone)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_fitbit_datetime_parses_its_own_format(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert parse_fitbit_datetime(moment.strftime("%m/%d/%y %H:%M:%S")) == moment


def test_zip_members_are_streamed_not_extracted(settings: Settings, tmp_path: Path, samples):
    """The importer reads members from the zip; nothing is unpacked next to it."""
    path = write(archive_files("takeout-fitbit", samples, ZONE), tmp_path / "a.zip", as_zip=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    api.import_takeout(settings, [path], time_zone=ZONE)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert zipfile.is_zipfile(path)


def test_tgz_exports_import_like_zips(settings: Settings, tmp_path: Path, samples):
    """Takeout can deliver .tgz instead of .zip; members are read in archive order."""
    files = archive_files("takeout-google-health", samples, ZONE)
    path = tmp_path / "takeout-20261120T101010Z-001.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    report = api.import_takeout(settings, [path], time_zone=ZONE)
    assert report.inserted == len(samples)
    assert stored(settings, report.account_key) == expected(samples)


@hsettings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(1_230_768_000, 1_924_991_999), st.floats(30, 220)),
        min_size=1,
        max_size=40,
        unique_by=lambda row: row[0],
    ),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
)
def test_csv_rows_are_read_as_utc_with_rounded_bpm(rows, zone):
    lines = ["timestamp,beats per minute,data source"] + [
        f"{dt.datetime.fromtimestamp(i, dt.UTC):%Y-%m-%dT%H:%M:%SZ},{bpm!r},"
        '"Garmin Connect, Health Connect"'
        for i, bpm in rows
    ]
    data = ("\n".join(lines) + "\n").encode()
    member = Member(
        "heart_rate_2026-01-01.csv",
        Kind.HEART_RATE_CSV,
        dt.date(2026, 1, 1),
        lambda: nullcontext(io.BytesIO(data)),
    )
    got = sorted(
        s for item in read_members([member], zone) if not isinstance(item, FileDone) for s in item
    )
    assert got == expected([(i, round(bpm)) for i, bpm in rows], zone)


def test_an_import_never_replaces_synced_samples(settings: Settings, tmp_path: Path, samples):
    """Synced samples carry the provider's offset (here: a trip); the archive only guesses."""
    synced = [Sample(i, b + 1, -240) for i, b in samples[1000:1100]]
    with open_store(settings.database) as store:
        store.upsert_account(Account("google-health", "42", "Jo", ZONE))
        store.write_samples("google-health:42", synced, Source.GOOGLE_HEALTH)
    path = write(archive_files("takeout-fitbit", samples, ZONE), tmp_path / "a.zip", as_zip=True)
    report = api.import_takeout(settings, [path])
    assert report.account_key == "google-health:42"
    assert (report.inserted, report.updated) == (len(samples) - 100, 0)
    rows = stored(settings, "google-health:42")
    assert rows[1000:1100] == synced
    assert len(rows) == len(samples)


def test_progress_is_reported_file_by_file(settings: Settings, tmp_path: Path, samples):
    path = write(archive_files("takeout-fitbit", samples, ZONE), tmp_path / "a.zip", as_zip=True)
    seen = []
    report = api.import_takeout(settings, [path], time_zone=ZONE, on_progress=seen.append)
    assert [p.files_done for p in seen] == list(range(1, report.files + 1))
    assert {p.files_total for p in seen} == {report.files}
    assert seen[-1].samples_read == report.samples_read
    assert all(a.samples_read <= b.samples_read for a, b in pairwise(seen))
    assert seen[0].current_file.endswith(".csv") or seen[0].current_file.endswith(".json")
