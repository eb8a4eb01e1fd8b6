"""How fast the sandbox's synthetic physiology generates data: the HTTP side's budget per page.

Prints figures, asserts nothing.  Run: `.venv/bin/python bench/bench_physiology.py [days]`.

- cold day: generating one UTC day from scratch (what a year-long walk pays ~365 times);
- page slice: a 10,000-sample window from a cached day (what each API page costs on top of JSON);
- dailies: resting HR + zones of one local day (days already generated);
- 10,000 users: constructing their Physiology objects (nothing is generated up front).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from heartkeep.sandbox.physiology import Physiology, UserSpec, demo_user

CLOCK_S = int(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp())
DAY_S = 86_400


def main(days: int) -> None:
    spec = demo_user(CLOCK_S)
    phys = Physiology(spec)
    first_day = CLOCK_S // DAY_S - days
    per_day_ms: list[float] = []
    total_samples = 0
    started = time.perf_counter()
    for k in range(first_day, first_day + days):
        t0 = time.perf_counter()
        instants, _, _ = phys.samples(k * DAY_S, (k + 1) * DAY_S)
        per_day_ms.append((time.perf_counter() - t0) * 1000)
        total_samples += instants.size
    elapsed = time.perf_counter() - started
    print(f"cold days generated      : {days} ({total_samples:,} samples)")
    print(
        f"ms per day (median / p95): {statistics.median(per_day_ms):.2f} / "
        f"{sorted(per_day_ms)[int(0.95 * len(per_day_ms))]:.2f}"
    )
    print(f"samples per second       : {total_samples / elapsed:,.0f}")

    # A 10,000-sample page from a day in the cache, as the API serves it.
    day_start = (CLOCK_S // DAY_S - 1) * DAY_S
    instants, _, _ = phys.samples(day_start, day_start + DAY_S)
    page_end = int(instants[-1]) + 1
    page_start = int(instants[-10_000])
    repeats = 200
    t0 = time.perf_counter()
    for _ in range(repeats):
        phys.samples(page_start, page_end)
    page_ms = (time.perf_counter() - t0) / repeats * 1000
    print(f"10,000-sample page (ms)  : {page_ms:.3f} (cached day)")

    recent = [dt.date(2026, 11, 20) - dt.timedelta(days=k) for k in range(1, 31)]
    t0 = time.perf_counter()
    for day in recent:
        phys.resting_hr(day)
        phys.zones(day)
    dailies_ms = (time.perf_counter() - t0) / len(recent) * 1000
    print(f"resting HR + zones (ms)  : {dailies_ms:.2f} per local day (days cached)")

    t0 = time.perf_counter()
    users = [
        Physiology(
            UserSpec(
                health_user_id=str(n),
                legacy_user_id=f"U{n:05d}",
                display_name=f"User {n}",
                time_zone=spec.time_zone,
                member_since=spec.member_since,
                seed=n,
            )
        )
        for n in range(10_000)
    ]
    print(f"10,000 users set up (s)  : {time.perf_counter() - t0:.2f} ({len(users)} objects)")

    t0 = time.perf_counter()
    demo_user(CLOCK_S)
    print(f"demo_user() (ms)         : {(time.perf_counter() - t0) * 1000:.1f}")
    budget = 100.0
    print(f"ratio cold day / 100 ms page budget: {statistics.median(per_day_ms) / budget:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 365)
