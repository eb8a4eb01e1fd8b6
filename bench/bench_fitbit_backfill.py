"""A one-year legacy-Fitbit backfill: heartkeep against the way python-fitbit users do it.

Both run in one process against two identical sandboxes (same person, same simulated start
time, 150 requests per user per hour), each on its own simulated clock, so the hours of rate
limiting pass in seconds and the figures are exact:

- heartkeep: `heartkeep auth login --provider fitbit` and `heartkeep sync` (one request per local
  day, waits read from `Fitbit-Rate-Limit-*` headers, samples stored in SQLite);
- python-fitbit 0.3.1: its own OAuth flow, then the per-day loop people write, sleeping on 429
  for `Retry-After` seconds (`time.sleep` is pointed at the simulated clock):

      for day in days:
          while True:
              try:
                  data = client.intraday_time_series(
                      "activities/heart", base_date=day, detail_level="1sec")
                  break
              except fitbit.exceptions.HTTPTooManyRequests as e:
                  time.sleep(e.retry_after_secs)

Printed: requests, 429s received, simulated wall time (and real CPU seconds), and the ratios
heartkeep / python-fitbit.  Asserts nothing.  Run:

    .venv/bin/python bench/bench_fitbit_backfill.py [--days 365] [--late-retry-after N]

By default the sandbox's 429s carry an honest Retry-After (the seconds to the top of the hour);
with `--late-retry-after N` they say N seconds, as users reported of the real API in 2025, and
the python-fitbit loop pays for trusting it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import fitbit
import httpx
import msgspec

from heartkeep import api
from heartkeep.config import load_settings
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import open_store

REDIRECT = "http://127.0.0.1:8189/callback"
START_DAY = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()


@dataclasses.dataclass
class Run:
    name: str
    requests: int
    rate_limited: int
    simulated_s: float
    cpu_s: float
    samples: int


def person(days: int) -> UserSpec:
    return UserSpec(
        health_user_id="900011",
        legacy_user_id="YR2026",
        display_name="Bench",
        time_zone="Europe/Berlin",
        member_since=START_DAY - dt.timedelta(days=days),
        seed=11,
    )


def legacy_statuses(server: SandboxServer) -> list[int]:
    return [status for _m, path, status in server.state.request_log if path.startswith("/1/")]


def browser(url: str) -> bool:
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    httpx.get(consent.headers["location"], timeout=10)
    return True


def run_heartkeep(config: SandboxConfig) -> tuple[Run, bool]:
    with SandboxServer(config) as server, tempfile.TemporaryDirectory() as home:
        os.environ["HEARTKEEP_HOME"] = home
        settings = msgspec.structs.replace(load_settings(), sandbox_url=server.url)
        clock = server.state.clock
        key = api.login(settings, provider="fitbit", open_browser=browser, clock=clock).account_key
        (health_id,) = server.state.users
        server.state.set_last_sync(health_id, clock.now_s() - 15 * 60)
        before_requests = len(legacy_statuses(server))
        started_s, cpu = clock.now_s(), time.process_time()
        report = api.sync(settings, clock=clock)
        cpu_s = time.process_time() - cpu
        statuses = legacy_statuses(server)[before_requests:]
        account = report.accounts[0]
        assert account.ok, account.error
        spec = server.state.users[health_id]
        lo, _ = server.state.physiology[health_id].local_day_bounds(spec.member_since)
        truth = server.state.ground_truth_samples(health_id, lo, int(clock.now_s()) + 1)
        with open_store(settings.database) as store:
            ours = [
                (s.instant_s, s.bpm, s.offset_min * 60)
                for batch in store.iter_samples(key)
                for s in batch
            ]
        run = Run(
            "heartkeep",
            requests=len(statuses),
            rate_limited=statuses.count(429),
            simulated_s=clock.now_s() - started_s,
            cpu_s=cpu_s,
            samples=len(ours),
        )
        return run, ours == truth


@contextmanager
def python_fitbit_on(server: SandboxServer) -> Iterator[Any]:
    """python-fitbit's endpoint constants on the sandbox; `time.sleep` on its simulated clock."""
    client = fitbit.api.FitbitOauth2Client
    patches = [
        mock.patch.dict(os.environ, {"OAUTHLIB_INSECURE_TRANSPORT": "1"}),
        mock.patch.object(fitbit.Fitbit, "API_ENDPOINT", server.url),
        mock.patch.object(client, "API_ENDPOINT", server.url),
        mock.patch.object(client, "authorization_url", f"{server.url}/oauth2/authorize"),
        mock.patch.object(client, "access_token_url", f"{server.url}/oauth2/token"),
        mock.patch.object(client, "refresh_token_url", f"{server.url}/oauth2/token"),
        mock.patch("time.sleep", server.state.clock.sleep),
    ]
    for patch in patches:
        patch.start()
    try:
        yield fitbit
    finally:
        for patch in reversed(patches):
            patch.stop()


def run_python_fitbit(config: SandboxConfig, days: int) -> Run:
    with SandboxServer(config) as server, python_fitbit_on(server) as library:
        clock = server.state.clock
        oauth = library.Fitbit(FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET, redirect_uri=REDIRECT).client
        url, _state = oauth.authorize_token_url(scope=["heartrate", "profile", "settings"])
        consent = httpx.get(url, follow_redirects=False)
        code = dict(httpx.URL(consent.headers["location"]).params)["code"]
        token = oauth.fetch_access_token(code)
        saved: list[dict[str, Any]] = []
        client = library.Fitbit(
            FITBIT_CLIENT_ID,
            FITBIT_CLIENT_SECRET,
            access_token=token["access_token"],
            refresh_token=token["refresh_token"],
            expires_at=token["expires_at"],
            refresh_cb=saved.append,
        )
        (health_id,) = server.state.users
        server.state.set_last_sync(health_id, clock.now_s() - 15 * 60)
        started_s, cpu = clock.now_s(), time.process_time()
        samples = 0
        member_since = dt.date.fromisoformat(client.user_profile_get()["user"]["memberSince"])
        day = member_since
        while day <= START_DAY:
            while True:
                try:
                    data = client.intraday_time_series(
                        "activities/heart", base_date=day, detail_level="1sec"
                    )
                    break
                except library.exceptions.HTTPTooManyRequests as error:
                    time.sleep(error.retry_after_secs)
            samples += len(data["activities-heart-intraday"]["dataset"])
            day += dt.timedelta(days=1)
        statuses = legacy_statuses(server)
        assert fitbit_sandbox(server.state).quota.rejected == statuses.count(429)
        return Run(
            "python-fitbit loop",
            requests=len(statuses),
            rate_limited=statuses.count(429),
            simulated_s=clock.now_s() - started_s,
            cpu_s=time.process_time() - cpu,
            samples=samples,
        )


def late_retry_after(seconds: int) -> Any:
    """Make the sandbox's 429s announce `seconds` instead of the time to the reset."""
    from heartkeep.sandbox import fitbit_quota

    original = fitbit_quota.QuotaDecision.headers

    def headers(self: fitbit_quota.QuotaDecision) -> dict[str, str]:
        values = original(self)
        if "Retry-After" in values:
            values["Retry-After"] = str(seconds)
        return values

    return mock.patch.object(fitbit_quota.QuotaDecision, "headers", headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="history length (default 365)")
    parser.add_argument(
        "--late-retry-after",
        type=int,
        default=0,
        help="429s announce this many seconds instead of the time to the reset (0: honest)",
    )
    args = parser.parse_args()
    config = SandboxConfig(start_s=TEST_START_S, users=(person(args.days),))
    patch = late_retry_after(args.late_retry_after) if args.late_retry_after else None
    if patch is not None:
        patch.start()
    try:
        ours, exact = run_heartkeep(config)
        theirs = run_python_fitbit(config, args.days)
    finally:
        if patch is not None:
            patch.stop()

    print(f"one-year legacy Fitbit backfill: {args.days + 1} local days, 150 requests/hour")
    retry_note = f"{args.late_retry_after} s" if args.late_retry_after else "time to the reset"
    print(f"sandbox 429 Retry-After: {retry_note}\n")
    header = f"{'':22}{'requests':>10}{'429s':>8}{'simulated h':>14}{'CPU s*':>9}{'samples':>12}"
    print(header)
    for run in (ours, theirs):
        print(
            f"{run.name:22}{run.requests:>10}{run.rate_limited:>8}"
            f"{run.simulated_s / 3600:>14.2f}{run.cpu_s:>9.1f}{run.samples:>12,}"
        )
    print()
    print(f"requests       heartkeep / python-fitbit: {ours.requests / theirs.requests:.3f}")
    print(f"429s received  heartkeep / python-fitbit: {ours.rate_limited} / {theirs.rate_limited}")
    ratio = (
        f"{ours.simulated_s / theirs.simulated_s:.3f}" if theirs.simulated_s else "n/a (no wait)"
    )
    print(f"simulated time heartkeep / python-fitbit: {ratio}")
    print(f"heartkeep's database equals the sandbox's ground truth: {'yes' if exact else 'NO'}")
    print("* process CPU while the run lasted: client and the in-process sandbox together;")
    print("  heartkeep's includes converting local times and writing SQLite, python-fitbit's")
    print("  only decoding JSON (it stores nothing).")


if __name__ == "__main__":
    main()
