"""A PostgreSQL server for the tests: the machine's own when it answers, else a throw-away one.

Why both: the research-study store (issue 13) must be tested against a real PostgreSQL, and
`make test` must run on a machine that has one at 127.0.0.1:5432 (trust auth, user postgres,
as on our build machines) as well as on one that only has Debian's `postgresql` package
installed (then `initdb` and `pg_ctl` start a server in a temp folder on a free port, stopped
when the session ends).  With neither, PostgreSQL tests are skipped with a note (`-ra` prints
it) — except under `CI=true`, where a missing PostgreSQL fails the run instead of passing it
with half the store untested.

Every test session (every xdist worker) works in a database of its own, created here and
dropped at the end; each test gets a schema of its own inside it (`fresh_schema_url`), so
tests never see each other's tables and cost a `CREATE SCHEMA`, not a `CREATE DATABASE`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from heartkeep.study import local_postgres
from heartkeep.study.local_postgres import LocalServer as Server

__all__ = ["Server", "drop_schema", "fresh_schema_url", "postgres_server", "session_database"]


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[Server | None, str]]:
    """The server to test against, or None and why there is none (the start-up itself lives
    in `heartkeep.study.local_postgres`, which `heartkeep study demo` uses too)."""
    use_machine = os.environ.get("HEARTKEEP_TEST_PG_NO_MACHINE_SERVER") != "1"
    with local_postgres.local_server(use_machine_server=use_machine) as found:
        server, why = found
        if why.startswith("psycopg is not installed"):
            why = "psycopg is not installed (pip install -e '.[dev,study]')"
        yield server, why


@contextlib.contextmanager
def session_database(server: Server, worker: str) -> Iterator[str]:
    """A database of this session's own (unique per process and worker), dropped at the end."""
    import psycopg

    name = f"heartkeep_test_{worker}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_schema_url(server: Server, database: str) -> tuple[str, str]:
    """A new, empty schema in the session's database: (its URL, its name)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(database), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    return server.url(database, schema), schema


def drop_schema(server: Server, database: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(server.url(database), autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
