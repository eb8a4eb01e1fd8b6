"""Every switch of the sandbox in one frozen dataclass, so a test states its world in one line.

Defaults reproduce Google's documented behaviour; switches reproduce what people observe live
(`page_size_mode="observed"`), Google Cloud's 'Testing' publishing status (`testing_app`), a
rotating authorization server (`rotate_refresh_tokens`, Fitbit-style two-minute replay), and the
legacy Fitbit shut-off (`fitbit_shutdown`).  Nothing here changes after the server starts; what
does change (tokens, quotas, faults, last sync) lives in `SandboxState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heartkeep.sandbox.physiology import UserSpec, demo_user

PageSizeMode = Literal["documented", "observed"]

# The fixed instant tests start at: after the legacy shut-off, a Friday noon UTC.
TEST_START_S = 1_795_176_000.0  # 2026-11-20T12:00:00Z


@dataclass(frozen=True)
class SandboxConfig:
    """The sandbox's fixed settings.  All durations in seconds, all limits in requests.

    `users` empty means "the demo user", derived from `start_s` (or from wall time when
    `start_s` is None, in which case the server runs on a `WallClock`).
    """

    users: tuple[UserSpec, ...] = ()
    start_s: float | None = None
    # Paging: "documented" = default 1440, max 10000; "observed" = ~50 when omitted, ~5000 max.
    page_size_mode: PageSizeMode = "documented"
    # Every Nth page of a listing comes back empty but still carries a token (0 = never).
    empty_page_every: int = 0
    # Data faults (Google listing): samples whose instant is a multiple of this many seconds
    # carry an implausible bpm (-5, 5, 301, 70000, 1e9 in turn); 0 = never.  See faults.py.
    implausible_bpm_every_s: int = 0
    # OAuth (Google).
    access_token_lifetime_s: int = 3600
    code_lifetime_s: int = 600
    testing_app: bool = False
    testing_refresh_lifetime_s: int = 7 * 24 * 3600
    refresh_idle_lifetime_s: int = 183 * 24 * 3600
    max_refresh_tokens_per_grant: int = 100
    rotate_refresh_tokens: bool = False
    refresh_replay_window_s: int = 120
    auto_approve: bool = True
    require_pkce: bool = True
    # Quotas (Google documents these defaults).
    per_user_per_minute: int = 300
    per_project_per_minute: int = 120_000
    per_project_per_day: int = 86_400_000
    send_retry_after: bool = True
    # Errors: which ErrorInfo.reason a missing scope carries (both are seen in clients).
    scope_error_reason: str = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    # Data visibility: samples appear only once the device has synced, this far behind "now".
    sync_lag_s: int = 15 * 60
    # Seed for fault rates (latency, 5xx, resets...): the same seed gives the same failures.
    fault_seed: int = 0
    # Legacy Fitbit Web API.
    fitbit_shutdown: bool = False
    fitbit_per_user_per_hour: int = 150
    fitbit_access_token_lifetime_s: int = 28800

    def resolved_users(self, start_s: float) -> tuple[UserSpec, ...]:
        """The users to serve: the configured ones, or the demo user relative to `start_s`."""
        return self.users or (demo_user(start_s),)

    def page_size(self, requested: int | None) -> int:
        """The number of points a list page holds for a requested `pageSize`.

        Documented: default 1440, values above 10000 truncated to 10000.  Observed live: 50 when
        omitted, and at most 5000 however much is asked.  Zero or absent means the default.
        """
        if self.page_size_mode == "observed":
            default, cap = 50, 5000
        else:
            default, cap = 1440, 10000
        if requested is None or requested <= 0:
            return default
        return min(requested, cap)
