"""The sync lock (`sync/lock.py`): flock(2) without waiting, exit 75 for the second run, and the
same lock filelock takes on Unix, so a heartkeep that still locks through filelock and this one
exclude each other."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from heartkeep.errors import AlreadyRunning
from heartkeep.sync.lock import LOCK_NAME, sync_lock

HOLD = """
import sys, filelock
lock = filelock.FileLock(sys.argv[1], timeout=0)
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_a_second_lock_is_refused_and_the_first_released_after_its_block(tmp_path: Path) -> None:
    with sync_lock(tmp_path) as path:
        assert path == tmp_path / LOCK_NAME
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(AlreadyRunning, match="already running"), sync_lock(tmp_path):
            pass
    with sync_lock(tmp_path):
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="flock is Unix's")
def test_a_lock_held_through_filelock_by_another_process_is_respected(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / LOCK_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(AlreadyRunning), sync_lock(tmp_path):
                pass
        finally:
            holder.kill()  # dies holding it: the OS lets go
    holder.wait()
    with sync_lock(tmp_path):
        pass
