"""Where heartkeep keeps data: `open_store(settings.database)` and the protocol every backend meets.

A plain path means SQLite (the default, one file).  A `postgresql://` URL is reserved for the
scale-out backend and refused clearly until it exists, so a configuration written for it fails
loudly instead of silently writing somewhere else.
"""

from __future__ import annotations

from pathlib import Path

from heartkeep.errors import StoreError
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
    "LedgerEntry",
    "SqliteStore",
    "Store",
    "StreamState",
    "SyncRun",
    "SyncStore",
    "WriteResult",
    "open_store",
]


def open_store(database: str) -> SqliteStore:
    """Open (creating and migrating as needed) the store at `database`.

    Raises `StoreError` for a URL scheme we do not serve yet, a file that is not a heartkeep
    database, a schema newer than this heartkeep, or a path that cannot be created.
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
    return SqliteStore(Path(database).expanduser())
