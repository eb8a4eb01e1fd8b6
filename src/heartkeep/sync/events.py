"""What a sync reports while it runs: frozen dataclasses handed to an `on_event` callback.

The library never prints.  The transport emits one event per HTTP attempt, retry and rate-limit
wait; the engine emits one per committed page and per finished account.  The CLI renders them
(progress bar or log lines); tests assert on them, or raise from the callback to simulate a kill
at an exact step.  `EventTally` counts them so reports carry requests and waits without any
global state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec

from heartkeep.model import Window


class RequestSent(msgspec.Struct, frozen=True):
    """One HTTP attempt finished (any status, including ones that will be retried)."""

    method: str
    path: str
    status: int | None
    attempt: int


class RetryScheduled(msgspec.Struct, frozen=True):
    """A transient failure; the transport waits `wait_s` on the clock and tries again."""

    method: str
    path: str
    reason: str
    attempt: int
    wait_s: float


class RateLimitWait(msgspec.Struct, frozen=True):
    """Waiting for quota: our own budget, the provider's limit headers, or a 429's Retry-After."""

    cause: Literal["budget", "headers", "429"]
    wait_s: float


class JobStarted(msgspec.Struct, frozen=True):
    """The engine starts fetching `window` of a stream, newest first (`kind` says why)."""

    account_key: str
    stream: str
    window: Window
    kind: Literal["backfill", "resume", "incremental", "repair", "dailies"]


class PageCommitted(msgspec.Struct, frozen=True):
    """A page and the cursor covering it are committed; `job` is done from `frontier_s` up."""

    account_key: str
    stream: str
    covers: Window
    job: Window
    frontier_s: int
    received: int
    inserted: int
    updated: int

    @property
    def fraction_done(self) -> float:
        """Share of the job's time span that is fetched, 0..1."""
        if self.job.seconds <= 0:
            return 1.0
        return min(1.0, max(0.0, (self.job.end_s - self.frontier_s) / self.job.seconds))


class AccountFinished(msgspec.Struct, frozen=True):
    """An account's sync ended; `status` is "ok" or "failed" (then `error` says why)."""

    account_key: str
    status: Literal["ok", "failed"]
    samples_added: int
    requests: int
    error: str | None = None


SyncEvent = (
    RequestSent | RetryScheduled | RateLimitWait | JobStarted | PageCommitted | AccountFinished
)
EventHandler = Callable[[SyncEvent], None]


class EventTally:
    """Counts requests, retries and rate-limit waits, and forwards every event downstream.

    Pass the same tally to `build_client(on_event=…)` and `sync_account(on_event=…)`: the
    engine then reports the transport's counts (every HTTP attempt, retries included).
    """

    def __init__(self, forward: EventHandler | None = None) -> None:
        self.forward = forward
        self.requests = 0
        self.retries = 0
        self.rate_limit_waits = 0
        self.rate_limit_wait_s = 0.0

    def __call__(self, event: SyncEvent) -> None:
        if isinstance(event, RequestSent):
            self.requests += 1
        elif isinstance(event, RetryScheduled):
            self.retries += 1
        elif isinstance(event, RateLimitWait):
            self.rate_limit_waits += 1
            self.rate_limit_wait_s += event.wait_s
        if self.forward is not None:
            self.forward(event)
