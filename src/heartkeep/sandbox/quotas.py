"""Google Health API request quotas on the sandbox's clock: per user per minute, per project.

Google documents 300 requests per user per minute, 120,000 per project per minute and 86.4 M per
project per day, each answered with 429 RESOURCE_EXHAUSTED when exceeded.  Windows are fixed
(calendar minutes and UTC days of the sandbox clock), so a test that advances a SimClock by a
minute gets a fresh budget.  Rejected requests do not consume quota.  `Retry-After` is not
documented by Google; the sandbox sends it (seconds to the window's end) unless switched off.
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
    _project_minute: tuple[int, int] = (0, 0)
    _project_day: tuple[int, int] = (0, 0)

    def charge(self, user_id: str | None, now_s: float) -> None:
        """Count one request, or raise a 429 `ApiError` if any budget is spent."""
        minute = int(now_s // 60)
        day = int(now_s // 86400)
        project_minute = self._project_minute[1] if self._project_minute[0] == minute else 0
        project_day = self._project_day[1] if self._project_day[0] == day else 0
        user_count = 0
        if user_id is not None:
            window, count = self._user_minute.get(user_id, (minute, 0))
            user_count = count if window == minute else 0
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

    def _exhausted(self, metric: str, limit: str, value: int, wait_s: float) -> ApiError:
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
                    "quota_limit_value": str(value),
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
            headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return ApiError(429, message, details=details, headers=headers)
