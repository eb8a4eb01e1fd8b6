"""Google Health API request quotas on the sandbox's clock: per user per second and minute,
per project.

Google documents 2.5 requests per second per user for unverified apps (every personal client in
'Testing') and 300 per user per minute (≈5 QPS) for verified ones, 120,000 per project per minute
and 86.4 M per project per day, each answered with 429 RESOURCE_EXHAUSTED when exceeded.  The
per-second limit is a token bucket per user (rate by `SandboxConfig.app_class`, a burst of
`per_user_burst`); the other windows are fixed (calendar minutes and UTC days of the sandbox
clock), so a test that advances a SimClock by a minute gets a fresh budget.  Rejected requests do
not consume quota.  `Retry-After` is not documented by Google, so by default the sandbox sends
none; `send_retry_after=True` sends the seconds until the budget allows a request again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.credentials import SANDBOX_PROJECT_ID
from heartkeep.sandbox.rpc import GOOGLEAPIS_DOMAIN, QUOTA_FAILURE, ApiError, error_info

PROJECT_NUMBER = "1057326401337"


@dataclass
class Quotas:
    """Request counters per fixed window.  Call `charge` with the state lock held."""

    config: SandboxConfig
    _user_minute: dict[str, tuple[int, int]] = field(default_factory=dict)
    # user → (tokens left, instant they were counted at): the per-second bucket.
    _user_bucket: dict[str, tuple[float, float]] = field(default_factory=dict)
    _project_minute: tuple[int, int] = (0, 0)
    _project_day: tuple[int, int] = (0, 0)

    def charge(self, user_id: str | None, now_s: float) -> None:
        """Count one request, or raise a 429 `ApiError` if any budget is spent."""
        now_s *= self.config.quota_speedup  # the quota's own, possibly accelerated, clock
        minute = int(now_s // 60)
        day = int(now_s // 86400)
        project_minute = self._project_minute[1] if self._project_minute[0] == minute else 0
        project_day = self._project_day[1] if self._project_day[0] == day else 0
        user_count = 0
        if user_id is not None:
            window, count = self._user_minute.get(user_id, (minute, 0))
            user_count = count if window == minute else 0
        tokens = self._tokens(user_id, now_s)
        rate = self.config.user_rate_per_s()
        if user_id is not None and rate > 0 and tokens < 1.0:
            raise self._exhausted(
                "Requests per user per second",
                "ReadRequestsPerSecondPerUser",
                rate,
                (1.0 - tokens) / rate,
            )
        if user_id is not None and user_count >= self.config.per_user_per_minute:
            raise self._exhausted(
                "Requests per user per minute",
                "ReadRequestsPerMinutePerUser",
                self.config.per_user_per_minute,
                (minute + 1) * 60 - now_s,
            )
        if project_minute >= self.config.per_project_per_minute:
            raise self._exhausted(
                "Requests per minute",
                "ReadRequestsPerMinutePerProject",
                self.config.per_project_per_minute,
                (minute + 1) * 60 - now_s,
            )
        if project_day >= self.config.per_project_per_day:
            raise self._exhausted(
                "Requests per day",
                "ReadRequestsPerDayPerProject",
                self.config.per_project_per_day,
                (day + 1) * 86400 - now_s,
            )
        self._project_minute = (minute, project_minute + 1)
        self._project_day = (day, project_day + 1)
        if user_id is not None:
            self._user_minute[user_id] = (minute, user_count + 1)
            self._user_bucket[user_id] = (tokens - 1.0, now_s)

    def _tokens(self, user_id: str | None, now_s: float) -> float:
        """Tokens in the user's per-second bucket now (full for a user not seen before)."""
        burst = float(self.config.per_user_burst)
        if user_id is None:
            return burst
        tokens, then = self._user_bucket.get(user_id, (burst, now_s))
        # A clock set backwards (a test jumping around) refills nothing.
        return min(burst, tokens + max(0.0, now_s - then) * self.config.user_rate_per_s())

    def used_this_minute(self, user_id: str, now_s: float) -> int:
        """Requests the user has made in the current minute (for tests and the CLI)."""
        window, count = self._user_minute.get(user_id, (-1, 0))
        return count if window == int(now_s // 60) else 0

    def storm_error(self, now_s: float) -> ApiError:
        """The 429 a rate-limit fault answers with: the per-user minute quota's own body."""
        minute = int(now_s // 60)
        return self._exhausted(
            "Requests per user per minute",
            "ReadRequestsPerMinutePerUser",
            self.config.per_user_per_minute,
            (minute + 1) * 60 - now_s,
        )

    def _exhausted(self, metric: str, limit: str, value: float, wait_s: float) -> ApiError:
        message = (
            f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service "
            f"'health.googleapis.com' for consumer 'project_number:{PROJECT_NUMBER}'."
        )
        details = [
            error_info(
                "RATE_LIMIT_EXCEEDED",
                domain=GOOGLEAPIS_DOMAIN,
                metadata={
                    "service": "health.googleapis.com",
                    "quota_metric": f"health.googleapis.com/{metric.lower().replace(' ', '_')}",
                    "quota_limit": limit,
                    "quota_limit_value": f"{value:g}",
                    "consumer": f"projects/{PROJECT_NUMBER}",
                    "quota_location": "global",
                },
            ),
            {
                "@type": QUOTA_FAILURE,
                "violations": [
                    {
                        "subject": f"project_number:{PROJECT_NUMBER} ({SANDBOX_PROJECT_ID})",
                        "description": message,
                    }
                ],
            },
        ]
        headers = {}
        if self.config.send_retry_after:
            real_wait_s = wait_s / self.config.quota_speedup
            headers["Retry-After"] = str(max(1, math.ceil(real_wait_s)))
        return ApiError(429, message, details=details, headers=headers)
