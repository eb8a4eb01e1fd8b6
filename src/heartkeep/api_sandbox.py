"""The sandbox and the demo: a local emulator of Google's and Fitbit's APIs, and the whole job
(authorize, sync, statistics, report) run against it under a throw-away home.

The sandbox's server (starlette, uvicorn) loads only inside `sandbox_server`.  Kept apart from
`api.py`; `heartkeep.api` re-exports the public names.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heartkeep.analysis.daily import DayStats
from heartkeep.api import login, quota_assumption, sync
from heartkeep.api_outputs import daily_report, report
from heartkeep.clock import SystemClock
from heartkeep.config import load_settings
from heartkeep.errors import HeartkeepError
from heartkeep.store import open_store
from heartkeep.sync import EventHandler, SyncReport

if TYPE_CHECKING:  # the sandbox (starlette, uvicorn) loads only when used
    from heartkeep.sandbox.server import SandboxServer


# --- sandbox (issue 2) ------------------------------------------------------------------------


def sandbox_server(
    *,
    port: int = 0,
    seed: int | None = None,
    documented_page_sizes: bool = False,
    verified_app: bool = False,
    retry_after: bool = False,
    deadline_above_points: int = 0,
    quota_speedup: float = 1.0,
    consent_page: bool = False,
    testing_app: bool = False,
    rotate_refresh_tokens: bool = False,
    fitbit_shutdown: bool = False,
    sync_lag_s: int = 900,
    http_webhooks: bool = False,
) -> SandboxServer:
    """A sandbox (Google OAuth + Health API v4 + legacy Fitbit emulator) on 127.0.0.1:`port`,
    on wall-clock time, not yet started: call `.start()` / `.serve_forever()` or use `with`.

    Its defaults are what a new personal user meets live (an unverified app's 2.5 requests/s,
    429s without Retry-After, ~5,000-point pages); the switches give Google's documented page
    sizes, a verified app's quota, Retry-After, and 504s on pages above `deadline_above_points`.
    `quota_speedup` runs the quota on a clock that many times faster (the demo's 10×).
    `http_webhooks` lets webhook subscribers use plain `http://` endpoints (Google: HTTPS only).
    `seed` replaces the demo user's physiology seed; `port=0` picks a free port.  The server
    raises `HeartkeepError` on start if the port is taken.
    """
    import dataclasses

    from heartkeep.sandbox.config import SandboxConfig
    from heartkeep.sandbox.physiology import demo_user
    from heartkeep.sandbox.server import SandboxServer

    config = SandboxConfig(
        page_size_mode="documented" if documented_page_sizes else "observed",
        app_class="verified" if verified_app else "unverified",
        send_retry_after=retry_after,
        deadline_above_points=deadline_above_points,
        quota_speedup=quota_speedup,
        auto_approve=not consent_page,
        testing_app=testing_app,
        rotate_refresh_tokens=rotate_refresh_tokens,
        fitbit_shutdown=fitbit_shutdown,
        sync_lag_s=sync_lag_s,
        webhook_https_only=not http_webhooks,
    )
    if seed is not None:
        user = dataclasses.replace(demo_user(SystemClock().now_s()), seed=seed)
        config = dataclasses.replace(config, users=(user,))
    return SandboxServer(config, port=port)


# --- demo (issues 2 and 4) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What `demo` did: where the data landed and what the sync and the statistics found."""

    home: pathlib.Path
    database: pathlib.Path
    report: pathlib.Path
    sandbox_url: str
    account: str
    sync: SyncReport
    days: list[DayStats]
    # The sandbox's quota ran this many times faster than Google's; `real_api_s` is the least
    # time the same requests take under the real quota (an unverified app: requests ÷ 2.5/s).
    quota_speedup: float = 1.0
    real_api_s: float = 0.0


# The demo's sandbox runs its quota this many times faster than Google's, and heartkeep paces
# to match: the same requests, a tenth of the waiting.
DEMO_QUOTA_SPEEDUP = 10.0


def _sandbox_browser(url: str) -> bool:
    """Play the person's browser against the sandbox: open the consent address and follow the
    redirect back to heartkeep's loopback callback (the sandbox approves consent by itself)."""
    from heartkeep import http_client

    with http_client.Client(follow_redirects=True, timeout=30.0) as browser:
        browser.get(url)
    return True


def demo(
    home: pathlib.Path,
    *,
    days: int = 14,
    on_stage: Callable[[str], None] | None = None,
    on_event: EventHandler | None = None,
) -> DemoResult:
    """The whole job on the built-in sandbox: start it on a free loopback port, authorize
    (PKCE, loopback redirect — the sandbox approves consent), sync the last `days` local days
    (today included) into a SQLite file under `home`, compute the daily statistics and write an
    HTML report.

    Everything lives under `home` (vault, database, report), nothing touches the user's real
    heartkeep data.  Running it again keeps the database and syncs incrementally.
    """
    stage = on_stage or (lambda _text: None)
    home = home.resolve()
    with sandbox_server(quota_speedup=DEMO_QUOTA_SPEEDUP) as server:
        sandbox_url = server.url
        settings = load_settings({"sandbox_url": sandbox_url}, env={"HEARTKEEP_HOME": str(home)})
        quota = quota_assumption(settings)
        stage(f"Sandbox serving the Google Health API v4 emulator at {sandbox_url}")
        stage(
            f"Its quota runs {DEMO_QUOTA_SPEEDUP:g}x faster than Google's "
            f"({quota.app_class} app: {quota.rate_per_s:g} requests/s per user), "
            "so the demo stays quick"
        )
        stage("Authorizing heartkeep against the sandbox's Google OAuth (PKCE, loopback redirect)")
        connected = login(settings, provider="google", open_browser=_sandbox_browser)
        today = dt.datetime.now(dt.UTC).date()
        since = today - dt.timedelta(days=days - 1)
        with open_store(settings.database, readonly=True, missing_ok=True) as store:
            synced_before = store.sample_span(connected.account_key) is not None
        plan = f"syncing from {since}"
        if synced_before:
            plan = "syncing what is new since the last run"
        stage(f"Connected {connected.account_key}; {plan}")
        # A first run fetches the window; later runs are ordinary incremental syncs.
        outcome = sync(
            settings,
            accounts=[connected.account_key],
            since=None if synced_before else since,
            on_event=on_event,
            quota_speedup=DEMO_QUOTA_SPEEDUP,
        )
    failed = [r for r in outcome.accounts if r.error is not None]
    if failed:
        raise HeartkeepError(f"the demo sync failed: {failed[0].error}")
    stage("Computing daily statistics and writing the HTML report")
    stats = daily_report(settings, account=connected.account_key, since=since)
    page = report(settings, home / "report.html", account=connected.account_key)
    return DemoResult(
        home=home,
        database=settings.database_path,
        report=page,
        sandbox_url=sandbox_url,
        account=connected.account_key,
        sync=outcome,
        days=stats,
        quota_speedup=DEMO_QUOTA_SPEEDUP,
        real_api_s=sum(r.requests for r in outcome.accounts) / quota.rate_per_s,
    )
