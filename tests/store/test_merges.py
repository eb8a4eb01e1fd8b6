"""No reading is merged silently: two readings in one whole second leave one row, and say so.

The store keys samples by (account, whole second).  Google's times carry fractions, and archive
files can hold two readings of the same second; the store keeps one row (the larger bpm, so the
result does not depend on their order) and counts every merge per account, where the sync
report, the import report and `heartkeep status` show it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.model import Sample, Source
from heartkeep.store import open_store
from heartkeep.store.migrations import LATEST_VERSION, STEPS

KEY = "google-health:4809172653309184512"
T0 = 1_790_000_000
runner = CliRunner()


def test_two_readings_in_one_second_keep_the_larger_and_are_counted(backend) -> None:
    with backend.fresh() as store:
        for order in (1, -1):
            key = f"{KEY}{order}"
            readings = [Sample(T0, 71, 60), Sample(T0, 74, 60), Sample(T0 + 1, 70, 60)]
            result = store.write_samples(key, readings[::order], Source.GOOGLE_HEALTH)
            assert (result.inserted, result.updated, result.merged) == (2, 0, 1)
            assert [s for b in store.iter_samples(key) for s in b] == [
                Sample(T0, 74, 60),
                Sample(T0 + 1, 70, 60),
            ]
            assert store.merged_samples(key) == 1
        # Merges add up across writes; a plain re-read of stored rows merges nothing.
        store.write_samples(f"{KEY}1", [Sample(T0 + 5, 60, 60)] * 3, Source.GOOGLE_HEALTH)
        store.write_samples(f"{KEY}1", [Sample(T0, 74, 60)], Source.GOOGLE_HEALTH)
        assert store.merged_samples(f"{KEY}1") == 3


def test_merges_across_batch_boundaries_of_one_sorted_write_are_counted(backend) -> None:
    readings = [Sample(T0 + i // 2, 60 + i % 2, 0) for i in range(25_000)]
    with backend.fresh() as store:
        result = store.write_samples(KEY, readings, Source.TAKEOUT)
        assert result.inserted == 12_500
        assert result.merged == 12_500
        assert store.merged_samples(KEY) == 12_500


def _archive_with_fractions(folder: Path) -> Path:
    """A Takeout CSV day whose 00:00:04 second holds two readings (.2 s and .7 s)."""
    day = folder / "Takeout/Google Health/Physical Activity_GoogleData"
    day.mkdir(parents=True)
    (day / "heart_rate_2026-11-01.csv").write_text(
        "timestamp,beats per minute,data source\n"
        "2026-11-01T00:00:03Z,70.0,Pixel Watch\n"
        "2026-11-01T00:00:04.200Z,72.0,Pixel Watch\n"
        "2026-11-01T00:00:04.700Z,77.0,Pixel Watch\n"
        "2026-11-01T00:00:05Z,75.0,Pixel Watch\n"
    )
    return folder


def test_an_import_with_two_readings_in_one_second_says_so(home: Path, tmp_path: Path) -> None:
    archive = _archive_with_fractions(tmp_path / "takeout")

    result = runner.invoke(
        app, ["import", "takeout", str(archive), "--time-zone", "UTC", "--name", "jo"]
    )

    assert result.exit_code == 0, result.output
    assert "4 samples read, 3 new" in result.output
    assert "1 readings shared a second" in result.output
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    (entry,) = json.loads(status.output)["accounts"]
    assert entry["samples_merged"] == 1
    # The same archive again replaces the first import: nothing new, the merge counted once.
    again = runner.invoke(app, ["import", "takeout", str(archive)])
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output
    assert "Same files as import 1: it was replaced" in again.output
    status = runner.invoke(app, ["status", "--json"])
    assert json.loads(status.output)["accounts"][0]["samples_merged"] == 1
    assert "merged" in runner.invoke(app, ["status"]).output
    doctor = runner.invoke(app, ["doctor", "--json"])
    (finding,) = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "merges"]
    assert finding["level"] == "ok"
    assert "1 readings shared a whole second" in finding["message"]


def test_a_store_written_by_the_previous_schema_is_upgraded_with_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        for number, step in enumerate(STEPS[:2], start=1):
            for statement in step:
                old.execute(statement)
            old.execute(f"PRAGMA user_version = {number}")
        old.execute(
            "INSERT INTO account (id, key, provider, user_id, created_s) "
            "VALUES (0, ?, 'google-health', '4809172653309184512', 0)",
            (KEY,),
        )
        old.execute("INSERT INTO heart_rate VALUES (0, ?, 66, 60, 0)", (T0,))
    old.close()

    with open_store(str(path)) as store:
        assert [s for b in store.iter_samples(KEY) for s in b] == [Sample(T0, 66, 60)]
        assert store.merged_samples(KEY) == 0
        store.write_samples(KEY, [Sample(T0, 60, 60), Sample(T0, 62, 60)], Source.GOOGLE_HEALTH)
        assert store.merged_samples(KEY) == 1
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    check.close()


def test_google_times_with_fractions_are_merged_and_counted(backend) -> None:
    """A Google Health page with two readings in one second, as the live API can serve them."""
    from heartkeep.providers.google_heart_rate import parse_heart_rate_page

    def point(stamp: str, bpm: int) -> dict[str, object]:
        return {
            "heartRate": {
                "sampleTime": {"physicalTime": stamp, "utcOffset": "3600s"},
                "beatsPerMinute": str(bpm),
            }
        }

    body = {
        "dataPoints": [
            point("2026-11-01T00:00:05Z", 75),
            point("2026-11-01T00:00:04.700Z", 77),
            point("2026-11-01T00:00:04.200Z", 72),
        ]
    }
    samples, _ = parse_heart_rate_page(json.dumps(body).encode())
    with backend.fresh() as store:
        result = store.write_samples(KEY, samples, Source.GOOGLE_HEALTH)
        assert (result.inserted, result.merged) == (2, 1)
        assert store.merged_samples(KEY) == 1
        stored = [s for b in store.iter_samples(KEY) for s in b]
    assert [s.bpm for s in stored] == [77, 75]


def test_a_sync_reports_its_merges_in_text_and_json(world_factory, small_user) -> None:
    """The sandbox serves whole seconds, so a sync merges nothing — and says so."""
    world = world_factory(users=(small_user(2),))

    report = world.sync()

    assert report.exit_code == 0
    assert report.as_json()["samples_merged"] == 0
    assert report.as_json()["accounts"][0]["samples_merged"] == 0
    with world.store() as store:
        assert store.merged_samples(world.account_key) == 0
