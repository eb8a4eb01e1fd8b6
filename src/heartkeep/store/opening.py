"""Opening the SQLite file: the writer checks before it writes, a reader never writes at all.

Why two ways in.  A writer (sync, import, demo) may make things worse if the file is damaged —
SQLite will happily add pages to a broken B-tree — so it runs `PRAGMA quick_check` first and
refuses a file that fails it (`check_stamp.py`: when an earlier check may be trusted), and it
refuses another program's SQLite file instead of adding our tables to it.  It creates what is
missing privately: folders 0700, the file 0600 (SQLite gives the -wal and -shm files the
database file's mode).

A reader (status, stats, export, report, plots) opens with `mode=ro`, so a typo'd `--database`
never creates a file or a folder, and a read-only data folder still reads.  SQLite can only read
a WAL database read-only when it may create the -shm file; in a folder nobody can write, no
writer can be running either, so the reader falls back to `immutable=1`.  A file whose schema
is older than this heartkeep is handed to the writer once to be upgraded (from schema 4, that
includes computing every day's summary: seconds for a year of samples).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from heartkeep.config import make_private_dir
from heartkeep.store.check_stamp import last_clean_check
from heartkeep.store.failures import (
    StoreLocked,
    StoreUnavailable,
    damaged,
    no_database,
    not_heartkeep,
    read_only,
    store_failure,
)
from heartkeep.store.migrations import (
    AGGREGATES_VERSION,
    LATEST_VERSION,
    migrate,
    schema_version,
)

# Tables every heartkeep schema has had since version 1: their absence marks a foreign file.
_OUR_TABLES = {"account", "heart_rate", "sync_state"}


def open_writer(path: Path, *, busy_timeout_s: float) -> tuple[sqlite3.Connection, float]:
    """A checked, migrated, WAL connection for writing, and when the file was last found sound
    (`StoreError`, exit 9, if it cannot be had)."""
    try:
        make_private_dir(path.parent)
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise read_only(path, "permission denied or a read-only disk")
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
        )
    except OSError as failure:
        raise store_failure(failure, path) from failure
    except sqlite3.Error as failure:
        raise store_failure(failure, path) from failure
    try:
        version = check_identity(db, path)
        checked_s = last_clean_check(path) if version > 0 else time.time()
        if checked_s is None:
            check_integrity(db, path)
            checked_s = time.time()
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        migrate(db, path=str(path))
        if 0 < version < AGGREGATES_VERSION:
            # The schema-5 step marked every day dirty; compute them now, once, so readers of
            # an upgraded file do not each recompute its history from the samples.
            from heartkeep.store.aggregate_upkeep import refresh_all

            refresh_all(db)
    except BaseException as failure:
        db.close()
        if isinstance(failure, sqlite3.Error | OSError):
            raise store_failure(failure, path) from failure
        raise
    return db, checked_s


def open_reader(path: Path, *, busy_timeout_s: float) -> sqlite3.Connection:
    """A connection that cannot write; `NoDatabase` (exit 10) if the file is not there."""
    if not path.is_file():
        raise no_database(path)
    try:
        db = _connect_read_only(path, busy_timeout_s)
    except (sqlite3.Error, OSError) as failure:
        raise store_failure(failure, path) from failure
    try:
        version = check_identity(db, path)
    except BaseException:
        db.close()
        raise
    if version < LATEST_VERSION:
        # An older heartkeep's file (or an empty one): upgrade it once, then read as usual.
        db.close()
        open_writer(path, busy_timeout_s=busy_timeout_s)[0].close()
        return open_reader(path, busy_timeout_s=busy_timeout_s)
    return db


def open_empty() -> sqlite3.Connection:
    """An empty store in memory: what a reader sees before the first sync created the file."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    migrate(db, path=":memory:")
    return db


def _connect_read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=busy_timeout_s)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        if os.access(path.parent, os.W_OK):
            raise
    # A WAL file in a folder nobody can write: no writer can be at work, the file is final.
    db = sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return db


def check_identity(db: sqlite3.Connection, path: Path) -> int:
    """The schema version, after making sure the file is ours (or empty); raises otherwise."""
    try:
        version = schema_version(db)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as failure:
        raise store_failure(failure, path) from failure
    if version == 0 and tables:
        raise not_heartkeep(
            path,
            f"it is another program's SQLite file, with {len(tables)} "
            "tables and none of heartkeep's schema",
        )
    if version > 0 and not tables >= _OUR_TABLES:
        raise not_heartkeep(path, "a SQLite file with a schema version but not heartkeep's tables")
    return version


def check_integrity(db: sqlite3.Connection, path: Path, *, full: bool = False) -> None:
    """Raise `StoreDamaged` unless `PRAGMA quick_check` (or `integrity_check`) says ok."""
    problems = integrity_problems(db, path, full=full)
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise damaged(path, f"integrity check: {problems[0]}{more}")


def integrity_problems(db: sqlite3.Connection, path: Path, *, full: bool = False) -> list[str]:
    """What `PRAGMA quick_check` (`full`: `integrity_check`) finds; empty when the file is sound."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = [str(row[0]) for row in db.execute(f"PRAGMA {pragma}(20)")]
    except sqlite3.DatabaseError as failure:
        error = store_failure(failure, path)
        if isinstance(error, StoreLocked | StoreUnavailable):
            raise error from failure
        return [str(failure)]
    return [] if rows == ["ok"] else rows
