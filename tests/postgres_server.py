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
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

MACHINE_SERVER = ("127.0.0.1", 5432)


@dataclass
class Server:
    host: str
    port: int
    note: str  # where it came from, for the session header

    def url(self, database: str = "postgres", schema: str | None = None) -> str:
        url = f"postgresql://postgres@{self.host}:{self.port}/{database}"
        if schema:
            url += f"?options=-csearch_path%3D{schema}"
        return url


def _answers(host: str, port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3
        ):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def _throwaway_server(reasons: list[str]) -> Iterator[Server | None]:
    """initdb + pg_ctl in a temp folder; as root, run as the `postgres` user (initdb refuses
    root).  Yields None (with the reason appended) when that is impossible here."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        reasons.append("no initdb under /usr/lib/postgresql/*/bin (Debian's postgresql package)")
        yield None
        return
    prefix: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            reasons.append("running as root without runuser: initdb refuses root")
            yield None
            return
        prefix = [runuser, "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="heartkeep-pg-"))
    data = folder / "data"
    port = _free_port()
    started = False
    try:
        if prefix:
            shutil.chown(folder, "postgres")
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
             "-w", "-t", "60", "-o",
             f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off",
             "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        started = True
        yield Server("127.0.0.1", port, f"a throw-away server ({bin_dir.parent.name}) on {port}")
    except (OSError, subprocess.SubprocessError, LookupError) as failure:
        detail = getattr(failure, "stderr", b"") or b""
        reasons.append(f"could not start a throw-away server: {failure} {detail.decode()[-300:]}")
        yield None
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[Server | None, str]]:
    """The server to test against, or None and why there is none."""
    reasons: list[str] = []
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield None, "psycopg is not installed (pip install -e '.[dev,study]')"
        return
    if os.environ.get("HEARTKEEP_TEST_PG_NO_MACHINE_SERVER") != "1" and _answers(*MACHINE_SERVER):
        yield Server(*MACHINE_SERVER, note="the machine's server at 127.0.0.1:5432"), ""
        return
    reasons.append("nothing answers at 127.0.0.1:5432")
    with _throwaway_server(reasons) as server:
        yield server, "; ".join(reasons)


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
