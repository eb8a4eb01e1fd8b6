"""The dashboard looked at as a person uses it: a phone's width, whole-day ranges, a store with
an account but no data, long names, the keyboard and a screen reader's labels.

Stores are written directly (`write_day`, the store's own run bookkeeping) and "now" is a
fixed clock, so nothing here depends on the wall clock or on a sandbox sync.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
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


def test_one_account_needs_no_picker_two_do(browser, settings, write_day, clock) -> None:
    """The picker appears when there is something to choose (a disabled one reads as broken)."""
    write_day(settings.database, DAY, step_s=600, account=ADA)
    with DashboardServer(settings, clock=clock, test_hooks=True) as server:
        page = open_page(browser, server, "view=overview", "overview")
        assert not page.locator("#account").is_visible()
        page.context.close()
        bob = Account("google-health", "2", "Bob", "America/New_York")
        write_day(settings.database, DAY, step_s=600, account=bob)
        page = open_page(browser, server, "view=overview", "overview")
        assert page.locator("#account").is_visible()
        assert page.locator("#account option").all_inner_texts() == [
            f"Ada ({ADA.key})",
            f"Bob ({bob.key})",
        ]
        page.select_option("#account", bob.key)
        page.wait_for_function(f"() => location.search.includes('{bob.key.replace(':', '%3A')}')")
        assert page.problems == []


def test_an_account_without_data_says_so_and_a_young_one_reads_as_days(
    browser, settings, write_day, clock
) -> None:
    """An account connected but never synced gets a sentence and a way to sync, not an empty
    calendar and charts whose axes run over 1970; one day of data draws a chart of days, not
    years around that one point."""
    write_day(settings.database, DAY, step_s=60, account=ADA)
    empty = Account("google-health", "2", "Cleo", "Europe/Berlin")
    with open_store(settings.database) as store:
        store.upsert_account(empty)
    with DashboardServer(settings, clock=clock, test_hooks=True) as server:
        page = open_page(browser, server, "view=overview", "overview")
        cleo = page.locator("section.account-card", has_text="Cleo")
        assert "No heart rate stored for this account yet" in cleo.inner_text()
        assert cleo.locator(".chart, .calendar").count() == 0
        cleo.get_by_role("link", name="Sync now").click()
        ready(page, "sync")
        page.go_back()
        ready(page, "overview")
        spans = page.evaluate(
            "() => window.heartkeep.charts.overview.map((u) => [u.scales.x.min, u.scales.x.max])"
        )
        day_noon = timeline.local_day_window(DAY, "UTC").start_s + 43_200
        for low, high in spans:  # the resting trend and the weekly zones
            assert low <= day_noon <= high
            assert high - low <= 30 * 86_400  # days or weeks, not years
        assert page.problems == []


@pytest.mark.parametrize("view", ["overview", "day", "range"])
def test_an_empty_store_says_what_to_do(browser, settings, clock, view) -> None:
    with DashboardServer(settings, clock=clock, test_hooks=True) as server:
        page = open_page(browser, server, f"view={view}", view)
        assert page.locator("h1").count() == 1
        message = page.locator(".empty-state").inner_text()
        assert "No account in the store yet" in message
        assert "heartkeep auth login" in message
        assert not page.locator("#account").is_visible()
        page.locator(".empty-state a").click()
        ready(page, "sync")
        assert page.problems == []


def test_a_long_name_fits_a_phone(browser, settings, write_day, clock) -> None:
    """A display name of 120 letters without a space wraps, in the heading and the picker."""
    long = Account("google-health", "3", "Wolkenstein" * 11, "America/Los_Angeles")
    write_day(settings.database, DAY, step_s=600, account=long)
    write_day(settings.database, DAY, step_s=600, account=ADA)
    with DashboardServer(settings, clock=clock, test_hooks=True) as server:
        for view in ("overview", "day", "range", "sync"):
            page = open_page(browser, server, f"view={view}", view, viewport=PHONE)
            assert (
                page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
            ), view
            assert overflowing(page, "h1, h2, .card, #account") == [], view
            assert page.problems == []
            page.context.close()


def test_the_keyboard_moves_through_the_calendar_and_the_days(browser, ada) -> None:
    """Tab reaches the calendar once (its newest day), the arrow keys move by day and week,
    Enter opens the day; in the Day view, Enter on "next" keeps the focus there for the next
    press; the icon buttons have names."""
    page = open_page(browser, ada, "view=overview", "overview")
    assert page.locator(".calendar a.cell[tabindex='0']").count() == 1
    newest = page.locator(".calendar a.cell").last
    page.locator("#theme").focus()
    page.keyboard.press("Tab")
    assert newest.evaluate("(cell) => cell === document.activeElement")
    page.keyboard.press("ArrowUp")  # the day before
    page.keyboard.press("ArrowLeft")  # a week before that
    page.keyboard.press("ArrowRight")  # back a week: the day before the newest
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    newest_day = dt.date.fromisoformat(newest.get_attribute("aria-label")[:10])
    assert label.startswith(str(newest_day - dt.timedelta(days=1)))
    page.keyboard.press("Tab")  # out of the calendar in one step
    assert not page.evaluate("() => document.activeElement.classList.contains('cell')")
    page.keyboard.press("Shift+Tab")  # back in, where it was left
    page.keyboard.press("Enter")
    ready(page, "day")
    assert page.locator("h1").inner_text() == f"Heart rate on {newest_day - dt.timedelta(days=1)}"
    page.locator("#prev-day").focus()
    page.keyboard.press("Enter")
    ready(page, "day")
    assert page.evaluate("() => document.activeElement.id") == "prev-day"
    page.keyboard.press("Enter")
    ready(page, "day")
    assert page.locator("h1").inner_text() == f"Heart rate on {newest_day - dt.timedelta(days=3)}"
    for name in ("Earlier", "Zoom in", "Zoom out", "Later"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1
    assert page.locator("main").get_attribute("aria-live") is None  # not the whole view read out
    assert page.problems == []


def test_the_views_read_while_a_sync_writes(browser, ada_store, clock) -> None:
    """A sync from cron holds the sync lock and writes in a transaction: every view still reads
    (the store is WAL; the dashboard reads it read-only), and the Sync page lists the run in
    progress.  (Sync now refusing to start a second one: test_dashboard_browser.)"""
    from heartkeep.sync.lock import sync_lock

    with open_store(ada_store.database) as store:
        run = store.begin_run(ADA.key, NOW_S - 60)  # started a minute ago, not finished
    writer = sqlite3.connect(ada_store.database, isolation_level=None)
    with sync_lock(ada_store.data_dir):
        writer.execute("BEGIN IMMEDIATE")  # and writing a page right now
        writer.execute("UPDATE sync_run SET requests = 7 WHERE id = ?", (run,))
        try:
            with DashboardServer(ada_store, clock=clock, test_hooks=True) as server:
                page = open_page(browser, server, "view=overview", "overview")
                for view in ("day", "range", "sync"):
                    page.goto(f"{server.base_url}/?view={view}")
                    ready(page, view)
                    assert page.locator(".error").count() == 0, view
                running = page.locator("#sync-runs tr").first
                assert running.locator(".run-status").inner_text() == "running (or was killed)"
                assert page.problems == []
        finally:
            writer.execute("ROLLBACK")
            writer.close()


def test_a_store_that_cannot_be_read_says_why_and_can_be_tried_again(
    browser, settings, write_day, clock
) -> None:
    """Another program's SQLite file at --database: the page says what the CLI would (no
    trace), and "Try again" reads the store once it is put right."""
    path = settings.database
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    foreign = sqlite3.connect(path)
    foreign.execute("CREATE TABLE notes (body TEXT)")
    foreign.commit()
    foreign.close()
    with DashboardServer(settings, clock=clock, test_hooks=True) as server:
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server.url)
        ready(page, "error")
        message = page.locator(".failure .error").inner_text()
        assert message.startswith("Could not read the store:")
        assert "heartkeep" in message
        assert "Traceback" not in message
        Path(path).unlink()
        write_day(path, DAY, step_s=600, account=ADA)
        page.get_by_role("button", name="Try again").click()
        ready(page, "overview")
        assert page.locator("section.account-card h2").inner_text() == "Ada"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_chart_fits_inside_its_card(browser, ada, viewport) -> None:
    """A chart's canvas ends inside its card's padding: it used to be as wide as the card
    including the padding, so the card (overflow hidden) clipped the last x label ("19 Nov")."""
    for view in ("overview", "day", "range"):
        page = open_page(browser, ada, f"view={view}&day={DAY}", view, viewport=viewport)
        outside = page.evaluate(
            """() => [...document.querySelectorAll('.chart')].flatMap((card) => {
                const style = getComputedStyle(card);
                const inner = card.getBoundingClientRect().right - parseFloat(style.paddingRight)
                    - parseFloat(style.borderRightWidth);
                return [...card.querySelectorAll('canvas')]
                    .filter((c) => c.getBoundingClientRect().right > inner + 0.5)
                    .map((c) => `${card.id}: ${c.getBoundingClientRect().right} > ${inner}`);
            })"""
        )
        assert page.evaluate("() => document.querySelectorAll('.chart canvas').length") > 0, view
        assert outside == [], view
        assert page.problems == []
        page.context.close()
