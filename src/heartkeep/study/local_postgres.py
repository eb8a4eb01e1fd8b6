"""A PostgreSQL server on this machine for `heartkeep study demo` and the tests: the machine's own
when it answers, else a throw-away one started with Debian's `initdb` and `pg_ctl`.

Why here and not only in the tests: the demo must run where a person has just installed
Debian's `postgresql` package and started nothing, exactly as `make test` must.  The throw-away
server lives in a temp folder on a free loopback port, trusts local connections (nobody else
can reach it), runs with `fsync=off` (its data is thrown away) and is stopped and deleted at
the end.  As root it runs as the `postgres` user (`initdb` refuses root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

MACHINE_SERVER = ("127.0.0.1", 5432)


@dataclass(frozen=True)
class LocalServer:
    """A server to connect to as `postgres` without a password, and where it came from."""

    host: str
    port: int
    note: str

    def url(self, database: str = "postgres", schema: str | None = None) -> str:
        url = f"postgresql://postgres@{self.host}:{self.port}/{database}"
        if schema:
            url += f"?options=-csearch_path%3D{schema}"
        return url


def answers(host: str, port: int) -> bool:
    """Whether a PostgreSQL at host:port lets `postgres` in without a password."""
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


def pg_bin() -> Path | None:
    """The newest Debian PostgreSQL's bin folder (`/usr/lib/postgresql/N/bin`), if any."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def throwaway_server(reasons: list[str]) -> Iterator[LocalServer | None]:
    """initdb + pg_ctl in a temp folder, stopped and deleted at the end.  Yields None (with
    the reason appended to `reasons`) when that is impossible here."""
    bin_dir = pg_bin()
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
        subprocess.run(  # noqa: S603 - Debian's own programs, a list (no shell)
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(  # noqa: S603 - Debian's own programs, a list (no shell)
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
             "-w", "-t", "60", "-o",
             f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off",
             "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        started = True
        yield LocalServer(
            "127.0.0.1", port, f"a throw-away server ({bin_dir.parent.name}) on {port}"
        )
    except (OSError, subprocess.SubprocessError, LookupError) as failure:
        detail = getattr(failure, "stderr", b"") or b""
        reasons.append(f"could not start a throw-away server: {failure} {detail.decode()[-300:]}")
        yield None
    finally:
        if started:
            subprocess.run(  # noqa: S603 - Debian's own programs, a list (no shell)
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def local_server(*, use_machine_server: bool = True) -> Iterator[tuple[LocalServer | None, str]]:
    """The machine's server at 127.0.0.1:5432 when it answers (and `use_machine_server`), else
    a throw-away one; (None, why) when neither is possible."""
    reasons: list[str] = []
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield None, "psycopg is not installed (pip install 'heartkeep[study]')"
        return
    if use_machine_server and answers(*MACHINE_SERVER):
        yield LocalServer(*MACHINE_SERVER, note="the machine's server at 127.0.0.1:5432"), ""
        return
    reasons.append("nothing answers at 127.0.0.1:5432")
    with throwaway_server(reasons) as server:
        yield server, "; ".join(reasons)
