"""Both backends meet the store protocols, as mypy --strict sees them (checked, never run)."""

from __future__ import annotations

from heartkeep.store import SqliteStore
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.protocol import ImportStore, SyncStore


def postgres_is_a_sync_and_import_store(store: PostgresStore) -> tuple[SyncStore, ImportStore]:
    return store, store


def sqlite_is_a_sync_and_import_store(store: SqliteStore) -> tuple[SyncStore, ImportStore]:
    return store, store
