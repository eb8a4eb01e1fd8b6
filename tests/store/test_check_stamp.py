"""When a writer trusts an earlier integrity check (store/check_stamp.py).

`quick_check` costs seconds on a year's store, so a sync skips it when the file is exactly as
heartkeep's last writer left it — and runs it after any outside change, after a killed writer,
and at least weekly.  Damage is what these tests make sure is never waved through.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heartkeep.errors import StoreError
from heartkeep.model import Account, Sample, Source
from heartkeep.store import check_stamp, opening
from heartkeep.store.sqlite import SqliteStore

ACCOUNT = "google-health:1"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every quick_check the writer runs, by file."""
    seen: list[Path] = []
    real = opening.check_integrity

    def counting(db, path, *, full=False):  # type: ignore[no-untyped-def]
        seen.append(path)
        real(db, path, full=full)

    monkeypatch.setattr(opening, "check_integrity", counting)
    return seen


def fill(path: Path, start_s: int = 1_700_000_000, count: int = 20_000) -> None:
    with SqliteStore(path) as store:
        store.upsert_account(Account("google-health", "1"))
        readings = [Sample(start_s + i, 60 + i % 40, 60) for i in range(count)]
        store.write_samples(ACCOUNT, readings, Source.GOOGLE_HEALTH)


def damage_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    for number in range(pages // 4, 3 * pages // 4):
        data[number * 4096 : (number + 1) * 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(data))


def test_a_file_as_heartkeep_left_it_is_not_checked_again(tmp_path: Path, checks: list[Path]):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    SqliteStore(database).close()
    SqliteStore(database).close()
    assert checks == []  # created by us, then twice untouched in between
    assert oct(check_stamp.stamp_path(database).stat().st_mode & 0o777) == "0o600"


def test_a_file_changed_by_another_program_is_checked_and_damage_refused(
    tmp_path: Path, checks: list[Path]
):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    damage_middle(database)
    before = database.read_bytes()
    with pytest.raises(StoreError, match="is damaged"):
        SqliteStore(database)
    assert checks == [database]
    assert database.read_bytes() == before  # never written into


def test_a_writer_that_never_closed_leaves_no_trust_behind(tmp_path: Path, checks: list[Path]):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    SqliteStore(database)  # killed mid-sync: no close, no new stamp for what it wrote
    stamp = check_stamp.stamp_path(database)
    stamp.unlink()  # what a killed process leaves: the stamp of an earlier state at best
    SqliteStore(database).close()
    assert checks == [database]


def test_a_stamp_of_another_state_is_not_trusted(tmp_path: Path, checks: list[Path]):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    stamp = check_stamp.stamp_path(database).read_text()
    fill(database, start_s=1_800_000_000, count=10)  # a later write changed the file
    check_stamp.stamp_path(database).write_text(stamp)  # e.g. a backup restored beside it
    SqliteStore(database).close()
    assert checks == [database]


def test_the_check_runs_at_least_weekly(tmp_path: Path):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    checked_s = check_stamp.last_clean_check(database)
    assert checked_s is not None
    week = check_stamp.RECHECK_AFTER_S
    assert check_stamp.last_clean_check(database, now_s=checked_s + week - 1) == checked_s
    assert check_stamp.last_clean_check(database, now_s=checked_s + week + 1) is None
    assert check_stamp.last_clean_check(database, now_s=checked_s - 60) is None  # clock went back


def test_a_pending_write_ahead_log_means_a_check(tmp_path: Path, checks: list[Path]):
    database = tmp_path / "heartkeep.sqlite"
    fill(database)
    assert check_stamp.last_clean_check(database) is not None
    wal = database.with_name(database.name + "-wal")
    wal.write_bytes(os.urandom(32))  # a writer elsewhere left pages in the log
    assert check_stamp.last_clean_check(database) is None
