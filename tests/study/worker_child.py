"""A study worker in a process of its own, for the test that kills it with SIGKILL.

    python worker_child.py DATABASE_URL SANDBOX_URL TOKEN_KEY START_S

Its clock starts at the sandbox's simulated `START_S` and runs at wall speed (the sandbox's own
clock stands still, so the participant's data does not move while the child works).
"""

from __future__ import annotations

import sys
import time

from study_world import CLIENT

from heartkeep.auth.endpoints import endpoints_for
from heartkeep.study.worker import run_worker


class ShiftedClock:
    """Wall-speed time from `start_s` on."""

    def __init__(self, start_s: float) -> None:
        self.start_s = start_s
        self.origin = time.monotonic()

    def now_s(self) -> float:
        return self.start_s + time.monotonic() - self.origin

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


if __name__ == "__main__":
    url, sandbox_url, key, start_s = sys.argv[1:5]
    run_worker(
        url,
        token_keys=[key],
        endpoints=endpoints_for("google", sandbox_url),
        client=CLIENT,
        clock=ShiftedClock(float(start_s)),
        concurrency=2,
        heartbeat_s=0.5,
        http_timeout_s=10.0,
        periodic=False,
        keep_succeeded_jobs=True,
        name="doomed",
    )
