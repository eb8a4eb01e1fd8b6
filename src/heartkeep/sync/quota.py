"""The per-account request budget: wait on the clock *before* a request would be refused.

Two sources of truth, used together:

- a documented budget (Google: 300 requests per user per minute; legacy Fitbit: 150 per user
  per hour), enforced locally as a sliding log of request instants.  Never more than `limit`
  requests in any `window_s` also keeps us inside a server that counts in fixed windows;
- the provider's own headers where it sends them (legacy Fitbit's `Fitbit-Rate-Limit-Limit`,
  `-Remaining`, `-Reset`): when nothing remains we wait out `Reset` instead of collecting a 429.

All waiting happens on the injected `Clock`, so a test with a simulated clock lets an hour of
quota pass at once.  One `RequestBudget` belongs to one HTTP client, i.e. one account.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from heartkeep.clock import Clock

# Requests per minute left for other clients of the same user (see `QuotaPolicy.google_health`).
GOOGLE_RESERVE = 5


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """How many requests an account may send: `limit` per `window_s`, and whether to obey the
    provider's rate-limit headers (`header_prefix`, e.g. "Fitbit-Rate-Limit").

    `limit=None` means no local budget (only headers and 429s slow us down).
    """

    limit: int | None
    window_s: float
    header_prefix: str | None = None
    # Seconds added to a header-announced reset, so we never arrive a hair early.
    reset_margin_s: float = 1.0

    @classmethod
    def google_health(cls) -> QuotaPolicy:
        """Google's documented per-user quota, 300 requests per minute, less a small reserve.

        The quota counts every request of the user through our OAuth client, including ones
        this budget never sees (the identity call at login, another heartkeep process); the
        reserve keeps a backfill from running into a 429 because of them, at ~2 % of speed.
        """
        return cls(limit=300 - GOOGLE_RESERVE, window_s=60.0)

    @classmethod
    def fitbit_legacy(cls) -> QuotaPolicy:
        """Legacy Fitbit: 150 requests per user per hour, and its `Fitbit-Rate-Limit-*` headers."""
        return cls(limit=150, window_s=3600.0, header_prefix="Fitbit-Rate-Limit")

    @classmethod
    def unlimited(cls) -> QuotaPolicy:
        return cls(limit=None, window_s=60.0)

    @classmethod
    def for_provider(cls, provider: str) -> QuotaPolicy:
        """The documented policy of a provider by name ("google-health", "fitbit-legacy")."""
        if provider == "fitbit-legacy":
            return cls.fitbit_legacy()
        if provider == "google-health":
            return cls.google_health()
        return cls.unlimited()


class RequestBudget:
    """Decides how long to wait before the next request, and learns from responses."""

    def __init__(self, policy: QuotaPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until_s = 0.0
        self._lock = threading.Lock()

    def wait_needed_s(self) -> float:
        """Seconds to wait before the next request may go out (0 if it may go now)."""
        return self.wait_needed()[0]

    def wait_needed(self) -> tuple[float, Literal["budget", "headers"]]:
        """Seconds to wait, and whether our own budget or the provider's headers ask for it."""
        with self._lock:
            now = self.clock.now_s()
            header_wait = max(0.0, self._blocked_until_s - now)
            budget_wait = 0.0
            limit = self.policy.limit
            if limit is not None:
                horizon = now - self.policy.window_s
                while self._sent and self._sent[0] <= horizon:
                    self._sent.popleft()
                if len(self._sent) >= limit:
                    # The oldest request in the window must age out first.
                    oldest = self._sent[len(self._sent) - limit]
                    budget_wait = oldest + self.policy.window_s - now
        if header_wait > budget_wait:
            return header_wait, "headers"
        return budget_wait, "budget"

    def record_sent(self) -> None:
        """Count a request as sent now (call just before sending it)."""
        with self._lock:
            self._sent.append(self.clock.now_s())

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Read the provider's remaining/reset headers; block until the reset when none remain."""
        prefix = self.policy.header_prefix
        if prefix is None:
            return
        remaining = _int_header(headers, f"{prefix}-Remaining")
        reset_s = _int_header(headers, f"{prefix}-Reset")
        if remaining is None or reset_s is None or remaining > 0:
            return
        with self._lock:
            until = self.clock.now_s() + reset_s + self.policy.reset_margin_s
            self._blocked_until_s = max(self._blocked_until_s, until)

    def block_for(self, seconds: float) -> None:
        """Hold every request back for `seconds` (reported as a header wait)."""
        with self._lock:
            self._blocked_until_s = max(self._blocked_until_s, self.clock.now_s() + seconds)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None
