"""Peak memory and exit status of `heartkeep import takeout` on hostile archives.

Each case is an archive built to hurt (an entry of `--mb` megabytes: a CSV with one endless
field, a valid-looking JSON day file far beyond any real one, a zip bomb, a tar member, an
endless JSON array, an endless CSV), plus the largest files the limits still admit (the worst
case a legal file can cost).  Each import runs in a fresh child process with its own
HEARTKEEP_HOME, so the peak RSS printed is that import's alone.  Nothing is asserted; the
figures go in the report.  The wanted outcome: exit 8 for every hostile case, peak RSS
≤ 200 MB for all, and no database left behind by a failed import.

    .venv/bin/python bench/bench_hostile_import.py            # 300 MB entries (as in issue 10)
    .venv/bin/python bench/bench_hostile_import.py --quick    # 8 MB entries, a few seconds
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from heartkeep.importers import limits

FOLDER = "Takeout/Fitbit/Global Export Data"
CHUNK = 1024 * 1024


def record(i: int, pad: int = 0) -> bytes:
    stamp = f"06/01/26 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
    return (
        f'{{"dateTime" : "{stamp}",{" " * pad}"value" : {{"bpm" : 70, "confidence" : 2}}}}'
    ).encode()


def stream_zip(path: Path, name: str, chunks: Callable[[], object], size: int) -> None:
    """Write one zip entry of `size` bytes from a generator of chunks, never all in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{FOLDER}/{name}")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            for chunk in chunks():  # type: ignore[attr-defined]
                entry.write(chunk)


def long_csv_field(path: Path, size: int) -> None:
    def chunks():  # random hex: compresses about 2:1, so only the line limit stops it
        yield b"timestamp,beats per minute\n2026-06-01T10:00:00Z,"
        written = 0
        while written < size:
            yield os.urandom(CHUNK // 2).hex().encode()
            written += CHUNK
        yield b"\n"

    stream_zip(path / "takeout.zip", "heart_rate_2026-06-01.csv", chunks, size)


def huge_json_day(path: Path, size: int) -> None:
    def chunks():  # records like a real file's, far more than a day holds
        yield b"["
        written, i = 0, 0
        while written < size:
            block = b",".join(record(i + k) for k in range(10_000)) + b","
            i += 10_000
            written += len(block)
            yield block
        yield record(i) + b"]"

    stream_zip(path / "takeout.zip", "heart_rate-2026-06-01.json", chunks, size)


def zip_bomb(path: Path, size: int) -> None:
    def chunks():
        yield b"["
        for _ in range(size // CHUNK):
            yield b" " * CHUNK
        yield b"]"

    stream_zip(path / "takeout.zip", "heart_rate-2026-06-01.json", chunks, size)


def tar_member(path: Path, size: int) -> None:
    source = path / "member.csv"
    with source.open("wb") as handle:
        for _ in range(size // CHUNK):
            handle.write(b"2026-06-01T10:00:00Z,70.0\n" * (CHUNK // 26))
    with tarfile.open(path / "export.tgz", "w:gz", compresslevel=1) as archive:
        archive.add(source, f"{FOLDER}/heart_rate_2026-06-01.csv")
    source.unlink()


def endless_json_array(path: Path, size: int) -> None:
    (path / "export").mkdir()
    with (path / "export" / "heart_rate-2026-06-01.json").open("wb") as handle:
        handle.write(b"[")
        for _ in range(size // CHUNK):
            handle.write(b"0," * (CHUNK // 2))
        handle.write(b"0]")


def endless_csv(path: Path, size: int) -> None:
    (path / "export").mkdir()
    with (path / "export" / "heart_rate_2026-06-01.csv").open("wb") as handle:
        handle.write(b"timestamp,beats per minute\n")
        for _ in range(size // CHUNK):
            handle.write(b"\n" * CHUNK)


def largest_legal_json(path: Path, _size: int) -> None:
    """As many records as the token limit admits, padded up to the byte limit."""
    count = limits.MAX_JSON_TOKENS // 5 - 100
    pad = max(0, (limits.MAX_ENTRY_BYTES - 200) // count - len(record(0)) - 1)
    (path / "export").mkdir()
    body = b"[" + b",".join(record(i % 86_400, pad) for i in range(count)) + b"]"
    (path / "export" / "heart_rate-2026-06-01.json").write_bytes(body)


def largest_legal_csv(path: Path, _size: int) -> None:
    """As many lines as the line limit admits, padded up to the byte limit."""
    count = limits.MAX_CSV_LINES - 10
    pad = max(0, (limits.MAX_ENTRY_BYTES - 200) // count - 40)
    (path / "export").mkdir()
    rows = b"".join(
        b"2026-06-01T%02d:%02d:%02dZ,70.0,%s\n" % (i // 3600 % 24, i // 60 % 60, i % 60, b"P" * pad)
        for i in range(count)
    )
    (path / "export" / "heart_rate_2026-06-01.csv").write_bytes(
        b"timestamp,beats per minute,data source\n" + rows
    )


CASES: dict[str, Callable[[Path, int], None]] = {
    "csv field": long_csv_field,
    "json day": huge_json_day,
    "zip bomb": zip_bomb,
    "tar member": tar_member,
    "json array": endless_json_array,
    "csv lines": endless_csv,
    "legal json": largest_legal_json,
    "legal csv": largest_legal_csv,
}


def run(case: str, size: int) -> tuple[int, float, float, bool, str]:
    """(exit status, peak RSS MB, seconds, database left behind, last output line)."""
    with tempfile.TemporaryDirectory(prefix="hk-hostile-") as tmp:
        root = Path(tmp)
        CASES[case](root, size)
        target = next(p for p in root.iterdir() if p.name != "home")
        env = dict(os.environ, HEARTKEEP_HOME=str(root / "home"))
        command = [sys.executable, "-m", "heartkeep", "import", "takeout", str(target)]
        started = time.perf_counter()
        child = subprocess.Popen(
            [*command, "--time-zone", "Europe/Berlin"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert child.stdout is not None
        output = child.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        left = any((root / "home").rglob("*.sqlite"))
        last = output.strip().splitlines()[-1] if output.strip() else ""
        return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, seconds, left, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="size of each hostile entry")
    parser.add_argument("--quick", action="store_true", help="8 MB entries")
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    size = (8 if args.quick else args.mb) * CHUNK
    print(f"hostile entries of {size // CHUNK} MB; limits: {limits.MAX_ENTRY_BYTES // CHUNK} MB")
    print(f"{'case':<12} {'exit':>4} {'peak RSS':>9} {'seconds':>8}  db left  message")
    for case in args.case or list(CASES):
        code, rss, seconds, left, last = run(case, size)
        message = last if len(last) < 110 else last[:50] + " … " + last[-56:]
        kept = "yes" if left else "no"
        print(f"{case:<12} {code:>4} {rss:>7.0f}MB {seconds:>8.1f}  {kept:<7}  {message}")


if __name__ == "__main__":
    main()
