"""Injected failures, so clients can be tested against everything a real network and API do.

Two ways to switch a fault on, both deterministic:
- *rates*: a share of matching requests fails (drawn from a `random.Random(seed)`, so the same
  seed and the same request sequence give the same failures);
- *schedules*: "skip the next `after` matching requests, then hit the next `count`", so a test
  can break exactly page 3 of a walk.

Kinds: `latency` (delay, then serve), `error_500` / `error_503` (Google's INTERNAL/UNAVAILABLE),
`rate_limit` (429, a storm when `count` is large), `reset` (the TCP connection is aborted with
no response), `truncate` (a 200 whose JSON body is cut in half, with a consistent
Content-Length), `revoke` (the user's grants are revoked just before serving, as when they remove
the app mid-sync), `expire_token` (the user's access tokens expire just before serving).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

FaultKind = Literal[
    "latency", "error_500", "error_503", "rate_limit", "reset", "truncate", "revoke", "expire_token"
]
# A scheduled `latency` fault waits this long when no `latency_s` rate is set: long enough for
# a client's timeout of a fraction of a second to fire, short enough for a test.
SCHEDULED_LATENCY_S = 0.5
FAULT_KINDS: tuple[FaultKind, ...] = (
    "latency",
    "error_500",
    "error_503",
    "rate_limit",
    "reset",
    "truncate",
    "revoke",
    "expire_token",
)


@dataclass
class Scheduled:
    """The next `count` requests whose path contains `path_contains` fail with `kind`, after
    `after` of them have been let through."""

    kind: FaultKind
    count: int
    after: int = 0
    path_contains: str = "/v4/"
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.path_contains in path and (self.method is None or self.method == method)


@dataclass(frozen=True)
class Decision:
    """What to do to one request: wait `latency_s`, then apply `kind` (None = serve normally)."""

    latency_s: float = 0.0
    kind: FaultKind | None = None


@dataclass
class Faults:
    """Fault switches of one sandbox.  Rates apply to paths containing `rate_path_contains`."""

    seed: int = 0
    latency_s: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    rate_path_contains: str = "/v4/"
    scheduled: list[Scheduled] = field(default_factory=list)
    fired: list[tuple[FaultKind, str]] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def schedule(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        after: int = 0,
        path_contains: str = "/v4/",
        method: str | None = None,
    ) -> None:
        """Make the next `count` matching requests (after skipping `after`) fail with `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of {FAULT_KINDS}")
        with self._lock:
            self.scheduled.append(Scheduled(kind, count, after, path_contains, method))

    def clear(self) -> None:
        """Switch every fault off (rates to zero, schedules dropped); keeps the `fired` log."""
        with self._lock:
            self.scheduled.clear()
            self.latency_s = self.error_rate = self.rate_limit_rate = 0.0
            self.reset_rate = self.truncate_rate = 0.0

    def decide(self, method: str, path: str) -> Decision:
        """Draw the fate of one request.  Schedules win over rates; first match wins."""
        with self._lock:
            kind = self._from_schedule(method, path)
            latency = self.latency_s if self.rate_path_contains in path else 0.0
            if kind is None and self.rate_path_contains in path:
                kind = self._from_rates()
            if kind == "latency":
                latency = max(latency, self.latency_s or SCHEDULED_LATENCY_S)
                kind = None
            if kind is not None:
                self.fired.append((kind, path))
            return Decision(latency, kind)

    def _from_schedule(self, method: str, path: str) -> FaultKind | None:
        """Every matching schedule counts the request; the first one due fires."""
        due: Scheduled | None = None
        for entry in self.scheduled:
            if not entry.matches(method, path):
                continue
            if entry.after > 0:
                entry.after -= 1
            elif due is None:
                due = entry
        if due is None:
            return None
        due.count -= 1
        if due.count <= 0:
            self.scheduled.remove(due)
        return due.kind

    def _from_rates(self) -> FaultKind | None:
        roll = self._rng.random()
        server_error: FaultKind = "error_503" if self._rng.random() < 0.5 else "error_500"
        choices: tuple[tuple[float, FaultKind], ...] = (
            (self.error_rate, server_error),
            (self.rate_limit_rate, "rate_limit"),
            (self.reset_rate, "reset"),
            (self.truncate_rate, "truncate"),
        )
        for rate, kind in choices:
            if roll < rate:
                return kind
            roll -= rate
        return None


IMPLAUSIBLE_BPM = (-5, 5, 301, 70_000, 1_000_000_000)
"""What `implausible_bpm_every_s` serves, in turn: a sign error, a dropout, just too fast, a
unit mix-up, garbage — the readings heartkeep's plausibility rule must count, not store."""


def spoil_bpm(
    instants_s: npt.NDArray[np.int64], bpm: npt.NDArray[np.int64], every_s: int
) -> npt.NDArray[np.int64]:
    """`bpm` with the samples at instants that are multiples of `every_s` made implausible.

    Chosen by instant, not by position, so every page size and paging order spoils the same
    samples, and a test can tell from the truth which ones.  A copy; `bpm` is not changed.
    """
    if every_s <= 0 or bpm.size == 0:
        return bpm
    hit = instants_s % every_s == 0
    values = np.asarray(IMPLAUSIBLE_BPM, dtype=np.int64)
    return np.where(hit, values[(instants_s // every_s) % len(values)], bpm)
