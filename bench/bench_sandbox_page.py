"""How long the sandbox takes to serve a 10,000-point heart-rate page.

The sandbox must never be the bottleneck when heartkeep's own sync speed is measured: the budget
is "well under 100 ms" per 10,000-point page.  Two figures, each as median and worst over a walk
back through two weeks of data, first "cold" (the synthetic days are generated as the walk
reaches them, as in a real backfill) and then "warm" (the same walk again, days cached: the cost
of serving alone):

- in-process: `listing.list_page` called directly (page location + JSON encoding);
- over HTTP: a keep-alive httpx client against a `SandboxServer` on loopback (adds uvicorn,
  the middleware, the socket and the client's read of ~3 MB).

Each line gives wall time and this process's CPU time per page (wall time on a shared machine
mostly measures the neighbours).  Run: `.venv/bin/python bench/bench_sandbox_page.py`
"""

from __future__ import annotations

import os
import statistics
import time

import httpx

from heartkeep.sandbox.catalog import HEART_RATE
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.filters import TimeFilter
from heartkeep.sandbox.listing import ListQuery, list_page
from heartkeep.sandbox.pagetokens import PageTokens
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.state import SandboxState

PAGE = 10_000
PAGES = 30
FAMILY = "users/me/dataSourceFamilies/all-sources"


def _token_after(page: bytes) -> str | None:
    marker = b'"nextPageToken":"'
    at = page.rfind(marker)
    if at < 0:
        return None
    return page[at + len(marker) : page.index(b'"', at + len(marker))].decode()


Timing = tuple[float, float]  # (wall ms, CPU ms of this process)


def _clock() -> Timing:
    return time.perf_counter() * 1000, time.process_time() * 1000


def _since(start: Timing) -> Timing:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def in_process(state: SandboxState) -> list[Timing]:
    tokens = PageTokens()
    user_id = next(iter(state.users))
    query = ListQuery(user_id, HEART_RATE, TimeFilter(), FAMILY, False)
    timings: list[Timing] = []
    token: str | None = None
    for _ in range(PAGES):
        started = _clock()
        page = list_page(state, tokens, query, PAGE, token)
        timings.append(_since(started))
        token = _token_after(page)
    return timings


def over_http(server: SandboxServer) -> tuple[list[Timing], int]:
    state = server.state
    user_id = next(iter(state.users))
    access = state.issue_tokens(user_id, (HEART_RATE.read_scope,))["access_token"]
    timings: list[Timing] = []
    size = 0
    url = server.url + "/v4/users/me/dataTypes/heart-rate/dataPoints"
    with httpx.Client(headers={"Authorization": f"Bearer {access}"}, timeout=60) as client:
        token: str | None = None
        for _ in range(PAGES):
            params = {"pageSize": str(PAGE)}
            if token:
                params["pageToken"] = token
            started = _clock()
            response = client.get(url, params=params)
            timings.append(_since(started))
            size = max(size, len(response.content))
            token = _token_after(response.content)
    return timings, size


def small_requests(server: SandboxServer, count: int = 500) -> list[Timing]:
    """`GET /v4/users/me/identity` round trips: the fixed cost of any request."""
    user_id = next(iter(server.state.users))
    access = server.state.issue_tokens(user_id, (HEART_RATE.read_scope,))["access_token"]
    timings: list[Timing] = []
    with httpx.Client(headers={"Authorization": f"Bearer {access}"}, timeout=60) as client:
        for _ in range(count):
            started = _clock()
            client.get(server.url + "/v4/users/me/identity")
            timings.append(_since(started))
    return timings


def _show(label: str, timings: list[Timing]) -> None:
    wall = statistics.median(t[0] for t in timings)
    cpu = statistics.median(t[1] for t in timings)
    print(
        f"{label:<24} wall median {wall:6.1f} ms (worst {max(t[0] for t in timings):6.1f})   "
        f"CPU median {cpu:5.1f} ms = {cpu / 100:.2f} of the 100 ms budget; "
        f"{PAGE / cpu * 1000:,.0f} points per CPU-second"
    )


def main() -> None:
    """Cold = days generated on demand during the walk; warm = the same walk again (cached)."""
    state = SandboxState(SandboxConfig(start_s=TEST_START_S))
    _show("in-process, cold", in_process(state))
    _show("in-process, warm", in_process(state))
    with SandboxServer(SandboxConfig(start_s=TEST_START_S - 30 * 86400)) as server:
        cold, size = over_http(server)
        warm, _ = over_http(server)
        small = small_requests(server)
    _show("HTTP on loopback, cold", cold)
    _show("HTTP on loopback, warm", warm)
    print(f"page body: {size / 1e6:.2f} MB ({size / PAGE:.0f} bytes per point); {PAGES} pages each")
    wall = statistics.median(t[0] for t in small)
    print(f"small request (identity) round trip: median {wall:.2f} ms wall over {len(small)}")
    print(
        f"CPU = this process (over HTTP: server thread and client together); wall time depends on "
        f"what else the machine runs (load average now {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores)."
    )


if __name__ == "__main__":
    main()
