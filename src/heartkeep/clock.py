"""The clock heartkeep waits on.  Passed in everywhere, so tests can make an hour pass at once.

`Clock` is structural: the sandbox's simulated clock satisfies it without importing it, which
lets a test share one simulated time between the emulator and the client.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_s(self) -> float:
        """Seconds since the epoch, UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait; a simulated clock just moves forward."""
        ...


class SystemClock:
    """Wall-clock time and real sleeping."""

    def now_s(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told or slept on; `slept_s` records every wait."""

    def __init__(self, start_s: float = 1_790_000_000.0) -> None:
        self._now_s = start_s
        self.slept_s: list[float] = []

    def now_s(self) -> float:
        return self._now_s

    def sleep(self, seconds: float) -> None:
        self.slept_s.append(seconds)
        self._now_s += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self._now_s += seconds
