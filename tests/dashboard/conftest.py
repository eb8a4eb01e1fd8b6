"""Browser fixtures for the dashboard: Playwright driving Debian's Chromium, never a download.

The browser is `/usr/bin/chromium` (HEARTKEEP_CHROMIUM overrides), launched headless with the
switches that keep it off the network (no sync, no component updates, no background fetches);
Playwright gives every launch a fresh temporary profile (`--user-data-dir`).  `make test`
installs the package when it runs as root.  Elsewhere a missing browser skips the browser tests
with a visible reason (`pytest -rs` and a line at the end of the run) — except under CI=true,
where it fails them: CI must never pass by not looking.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heartkeep import timeline
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store

CHROMIUM = Path(os.environ.get("HEARTKEEP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_skipped: list[str] = []


def browser_missing() -> str | None:
    """Why no browser test can run here, or None when one can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (`apt-get install chromium`, or run `make test` as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (`pip install -e '.[dev]'`)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (each test opens its own context)."""
    reason = browser_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the dashboard's browser tests cannot run: {reason}")
        _skipped.append(reason)
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
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
