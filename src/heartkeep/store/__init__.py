"""Where heartkeep keeps data: `open_store(settings.database)` and the protocol every backend meets.

A plain path means SQLite (the default, one file).  PostgreSQL (the research-study store, issue
13) opens with `open_postgres_store(url)`; the personal commands, which `open_store` serves, keep
their data in a SQLite file, so a `postgresql://` URL given to them is refused clearly instead of
silently writing somewhere else.  psycopg, like the PostgreSQL store itself, loads only when a
PostgreSQL store is opened (`pip install 'heartkeep[study]'`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from heartkeep.store.postgres import PostgresStore
    from heartkeep.store.token_cipher import TokenCipher

__all__ = [
    "ForgetReport",
    "LedgerEntry",
    "SqliteStore",
    "Store",
    "StreamState",
    "SyncRun",
    "SyncStore",
    "WriteResult",
    "open_postgres_store",
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
                "this command keeps its data in a SQLite file; the PostgreSQL store serves "
                "research studies (`heartkeep study`, not available yet)",
                hint="Use a SQLite file path for --database (the default).",
            )
        raise StoreError(f"unsupported database URL scheme {scheme!r}; give a SQLite file path")
    if not database:
        raise StoreError("no database path given")
    return SqliteStore(Path(database).expanduser(), readonly=readonly, missing_ok=missing_ok)


def open_postgres_store(
    url: str, *, readonly: bool = False, token_cipher: TokenCipher | None = None
) -> PostgresStore:
    """Open the PostgreSQL store at `url` (`postgresql://user@host:port/dbname`, any libpq
    URL): for writing (schema created or upgraded as needed), or with `readonly` for reading.

    Raises a `StoreError` (exit 9) when psycopg is not installed, the server cannot be reached
    or its schema is newer than this heartkeep; `NoDatabase` (exit 10) when a reader finds no
    heartkeep schema there.  `token_cipher` seals participants' tokens (default: the keys in
    HEARTKEEP_STUDY_TOKEN_KEYS, read on first use; `store/token_cipher.py`).
    """
    try:
        from heartkeep.store.postgres import PostgresStore
    except ImportError as missing:
        if not (missing.name or "").startswith("psycopg"):
            raise
        raise StoreError(
            f"the PostgreSQL store needs psycopg, which is not installed ({missing.name})",
            hint="pip install 'heartkeep[study]'",
        ) from missing
    return PostgresStore(url, readonly=readonly, token_cipher=token_cipher)
