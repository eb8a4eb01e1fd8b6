"""Charts show what they must: gaps as breaks, zone bands, the local-day axis, blank days."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from heartkeep import api
from heartkeep.analysis.daily import daily_stats
from heartkeep.analysis.zones import karvonen_zones
from heartkeep.charts import save
from heartkeep.charts.calendar import calendar_figure, calendar_grid
from heartkeep.charts.day import curve, day_figure
from heartkeep.charts.trend import trend_figure, trend_series
from heartkeep.errors import UsageError
from heartkeep.model import Account, Daily, DailyKind, Sample, Source
from heartkeep.store import open_store

DAY = dt.date(2026, 6, 1)
MIDNIGHT = int(dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC).timestamp())  # 00:00 in Berlin


def day_with_two_gaps() -> list[Sample]:
    """Worn 00:00–08:00, off 08:00–09:00, worn 09:00–20:00, off until 20:30, worn to midnight."""
    worn = [(0, 8), (9, 20), (20.5, 24)]
    return [
        Sample(MIDNIGHT + t, 60 + (t // 900) % 40, 120)
        for start, end in worn
        for t in range(int(start * 3600), int(end * 3600), 10)
    ]


def segments(y: np.ndarray) -> int:
    """Runs of finite values: the line pieces matplotlib draws."""
    finite = ~np.isnan(y)
    return int(finite[0]) + int(np.sum(finite[1:] & ~finite[:-1]))


def test_day_curve_breaks_at_gaps_and_never_bridges_them():
    x, y = curve(day_with_two_gaps(), DAY)
    assert segments(y) == 3
    assert int(np.isnan(y).sum()) == 2
    finite = ~np.isnan(x)
    assert x[finite].min() == 0.0
    assert x[finite].max() < 24.0
    # No plotted segment spans more than the gap threshold (5 minutes).
    steps = np.diff(x)
    assert np.nanmax(steps) * 3600 <= 300


def test_day_figure_has_zone_bands_labelled_axes_and_a_0_to_24_axis():
    zones = karvonen_zones(60, 190)
    figure = day_figure(day_with_two_gaps(), DAY, zones)
    axes = figure.axes[0]
    (line,) = [line for line in axes.get_lines() if line.get_gid() == "heart-rate"]
    assert segments(np.asarray(line.get_ydata(), dtype=float)) == 3
    bands = [p for p in axes.patches if (p.get_gid() or "").startswith("zone-")]
    assert [b.get_gid() for b in bands] == [
        "zone-LIGHT",
        "zone-MODERATE",
        "zone-VIGOROUS",
        "zone-PEAK",
    ]
    lows = [b.get_y() if isinstance(b, Rectangle) else b.get_xy()[0][1] for b in bands]
    assert [round(v) for v in lows] == [z.min_bpm for z in zones]
    assert axes.get_xlim() == (0.0, 24.0)
    assert axes.get_xlabel() == "Local time (UTC+02:00)"
    assert "bpm" in axes.get_ylabel()
    assert axes.get_ylim()[1] > zones[-1].min_bpm


def test_fall_back_day_runs_25_hours_with_both_repeated_hours_side_by_side():
    start = int(dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC).timestamp())
    change = start + 3 * 3600
    samples = [
        Sample(t, 60, 120 if t < change else 60) for t in range(start, start + 25 * 3600, 60)
    ]
    x, y = curve(samples, dt.date(2026, 10, 25))
    assert segments(y) == 1  # measured without a break: nothing to break
    assert bool(np.all(np.diff(x) > 0))  # the second 02:00 hour is drawn after the first
    assert np.nanmax(x) > 24.9


def test_svg_output_names_the_zones_and_png_is_a_png(tmp_path: Path):
    figure = day_figure(day_with_two_gaps(), DAY, karvonen_zones(60))
    svg = save(figure, tmp_path / "day.svg").read_text()
    for name in ("LIGHT", "MODERATE", "VIGOROUS", "PEAK"):
        assert f'id="zone-{name}"' in svg
    assert 'id="heart-rate"' in svg
    assert save(figure, tmp_path / "day.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UsageError, match=r"\.png or \.svg"):
        save(figure, tmp_path / "day.gif")


def test_calendar_grid_leaves_missing_days_blank():
    since, until = dt.date(2026, 6, 1), dt.date(2026, 6, 30)  # June 1st 2026 is a Monday
    values = {since + dt.timedelta(days=i): float(i) for i in range(30) if i % 7 != 3}
    grid, monday = calendar_grid(values, since, until)
    assert monday == since
    assert grid.shape == (7, 5)
    assert grid[0, 0] == 0.0
    assert grid[1, 1] == 8.0
    assert np.isnan(grid[3]).all()  # every Thursday missing
    assert np.isnan(grid[2, 4])  # July 1st is outside the range
    figure = calendar_figure(values, since, until, label="Coverage", title="t")
    image = figure.axes[0].get_images()[0]
    data = image.get_array()
    assert np.ma.count_masked(data) == int(np.isnan(grid).sum())
    assert figure.axes[1].get_ylabel() == "Coverage"  # the colour bar


def test_trend_has_a_point_per_day_gaps_as_nan_and_a_7_day_mean():
    rows = []
    for i in range(30):
        day = dt.date(2026, 6, 1) + dt.timedelta(days=i)
        if 10 <= i < 15:
            continue
        dailies = [Daily(day, DailyKind.RESTING_HR, value=55.0 + i % 3)]
        rows.extend(daily_stats([], dailies))
    since, until = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    days, provider, estimate, mean = trend_series(rows, since, until)
    assert len(days) == 30
    assert np.isnan(provider[10:15]).all()
    assert not np.isnan(provider[:10]).any()
    assert np.isnan(estimate).all()
    assert np.isnan(mean[:3]).all()
    assert not np.isnan(mean[3])
    assert np.isnan(mean[15:17]).all()  # only 2 and 3 of the last 7 days known
    figure = trend_figure(rows, since, until)
    axes = figure.axes[0]
    (line,) = [ln for ln in axes.get_lines() if ln.get_gid() == "provider"]
    assert segments(np.asarray(line.get_ydata(), dtype=float)) == 2
    assert axes.get_ylabel() == "Resting heart rate (bpm)"


def test_report_is_one_self_contained_html_file(settings, tmp_path: Path):
    account = Account("google-health", "1", "Jo <Doe>", "Europe/Berlin")
    with open_store(settings.database) as store:
        store.upsert_account(account)
        store.write_samples(account.key, day_with_two_gaps(), Source.GOOGLE_HEALTH)
    path = api.report(
        settings, tmp_path / "report.html", generated_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
    )
    html = path.read_text()
    assert html.count("<svg") == 3
    assert "Jo &lt;Doe&gt;" in html
    # Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "url(http" not in html
    assert "<td>2026-06-01</td>" in html
    assert "Day by day" in html


def test_calendar_labels_each_month_once_in_the_week_it_starts():
    figure = calendar_figure({}, dt.date(2026, 1, 1), dt.date(2026, 12, 31), label="x", title="t")
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == [
        "Jan 2026",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]
    positions = list(figure.axes[0].get_xticks())
    assert positions[1] == (dt.date(2026, 2, 1) - dt.date(2025, 12, 29)).days // 7


def test_charts_of_nothing_still_render(tmp_path: Path):
    """A range without data draws empty, labelled charts instead of failing."""
    since, until = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    figures = {
        "day": day_figure([], DAY, karvonen_zones(60)),
        "calendar": calendar_figure({}, since, until, label="Coverage", title="t"),
        "trend": trend_figure([], since, until),
    }
    for name, figure in figures.items():
        for suffix in (".png", ".svg"):
            assert save(figure, tmp_path / f"{name}{suffix}").stat().st_size > 1000
    assert any("no samples" in text.get_text() for text in figures["day"].axes[0].texts)
