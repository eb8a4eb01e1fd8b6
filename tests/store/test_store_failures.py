"""The database as a person can break it: a typo'd path, another program's file, a damaged file,
and the permissions heartkeep gives what it creates.  Driven through the CLI (and, for privacy,
a real sandbox login + sync); the failure matrix over every command is tests/cli/
test_failure_matrix.py."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartkeep import api
from heartkeep.cli import app
from heartkeep.errors import NoAccounts, StoreError
from heartkeep.store import open_store

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def damage(path: Path) -> None:
    """Overwrite the middle pages of a SQLite file with garbage (the header stays intact)."""
    data = bytearray(path.read_bytes())
    page = 4096
    pages = len(data) // page
    assert pages >= 4, "the file is too small to damage its middle"
    for number in range(pages // 4, max(pages // 4 + 1, 3 * pages // 4)):
        data[number * page : (number + 1) * page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))


def test_a_typod_database_path_creates_nothing_for_readers(home: Path, tmp_path: Path, monkeypatch):
    missing = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    monkeypatch.setenv("HEARTKEEP_DATABASE", str(missing))
    for command in (("stats",), ("export", "-f", "csv", "-o", str(tmp_path / "x.csv"))):
        result = invoke(*command)
        assert result.exit_code == 10, result.output
        assert f"no heartkeep database at {missing}" in result.output
        assert "does not exist either" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "no").exists()


def test_another_programs_sqlite_file_is_refused_and_left_alone(home: Path, tmp_path: Path):
    foreign = tmp_path / "notes.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO note (body) VALUES ('buy milk')")
    db.close()
    before = foreign.read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError) as refused:
            open_store(str(foreign), readonly=readonly)
        assert refused.value.exit_code == 9
        assert "not a heartkeep database" in str(refused.value)
        assert "another program's SQLite file" in str(refused.value)
    assert foreign.read_bytes() == before


def test_a_file_that_is_not_sqlite_at_all_exits_9(home: Path, tmp_path: Path, monkeypatch):
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes, not a database\n" * 200)
    monkeypatch.setenv("HEARTKEEP_DATABASE", str(text))
    result = invoke("stats")
    assert result.exit_code == 9, result.output
    assert "not a heartkeep database" in result.output
    assert "Traceback" not in result.output


def test_a_damaged_database_is_refused_for_writing_and_unchanged(world_factory, small_user):
    world = world_factory(users=(small_user(2),))
    world.sync()
    database = Path(world.settings.database)
    damage(database)
    before = database.read_bytes()
    with pytest.raises(StoreError) as refused:
        world.sync()
    message = str(refused.value)
    assert "is damaged" in message
    assert ".recover" in message
    assert database.read_bytes() == before
    with pytest.raises(StoreError) as reading, open_store(str(database), readonly=True) as store:
        list(store.iter_samples(world.account_key))
    assert "is damaged" in str(reading.value)


def test_status_before_the_first_sync_reads_an_empty_store_and_creates_nothing(settings):
    assert api.status(settings) == []
    assert not settings.data_dir.exists()
    with pytest.raises(NoAccounts):
        open_store(settings.database, readonly=True)


def test_what_heartkeep_creates_is_private(world_factory, small_user):
    world = world_factory(users=(small_user(1),))
    world.sync()
    data_dir = world.settings.data_dir
    database = Path(world.settings.database)
    with open_store(str(database), readonly=True) as store:  # keeps -wal/-shm in place
        assert store.sample_count(world.account_key) > 0
        modes = {
            path.name: stat.S_IMODE(path.stat().st_mode)
            for path in (data_dir, world.settings.vault_dir, database, data_dir / "sync.lock")
        }
        for suffix in ("-wal", "-shm"):
            sidecar = database.with_name(database.name + suffix)
            if sidecar.exists():
                modes[sidecar.name] = stat.S_IMODE(sidecar.stat().st_mode)
    assert modes[data_dir.name] == 0o700
    assert modes[world.settings.vault_dir.name] == 0o700
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith(database.name))
    assert modes["sync.lock"] == 0o600
