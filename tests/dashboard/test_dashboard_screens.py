"""Every view in light and dark, at desktop and phone width, photographed by the test.

The pictures go to a temporary folder, or to HEARTKEEP_DASHBOARD_SCREENSHOTS when set (the
docs use `HEARTKEEP_DASHBOARD_SCREENSHOTS=docs/images`).  Each page must draw without a script
error or a CSP violation, and without anything wider than the phone's screen.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from heartkeep.dashboard import DashboardServer
from heartkeep.model import Account

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}
# Read at import: the `home` fixture clears every HEARTKEEP_* variable before the test runs.
CHOSEN_FOLDER = os.environ.get("HEARTKEEP_DASHBOARD_SCREENSHOTS")


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(CHOSEN_FOLDER) if CHOSEN_FOLDER else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def world(world_factory, small_user):
    synced = world_factory(users=(small_user(8),))
    assert synced.sync().exit_code == 0
    return synced


def test_screenshots_of_every_view_light_and_dark_desktop_and_phone(browser, world, shots) -> None:
    day = (dt.datetime.fromtimestamp(world.clock.now_s(), dt.UTC) - dt.timedelta(days=2)).date()
    views = {
        "overview": "view=overview",
        "day": f"view=day&date={day}",
        "range": f"view=range&from={day - dt.timedelta(days=6)}&to={day}",
        "compare": f"view=range&from={day}&to={day}&compare={day - dt.timedelta(days=1)}",
        "sync": "view=sync",
    }
    problems: list[str] = []
    with DashboardServer(world.settings, clock=world.clock, test_hooks=True) as server:
        for scheme in ("light", "dark"):
            for size, (width, height) in SIZES.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, color_scheme=scheme
                )
                page = context.new_page()
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.goto(server.url)
                for name, query in views.items():
                    page.goto(f"{server.base_url}/?{query}")
                    view = query.split("&")[0].split("=")[1]
                    page.wait_for_selector(f"html[data-ready='{view}']", state="attached")
                    if name == "sync":
                        world.clock.advance(600)
                        world.hold_devices()
                        page.click("#sync-now")
                        page.wait_for_selector("#sync-state:is([data-state='done'])")
                    overflow = page.evaluate(
                        "() => document.documentElement.scrollWidth - window.innerWidth"
                    )
                    assert overflow <= 0, f"{name} is wider than the {size} screen"
                    page.screenshot(
                        path=str(shots / f"dashboard-{name}-{scheme}-{size}.png"), full_page=True
                    )
                context.close()
                assert problems == [], problems
    assert len(list(shots.glob("dashboard-*.png"))) == len(views) * 4


def test_names_from_the_data_are_shown_as_text_never_as_markup(
    browser, settings, write_day
) -> None:
    hostile = Account(
        "google-health", "2", '<img src=x id=pwned onerror="alert(1)">Eve', "Europe/Berlin"
    )
    write_day(settings.database, dt.date(2026, 11, 18), step_s=60, account=hostile)
    with DashboardServer(settings, test_hooks=True) as server:
        page = browser.new_page()
        try:
            page.goto(server.url)
            page.wait_for_selector("html[data-ready='overview']", state="attached")
            assert page.locator("section.account-card h2").inner_text() == hostile.display_name
            assert page.locator("#pwned").count() == 0
            assert hostile.display_name in page.locator("#account option").first.inner_text()
        finally:
            page.close()
