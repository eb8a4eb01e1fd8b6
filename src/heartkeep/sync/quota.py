"""The per-account request budget: wait on the clock *before* a request would be refused.

Three sources of truth, used together:

- a documented rate (Google: 2.5 requests per second per user for an unverified app, which every
  personal client in 'Testing' is, 5 for a verified one), kept by spacing requests evenly — a
  burst is what a per-second token bucket refuses — and adapted AIMD-style: a 429 halves the
  pace (never below `min_rate_per_s`), each success adds a little back (never above the class's
  rate), so a user whose quota is shared with another client settles where 429s stop;
- a documented budget (legacy Fitbit: 150 per user per hour), enforced locally as a sliding log
  of request instants.  Never more than `limit` requests in any `window_s` also keeps us inside
  a server that counts in fixed windows;
- the provider's own headers where it sends them (legacy Fitbit's `Fitbit-Rate-Limit-Limit`,
  `-Remaining`, `-Reset`): when nothing remains we wait out `Reset` instead of collecting a 429.

All waiting happens on the injected `Clock`, so a test with a simulated clock lets an hour of
quota pass at once.  One `RequestBudget` belongs to one HTTP client, i.e. one account.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Literal

import msgspec

from heartkeep.clock import Clock

AppClass = Literal["unverified", "verified"]
APP_CLASSES: tuple[AppClass, ...] = ("unverified", "verified")
# Google's per-user rate by app class, requests per second (reference §10).
GOOGLE_RATE_PER_S: dict[str, float] = {"unverified": 2.5, "verified": 5.0}
# Share of the rate left for other requests of the same user (see `QuotaPolicy.google_health`).
GOOGLE_RESERVE = 0.02
# AIMD: a 429 multiplies the pace by this; each success adds rate × this back.
DECREASE_FACTOR = 0.5
INCREASE_SHARE = 0.02


class QuotaPolicy(msgspec.Struct, frozen=True):
    """How many requests an account may send: `limit` per `window_s`, and whether to obey the
    provider's rate-limit headers (`header_prefix`, e.g. "Fitbit-Rate-Limit").

    `limit=None` means no local budget (only headers and 429s slow us down).
    """

    limit: int | None
    window_s: float
    header_prefix: str | None = None
    # Seconds added to a header-announced reset, so we never arrive a hair early.
    reset_margin_s: float = 1.0
    # Even spacing: at most `rate_per_s` requests a second (None = no pacing).  A 429 halves
    # the pace, down to `min_rate_per_s`; successes bring it back up to `rate_per_s`.
    rate_per_s: float | None = None
    min_rate_per_s: float = 0.1

    @classmethod
    def google_health(cls, app_class: str = "unverified", speedup: float = 1.0) -> QuotaPolicy:
        """Google's documented per-user rate for the app's class, less a small reserve.

        The quota counts every request of the user through our OAuth client, including ones
        this budget never sees (the identity call at login, another heartkeep process); the
        2 % reserve keeps a backfill from running into a 429 because of them.  `speedup` scales
        the rate for a sandbox whose quota runs on an accelerated clock (the demo).
        """
        rate = GOOGLE_RATE_PER_S[app_class] * (1.0 - GOOGLE_RESERVE) * speedup
        return cls(limit=None, window_s=60.0, rate_per_s=rate, min_rate_per_s=rate / 16)

    @classmethod
    def fitbit_legacy(cls) -> QuotaPolicy:
        """Legacy Fitbit: 150 requests per user per hour, and its `Fitbit-Rate-Limit-*` headers."""
        return cls(limit=150, window_s=3600.0, header_prefix="Fitbit-Rate-Limit")

    @classmethod
    def unlimited(cls) -> QuotaPolicy:
        return cls(limit=None, window_s=60.0)

    @classmethod
    def for_provider(
        cls, provider: str, app_class: str = "unverified", speedup: float = 1.0
    ) -> QuotaPolicy:
        """The documented policy of a provider by name ("google-health", "fitbit-legacy")."""
        if provider == "fitbit-legacy":
            return cls.fitbit_legacy()
        if provider == "google-health":
            return cls.google_health(app_class, speedup)
        return cls.unlimited()


class RequestBudget:
    """Decides how long to wait before the next request, and learns from responses."""

    def __init__(self, policy: QuotaPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until_s = 0.0
        self._lock = threading.Lock()
        # The adaptive pace (requests per second) and when the last request went out.
        self.rate_per_s = policy.rate_per_s
        self._last_sent_s: float | None = None

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
            if self.rate_per_s is not None and self._last_sent_s is not None:
                pace_wait = self._last_sent_s + 1.0 / self.rate_per_s - now
                budget_wait = max(budget_wait, pace_wait)
        if header_wait > budget_wait:
            return header_wait, "headers"
        return budget_wait, "budget"

    def record_sent(self) -> None:
        """Count a request as sent now (call just before sending it)."""
        with self._lock:
            now = self.clock.now_s()
            self._sent.append(now)
            self._last_sent_s = now

    def on_rate_limited(self) -> None:
        """A 429 arrived anyway (another client shares the quota, or we assumed the wrong
        class): halve the pace, never below the policy's floor."""
        with self._lock:
            if self.rate_per_s is not None:
                self.rate_per_s = max(self.policy.min_rate_per_s, self.rate_per_s * DECREASE_FACTOR)

    def on_success(self) -> None:
        """A request was answered: win back a little pace, never above the class's rate."""
        with self._lock:
            ceiling = self.policy.rate_per_s
            if self.rate_per_s is not None and ceiling is not None:
                self.rate_per_s = min(ceiling, self.rate_per_s + ceiling * INCREASE_SHARE)

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


class QuotaAssumption(msgspec.Struct, frozen=True):
    """Which Google quota heartkeep paces to, and why: shown by `auth status` and `doctor`,
    because a wrong class is either slow (verified app paced as unverified) or a 429 storm."""

    app_class: str
    rate_per_s: float
    paced_at_per_s: float
    source: str

    def describe(self) -> str:
        return (
            f"{self.app_class} app: Google allows {self.rate_per_s:g} requests/s per user, "
            f"heartkeep paces at {self.paced_at_per_s:.2f}/s (app_class from {self.source})"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "app_class": self.app_class,
            "requests_per_second": self.rate_per_s,
            "paced_at_per_second": round(self.paced_at_per_s, 3),
            "source": self.source,
        }


def assume_quota(app_class: str, source: str) -> QuotaAssumption:
    """The assumption for an app class ("unverified" or "verified") set by `source`."""
    policy = QuotaPolicy.google_health(app_class)
    assert policy.rate_per_s is not None
    return QuotaAssumption(app_class, GOOGLE_RATE_PER_S[app_class], policy.rate_per_s, source)
