"""The dashboard looked at as a person uses it: a phone's width, whole-day ranges, a store with
an account but no data, long names, the keyboard and a screen reader's labels.

Stores are written directly (`write_day`, the store's own run bookkeeping) and "now" is a
fixed clock, so nothing here depends on the wall clock or on a sandbox sync.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from test_dashboard_browser import export_from_page
from typer.testing import CliRunner

from heartkeep import timeline
from heartkeep.cli import app
from heartkeep.clock import FakeClock
from heartkeep.dashboard import DashboardServer
from heartkeep.model import Account
from heartkeep.store import open_store

TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ADA = Account("google-health", "1", "Ada", "Europe/Berlin")
DAY = dt.date(2026, 11, 18)
# noon UTC two days after DAY: the store's days are recent, the ages small
NOW_S = timeline.local_day_window(DAY, "UTC").start_s + 2 * 86_400 + 12 * 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW_S)


def open_page(browser: Any, server: DashboardServer, query: str, view: str, **context: Any) -> Any:
    """A new browser context at `query`, the view drawn; script errors collected in
    `page.problems` (a test asserts there were none)."""
    options = {"viewport": DESKTOP} | context
    page = browser.new_context(**options).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    page.goto(server.url)
    page.goto(f"{server.base_url}/?{query}")
    ready(page, view)
    return page


def ready(page: Any, view: str) -> None:
    page.wait_for_selector(f"html[data-ready='{view}']", state="attached")


def overflowing(page: Any, selector: str) -> list[str]:
    """The elements under `selector` that reach past the right edge of the screen."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map((e) => e.textContent)""",
        selector,
    )


@pytest.fixture
def ada_store(settings: Any, write_day: Any) -> Any:
    """Ada's three days at one sample a minute, and three recorded syncs: two that went well
    and one that failed with a long message."""
    for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
        write_day(settings.database, day, step_s=60, account=ADA)
    with open_store(settings.database) as store:
        for age_s, status, error in (
            (3 * 86_400, "ok", None),
            (7200, "failed", "the provider refused the refresh token (invalid_grant): " * 2),
            (600, "ok", None),
        ):
            run = store.begin_run(ADA.key, NOW_S - age_s)
            store.finish_run(
                run,
                finished_s=NOW_S - age_s + 30,
                status=status,
                requests=19,
                samples_added=170_993,
                rate_limit_waits=0,
                error=error,
            )
    return settings


@pytest.fixture
def ada(ada_store: Any, clock: FakeClock) -> Iterator[DashboardServer]:
    with DashboardServer(ada_store, clock=clock, test_hooks=True) as server:
        yield server


def test_the_sync_runs_fit_a_phone_every_column_readable(browser, ada) -> None:
    """At 390 px nothing of the runs table is cut off or scrolled away: each run is a small
    card with its status, age, account and both numbers named."""
    page = open_page(browser, ada, "view=sync", "sync", viewport=PHONE)
    assert page.locator("#sync-runs tr").count() == 3
    assert overflowing(page, "#sync-runs td, #sync-runs td *") == []
    wrap = page.evaluate(
        "() => { const w = document.querySelector('.table-wrap');"
        " return w.scrollWidth - w.clientWidth; }"
    )
    assert wrap <= 0  # nothing to scroll sideways to
    first = page.locator("#sync-runs tr").first
    assert first.locator(".run-requests").is_visible()
    # the numbers say what they count once the header row is out of sight
    assert (
        page.evaluate(
            "() => getComputedStyle(document.querySelector('#sync-runs .run-requests'), '::after')"
            ".content"
        )
        == '" requests"'
    )
    assert first.locator(".account-key").inner_text() == "Ada"  # the name, the key as its title
    assert first.locator(".account-key").get_attribute("title") == ADA.key
    failed = page.locator("#sync-runs tr.run-failed .run-status")
    assert "invalid_grant" in failed.inner_text()
    assert page.problems == []


def export_label(page: Any) -> str:
    return page.locator("#export-range").inner_text().strip()


def test_a_whole_day_range_shows_its_last_day_in_the_to_box_as_the_export_does(
    browser, ada
) -> None:
    """Days in the address: "to" shows the last day's 23:59 (the day is included), the export
    names the same last day, and Show keeps whole days; a quick span that ends at a midnight
    becomes whole days too."""
    first, last = DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1)
    page = open_page(browser, ada, f"view=range&from={first}&to={last}", "range")
    assert page.input_value("#range-from") == f"{first}T00:00"
    assert page.input_value("#range-to") == f"{last}T23:59"
    assert export_label(page) == f"Export the days {first} to {last} as"
    page.click("#range-show")  # unchanged: still the same whole days
    ready(page, "range")
    assert f"from={first}&to={last}" in page.url
    page.fill("#range-to", f"{DAY}T23:59")  # the last day typed as its last minute
    page.click("#range-show")
    ready(page, "range")
    assert f"from={first}&to={DAY}" in page.url
    assert export_label(page) == f"Export the days {first} to {DAY} as"
    page.click("#range-spans button:text-is('day')")
    ready(page, "range")
    assert f"from={DAY}&to={DAY}" in page.url
    assert page.input_value("#range-to") == f"{DAY}T23:59"
    assert export_label(page) == f"Export {DAY} as"
    # zoomed in, the boxes follow the part in view, as the address and the label do
    page.click("button[title='Zoom in']")
    page.wait_for_function("() => location.search.includes('T06%3A00')")
    assert page.input_value("#range-from") == f"{DAY}T06:00"
    assert page.input_value("#range-to") == f"{DAY}T18:00"
    assert export_label(page) == f"Export {DAY} 06:00 to 18:00 as"
    assert page.problems == []


def test_a_range_that_ends_at_midnight_exports_up_to_it(browser, ada, tmp_path) -> None:
    """From 18:00 to the end of the day: "to" and the label say 23:59, the file holds every
    sample up to midnight — the same file as `heartkeep export --until <next day>T00:00`."""
    page = open_page(
        browser,
        ada,
        f"view=range&from={DAY}T18:00&to={DAY + dt.timedelta(days=1)}T00:00",
        "range",
        accept_downloads=True,
    )
    assert page.input_value("#range-to") == f"{DAY}T23:59"
    assert export_label(page) == f"Export {DAY} 18:00 to 23:59 as"
    from_page = tmp_path / "page.csv"
    next_day = DAY + dt.timedelta(days=1)
    name = export_from_page(page, "csv", from_page)
    assert name == f"heartkeep-{DAY}T1800-{next_day}T0000.csv"
    lines = from_page.read_text().splitlines()
    assert len(lines) == 6 * 60 + 1  # six hours of minutes and the header
    from_cli = tmp_path / "cli.csv"
    bounds = ["--since", f"{DAY}T18:00", "--until", f"{next_day}T00:00"]
    database = ["--database", ada.context.settings.database]
    result = CliRunner().invoke(
        app, ["export", "-f", "csv", "-o", str(from_cli), *bounds, *database]
    )
    assert result.exit_code == 0, result.output
    assert from_page.read_bytes() == from_cli.read_bytes()
    # typed back unchanged, "to 23:59" is the end of that day: nothing is lost
    page.click("#range-show")
    ready(page, "range")
    assert f"to={next_day}T00%3A00" in page.url
    assert page.problems == []
