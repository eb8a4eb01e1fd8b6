"""Browser fixtures for the dashboard: Playwright driving Debian's Chromium, never a download.

The browser and its switches are in `headless_chromium.py` (shared with the benchmark).
`make test` installs the package when it runs as root.  Elsewhere a missing browser skips the
browser tests with a visible reason (`pytest -rs` and a line at the end of the run) — except
under CI=true, where it fails them: CI must never pass by not looking.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

import headless_chromium
import numpy as np
import pytest

from heartkeep import timeline
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store

_skipped: list[str] = []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (each test opens its own context).

    Not per session: while Playwright's sync API is started it leaves its event loop set as
    the main thread's running loop, so every later test on the same worker that calls
    `asyncio.run` (the study workers, procrastinate) or starts Playwright again failed with
    "cannot be called from a running event loop".  pytest tears a module fixture down as soon
    as the worker's next test is in another module.
    """
    reason = headless_chromium.missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the dashboard's browser tests cannot run: {reason}")
        _skipped.append(reason)
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = headless_chromium.launch(driver)
        try:
            yield launched
        finally:
            launched.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly at the end of the run that the browser tests did not run, and why."""
    if _skipped:
        terminalreporter.write_line(
            f"NOTE: the dashboard's browser tests were skipped: {_skipped[0]}", yellow=True
        )


def _write_day(database: str, day: dt.date, *, account: Account, step_s: int = 1) -> int:
    """Samples every `step_s` seconds through the local `day` of `account`, with its zone's
    offsets (23 or 25 hours on clock-change days); returns how many."""
    window = timeline.local_day_window(day, account.time_zone)
    instants = range(window.start_s, window.end_s, step_s)
    bpm = np.random.default_rng(3).integers(48, 175, size=len(instants))
    with open_store(database) as store:
        store.upsert_account(account)
        store.write_samples(
            account.key,
            (
                Sample(t, int(b), timeline.zone_offset_min(account.time_zone, t))
                for t, b in zip(instants, bpm, strict=True)
            ),
            Source.GOOGLE_HEALTH,
        )
    return len(instants)


@pytest.fixture
def write_day() -> Callable[..., int]:
    """`write_day(database, day, account=…, step_s=1)`: a synthetic day straight into a store,
    for tests that need exact samples rather than a sandbox sync."""
    return _write_day
