"""Which failures are worth another try, and how long to wait before it.

Transient: HTTP 429, 500, 502, 503, 504; timeouts; connection errors and resets; a response
whose body ends early (the connection dropped) or whose JSON is cut short.  Everything else is
the provider's final answer and goes back to the caller untouched.

Waits are exponential with jitter ("equal jitter": half fixed, half random, so retries spread
out but never collapse to zero) and bounded twice: by a number of attempts and by the total time
spent waiting for one request.  A 429's `Retry-After` is honoured but capped and jittered, so a
server asking for an hour — or a limit that resets "at the top of the hour" — never parks the
sync for longer than `retry_after_cap_s` per wait.  We considered `stamina` (the style anchor)
but it sleeps on its own clock; this module waits on the injected `Clock`, so tests never sleep.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random

import msgspec

from heartkeep import http_client

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryPolicy(msgspec.Struct, frozen=True):
    """Limits and shape of retries.  Every duration is in seconds on the injected clock."""

    # Attempts per request: failures (5xx, network) and quota refusals (429) are counted apart,
    # because a 429 storm is the server pacing us, not the request being broken.
    max_attempts: int = 8
    max_rate_limited_attempts: int = 30
    max_total_wait_s: float = 15 * 60.0
    base_s: float = 1.0
    cap_s: float = 60.0
    retry_after_cap_s: float = 120.0
    # A 429 without Retry-After still waits at least this long (a quota window is a minute).
    min_rate_limit_wait_s: float = 5.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Wait after failed attempt number `attempt` (1-based): equal-jitter exponential."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1))
        return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)

    def rate_limit_wait_s(
        self, retry_after_s: float | None, attempt: int, rng: random.Random
    ) -> float:
        """Wait after a 429: the server's Retry-After (capped) plus up to 10 % jitter, or
        backoff with a floor when the server did not say."""
        if retry_after_s is None:
            return max(self.min_rate_limit_wait_s, self.backoff_s(attempt, rng))
        capped = min(max(retry_after_s, 0.0), self.retry_after_cap_s)
        return capped + rng.uniform(0.0, max(0.5, capped * 0.1))


def transient_reason(error: BaseException) -> str | None:
    """A short reason if `error` is a network failure worth retrying, else None."""
    if isinstance(error, http_client.TimeoutException):
        return "timeout"
    if isinstance(error, http_client.RemoteProtocolError):
        return "connection dropped mid-response"
    if isinstance(error, http_client.NetworkError):
        return "connection error"
    return None


def parse_retry_after_s(value: str | None, now_s: float) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now_s)
