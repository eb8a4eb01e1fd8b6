"""Reading a year back: heartkeep against what a skilled user would type instead (issue 11).

Builds (or reuses) a store of the sandbox demo user's synthetic physiology, written the way
sync writes it — a real `api.sync` backfill against the sandbox at its best case (Google's
documented 10,000-point pages, quota lifted, sandbox in another process) — cached under
`bench/.cache/` by days and schema version.  Then runs each command side by side with its
plain alternative (`plain_alternatives.py`) on that store, each run in a fresh child process:
CPU is the child's user + sys time (`os.wait4`), peak RSS the child's `ru_maxrss` (the driver
imports nothing heavy, so the fork it starts from adds little).  Medians over `--runs`.
Prints a line per comparison: heartkeep CPU, plain CPU, ratio, target, peak RSS, pass/miss.
Nothing is asserted; the figures go in the report.

Sync ingest is the figure `bench_sync.py --client` prints (client CPU of a backfill, observed
pages, sandbox in another process), run for run against the same script of `INGEST_BASELINE`'s
commit — before the aggregates of issue 11 existed — in a `git worktree` checkout, and against
the store's upkeep of aggregates switched off, to show that maintaining them costs nothing that
matters.  The baseline's figure from the machine it was first measured on stays as history.

    .venv/bin/python bench/bench_reads.py --days 30   # quick: under 3 minutes on a quiet machine
    .venv/bin/python bench/bench_reads.py             # a year (~8 M samples; build ~2 min once)

The `sqlite3` shell (Debian: `apt-get install sqlite3`) is needed for its comparisons; without
it those lines say so and are skipped.  `adbc-driver-sqlite` comes with heartkeep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import plain_alternatives as plain
from child_usage import Run, median_run, run_child
from reads_stores import HEARTKEEP, LAST_DAY, connected_home, store_for

BENCH = Path(__file__).resolve().parent
ZONE = "Europe/Berlin"

# `bench_sync.py --client --days 30` (client CPU samples/s, observed pages, no VACUUM within
# 30 days), median of 3 runs at commit 882a106 on 2026-12-01 — before the aggregates of issue 11
# — on the shared 2-core machine (load average 4.9).  Re-measure on a quiet machine before
# reading much into a few per cent.
INGEST_BASELINE = {"commit": "882a106", "days": 30, "samples_per_s": 203_651}
INGEST_NOISE = 0.05  # a run within 5 % of the baseline counts as no regression

TARGETS = {
    "stats": 0.2,  # × the plain sqlite3 GROUP BY with wear
    "chart": 1.5,  # s CPU including start-up
    "parquet": 1.5,  # × ADBC + pyarrow
    "parquet_rss_mb": 200.0,
    "csv": 1.2,  # × sqlite3 -csv
    "startup": 0.15,  # s CPU
    "import": 1.0,  # × the minimal import's samples/s (at least)
}


def verdict(ok: bool) -> str:
    return "pass" if ok else "MISS"


def line(name: str, ours: Run, theirs: Run | None, ratio: str, target: str, ok: bool) -> None:
    plain_s = f"{theirs.cpu_s:8.2f}" if theirs else f"{'—':>8}"
    print(
        f"{name:<30} {ours.cpu_s:9.2f} {plain_s} {ratio:>7} {target:>13} "
        f"{ours.rss_mb:7.0f} {verdict(ok):>5}",
        flush=True,
    )


# Asks heartkeep for its `sqlite3` equivalent of `export -f csv` over the whole history (the
# export's own unbounded window), with the store's one account written in.
CSV_SQL_FROM_HEARTKEEP = """
import sqlite3, sys
import heartkeep.exporters.csv as m
fill = getattr(m, "plain_sqlite3_sql", None)
if fill is not None:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    ((key,),) = db.execute("SELECT key FROM account").fetchall()
    print("plain_sqlite3_sql", fill(key, -4611686018427387904, 4611686018427387904), sep="\\0")
"""


def plain_csv_sql(database: Path, env: dict[str, str]) -> tuple[str, str]:
    """heartkeep's own `sqlite3 -csv` equivalent of its CSV export when it has one
    (`heartkeep.exporters.csv.plain_sqlite3_sql`, issue 11), else ours; and where it came
    from."""
    _, text = run_child([sys.executable, "-c", CSV_SQL_FROM_HEARTKEEP, str(database)], env=env)
    name, _, sql = text.rstrip("\n").partition("\0")
    if sql:
        return sql, f"heartkeep.exporters.csv.{name}"
    return plain.CSV_SQL, "plain_alternatives.CSV_SQL (heartkeep exposes none yet)"


def first_difference(a: Path, b: Path) -> str | None:
    """None when the files are byte-identical, else the first differing line of each."""
    with a.open("rb") as fa, b.open("rb") as fb:
        for number, (la, lb) in enumerate(zip(fa, fb, strict=False), start=1):
            if la != lb:
                return f"line {number}: heartkeep {la!r} vs sqlite3 {lb!r}"
        rest_a, rest_b = fa.readline(), fb.readline()
        if rest_a or rest_b:
            return f"one ends first: heartkeep next {rest_a!r} vs sqlite3 next {rest_b!r}"
    return None


def compare_stats(ours: str, theirs: str) -> str:
    """heartkeep's `stats --csv` against the plain SQL, day by day on samples and wear."""
    import csv

    rows = {
        r["day"]: (int(r["samples"]), int(r["wear_s"])) for r in csv.DictReader(ours.splitlines())
    }
    differ = []
    for day, samples, wear_s, *_ in csv.reader(theirs.splitlines()):
        if day in rows and rows[day] != (int(samples), int(wear_s)):
            differ.append(f"{day}: heartkeep {rows[day]} vs SQL {(int(samples), int(wear_s))}")
    common = sum(1 for day, *_ in csv.reader(theirs.splitlines()) if day in rows)
    if differ:
        return f"NO on {len(differ)} of {common} days, first {differ[0]}"
    return f"yes ({common} days: samples and wear seconds)"


def compile_heartkeep() -> None:
    """Byte-compile heartkeep's modules first, as `pip install` does: an editable checkout run
    under PYTHONDONTWRITEBYTECODE (as on the shared machine) would otherwise compile every
    module it imports on every run, ~0.05 s that no installed heartkeep pays."""
    import compileall

    spec = importlib.util.find_spec("heartkeep")
    assert spec is not None, "heartkeep is not installed"
    for folder in spec.submodule_search_locations or ():
        compileall.compile_dir(folder, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of synced history")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--import-days", type=int, help="days of the Takeout archive "
                        "(default: 3, or 30 for a year)")  # fmt: skip
    parser.add_argument("--ingest-days", type=int, default=30, help="days of the ingest sync")
    parser.add_argument("--skip", default="", help="comma-separated: stats,charts,exports,"
                        "startup,import,ingest")  # fmt: skip
    args = parser.parse_args()
    compile_heartkeep()
    skip = set(filter(None, args.skip.split(",")))
    work = Path(tempfile.mkdtemp(prefix="hk-bench-reads-"))
    # The bench's own modules first; a PYTHONPATH given stays (to bench another checkout).
    path = os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "HEARTKEEP_HOME": str(work / "home"), "PYTHONPATH": path}
    env.pop("HEARTKEEP_DATABASE", None)
    try:
        database = store_for(args.days, env)
        since = (LAST_DAY - dt.timedelta(days=args.days)).isoformat()
        period = ["--since", since, "--until", LAST_DAY.isoformat()]
        store = ["--database", str(database)]
        sqlite3_shell = shutil.which("sqlite3")
        print(f"runs: median of {args.runs}, each a fresh process; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared machine)")  # fmt: skip
        print(f"\n{'command':<30} {'heartkeep s':>9} {'plain s':>8} {'ratio':>7} {'target':>13} "
              f"{'RSS MB':>7} {'':>5}")  # fmt: skip

        def hk(*argv: str, out: Path | None = None) -> Callable[[int], Run]:
            return lambda _i: run_child([HEARTKEEP, *argv], env=env, stdout=out)[0]

        if "stats" not in skip:
            ours_csv, theirs_csv = work / "stats.csv", work / "stats-sql.csv"
            ours = median_run(args.runs, hk("stats", "--csv", *period, *store, out=ours_csv))
            if sqlite3_shell:
                shell = [sqlite3_shell, "-csv", "-readonly", str(database), plain.STATS_SQL]
                theirs = median_run(
                    args.runs, lambda _i: run_child(shell, env=env, stdout=theirs_csv)[0]
                )
                ratio = ours.cpu_s / theirs.cpu_s
                target = f"≤ {TARGETS['stats']} ×"
                line("stats", ours, theirs, f"{ratio:.2f}", target, ratio <= TARGETS["stats"])
                agree = compare_stats(ours_csv.read_text(), theirs_csv.read_text())
                print(f"  same per-day samples and wear as the SQL: {agree}")
            else:
                line("stats", ours, None, "—", "no sqlite3", False)

        if "charts" not in skip:
            limit = TARGETS["chart"]
            for name, argv in (
                ("plot heatmap", ["plot", "heatmap", "-o", str(work / "heatmap.png")]),
                ("plot trend", ["plot", "trend", "-o", str(work / "trend.png")]),
                ("report", ["report", "-o", str(work / "report.html")]),
            ):
                ours = median_run(args.runs, hk(*argv, *period, *store))
                line(name, ours, None, "—", f"≤ {limit} s", ours.cpu_s <= limit)

        if "exports" not in skip:
            exports(args.runs, work, database, env, sqlite3_shell)

        if "startup" not in skip:
            startup(args.runs, work, database, env)

        if "import" not in skip:
            days = args.import_days or (30 if args.days >= 365 else 3)
            takeout_import(args.runs, days, work, env)

        if "ingest" not in skip:
            ingest(args.runs, args.ingest_days, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def exports(
    runs: int, work: Path, database: Path, env: dict[str, str], sqlite3_shell: str | None
) -> None:
    store = ["--database", str(database)]
    parquet = work / "heartkeep.parquet"
    ours = median_run(
        runs,
        lambda _i: run_child(
            [HEARTKEEP, "export", "-f", "parquet", "-o", str(parquet), *store], env=env
        )[0],
    )
    if importlib.util.find_spec("adbc_driver_sqlite") is not None:
        adbc = [sys.executable, str(BENCH / "plain_alternatives.py"), "adbc", str(database),
                str(work / "adbc.parquet")]  # fmt: skip
        theirs = median_run(runs, lambda _i: run_child(adbc, env=env)[0])
        ratio = ours.cpu_s / theirs.cpu_s
        ok = ratio <= TARGETS["parquet"] and ours.rss_mb <= TARGETS["parquet_rss_mb"]
        target = f"≤ {TARGETS['parquet']} ×, 200MB"
        line("export parquet", ours, theirs, f"{ratio:.2f}", target, ok)
        print(f"  ADBC + pyarrow peak RSS {theirs.rss_mb:.0f} MB")
    else:
        line("export parquet", ours, None, "—", "no ADBC", False)
        print("  adbc-driver-sqlite is not installed: pip install -e .")

    csv_ours = work / "heartkeep.csv"
    ours = median_run(
        runs,
        lambda _i: run_child(
            [HEARTKEEP, "export", "-f", "csv", "-o", str(csv_ours), *store], env=env
        )[0],
    )
    if not sqlite3_shell:
        line("export csv", ours, None, "—", "no sqlite3", False)
        print("  the sqlite3 shell is missing: apt-get install sqlite3 (Debian)")
        return
    sql, origin = plain_csv_sql(database, env)
    csv_theirs = work / "sqlite3.csv"
    shell = [sqlite3_shell, "-csv", "-header", "-readonly", str(database), sql]
    theirs = median_run(runs, lambda _i: run_child(shell, env=env, stdout=csv_theirs)[0])
    difference = first_difference(csv_ours, csv_theirs)
    ratio = ours.cpu_s / theirs.cpu_s
    ok = ratio <= TARGETS["csv"] and difference is None
    line("export csv", ours, theirs, f"{ratio:.2f}", f"≤ {TARGETS['csv']} ×, same", ok)
    print(
        f"  byte-identical to sqlite3 -csv: {'yes' if difference is None else 'NO, ' + difference}"
    )
    print(f"  sqlite3 query: {origin}")
    for path in (parquet, csv_ours, csv_theirs, work / "adbc.parquet"):
        path.unlink(missing_ok=True)


def startup(runs: int, work: Path, database: Path, env: dict[str, str]) -> None:
    """`--help`, `status` on the store, and two syncs that have nothing to do — no account
    connected (an empty vault: exit 10), and one account already up to date against the
    sandbox (`--trailing-days 0`: one request per stream) — against `python -c pass`."""
    baseline = median_run(runs, lambda _i: run_child([sys.executable, "-c", "pass"], env=env)[0])
    limit = TARGETS["startup"]
    status = [HEARTKEEP, "status", "--database", str(database)]
    with connected_home(work, env) as home:
        cron = [HEARTKEEP, "sync", "--trailing-days", "0", "--quiet"]
        for name, once in (
            ("--help", lambda _i: run_child([HEARTKEEP, "--help"], env=env)[0]),
            ("status", lambda _i: run_child(status, env=env)[0]),
            (
                "sync (none connected)",
                lambda _i: run_child([HEARTKEEP, "sync"], env=env, ok_exits=(10,))[0],
            ),
            ("sync (up to date)", lambda _i: run_child(cron, env=home)[0]),
        ):
            ours = median_run(runs, once)
            ratio = ours.cpu_s / baseline.cpu_s
            ok = ours.cpu_s <= limit
            line(f"start-up: {name}", ours, baseline, f"{ratio:.0f}", f"≤ {limit} s", ok)
        counted = {
            "python -c pass": ([sys.executable, "-c", "pass"], env, (0,)),
            "--help": ([HEARTKEEP, "--help"], env, (0,)),
            "status": (status, env, (0,)),
            "sync (none connected)": ([HEARTKEEP, "sync"], env, (10,)),
            "sync (up to date)": (cron, home, (0,)),
        }
        figures = [f"{name} {m / 1e6:.0f} M" for name, (argv, where, ok) in counted.items()
                   if (m := instructions(argv, where, ok)) is not None]  # fmt: skip
    print(f"  plain = python -c pass ({baseline.rss_mb:.0f} MB)")
    if figures:
        print(f"  instructions (callgrind; the machine's load does not change them): "
              f"{', '.join(figures)}")  # fmt: skip
    else:
        print("  instructions: valgrind is not installed (apt-get install valgrind)")


def instructions(argv: list[str], env: dict[str, str], ok_exits: tuple[int, ...]) -> int | None:
    """How many instructions the command executes, counted by callgrind (None without
    valgrind).  Unlike CPU seconds on a shared machine, the count is the same at any load, so
    a start-up change of a few per cent shows."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "callgrind.log"
        count = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                 f"--log-file={log}", *argv]  # fmt: skip
        run_child(count, env=env, ok_exits=ok_exits)
        for row in log.read_text().splitlines():
            if "Collected :" in row:
                return int(row.rsplit(":", 1)[1])
    return None


def takeout_import(runs: int, days: int, work: Path, env: dict[str, str]) -> None:
    """`heartkeep import takeout` against the minimal import, on bench_import_export's archive."""
    archive = work / "takeout.zip"
    code = (
        "import sys, bench_import_export as b; from pathlib import Path; "
        "print(b.generate(Path(sys.argv[1]), int(sys.argv[2])))"
    )
    _, text = run_child([sys.executable, "-c", code, str(archive), str(days)], env=env)
    samples = int(text)

    def ours_once(i: int) -> Run:
        home = work / f"import-home-{i}"
        run = run_child([HEARTKEEP, "import", "takeout", str(archive), "--time-zone", ZONE,
                         "--quiet"], env={**env, "HEARTKEEP_HOME": str(home)})[0]  # fmt: skip
        shutil.rmtree(home)
        return run

    def theirs_once(i: int) -> Run:
        target = work / f"minimal-{i}.sqlite"
        argv = [sys.executable, str(BENCH / "plain_alternatives.py"), "import", str(archive),
                str(target), ZONE]  # fmt: skip
        run = run_child(argv, env=env)[0]
        for path in work.glob(f"minimal-{i}.sqlite*"):
            path.unlink()
        return run

    ours = median_run(runs, ours_once)
    theirs = median_run(runs, theirs_once)
    shared = "def minimal_import(" in (BENCH / "bench_import_export.py").read_text()
    origin = "bench_import_export.minimal_import" if shared else "plain_alternatives.minimal_import"
    speed = theirs.cpu_s / ours.cpu_s
    name = f"import takeout ({days} d)"
    line(name, ours, theirs, f"{speed:.2f}", f"≥ {TARGETS['import']} × speed", speed >= 1)
    print(f"  {samples:,} samples: heartkeep {samples / ours.cpu_s:,.0f}/s, minimal orjson + "
          f"executemany {samples / theirs.cpu_s:,.0f}/s (CPU incl. start-up)")  # fmt: skip
    print(f"  minimal import: {origin}")
    archive.unlink()


# bench_sync's client side with the store's upkeep of aggregates switched off, when the store
# keeps any (issue 11: maintained in the writer's transaction, refreshed after a sync).  These
# are private names of SqliteStore; a run that finds none of them says so and is not compared.
WITHOUT_AGGREGATES = """
import sys
import bench_sync
from heartkeep.store.sqlite import SqliteStore
# Every part of the upkeep: the minutes and dirty marks of changed rows and of all-new rows
# (a backfill page, a first import), and the refresh of the days at the end.
UPKEEP = ("_samples_changed", "_samples_added", "_small_write", "refresh_aggregates")
off = [n for n in UPKEEP if hasattr(SqliteStore, n)]
for name in off:
    setattr(SqliteStore, name, lambda *args, **kwargs: 0)
print("aggregates off:", ",".join(off) or "none found")
if off:
    bench_sync.client_side("observed", int(sys.argv[1]))
"""


def ingest_figures(text: str) -> tuple[float, float] | None:
    """(samples/s of client CPU, peak RSS MB) from what bench_sync's client side prints."""
    rate = rss = None
    for row in text.splitlines():
        if row.startswith("client ingest"):
            rate = float(row.split()[2].replace(",", ""))
        elif row.startswith("client peak RSS"):
            rss = float(row.split()[3])
    return None if rate is None or rss is None else (rate, rss)


@contextmanager
def baseline_checkout(commit: str, folder: Path) -> Iterator[Path | None]:
    """A checkout of `commit` (a `git worktree` in `folder`), removed afterwards; None, with the
    reason printed, when this is not a git checkout that has the commit."""
    repo = BENCH.parent
    target = folder / f"heartkeep-{commit}"
    made = subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", str(target), commit],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode:
        print(f"  baseline {commit}: no checkout ({made.stderr.strip()[-200:]})")
        yield None
        return
    try:
        yield target
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(target)],
            capture_output=True,
            check=False,
        )


def ingest(runs: int, days: int, env: dict[str, str]) -> None:
    """The client-CPU ingest figure of `bench_sync.py --client`, run for run (alternating, so
    all meet the same neighbours) against the baseline commit's own `bench_sync.py --client`
    (a checkout of `INGEST_BASELINE["commit"]`, before the aggregates existed) on this machine
    and against the same sync with the aggregates' upkeep switched off.  The baseline's figure
    from the machine it was first measured on is printed as history."""
    folder = Path(tempfile.mkdtemp(prefix="hk-bench-ingest-"))
    # bench_sync's runs make their homes in TMPDIR: here, so they go with the folder.
    (folder / "tmp").mkdir()
    env = {**env, "TMPDIR": str(folder / "tmp")}
    commit = str(INGEST_BASELINE["commit"])
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    base: list[tuple[float, float]] = []
    text = ""
    try:
        with baseline_checkout(commit, folder) as checkout:
            for _ in range(runs):
                argv = [sys.executable, str(BENCH / "bench_sync.py"), "--client", "--days",
                        str(days)]  # fmt: skip
                figures = ingest_figures(run_child(argv, env=env)[1])
                assert figures is not None, "bench_sync.py --client printed no ingest figure"
                on.append(figures)
                text = run_child([sys.executable, "-c", WITHOUT_AGGREGATES, str(days)], env=env)[1]
                figures = ingest_figures(text)
                if figures is not None:
                    off.append(figures)
                if checkout is not None:
                    theirs = [sys.executable, str(checkout / "bench" / "bench_sync.py"),
                              "--client", "--days", str(days)]  # fmt: skip
                    old = {**env, "PYTHONPATH": str(checkout / "src")}
                    figures = ingest_figures(run_child(theirs, env=old)[1])
                    if figures is not None:
                        base.append(figures)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rate = statistics.median(r for r, _ in on)
    rss = max(r for _, r in on)
    if base:
        baseline = statistics.median(r for r, _ in base)
        ratio = rate / baseline
        print(
            f"{f'sync ingest ({days} d)':<30} {rate:>9,.0f} {baseline:>8,.0f} {ratio:7.2f} "
            f"{'≥ 1 × ' + commit:>13} {rss:7.0f} {verdict(ratio >= 1 - INGEST_NOISE):>5}"
        )
        print(f"  samples/s of client CPU (bench_sync.py --client --days {days}), plain = "
              f"{commit}'s own bench_sync.py in a checkout, run for run with ours "
              f"(peak RSS {max(r for _, r in base):.0f} MB); ±{INGEST_NOISE:.0%} counts as "
              "no regression")  # fmt: skip
    else:
        print(f"{f'sync ingest ({days} d)':<30} {rate:>9,.0f} {'—':>8} {'—':>7} "
              f"{'≥ 1 × ' + commit:>13} {rss:7.0f} {'':>5}")  # fmt: skip
    history = INGEST_BASELINE["samples_per_s"]
    print(f"  history: {history:,}/s at {commit} ({INGEST_BASELINE['days']} d, measured "
          f"2026-12-01 on another machine): ours {rate / float(history):.2f} × that")  # fmt: skip
    if not off:
        print("  aggregates off: this store keeps none (no side-by-side run)")
        return
    without = statistics.median(r for r, _ in off)
    ratio = rate / without
    ok = ratio >= 1 - INGEST_NOISE
    print(
        f"{'  … same, aggregates off':<30} {rate:>9,.0f} {without:>8,.0f} {ratio:7.2f} "
        f"{'≥ 0.95 × off':>13} {max(r for _, r in off):7.0f} {verdict(ok):>5}"
    )
    print(f"  {text.splitlines()[0]} (SqliteStore methods made no-ops in that run)")


if __name__ == "__main__":
    sys.exit(main())
