"""Debian's Chromium, headless and off the network: the one launch the browser tests and
`bench/bench_dashboard.py` share (the benchmark imports this file by path).

`/usr/bin/chromium` (HEARTKEEP_CHROMIUM overrides), never a Playwright download.  The switches
keep it quiet and local: no sync, no component updates, no background fetches, no QUIC; no GPU
and no sandbox (containers run as root without one).  Playwright gives every launch a fresh
temporary profile (`--user-data-dir`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("HEARTKEEP_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why no browser can be launched here, or None when one can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (`apt-get install chromium`, or run `make test` as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (`pip install -e '.[dev]'`)"
    return None


def launch(driver: Any) -> Any:
    """A headless Chromium from a started `sync_playwright()` driver."""
    return driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
