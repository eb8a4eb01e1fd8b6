"""Every switch of the sandbox in one frozen dataclass, so a test states its world in one line.

Defaults reproduce what a new personal user meets live: an unverified app's quota (2.5 requests
per second per user, 429s without `Retry-After`), the page sizes people observe (about 5,000
points when 10,000 are asked, 50 when `pageSize` is omitted, an occasional empty page that still
carries a token).  Switches give Google's documented maxima (`page_size_mode="documented"`), a
verified app (`app_class="verified"`), `Retry-After` on 429 (`send_retry_after`), pages that
time out above a size (`deadline_above_points`), Google Cloud's 'Testing' publishing status
(`testing_app`), a rotating authorization server (`rotate_refresh_tokens`, Fitbit-style
two-minute replay), and the legacy Fitbit shut-off (`fitbit_shutdown`).  `docs/sandbox.md`
says which of these Google documents, which others observed, and which we guessed.  Nothing
here changes after the server starts; what does change (tokens, quotas, faults, last sync)
lives in `SandboxState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heartkeep.sandbox.physiology import UserSpec, demo_user

PageSizeMode = Literal["documented", "observed"]
AppClass = Literal["unverified", "verified"]

# Per-user requests per second by app class (reference §10): an unverified app (every personal
# client in 'Testing') gets 2.5, a verified one 5 (its 300 a minute, evened out).
PER_USER_PER_SECOND: dict[str, float] = {"unverified": 2.5, "verified": 5.0}

# Observed mode: one page in this many comes back empty, still carrying a `nextPageToken`.
OBSERVED_EMPTY_PAGE_EVERY = 20

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
    page_size_mode: PageSizeMode = "observed"
    # Every Nth page of a listing comes back empty but still carries a token (0 = never; None =
    # by mode: every 20th observed, never documented).
    empty_page_every: int | None = None
    # A heart-rate page that would hold more than this many points times out with 504
    # DEADLINE_EXCEEDED, as big pages can live (0 = never).
    deadline_above_points: int = 0
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
    # Quotas (Google documents these limits).  `app_class` picks the per-second rate of a user's
    # token bucket (2.5/s unverified, 5/s verified; `per_user_burst` requests may go at once);
    # `per_user_per_second` overrides the class's rate (0 switches the per-second limit off).
    app_class: AppClass = "unverified"
    per_user_per_second: float | None = None
    per_user_burst: int = 5
    # The quota's clock runs this many times faster than the sandbox's (the demo's 10×): every
    # rate and window is that much more generous, nothing else changes.
    quota_speedup: float = 1.0
    per_user_per_minute: int = 300
    per_project_per_minute: int = 120_000
    per_project_per_day: int = 86_400_000
    send_retry_after: bool = False
    # Errors: which ErrorInfo.reason a missing scope carries (both are seen in clients).
    scope_error_reason: str = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    # Data visibility: samples appear only once the device has synced, this far behind "now".
    sync_lag_s: int = 15 * 60
    # Seed for fault rates (latency, 5xx, resets...): the same seed gives the same failures.
    fault_seed: int = 0
    # Webhooks (reference §12).  Google accepts HTTPS endpoints only; `webhook_ca_file` adds a
    # trust root for a test's self-signed endpoint.  A non-204 answer is retried with doubling
    # back-off from `webhook_retry_first_s` up to `webhook_retry_max_s` apart, for
    # `webhook_retry_for_s` (7 days); an endpoint gets `webhook_timeout_s` to answer.  A device
    # that follows the clock announces new data once it has grown by `webhook_sync_every_s`;
    # a pinned `set_last_sync` (a device sync in a test) announces at the next pump.
    webhook_https_only: bool = True
    webhook_ca_file: str | None = None
    webhook_timeout_s: float = 10.0
    webhook_retry_first_s: float = 60.0
    webhook_retry_max_s: float = 3600.0
    webhook_retry_for_s: float = 7 * 24 * 3600.0
    webhook_sync_every_s: float = 15 * 60.0
    # Legacy Fitbit Web API.
    fitbit_shutdown: bool = False
    fitbit_per_user_per_hour: int = 150
    fitbit_access_token_lifetime_s: int = 28800

    def user_rate_per_s(self) -> float:
        """The per-user token bucket's refill rate: the override, else the app class's rate."""
        if self.per_user_per_second is not None:
            return self.per_user_per_second
        return PER_USER_PER_SECOND[self.app_class]

    def empty_every(self) -> int:
        """Every how many pages one is empty (with a token); 0 = never."""
        if self.empty_page_every is not None:
            return self.empty_page_every
        return OBSERVED_EMPTY_PAGE_EVERY if self.page_size_mode == "observed" else 0

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
