"""Import and export throughput and peak memory for a one-year, one-sample-a-second archive.

Generates a Takeout-style archive (`Takeout/Fitbit/Global Export Data/heart_rate-*.json`, one
file per local day, 86,400 records each, Jackson-style JSON as the real archives have it), then
in a fresh child process per phase — so each phase's peak RSS is its own — imports it into an
empty store and exports the year in every format.  Prints samples/s (of CPU time: the machine
is shared, so wall time says more about the neighbours), peak RSS and file sizes, and Parquet
bytes per sample.  Nothing here is asserted; the figures go in the report.

The import is measured against `minimal_import`, what a skilled user would write instead: each
day file through `orjson.loads`, the stamps to UTC instants with `datetime`, and one
`executemany` INSERT into a plain table — no checks, no offsets, no provenance.  The ratio
heartkeep ÷ minimal (samples per CPU second) is printed; issue 11 asks for at least 1.

    .venv/bin/python bench/bench_import_export.py            # a full year (~31.5 M samples)
    .venv/bin/python bench/bench_import_export.py --days 30  # a quicker look
    .venv/bin/python bench/bench_import_export.py --days 30 --formats '' --layout fitbit-json
        # the import only, of saved legacy API responses (one file a day) instead of Takeout
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import orjson

ZONE = "Europe/Berlin"
FIRST_DAY = dt.date(2025, 11, 1)
FORMATS = ("csv", "parquet", "jsonl", "fhir", "omh")


def generate(archive: Path, days: int, layout: str = "json") -> int:
    """Write the archive (JSON day files, the Oct-2026 CSV-only layout, or a folder of saved
    legacy API responses); return its size in samples."""
    tz = ZoneInfo(ZONE)
    total = 0
    rng = np.random.default_rng(7)
    if layout == "fitbit-json":
        archive.mkdir(parents=True)
    with (
        zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        if layout != "fitbit-json"
        else nullcontext()
    ) as out:
        for index in range(days):
            day = FIRST_DAY + dt.timedelta(days=index)
            start = int(dt.datetime.combine(day, dt.time(), tz).timestamp())
            end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).timestamp())
            instants = np.arange(start, end, dtype=np.int64)
            phase = (instants % 86_400) / 86_400 * 2 * np.pi
            bpm = (70 + 15 * np.sin(phase - 2) + rng.normal(0, 3, len(instants))).astype(int)
            stamps = instants.astype("datetime64[s]").astype(str)
            total += len(instants)
            if layout == "fitbit-json":
                # The wall clock of the day, as the API serves it (a fall-back day repeats an hour).
                walls = [dt.datetime.fromtimestamp(int(i), tz) for i in instants[::60]]
                dataset = [
                    {"time": f"{w:%H:%M}:{second:02d}", "value": int(b)}
                    for w, chunk in zip(walls, np.split(bpm, range(60, len(bpm), 60)), strict=True)
                    for second, b in enumerate(chunk.tolist())
                ]
                response = {
                    "activities-heart": [
                        {"dateTime": day.isoformat(), "value": {"restingHeartRate": 58}}
                    ],
                    "activities-heart-intraday": {
                        "dataset": dataset,
                        "datasetInterval": 1,
                        "datasetType": "second",
                    },
                }
                (archive / f"heart-{day}.json").write_bytes(orjson.dumps(response))
                continue
            assert out is not None
            if layout == "csv":
                # UTC-day files in the real layout; local days straddle two, which is fine here.
                folder = "Takeout/Google Health/Physical Activity_GoogleData/Heart Rate"
                rows = zip(stamps, bpm.tolist(), strict=True)
                with out.open(f"{folder}/heart_rate_{day}.csv", "w") as f:
                    f.write(b"timestamp,beats per minute,data source\n")
                    f.write("".join(f"{s}Z,{b}.0,Pixel Watch\n" for s, b in rows).encode())
                continue
            with out.open(f"Takeout/Fitbit/Global Export Data/heart_rate-{day}.json", "w") as f:
                f.write(b"[")
                f.write(
                    ",".join(
                        f'{{\n  "dateTime" : "{s[5:7]}/{s[8:10]}/{s[2:4]} {s[11:]}",\n  "value" : '
                        f'{{\n    "bpm" : {b},\n    "confidence" : 2\n  }}\n}}'
                        for s, b in zip(stamps, bpm.tolist(), strict=True)
                    ).encode()
                )
                f.write(b"]")
    return total


def _day_files(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each heart-rate day file of the archive, in order."""
    if archive.is_dir():
        for path in sorted(archive.iterdir()):
            yield path.name, path.read_bytes()
        return
    with zipfile.ZipFile(archive) as source:
        for name in sorted(source.namelist()):
            if "heart_rate" in name:
                yield name, source.read(name)


def minimal_import(archive: Path, database: Path) -> int:
    """The import a skilled user would write with orjson and sqlite3: what heartkeep is measured
    against.  Instants are right (UTC from the stamps; local wall times through the zone for
    saved API responses); nothing is checked, no offset or provenance is kept."""
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE hr (instant INTEGER, bpm INTEGER)")
    tz, utc = ZoneInfo(ZONE), dt.UTC
    count = 0
    for name, raw in _day_files(archive):
        if name.endswith(".csv"):
            lines = raw.decode().splitlines()[1:]
            rows = [
                (int(dt.datetime.fromisoformat(t).timestamp()), round(float(b)))
                for t, b, _ in (line.split(",", 2) for line in lines)
            ]
        elif archive.is_dir():
            response = orjson.loads(raw)
            day = dt.date.fromisoformat(response["activities-heart"][0]["dateTime"])
            rows = [
                (
                    int(dt.datetime.combine(day, dt.time.fromisoformat(p["time"]), tz).timestamp()),
                    p["value"],
                )
                for p in response["activities-heart-intraday"]["dataset"]
            ]
        else:
            rows = []
            for record in orjson.loads(raw):
                s = record["dateTime"]
                moment = dt.datetime(
                    2000 + int(s[6:8]), int(s[0:2]), int(s[3:5]),
                    int(s[9:11]), int(s[12:14]), int(s[15:17]), tzinfo=utc,
                )  # fmt: skip
                rows.append((int(moment.timestamp()), record["value"]["bpm"]))
        db.executemany("INSERT INTO hr VALUES (?, ?)", rows)
        count += len(rows)
    db.commit()
    db.close()
    return count


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(phase: str, home: Path, archive: Path, out_dir: Path) -> None:
    """Run one phase in this (fresh) process and print a JSON line of figures."""
    os.environ["HEARTKEEP_HOME"] = str(home)
    from heartkeep import api

    settings = api.load_settings()
    baseline = peak_rss_mb()
    began, began_cpu = time.perf_counter(), cpu_s()
    if phase == "minimal":
        count = minimal_import(archive, out_dir / "minimal.sqlite")
        size = _size(archive)
    elif phase == "import" and archive.is_dir():
        files = sorted(archive.iterdir())
        report = api.import_fitbit_json(settings, files, time_zone=ZONE)
        count, size = report.inserted, _size(archive)
    elif phase == "import":
        report = api.import_takeout(settings, [archive], time_zone=ZONE)
        count, size = report.inserted, _size(archive)
    else:
        dest = out_dir / f"year.{phase}"
        exported = api.export(settings, phase, dest)
        count, size = exported.samples, exported.bytes
    seconds, cpu_seconds = time.perf_counter() - began, cpu_s() - began_cpu
    print(json.dumps({
        "phase": phase, "samples": count, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "bytes": size, "peak_rss_mb": peak_rss_mb(), "rss_before_mb": baseline,
    }))  # fmt: skip


def _size(archive: Path) -> int:
    if archive.is_dir():
        return sum(path.stat().st_size for path in archive.iterdir())
    return archive.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--formats", default=",".join(FORMATS), help="'' for import only")
    parser.add_argument("--layout", choices=("json", "csv", "fitbit-json"), default="json")
    parser.add_argument(
        "--archive", type=Path, help="keep the generated archive here and reuse it next time"
    )
    parser.add_argument("--no-minimal", action="store_true", help="skip the minimal import")
    parser.add_argument("--child", nargs=4, metavar=("PHASE", "HOME", "ARCHIVE", "OUT"))
    args = parser.parse_args()
    if args.child:
        phase, home, archive, out = args.child
        if phase == "generate":
            generate(Path(archive), args.days, args.layout)
        else:
            child(phase, Path(home), Path(archive), Path(out))
        return

    with tempfile.TemporaryDirectory(prefix="heartkeep-bench-") as tmp:
        root = Path(tmp)
        archive = args.archive or root / ("responses" if args.layout == "fitbit-json" else "a.zip")
        began = time.perf_counter()
        if args.archive is None or not archive.exists():
            # In a child: a child's peak RSS starts at its parent's (Linux keeps it across exec).
            subprocess.run(
                [sys.executable, __file__, "--days", str(args.days), "--layout", args.layout,
                 "--child", "generate", "-", str(archive), "-"],
                check=True,
            )  # fmt: skip
            made = f"generated in {time.perf_counter() - began:,.0f} s"
        else:
            made = "reused"
        print(f"archive ({args.layout}): {args.days} days, {_size(archive) / 1e6:,.0f} MB, {made}")
        print(f"{'phase':<8} {'samples':>12} {'CPU s':>7} {'samples/s':>10} {'wall s':>7}"
              f" {'peak RSS':>9} {'(start)':>8} {'file MB':>9} {'B/sample':>9}")  # fmt: skip
        phases = ["import", *filter(None, args.formats.split(","))]
        if not args.no_minimal:
            phases.insert(0, "minimal")
        rates: dict[str, float] = {}
        for phase in phases:
            result = subprocess.run(
                [sys.executable, __file__, "--child", phase, str(root / "home"), str(archive), tmp],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            rate = rates[phase] = figures["samples"] / figures["cpu_seconds"]
            if phase == "import":
                imported = max(figures["samples"], 1)
            print(
                f"{phase:<8} {figures['samples']:>12,} {figures['cpu_seconds']:>7.1f}"
                f" {rate:>10,.0f} {figures['seconds']:>7.1f}"
                f" {figures['peak_rss_mb']:>7.0f}MB {figures['rss_before_mb']:>6.0f}MB"
                f" {figures['bytes'] / 1e6:>9.1f}"
                f" {figures['bytes'] / max(figures['samples'], 1):>9.2f}"
            )  # fmt: skip
            if phase not in ("import", "minimal"):
                (Path(tmp) / f"year.{phase}").unlink(missing_ok=True)
        if "minimal" in rates:
            ratio = rates["import"] / rates["minimal"]
            print(f"import ÷ minimal (samples per CPU second): {ratio:.2f}")
        database = root / "home" / "data" / "heartkeep.sqlite"
        print(f"store: {database.stat().st_size / imported:.1f} bytes/sample (SQLite file)")


if __name__ == "__main__":
    main()
