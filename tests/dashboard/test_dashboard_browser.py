"""The dashboard as a person uses it, in Debian's Chromium: on a sandbox-synced store, open each
view, click through days, zoom into a minute, press "Sync now", export a range.

The sandbox and the dashboard share the sandbox's simulated clock, so "now", the data the
watch uploaded and the sync the page starts never depend on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from heartkeep import timeline
from heartkeep.cli import app
from heartkeep.dashboard import DashboardServer
from heartkeep.model import Window
from heartkeep.sync.lock import sync_lock

TIMEOUT_MS = 30_000


@pytest.fixture
def world(world_factory, small_user):
    synced = world_factory(users=(small_user(3),))
    report = synced.sync()
    assert report.exit_code == 0
    return synced


@pytest.fixture
def dashboard(world):
    with DashboardServer(world.settings, clock=world.clock, test_hooks=True) as server:
        yield server


@pytest.fixture
def page(browser, dashboard):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.set_default_timeout(TIMEOUT_MS)
    opened.goto(dashboard.url)
    ready(opened, "overview")
    yield opened
    context.close()
    assert problems == []  # no script error, no CSP violation, no failed request


def ready(page, view: str) -> None:
    page.wait_for_selector(f"html[data-ready='{view}']", state="attached")


def open_view(page, dashboard, query: str, view: str) -> None:
    page.goto(f"{dashboard.base_url}/?{query}")
    ready(page, view)


def local_days(world) -> list[dt.date]:
    with world.store() as store:
        account = store.account(world.account_key)
        span = store.sample_span(world.account_key)
    assert account is not None
    assert span is not None
    first = timeline.local_date(
        span.start_s, timeline.zone_offset_min(account.time_zone, span.start_s)
    )
    last = timeline.local_date(
        span.end_s - 1, timeline.zone_offset_min(account.time_zone, span.end_s)
    )
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_count(world, day: dt.date) -> int:
    with world.store() as store:
        account = store.account(world.account_key)
        assert account is not None
        window = timeline.local_day_window(day, account.time_zone)
        return sum(
            1
            for batch in store.iter_samples(
                world.account_key, Window(window.start_s - 86_400, window.end_s + 86_400)
            )
            for s in batch
            if timeline.local_date(s.instant_s, s.offset_min) == day
        )


def test_overview_shows_the_account_its_freshness_and_a_year_of_days(page, world) -> None:
    heading = page.locator("section.account-card h2")
    assert world.account_key in heading.inner_text() or "Small Test" in heading.inner_text()
    assert page.locator(".calendar a.cell").count() == 371
    with_data = page.locator(".calendar a.cell:not(.none)")
    assert with_data.count() == len(local_days(world))
    assert "ago" in page.locator(".card", has_text="Last sync").inner_text()
    # a day of the calendar opens that day
    with_data.nth(1).click()
    ready(page, "day")
    assert f"date={local_days(world)[1].isoformat()}" in page.url


def test_click_through_days_with_buttons_and_arrow_keys(page, dashboard, world) -> None:
    days = local_days(world)
    middle = days[1]
    open_view(page, dashboard, f"view=day&date={middle}", "day")
    assert page.locator("h1").inner_text() == f"Heart rate on {middle}"
    samples = page.locator(".card", has_text="Samples").locator(".value").inner_text()
    assert int(samples.replace(",", "")) == day_count(world, middle)
    page.keyboard.press("ArrowLeft")
    ready(page, "day")
    assert page.locator("h1").inner_text() == f"Heart rate on {days[0]}"
    page.click("#next-day")
    ready(page, "day")
    page.click("#next-day")
    ready(page, "day")
    assert page.locator("h1").inner_text() == f"Heart rate on {days[2]}"
    page.go_back()
    ready(page, "day")
    assert f"date={middle}" in page.url


def test_zooming_into_a_minute_draws_exactly_the_stored_samples(page, dashboard, world) -> None:
    middle = local_days(world)[1]
    open_view(page, dashboard, f"view=day&date={middle}", "day")
    box = page.locator("#day-chart .u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2

    def drag(x0: float, x1: float) -> None:
        page.mouse.move(x0, y)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, y, steps=3)
        page.mouse.move(x1, y, steps=3)
        page.mouse.up()

    # 14:00 on a worn day: the first drag takes about a quarter of an hour, the second a minute
    left = box["x"] + box["width"] * 14 / 24
    drag(left, left + box["width"] * 0.01)
    drag(box["x"] + box["width"] * 0.45, box["x"] + box["width"] * 0.52)
    drawn = page.evaluate(
        """() => {
            const u = window.heartkeep.charts.day, {min, max} = u.scales.x, pts = [];
            u.data[0].forEach((t, i) => {
                if (t >= min && t <= max && u.data[1][i] !== null) pts.push([t, u.data[1][i]]);
            });
            return {min, max, pts};
        }"""
    )
    assert drawn["max"] - drawn["min"] <= 120  # a minute or so
    window = Window(math.ceil(drawn["min"]), math.floor(drawn["max"]) + 1)
    stored = [[s.instant_s, s.bpm] for s in world.stored(window)]
    assert len(stored) > 10
    assert drawn["pts"] == stored
    assert "from=" in page.url  # the zoom is part of the address: a bookmark keeps it


def test_sync_now_fetches_new_data_and_the_day_view_shows_it(page, dashboard, world) -> None:
    last = local_days(world)[-1]
    before = day_count(world, last)
    world.clock.advance(1800)  # half an hour later the watch has uploaded more
    world.hold_devices()
    open_view(page, dashboard, "view=sync", "sync")
    page.click("#sync-now")
    page.wait_for_selector("#sync-state[data-state='done']")
    assert "+" in page.locator("#sync-state").inner_text()
    # one growing line for the new heart rate, then the account's result: no line per page
    growing, result = page.locator("#sync-log li").all_inner_texts()
    assert re.fullmatch(rf"{world.account_key}: heart rate \+[\d,]+ new \(\d+ pages?\)", growing)
    assert re.fullmatch(rf"{world.account_key}: ok, \+[\d,]+ samples \(\d+ requests?\)", result)
    page.wait_for_selector("#sync-runs tr.run-ok")  # the run joins the list of recent syncs
    assert page.locator("#sync-runs tr").count() == 2  # the fixture's sync and this one
    after = day_count(world, last)
    assert after > before
    open_view(page, dashboard, f"view=day&date={last}", "day")
    shown = page.locator(".card", has_text="Samples").locator(".value").inner_text()
    assert int(shown.replace(",", "")) == after


def test_an_up_to_date_sync_says_so_in_one_line(page, dashboard, world) -> None:
    """Nothing new since the last sync: the pages it re-read add no "+0 new" lines."""
    open_view(page, dashboard, "view=sync", "sync")
    page.click("#sync-now")
    page.wait_for_selector("#sync-state[data-state='done']")
    (line,) = page.locator("#sync-log li").all_inner_texts()
    assert re.fullmatch(rf"{world.account_key}: up to date, nothing new \(\d+ requests?\)", line)


def test_a_running_sync_is_shown_not_doubled(page, dashboard, world) -> None:
    open_view(page, dashboard, "view=sync", "sync")
    with sync_lock(world.settings.data_dir):  # as if cron were syncing right now
        page.click("#sync-now")
        page.wait_for_selector("#sync-state[data-state='busy']")
    assert "already running" in page.locator("#sync-state").inner_text()


def export_from_page(page, fmt: str, target) -> str:
    """Press Export in the Range view shown; the file saved to `target`, its suggested name back."""
    page.select_option("#export-format", fmt)
    with page.expect_download() as downloading:
        page.click("#export")
    downloading.value.save_as(target)
    return downloading.value.suggested_filename


def export_from_cli(world, fmt: str, target, since: str, until: str) -> None:
    bounds = ["--since", since, "--until", until]
    database = ["--database", world.settings.database]
    result = CliRunner().invoke(app, ["export", "-f", fmt, "-o", str(target), *bounds, *database])
    assert result.exit_code == 0, result.output


def same_file(fmt: str, a, b) -> None:
    if fmt == "csv":
        assert a.read_bytes() == b.read_bytes()
    else:
        assert pq.read_table(a).equals(pq.read_table(b))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_from_the_page_equals_heartkeep_export(
    page, dashboard, world, tmp_path, fmt
) -> None:
    days = local_days(world)
    since, until = days[0], days[1]
    open_view(page, dashboard, f"view=range&from={since}&to={until}", "range")
    from_page = tmp_path / f"page.{fmt}"
    assert export_from_page(page, fmt, from_page) == f"heartkeep-{since}-{until}.{fmt}"
    from_cli = tmp_path / f"cli.{fmt}"
    export_from_cli(world, fmt, from_cli, str(since), str(until))
    same_file(fmt, from_page, from_cli)
    assert from_page.stat().st_size > 1000


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_of_an_hour_is_that_hour_exactly(page, dashboard, world, tmp_path, fmt) -> None:
    """Not the days the range touches: the samples from 14:00 up to 15:00, local time."""
    day = local_days(world)[1]
    open_view(page, dashboard, f"view=range&from={day}T14:00&to={day}T15:00", "range")
    assert page.locator("#export-range").inner_text().strip() == f"Export {day} 14:00 to 15:00 as"
    from_page = tmp_path / f"page.{fmt}"
    name = export_from_page(page, fmt, from_page)
    assert name == f"heartkeep-{day}T1400-{day}T1500.{fmt}"
    from_cli = tmp_path / f"cli.{fmt}"
    export_from_cli(world, fmt, from_cli, f"{day}T14:00", f"{day}T15:00")
    same_file(fmt, from_page, from_cli)
    with world.store() as store:
        account = store.account(world.account_key)
    assert account is not None
    start = timeline.local_to_instant(dt.datetime.fromisoformat(f"{day}T14:00"), account.time_zone)
    stored = world.stored(Window(start, start + 3600))
    assert len(stored) > 100
    if fmt == "parquet":
        table = pq.read_table(from_page)
        assert table.num_rows == len(stored)
    else:
        assert len(from_page.read_text().splitlines()) == len(stored) + 1  # and the header


def test_export_after_a_zoom_writes_what_the_chart_shows(page, dashboard, world, tmp_path) -> None:
    day = local_days(world)[1]
    open_view(page, dashboard, f"view=range&from={day}T12:00&to={day}T16:00", "range")
    page.click("button[title='Zoom in']")  # the middle two hours: 13:00 to 15:00
    page.wait_for_function("() => location.search.includes('T13%3A00')")
    label = page.locator("#export-range").inner_text().strip()
    assert label == f"Export {day} 13:00 to 15:00 as"
    from_page = tmp_path / "page.csv"
    assert export_from_page(page, "csv", from_page) == f"heartkeep-{day}T1300-{day}T1500.csv"
    from_cli = tmp_path / "cli.csv"
    export_from_cli(world, "csv", from_cli, f"{day}T13:00", f"{day}T15:00")
    same_file("csv", from_page, from_cli)


def test_range_reads_buckets_zoomed_out_and_samples_zoomed_in(page, dashboard, world) -> None:
    days = local_days(world)
    open_view(page, dashboard, f"view=range&from={days[0]}&to={days[-1]}", "range")
    assert page.locator("html").get_attribute("data-range-resolution") == "minutes"
    for _ in range(5):
        page.click("button[title='Zoom in']")
    page.wait_for_selector("html[data-range-resolution='samples']", state="attached")
    # an overlay of another span draws a second series
    open_view(page, dashboard, f"view=range&from={days[1]}&to={days[1]}&compare={days[0]}", "range")
    overlay = page.evaluate("() => window.heartkeep.charts.range.data[4].filter((v) => v != null)")
    assert page.evaluate("() => window.heartkeep.charts.range.series.length") == 5
    assert len(overlay) > 600  # the other day's minutes, laid over this one


def test_the_theme_toggle_cycles_auto_light_dark_and_is_remembered(page, dashboard) -> None:
    button = page.locator("#theme")
    assert page.locator("html").get_attribute("data-theme") is None  # the system decides
    button.click()
    ready(page, "overview")
    assert page.locator("html").get_attribute("data-theme") == "light"
    button.click()
    ready(page, "overview")
    assert page.locator("html").get_attribute("data-theme") == "dark"
    open_view(page, dashboard, "view=sync", "sync")
    assert page.locator("html").get_attribute("data-theme") == "dark"


def test_the_overview_warns_when_the_series_stopped(browser, world_factory, small_user) -> None:
    stopped = world_factory(users=(small_user(3),))
    stopped.state.set_last_sync(stopped.user_id, stopped.clock.now_s() - 30 * 3600)
    assert stopped.sync().exit_code == 0
    with DashboardServer(stopped.settings, clock=stopped.clock, test_hooks=True) as server:
        opened = browser.new_page()
        try:
            opened.goto(server.url)
            ready(opened, "overview")
            warning = opened.locator(".warning").first.inner_text()
            assert "no heart rate since" in warning
        finally:
            opened.close()


def test_range_takes_any_span_from_an_hour_to_years(page, dashboard, world) -> None:
    """An hour typed as two local times draws every sample of that hour; a quick span of a
    year is drawn from daily values; the form's times are the account's wall clock."""
    middle = local_days(world)[1]
    hour = (f"{middle}T14:00", f"{middle}T15:00")
    open_view(page, dashboard, f"view=range&from={hour[0]}&to={hour[1]}", "range")
    assert page.locator("html").get_attribute("data-range-resolution") == "samples"
    assert page.input_value("#range-from") == hour[0]
    assert page.input_value("#range-to") == hour[1]
    with world.store() as store:
        account = store.account(world.account_key)
    assert account is not None
    start = timeline.local_to_instant(dt.datetime.fromisoformat(hour[0]), account.time_zone)
    drawn = page.evaluate(
        "() => { const u = window.heartkeep.charts.range;"
        " return u.data[0].filter((t, i) => u.data[1][i] !== null); }"
    )
    assert drawn == [s.instant_s for s in world.stored(Window(start, start + 3600))]
    # two days typed into the form: minute buckets with their band
    page.fill("#range-from", f"{middle - dt.timedelta(days=1)}T06:30")
    page.fill("#range-to", f"{middle}T18:00")
    page.click("#range-show")
    ready(page, "range")
    assert page.locator("html").get_attribute("data-range-resolution") == "minutes"
    assert f"from={middle - dt.timedelta(days=1)}T06%3A30" in page.url
    assert "minute buckets" in page.locator("#range-resolution").inner_text()
    # a year up to the end of this range: daily values
    page.click("#range-spans button:text-is('year')")
    ready(page, "range")
    assert page.locator("html").get_attribute("data-range-resolution") == "days"
    assert "daily values" in page.locator("#range-resolution").inner_text()


@pytest.mark.parametrize(
    ("query", "view", "endpoint"),
    [
        ("view=overview", "overview", "/api/overview"),
        ("view=day", "day", "/api/day"),
        (
            "view=range&from=2026-11-18T09:30&to=2026-11-18T10:00&compare=2026-11-19",
            "range",
            "/api/range",
        ),
    ],
)
def test_the_first_data_request_is_preloaded_and_the_static_files_cached(
    page, dashboard, query, view, endpoint
) -> None:
    """The page's first data request starts with the HTML (a preload the page then uses: one
    request, not two), the accounts come in the HTML, and its one script and one style sheet
    (every module and uPlot joined, bundle.py) come from the cache."""
    open_view(page, dashboard, query, view)
    page.goto(f"{dashboard.base_url}/?{query}")  # again: now the static files are cached
    ready(page, view)
    entries = page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => ["
        " new URL(e.name).pathname, e.initiatorType, e.transferSize])"
    )
    data = [e for e in entries if e[0].startswith("/api/")]
    assert data == [[endpoint, "link", data[0][2]]]  # the preload, used; nothing else asked
    files = [(path.rsplit("/", 1)[1], size) for path, _, size in entries if "/static/" in path]
    assert files == [("app.css", 0), ("app.js", 0)]  # one of each, from the browser's cache


def test_a_range_typed_right_after_the_view_is_drawn_is_the_one_shown(
    page, dashboard, world
) -> None:
    """The boxes follow the chart's range at once, not after the re-fetch's pause: a person
    who types a new range as soon as the view appears (or a test) used to see the boxes put
    back to the old range 200 ms later, and "Show" draw the old hour again."""
    middle = local_days(world)[1]
    open_view(page, dashboard, f"view=range&from={middle}T14:00&to={middle}T15:00", "range")
    typed = (f"{middle - dt.timedelta(days=1)}T06:30", f"{middle}T18:00")
    page.fill("#range-from", typed[0])
    page.fill("#range-to", typed[1])
    page.wait_for_timeout(600)  # longer than the re-fetch's pause after a change of scale
    assert (page.input_value("#range-from"), page.input_value("#range-to")) == typed
    page.click("#range-show")
    ready(page, "range")
    assert f"from={typed[0].replace(':', '%3A')}" in page.url
    assert page.locator("html").get_attribute("data-range-resolution") == "minutes"
    # leaving the hour's chart behind: it asks for nothing more once the new view is drawn
    page.evaluate("() => performance.clearResourceTimings()")
    page.wait_for_timeout(600)
    assert page.evaluate("() => performance.getEntriesByType('resource').length") == 0
    assert page.locator("html").get_attribute("data-range-resolution") == "minutes"
