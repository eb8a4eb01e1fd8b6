"""What checking the database before every write costs: `PRAGMA quick_check` on open.

`sync` and `import` open the store through `store/opening.py`, which runs `PRAGMA quick_check`
before the first write (a damaged file is refused instead of made worse).  Readers skip it.
This builds a store of `--days` of heart rate (one sample every `--step` seconds: the default 3 s
gives about 10.5 million rows a year, the size of a real year of Pixel Watch data), packs it as
a sync would, then times, each as the median of `--repeat` runs on a warm page cache:

(CPU time of this process, median)

- plain: `sqlite3.connect` + reading the schema — the floor any open pays;
- reader: `SqliteStore(path, readonly=True)` (mode=ro, identity check, no integrity check);
- writer: `SqliteStore(path)` — identity check, quick_check, WAL, migrations;
- quick_check and integrity_check alone (`heartkeep doctor` and `doctor --full`).

Prints figures and ratios; asserts nothing.  A cold cache (after a reboot) reads the whole file
from disk once, so expect the writer's open to approach file size / disk read speed there.

Usage: python bench/bench_store_check.py [--days 365] [--step 3] [--repeat 5]
       python bench/bench_store_check.py --quick      # 7 days, for CI
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from heartkeep.model import Sample, Source
from heartkeep.store.check_stamp import stamp_path
from heartkeep.store.sqlite import SqliteStore

START_S = 1_767_225_600  # 2026-01-01T00:00Z
ACCOUNT = "google-health:bench"


def samples(days: int, step_s: int) -> Iterator[Sample]:
    for instant in range(START_S, START_S + days * 86_400, step_s):
        yield Sample(instant, 60 + (instant // 7) % 90, 60)


def build(path: Path, days: int, step_s: int) -> int:
    with SqliteStore(path) as store:
        written = store.write_samples(ACCOUNT, samples(days, step_s), Source.GOOGLE_HEALTH)
        store.vacuum()
        store.optimize()
    return written.inserted


def median_s(action: Callable[[], None], repeat: int) -> float:
    """Median CPU seconds of this process (on a warm cache the checks are CPU-bound; CPU time
    is also what stays meaningful on a shared, loaded machine, where wall time is not)."""
    action()  # warm the page cache and Python's imports once
    times = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return statistics.median(times)


def plain_open(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    db.close()


def pragma(path: Path, name: str) -> None:
    db = sqlite3.connect(path)
    assert db.execute(f"PRAGMA {name}").fetchone()[0] == "ok"
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--step", type=int, default=3, help="seconds between samples")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="7 days, 3 repeats (CI)")
    options = parser.parse_args()
    days, repeat = (7, 3) if options.quick else (options.days, options.repeat)
    with tempfile.TemporaryDirectory(prefix="hk-bench-check-") as folder:
        path = Path(folder) / "heartkeep.sqlite"
        started = time.perf_counter()
        rows = build(path, days, options.step)
        size_mb = path.stat().st_size / 1e6
        print(
            f"store: {days} days, {rows:,} samples, {size_mb:.1f} MB "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        plain = median_s(lambda: plain_open(path), repeat)
        reader = median_s(lambda: SqliteStore(path, readonly=True).close(), repeat)
        # A file untouched since heartkeep's last writer closed it: the stamp is trusted.
        stamped = median_s(lambda: SqliteStore(path).close(), repeat)

        def changed_outside() -> None:
            stamp_path(path).unlink(missing_ok=True)  # as if another program had written
            SqliteStore(path).close()

        writer = median_s(changed_outside, repeat)
        quick = median_s(lambda: pragma(path, "quick_check"), repeat)
        full = median_s(lambda: pragma(path, "integrity_check"), max(1, repeat // 2))
    print(f"plain sqlite3 open        {plain * 1e3:9.2f} ms")
    print(f"reader open (mode=ro)     {reader * 1e3:9.2f} ms   {reader / plain:7.1f}x plain")
    print(f"writer open (quick_check) {writer * 1e3:9.2f} ms   {writer / plain:7.1f}x plain")
    print(f"writer open (unchanged)   {stamped * 1e3:9.2f} ms   {stamped / plain:7.1f}x plain")
    print(f"quick_check alone         {quick * 1e3:9.2f} ms   {quick / size_mb * 1e3:7.2f} ms/MB")
    print(f"integrity_check alone     {full * 1e3:9.2f} ms   {full / quick:7.1f}x quick_check")
    print(f"writer - reader           {(writer - reader) * 1e3:9.2f} ms per sync/import after")
    print("                                       an outside change or a week; otherwise")
    print(f"                          {(stamped - reader) * 1e3:9.2f} ms")


if __name__ == "__main__":
    main()
