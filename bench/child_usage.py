"""What one child process cost: CPU (user + sys) and peak RSS, from `os.wait4`, for `bench_reads`.

Measuring in the child, not the parent, is what makes heartkeep and the `sqlite3` shell
comparable: both are just processes.  `wait4` counts the child and whatever children it waited
for; `ru_maxrss` is the child's own high-water mark (plus the little the driver's fork started
with, since Linux carries the pre-exec peak over: the driver imports nothing heavy for that
reason).  Stdlib only.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    cpu_s: float
    rss_mb: float


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    stdout: Path | None = None,
    ok_exits: Collection[int] = (0,),
) -> tuple[Run, str]:
    """Run one child to its end; its CPU and peak RSS, and its stdout unless it went to the
    file `stdout`.  Exits the bench with the child's stderr when its exit code is not in
    `ok_exits`."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        sink = stdout.open("wb") if stdout else out
        try:
            child = subprocess.Popen(
                argv, stdout=sink, stderr=err, stdin=subprocess.DEVNULL, env=env
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout:
                sink.close()
        if child.returncode not in ok_exits:
            err.seek(0)
            sys.exit(f"{' '.join(argv)} exited {child.returncode}:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        text = out.read().decode()
    return Run(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), text


def median_run(runs: int, once: Callable[[int], Run]) -> Run:
    """Median CPU over `runs` calls of `once(i)`; the largest peak RSS of them."""
    results = [once(i) for i in range(runs)]
    return Run(statistics.median(r.cpu_s for r in results), max(r.rss_mb for r in results))
