"""What keeping tokens alive costs: per-request overhead of `VaultAuth` and the price of a refresh.

Against an in-process sandbox (loopback HTTP, simulated clock):

- requests with a fresh access token through `VaultAuth` versus a fixed `Authorization` header
  (the token is held in memory, so the vault file is not touched on the hot path);
- forced refreshes: each one journals the attempt (atomic write + fsync), POSTs to the token
  endpoint and writes the new pair (atomic write + fsync) before the token is used;
- 8 threads × 25 requests racing past the expiry: how many refresh requests reach the server
  (the floor is 1).

Prints figures and ratios; asserts nothing.  Run:

    .venv/bin/python bench/bench_auth_refresh.py [--requests 300] [--refreshes 50]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import httpx
from msgspec.structs import replace

from heartkeep import http_client
from heartkeep.auth import login, open_connection
from heartkeep.config import load_settings
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.server import SandboxServer

IDENTITY = "/v4/users/me/identity"


def browser(url: str) -> bool:
    response = httpx.get(url, follow_redirects=False)
    httpx.get(response.headers["location"])
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--refreshes", type=int, default=50)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as home,
        SandboxServer(SandboxConfig(start_s=TEST_START_S, per_user_per_minute=10**9)) as server,
    ):
        clock = server.state.clock
        settings = replace(
            load_settings(env={"HEARTKEEP_HOME": str(Path(home))}), sandbox_url=server.url
        )
        key = login(settings, clock=clock, open_browser=browser).account_key
        connection = open_connection(settings, key, clock=clock)
        token = connection.auth.tokens().access_token

        with http_client.Client(base_url=server.url) as plain:
            started = time.perf_counter()
            for _ in range(args.requests):
                plain.get(IDENTITY, headers={"Authorization": f"Bearer {token}"})
            plain_s = time.perf_counter() - started
        with http_client.Client(base_url=server.url, auth=connection.auth) as authed:
            started = time.perf_counter()
            for _ in range(args.requests):
                authed.get(IDENTITY)
            authed_s = time.perf_counter() - started
        print(f"requests with a fresh token      {args.requests}")
        print(f"  fixed header                   {plain_s / args.requests * 1e3:.2f} ms/request")
        print(f"  VaultAuth                      {authed_s / args.requests * 1e3:.2f} ms/request")
        print(f"  ratio VaultAuth / fixed        {authed_s / plain_s:.2f}")

        started = time.perf_counter()
        for _ in range(args.refreshes):
            connection.auth.refresh()
        refresh_s = time.perf_counter() - started
        print(f"forced refreshes                 {args.refreshes}")
        print(f"  per refresh (2 durable writes) {refresh_s / args.refreshes * 1e3:.2f} ms")

        posts_before = server.state.requests_to("/token")
        clock.advance(2 * 3600)
        racers = [open_connection(settings, key, clock=clock) for _ in range(8)]

        def work(index: int) -> None:
            with http_client.Client(base_url=server.url, auth=racers[index].auth) as client:
                for _ in range(25):
                    client.get(IDENTITY)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refreshes = server.state.requests_to("/token") - posts_before
        print("8 threads x 25 requests after expiry")
        print(f"  refresh requests sent          {refreshes} (floor 1)")


if __name__ == "__main__":
    main()
