"""When a writer may trust an earlier integrity check instead of running `quick_check` again.

`PRAGMA quick_check` reads every page: about 3.5 s of CPU on a one-year store (10 M samples,
bench/bench_store_check.py), paid by every cron-run sync.  Damage comes from outside — another
program, a bad copy, a failing disk — and an outside write changes the file's size, mtime or
ctime.  So a writer that closes cleanly leaves a stamp beside the database: the file's
fingerprint after its last write and when the file was last found sound.  The next writer
skips the check only if the file is exactly as that writer left it, no write-ahead log is
pending, and the check is less than `RECHECK_AFTER_S` old (silent bit rot changes no
fingerprint, so the check still runs weekly).  Anything else — a killed sync, a restored
backup, a file edited by hand, a missing or unreadable stamp — means a full check, as before.
Readers never need the stamp: SQLite reports damaged pages when it reads them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

RECHECK_AFTER_S = 7 * 86_400


def stamp_path(database: Path) -> Path:
    return database.with_name(database.name + "-checked")


def _fingerprint(database: Path) -> list[int]:
    st = database.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def last_clean_check(database: Path, *, now_s: float | None = None) -> float | None:
    """When the file was last found sound, if it is untouched since; None: check it now."""
    now_s = time.time() if now_s is None else now_s
    try:
        wal = database.with_name(database.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return None
        stamp = json.loads(stamp_path(database).read_text(encoding="utf-8"))
        checked_s = float(stamp["checked_s"])
        if stamp["fingerprint"] != _fingerprint(database):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return checked_s if 0 <= now_s - checked_s < RECHECK_AFTER_S else None


def remember_clean_close(database: Path, checked_s: float) -> None:
    """Stamp the file as this writer leaves it; best effort, a lost stamp costs one check."""
    stamp = stamp_path(database)
    partial = stamp.with_name(stamp.name + ".tmp")
    try:
        body = json.dumps({"checked_s": checked_s, "fingerprint": _fingerprint(database)})
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(partial, stamp)
    except OSError:
        stamp.unlink(missing_ok=True)
