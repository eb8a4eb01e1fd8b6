"""One sync at a time per data directory: a non-blocking file lock.

Cron, a systemd timer and `heartkeep watch` may all fire at once; the second run must not
interleave with the first (each would be correct alone, but together they double the requests
and contend for the database).  The lock is taken without waiting, and a second run exits at
once with `AlreadyRunning` (exit 75, EX_TEMPFAIL — systemd's `SuccessExitStatus=75` and cron
treat it as "try again later").  The OS releases the lock if the process dies, so a killed
sync never blocks the next one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from heartkeep.config import make_private_dir
from heartkeep.errors import AlreadyRunning
from heartkeep.store.failures import read_only, store_failure

LOCK_NAME = "sync.lock"


@contextmanager
def sync_lock(data_dir: Path) -> Iterator[Path]:
    """Hold the sync lock of `data_dir` for the duration of the block; yields the lock path."""
    path = data_dir / LOCK_NAME
    try:
        make_private_dir(data_dir)
    except OSError as failure:
        raise store_failure(failure, data_dir) from failure
    if not os.access(data_dir, os.W_OK):
        # A folder it cannot write would otherwise read as "someone else holds the lock".
        raise read_only(path, "the data folder is read-only")
    if sys.platform == "win32":
        with _filelock(path):
            yield path
    else:
        with _flock(path):
            yield path


def _taken(path: Path) -> AlreadyRunning:
    return AlreadyRunning(
        "another heartkeep sync is already running",
        hint=f"It holds {path}; this run exits without doing anything.",
    )


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    """`flock(2)` on the lock file, without waiting: what filelock's Unix lock does underneath
    (so a heartkeep that still takes it through filelock excludes this one and vice versa),
    minus its import (~50 M instructions, a tenth of an up-to-date cron sync)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # private, like the rest
    except OSError as failure:
        raise store_failure(failure, path) from failure
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _taken(path) from None
        except OSError as failure:
            raise store_failure(failure, path) from failure
        yield  # closing the descriptor releases the lock; so does the process's death
    finally:
        os.close(fd)


@contextmanager
def _filelock(path: Path) -> Iterator[None]:
    """Windows has no flock: filelock's msvcrt lock."""
    import filelock

    lock = filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise _taken(path) from None
    except OSError as failure:  # after Timeout, which is an OSError too
        raise store_failure(failure, path) from failure
    try:
        yield
    finally:
        lock.release()
