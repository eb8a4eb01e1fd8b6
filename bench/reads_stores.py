"""The stores `bench_reads.py` measures on: a cached synced history, and a connected home.

- `store_for(days)`: the sandbox demo user's synthetic physiology written the way sync writes
  it — a real `api.sync` backfill (the sandbox in another process at Google's documented
  10,000-point pages with its quota lifted, the client on a simulated clock, so only CPU is
  spent) — built once and cached in `bench/.cache/` by days and schema version.
- `connected_home()`: a home with one account logged in to a sandbox on the wall clock and
  synced once, for timing a sync that finds nothing to do.

Run as `python bench/reads_stores.py build DATABASE DAYS` (what `store_for` starts).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from child_usage import run_child

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
HEARTKEEP = str(Path(sys.executable).parent / "heartkeep")
# The sandbox's fixed test start (heartkeep.sandbox.config.TEST_START_S): the store's last day.
TEST_START_S = 1_795_176_000
LAST_DAY = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()


def schema_version(env: dict[str, str]) -> int:
    code = "from heartkeep.store.migrations import LATEST_VERSION; print(LATEST_VERSION)"
    _, text = run_child([sys.executable, "-c", code], env=env)
    return int(text)


def store_for(days: int, env: dict[str, str]) -> Path:
    """The cached store of `days` synced days, built through a real sync when missing."""
    folder = CACHE / f"reads-{days}d-schema{schema_version(env)}"
    database = folder / "heartkeep.sqlite"
    if database.exists():
        print(f"store: reusing {database.relative_to(BENCH.parent)}")
        return database
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building.sqlite"
    for stale in folder.glob("building.sqlite*"):
        stale.unlink()
    print(f"store: building {days} days through a sandbox sync (once) …", flush=True)
    run, text = run_child([sys.executable, __file__, "build", str(building), str(days)], env=env)
    building.rename(database)
    print(f"store: {text.strip()}; {run.cpu_s:.0f} s CPU for client and sandbox")
    return database


def build(database: Path, days: int) -> None:
    """Child: back-fill `days` of the demo user into `database` with `api.sync`."""
    from msgspec.structs import replace

    from bench_sync import consent, sandbox_process
    from heartkeep import api
    from heartkeep.auth import login
    from heartkeep.clock import FakeClock
    from heartkeep.config import load_settings

    os.environ["HEARTKEEP_HOME"] = tempfile.mkdtemp(prefix="hk-bench-reads-build-")
    clock = FakeClock(TEST_START_S)
    with sandbox_process("documented") as url:
        settings = replace(load_settings(), sandbox_url=url, database=str(database))
        login(settings, clock=clock, provider="google", open_browser=consent, timeout_s=10)
        report = api.sync(settings, clock=clock, since=LAST_DAY - dt.timedelta(days=days))
    (account,) = report.accounts
    size_mb = database.stat().st_size / 1e6
    print(f"{account.samples_added:,} samples, {size_mb:,.0f} MB ({account.status})")


# The sandbox on the wall clock (the CLI reads it), documented page sizes, the default quota.
SERVE = """
import sys
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.server import SandboxServer
server = SandboxServer(SandboxConfig(page_size_mode="documented")).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""
LOGIN = """
from bench_sync import consent
from heartkeep.auth import login
from heartkeep.clock import SystemClock
from heartkeep.config import load_settings
login(load_settings(), clock=SystemClock(), provider="google", open_browser=consent, timeout_s=10)
"""


@contextmanager
def connected_home(work: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A home whose one account is up to date against a sandbox in another process: logged
    in, then synced once from yesterday (a small store of its own: the cached one ends on
    the sandbox's test day, and catching it up to today would be a backfill).  Yields the
    environment that points `heartkeep` at both."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert server.stdin is not None
    assert server.stdout is not None
    try:
        url = server.stdout.readline().decode().strip()
        home = {**env, "HEARTKEEP_HOME": str(work / "sync-home"), "HEARTKEEP_SANDBOX_URL": url}
        run_child([sys.executable, "-c", LOGIN], env=home)
        yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        run_child([HEARTKEEP, "sync", "--since", yesterday.isoformat(), "--quiet"], env=home)
        yield home
    finally:
        server.stdin.close()
        server.wait(timeout=30)


if __name__ == "__main__":
    build(Path(sys.argv[2]), int(sys.argv[3]))
