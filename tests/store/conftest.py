"""Both backends behind one fixture: the store's contract tests run against SQLite and PostgreSQL.

`backend` is parametrized ("sqlite", "postgres"); `backend.location()` makes a new empty
database (a file in a temp folder, or a schema of its own in the session's PostgreSQL database,
see tests/postgres_server.py) and `backend.open(location)` opens it as a user would, through
`open_store` or `open_postgres_store`.  `backend.rows(store, sql)` reads the database back the
way a person with `sqlite3` or `psql` would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heartkeep.store import SqliteStore, open_postgres_store, open_store


class Backend:
    def __init__(self, name: str, request: pytest.FixtureRequest) -> None:
        self.name = name
        self._request = request
        self._opened: list[Any] = []
        self._schemas: list[str] = []
        self._stores_of: dict[str, list[Any]] = {}  # PostgreSQL: schema -> stores opened on it
        self._folder: Path | None = None

    def location(self) -> str:
        if self.name == "sqlite":
            factory = self._request.getfixturevalue("tmp_path_factory")
            return str(factory.mktemp("store") / "hk.sqlite")
        session = self._request.getfixturevalue("postgres")
        for url, stores in self._stores_of.items():
            if stores and all(store._conn.closed for store in stores):
                # A hypothesis example is done with it: empty it (cheaper than a new schema).
                with open_postgres_store(url) as store, store._conn.transaction():
                    _empty(store._conn)
                stores.clear()
                return url
        url, schema = session.fresh_url()
        self._schemas.append(schema)
        self._stores_of[url] = []
        return str(url)

    def open(self, location: str, *, readonly: bool = False) -> Any:
        if self.name == "sqlite":
            store: Any = open_store(location, readonly=readonly)
        else:
            store = open_postgres_store(location, readonly=readonly)
            self._stores_of.setdefault(location, []).append(store)
        self._opened.append(store)
        return store

    def fresh(self) -> Any:
        return self.open(self.location())

    def rows(self, store: Any, sql: str) -> list[tuple[Any, ...]]:
        if isinstance(store, SqliteStore):
            with sqlite3.connect(store.path) as raw:
                return raw.execute(sql).fetchall()
        return [tuple(row) for row in store._conn.execute(sql.encode()).fetchall()]

    def execute(self, store: Any, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        if isinstance(store, SqliteStore):
            with sqlite3.connect(store.path) as raw:
                raw.execute(sql, parameters)
            raw.close()
            return
        store._conn.execute(sql.encode(), parameters)

    def close(self) -> None:
        for store in self._opened:
            store.close()
        if self._schemas:
            session = self._request.getfixturevalue("postgres")
            for schema in self._schemas:
                session.drop(schema)


def _empty(conn: Any) -> None:
    """Every row of a PostgreSQL store gone and its ids restarting at 1 (DELETE: far cheaper
    than TRUNCATE or a new schema for the few rows a hypothesis example writes)."""
    tables = conn.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND NOT relispartition "
        "AND relnamespace = current_schema()::regnamespace "
        "AND relname NOT IN ('source', 'store_meta')"
    ).fetchall()
    for (table,) in tables:
        conn.execute(f'DELETE FROM "{table}"'.encode())  # noqa: S608 - catalog names
    sequences = conn.execute(
        "SELECT pg_get_serial_sequence(c.relname, a.attname) FROM pg_attribute AS a "
        "JOIN pg_class AS c ON c.oid = a.attrelid WHERE a.attidentity != '' "
        "AND c.relnamespace = current_schema()::regnamespace"
    ).fetchall()
    for (sequence,) in sequences:
        conn.execute("SELECT setval(%s, 1, false)", (sequence,))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    chosen = Backend(request.param, request)
    yield chosen
    chosen.close()
