"""Quotas shared by every worker of a study: token buckets kept as rows in PostgreSQL.

Google counts some limits per *project* (the OAuth client), not per user: 120,000 requests a
minute, 86.4 M a day, and 10,000 OAuth token grants in 24 hours before a quota request is
needed (reference §10).  Every worker on every host spends from the same budgets, so the
budgets live in the study's database: one `study_quota_bucket` row per limit, updated under its
row lock, so two workers never spend the same token.

Why a bucket can never let a limit be exceeded, whatever the number of workers: a bucket of
capacity `C` refilled at `r` tokens a second hands out at most `C + r·W` tokens in any span of
`W` seconds.  `BucketLimit` sets `r = (limit − C) / W`, so any window of `W` seconds — sliding,
hence also Google's fixed minutes and days — sees at most `limit` requests.  `C` (the burst)
is the price of that guarantee in smoothness: a small `C` paces evenly, a larger one lets a
quiet study catch up faster.

Time comes from the injected clock (wall time on real workers, the tests' simulated one).
Hosts' clocks differ by NTP's few milliseconds; a refill counts only time after the newest
instant any worker wrote (`greatest`), so a host running behind never refills twice, and one
running ahead refills its lead once.

A request takes one token from each of the buckets it is charged to, all or none, in one
transaction that locks the rows in name order (no deadlock between workers charging the same
pair).  The per-participant limit (2.5 or 5 requests a second) is not here: it stays local to
the job (`sync/quota.py`), because only one job of a participant runs at a time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from heartkeep import http_client
from heartkeep.clock import Clock

PROJECT_MINUTE = "project-requests-minute"
PROJECT_DAY = "project-requests-day"
OAUTH_GRANTS = "oauth-grants-24h"
# Google's project-wide limits (reference §10).
REQUESTS_PER_MINUTE = 120_000
REQUESTS_PER_DAY = 86_400_000
GRANTS_PER_24H = 10_000


@dataclass(frozen=True, slots=True)
class BucketLimit:
    """At most `limit` tokens in any `window_s` seconds, `burst` of them at once."""

    name: str
    limit: int
    window_s: float
    burst: int

    def __post_init__(self) -> None:
        if not 1 <= self.burst < self.limit or self.window_s <= 0:
            raise ValueError(f"{self.name}: need 1 <= burst < limit and a positive window")

    @property
    def refill_per_s(self) -> float:
        return (self.limit - self.burst) / self.window_s


def project_limits(
    per_minute: int = REQUESTS_PER_MINUTE, per_day: int = REQUESTS_PER_DAY, speedup: float = 1.0
) -> tuple[BucketLimit, ...]:
    """The request buckets: a minute's limit with a second's worth of burst, a day's with a
    minute's.  `speedup` shrinks the windows, for a sandbox whose quota clock runs faster."""
    return (
        BucketLimit(PROJECT_MINUTE, per_minute, 60.0 / speedup, max(1, per_minute // 60)),
        BucketLimit(PROJECT_DAY, per_day, 86_400.0 / speedup, max(1, per_day // 1_440)),
    )


def grant_limits(per_24h: int = GRANTS_PER_24H, speedup: float = 1.0) -> tuple[BucketLimit, ...]:
    """The OAuth token-grant bucket (refreshes and code exchanges), a hundredth as burst."""
    return (BucketLimit(OAUTH_GRANTS, per_24h, 86_400.0 / speedup, max(1, per_24h // 100)),)


_TAKE = """
WITH wanted AS (
    SELECT name, capacity, refill_per_s,
           least(capacity, tokens + refill_per_s * greatest(0, %(now)s - updated_s)) AS level,
           greatest(updated_s, %(now)s) AS at
      FROM study_quota_bucket WHERE name = ANY(%(names)s) ORDER BY name FOR UPDATE
)
SELECT name, level, refill_per_s, at FROM wanted
"""


class SharedQuota:
    """Token buckets in the study database, on one connection of its own (a bucket's row lock
    is held for one short transaction, never across an HTTP request or a store write)."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        limits: Sequence[BucketLimit],
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._conn = conn
        self.limits = {limit.name: limit for limit in limits}
        self.clock = clock
        self._rng = rng or random.Random()  # jitter between waiting workers; not for secrets
        self.waits = 0
        self.waited_s = 0.0
        # The bucket time of this quota's last take (the instant it counts against).
        self.last_taken_at_s: float | None = None

    @classmethod
    def connect(
        cls, database_url: str, limits: Sequence[BucketLimit], *, clock: Clock
    ) -> SharedQuota:
        conn = psycopg.connect(database_url, autocommit=True, connect_timeout=10)
        quota = cls(conn, limits, clock=clock)
        quota.ensure()
        return quota

    def close(self) -> None:
        self._conn.close()

    def ensure(self) -> None:
        """Create the buckets (full) that are missing; a changed limit replaces its row's
        capacity and rate, keeping what is left in it."""
        now = self.clock.now_s()
        for limit in self.limits.values():
            self._conn.execute(
                "INSERT INTO study_quota_bucket (name, tokens, capacity, refill_per_s, updated_s) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                "capacity = excluded.capacity, refill_per_s = excluded.refill_per_s, "
                "tokens = least(study_quota_bucket.tokens, excluded.capacity)",
                (limit.name, limit.burst, limit.burst, limit.refill_per_s, now),
            )

    def try_take(self, names: Sequence[str], count: int = 1) -> float:
        """Take `count` tokens from each named bucket (all or none): 0.0 when taken, else the
        seconds until every bucket holds enough."""
        now = self.clock.now_s()
        with self._conn.transaction():
            rows = self._conn.execute(_TAKE, {"now": now, "names": sorted(names)}).fetchall()
            if len(rows) != len(set(names)):
                missing = set(names) - {str(row[0]) for row in rows}
                raise LookupError(f"no quota bucket named {', '.join(sorted(missing))}")
            short = [(count - level) / rate for _, level, rate, _at in rows if level < count]
            if short:
                return float(max(short))
            self._conn.execute(
                "UPDATE study_quota_bucket AS b SET tokens = w.level - %s, updated_s = w.at, "
                "taken = b.taken + %s FROM (SELECT unnest(%s::text[]) AS name, "
                "unnest(%s::float8[]) AS level, unnest(%s::float8[]) AS at) AS w "
                "WHERE b.name = w.name",
                (
                    count,
                    count,
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    [row[3] for row in rows],
                ),
            )
        self.last_taken_at_s = max(float(row[3]) for row in rows)
        return 0.0

    def take(self, names: Sequence[str], count: int = 1) -> float:
        """Wait on the clock until the tokens are taken; returns the seconds waited."""
        waited = 0.0
        while (wait_s := self.try_take(names, count)) > 0:
            # A little jitter, so workers woken together do not all retry in the same instant.
            wait_s *= 1.0 + 0.1 * self._rng.random()
            self.clock.sleep(wait_s)
            waited += wait_s
        if waited:
            self.waits += 1
            self.waited_s += waited
        return waited

    def taken(self) -> dict[str, int]:
        """Tokens ever taken, by bucket (for reports and the coordinator's quota page)."""
        rows = self._conn.execute("SELECT name, taken FROM study_quota_bucket").fetchall()
        return {str(name): int(count) for name, count in rows}


class ProjectQuotaTransport(http_client.Transport):
    """Charges every request (each retry too) to the project's buckets before sending it."""

    def __init__(self, inner: http_client.Transport, quota: SharedQuota) -> None:
        self.inner = inner
        self.quota = quota
        self.names = [name for name in quota.limits if name != OAUTH_GRANTS]

    def handle_request(self, request: http_client.Request) -> http_client.Response:
        self.quota.take(self.names)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
