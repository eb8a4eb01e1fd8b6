"""Where heartkeep keeps data: `open_store(settings.database)` and the protocol every backend meets.

A plain path means SQLite (the default, one file).  A `postgresql://` URL is reserved for the
scale-out backend and refused clearly until it exists, so a configuration written for it fails
loudly instead of silently writing somewhere else.
"""

from __future__ import annotations

from pathlib import Path

from heartkeep.errors import StoreError
from heartkeep.store.forgetting import ForgetReport
from heartkeep.store.protocol import (
    LedgerEntry,
    Store,
    StreamState,
    SyncRun,
    SyncStore,
    WriteResult,
)
from heartkeep.store.sqlite import SqliteStore

__all__ = [
    "ForgetReport",
    "LedgerEntry",
    "SqliteStore",
    "Store",
    "StreamState",
    "SyncRun",
    "SyncStore",
    "WriteResult",
    "open_store",
]


def open_store(database: str, *, readonly: bool = False, missing_ok: bool = False) -> SqliteStore:
    """Open the store at `database`: for writing (checked, created and migrated as needed), or
    with `readonly` for reading only, creating nothing (see `store/opening.py`).

    Raises a `StoreError` (exit 9, see `store/failures.py`) for a URL scheme we do not serve
    yet, a damaged file, another program's file, a schema newer than this heartkeep, a
    read-only folder or a full disk; `NoDatabase` (exit 10) when a reader finds no file, unless
    `missing_ok`, which reads a missing file as an empty store.
    """
    if "://" in database:
        scheme = database.split("://", 1)[0].lower()
        if scheme in {"postgresql", "postgres"}:
            raise StoreError(
                "the PostgreSQL store is not available yet",
                hint="Use a SQLite file path for --database (the default).",
            )
        raise StoreError(f"unsupported database URL scheme {scheme!r}; give a SQLite file path")
    if not database:
        raise StoreError("no database path given")
    return SqliteStore(Path(database).expanduser(), readonly=readonly, missing_ok=missing_ok)
