"""Import and export throughput and peak memory for a one-year, one-sample-a-second archive.

Generates a Takeout-style archive (`Takeout/Fitbit/Global Export Data/heart_rate-*.json`, one
file per local day, 86,400 records each, Jackson-style JSON as the real archives have it), then
in a fresh child process per phase — so each phase's peak RSS is its own — imports it into an
empty store and exports the year in every format.  Prints samples/s, peak RSS and file sizes,
and Parquet bytes per sample.  Nothing here is asserted; the figures go in the report.

    .venv/bin/python bench/bench_import_export.py            # a full year (~31.5 M samples)
    .venv/bin/python bench/bench_import_export.py --days 30  # a quicker look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ZONE = "Europe/Berlin"
FIRST_DAY = dt.date(2025, 11, 1)
FORMATS = ("csv", "parquet", "jsonl", "fhir", "omh")


def generate(archive: Path, days: int, layout: str = "json") -> int:
    """Write the archive (JSON day files, or the Oct-2026 CSV-only layout); return its size in
    samples."""
    tz = ZoneInfo(ZONE)
    total = 0
    rng = np.random.default_rng(7)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for index in range(days):
            day = FIRST_DAY + dt.timedelta(days=index)
            start = int(dt.datetime.combine(day, dt.time(), tz).timestamp())
            end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).timestamp())
            instants = np.arange(start, end, dtype=np.int64)
            phase = (instants % 86_400) / 86_400 * 2 * np.pi
            bpm = (70 + 15 * np.sin(phase - 2) + rng.normal(0, 3, len(instants))).astype(int)
            stamps = instants.astype("datetime64[s]").astype(str)
            total += len(instants)
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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(phase: str, home: Path, archive: Path, out_dir: Path) -> None:
    """Run one phase in this (fresh) process and print a JSON line of figures."""
    os.environ["HEARTKEEP_HOME"] = str(home)
    from heartkeep import api

    settings = api.load_settings()
    baseline = peak_rss_mb()
    began = time.perf_counter()
    if phase == "import":
        report = api.import_takeout(settings, [archive], time_zone=ZONE)
        count, size = report.inserted, archive.stat().st_size
    else:
        dest = out_dir / f"year.{phase}"
        exported = api.export(settings, phase, dest)
        count, size = exported.samples, exported.bytes
    seconds = time.perf_counter() - began
    print(json.dumps({
        "phase": phase, "samples": count, "seconds": seconds, "bytes": size,
        "peak_rss_mb": peak_rss_mb(), "rss_before_mb": baseline,
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--formats", default=",".join(FORMATS), help="'' for import only")
    parser.add_argument("--layout", choices=("json", "csv"), default="json")
    parser.add_argument("--child", nargs=4, metavar=("PHASE", "HOME", "ARCHIVE", "OUT"))
    args = parser.parse_args()
    if args.child:
        phase, home, archive, out = args.child
        child(phase, Path(home), Path(archive), Path(out))
        return

    with tempfile.TemporaryDirectory(prefix="heartkeep-bench-") as tmp:
        root = Path(tmp)
        archive = root / "takeout.zip"
        began = time.perf_counter()
        total = generate(archive, args.days, args.layout)
        print(
            f"archive ({args.layout}): {args.days} days, {total:,} samples, "
            f"{archive.stat().st_size / 1e6:,.0f} MB zipped, "
            f"generated in {time.perf_counter() - began:,.0f} s"
        )
        print(f"{'phase':<8} {'samples':>12} {'seconds':>8} {'samples/s':>11} {'peak RSS':>9}"
              f" {'(start)':>8} {'file MB':>9} {'B/sample':>9}")  # fmt: skip
        for phase in ("import", *filter(None, args.formats.split(","))):
            result = subprocess.run(
                [sys.executable, __file__, "--child", phase, str(root / "home"), str(archive), tmp],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            rate = figures["samples"] / figures["seconds"]
            print(
                f"{phase:<8} {figures['samples']:>12,} {figures['seconds']:>8.1f} {rate:>11,.0f}"
                f" {figures['peak_rss_mb']:>7.0f}MB {figures['rss_before_mb']:>6.0f}MB"
                f" {figures['bytes'] / 1e6:>9.1f}"
                f" {figures['bytes'] / max(figures['samples'], 1):>9.2f}"
            )  # fmt: skip
            if phase != "import":
                (Path(tmp) / f"year.{phase}").unlink(missing_ok=True)
        database = root / "home" / "data" / "heartkeep.sqlite"
        print(f"store: {database.stat().st_size / total:.1f} bytes/sample (SQLite file)")


if __name__ == "__main__":
    main()
