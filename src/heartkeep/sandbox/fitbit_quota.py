"""The legacy API's rate limit: 150 requests per user and app per clock hour, on the sandbox clock.

Fitbit counts every resource call of a consenting user for one app and resets the count at the
top of each hour (HH:00:00 UTC); it reports the budget on *every* response, errors included, in
`Fitbit-Rate-Limit-Limit`, `-Remaining` and `-Reset` (seconds until the reset), and answers a
call over the budget with 429, a `Retry-After` and `{"errors":[{"errorType":"system",
"fieldName":"n/a","message":"Too Many Requests"}]}` (reference §6).  Calls to the OAuth endpoints
are not counted (undocumented; the sandbox's choice, see docs/fitbit-legacy.md).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """The outcome of counting one call: allowed or not, and the headers to send either way."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        values = {
            "Fitbit-Rate-Limit-Limit": str(self.limit),
            "Fitbit-Rate-Limit-Remaining": str(self.remaining),
            "Fitbit-Rate-Limit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.reset_s)
        return values


@dataclass
class HourlyQuota:
    """Per (user, app) request counts for the current clock hour.

    `limit` is read on every call so a test may change the configuration; `now_s` is the sandbox
    clock.  `rejected` counts 429s served, for assertions.
    """

    now_s: Callable[[], float]
    limit: Callable[[], int]
    rejected: int = 0
    _counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, user_id: str, client_id: str) -> QuotaDecision:
        """Count one call for (user, app) and say whether it is within the hour's budget."""
        now = self.now_s()
        hour = int(now // HOUR_S)
        reset_s = max(1, math.ceil((hour + 1) * HOUR_S - now))
        limit = self.limit()
        with self._lock:
            counted_hour, used = self._counts.get((user_id, client_id), (hour, 0))
            if counted_hour != hour:
                used = 0
            if used >= limit:
                self.rejected += 1
                return QuotaDecision(False, limit, 0, reset_s)
            used += 1
            self._counts[(user_id, client_id)] = (hour, used)
        return QuotaDecision(True, limit, limit - used, reset_s)

    def used(self, user_id: str, client_id: str) -> int:
        """Calls counted so far this hour for (user, app)."""
        hour = int(self.now_s() // HOUR_S)
        with self._lock:
            counted_hour, used = self._counts.get((user_id, client_id), (hour, 0))
        return used if counted_hour == hour else 0
