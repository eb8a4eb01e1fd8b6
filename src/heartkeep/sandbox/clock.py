"""Server time for the sandbox: a simulated clock for tests and wall time for real use.

The sandbox decides token expiry, quota minutes and data visibility from this clock.  A test
hands the *same* `SimClock` to the sandbox and to the client (it satisfies the client's
`heartkeep.clock.Clock` protocol structurally), so an hour of rate limiting or a week of token
expiry passes in an instant, and both sides agree on what "now" is.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Thread-safe simulated time: only moves when advanced, set or slept on.

    The server runs in another thread than the test, hence the lock.  `sleep` advances instead
    of waiting, which is what lets a client's back-off run at full speed in tests.
    """

    def __init__(self, start_s: float) -> None:
        self._lock = threading.Lock()
        self._now_s = float(start_s)

    def now_s(self) -> float:
        """Seconds since the epoch, UTC, as simulated."""
        with self._lock:
            return self._now_s

    def sleep(self, seconds: float) -> None:
        """Advance by `seconds` (negative values are ignored, as a real sleep would)."""
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward (or backward, for a test that needs it) by `seconds`."""
        with self._lock:
            self._now_s += seconds

    def set(self, now_s: float) -> None:
        """Jump to an absolute instant (seconds since the epoch, UTC)."""
        with self._lock:
            self._now_s = float(now_s)


class WallClock:
    """Real time, for `heartkeep sandbox serve` and the demo."""

    def now_s(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
