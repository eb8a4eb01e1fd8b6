"""Run by the crash and concurrency tests in a subprocess: use one account's vault, then exit.

    python refresh_child.py NOW_S ACCOUNT force          spend the refresh token now
    python refresh_child.py NOW_S ACCOUNT lazy PATH N    GET PATH N times, refreshing when needed

HEARTKEEP_HOME and HEARTKEEP_SANDBOX_URL come from the environment (the parent's temp home and
its sandbox), and HEARTKEEP_TEST_CRASH_AT may name the step at which this process kills itself.
The parent's simulated clock lives in another process, so the child's clock is a `FakeClock`
standing at NOW_S (the parent's simulated "now", or later to find the access token expired).
Exit status 0 on success, 3 when a request did not answer 200.  Nothing secret is printed.
"""

from __future__ import annotations

import sys

from heartkeep import http_client
from heartkeep.auth import open_connection
from heartkeep.clock import FakeClock
from heartkeep.config import load_settings


def main(argv: list[str]) -> int:
    now_s, account, mode = float(argv[0]), argv[1], argv[2]
    connection = open_connection(load_settings(), account, clock=FakeClock(now_s))
    if mode == "force":
        connection.auth.refresh()
        return 0
    path, times = argv[3], int(argv[4])
    with http_client.Client(base_url=connection.endpoints.api_base, auth=connection.auth) as client:
        for _ in range(times):
            if client.get(path).status_code != 200:
                return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
