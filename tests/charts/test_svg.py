"""The report's charts written as SVG (`charts/svg.py`) show what the matplotlib charts show:
every day of the calendar (grey when missing), gaps as breaks, zone bands, offset changes,
month labels that do not collide — and they are well-formed XML the browser can draw."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.analysis.daily import daily_stats
from heartkeep.analysis.zones import karvonen_zones
from heartkeep.charts.day import day_curve
from heartkeep.charts.svg import GREENS, NO_VALUE, calendar_svg, day_svg, trend_svg
from heartkeep.charts.svg_axes import colour_at, date_ticks, nice_ticks, path_data
from heartkeep.model import Daily, DailyKind, Sample, Window

SVG = "{http://www.w3.org/2000/svg}"
DAY = dt.date(2026, 6, 1)
MIDNIGHT = int(dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC).timestamp())  # 00:00 in Berlin


def day_with_two_gaps() -> list[Sample]:
    """Worn 00:00–08:00, off 08:00–09:00, worn 09:00–20:00, off until 20:30, worn to midnight
    (as in test_charts.py)."""
    worn = [(0, 8), (9, 20), (20.5, 24)]
    return [
        Sample(MIDNIGHT + t, 60 + (t // 900) % 40, 120)
        for start, end in worn
        for t in range(int(start * 3600), int(end * 3600), 10)
    ]


def _parse(svg: str) -> ET.Element:
    """Well-formed XML, or this raises (the SVG is our own output, not untrusted input)."""
    return ET.fromstring(svg)  # noqa: S314


def _by_id(svg: str, ident: str) -> ET.Element:
    root = _parse(svg)
    (found,) = [e for e in root.iter() if e.get("id") == ident]
    return found


def _pieces(d: str) -> int:
    """How many separate strokes a path's data draws (one per move-to)."""
    return d.count("M")


def test_the_calendar_has_a_square_per_day_grey_where_nothing_is_known() -> None:
    since, until = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    values = {since + dt.timedelta(days=i): float(i) for i in range(30) if i % 7 != 3}
    svg = calendar_svg(values, since, until, title="t", label="Coverage")
    cells = list(_by_id(svg, "calendar").iter(f"{SVG}rect"))
    assert len(cells) == 30
    grey = [c for c in cells if c.get("fill") == NO_VALUE]
    assert len(grey) == 30 - len(values)
    tips = [c.find(f"{SVG}title").text for c in cells]  # type: ignore[union-attr]
    assert "2026-06-02: 1%" in tips
    assert "2026-06-04: no data" in tips
    assert "Coverage" in svg


def test_the_calendar_colours_run_along_the_scale() -> None:
    assert colour_at(GREENS, 0.0) == GREENS[0]
    assert colour_at(GREENS, 1.0) == GREENS[-1]
    assert colour_at(GREENS, 7.0) == GREENS[-1]  # clipped
    assert colour_at(("#000000", "#ffffff"), 0.5) == "#808080"


def test_a_year_from_late_november_names_each_month_once_without_overlap() -> None:
    svg = calendar_svg({}, dt.date(2025, 11, 20), dt.date(2026, 11, 20), title="t", label="l")
    months = re.findall(r">((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[^<]*)<", svg)
    assert months[:3] == ["Dec 2025", "Jan 2026", "Feb"]
    assert months[-1] == "Nov"
    assert len(months) == len(set(months)) == 12


def test_the_trend_breaks_its_lines_where_days_are_missing() -> None:
    rows = []
    for i in range(30):
        if 10 <= i < 15:
            continue
        day = dt.date(2026, 6, 1) + dt.timedelta(days=i)
        rows.extend(daily_stats([], [Daily(day, DailyKind.RESTING_HR, value=55.0 + i % 3)]))
    svg = trend_svg(rows, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    provider = _by_id(svg, "provider")
    assert _pieces(provider.find(f"{SVG}path").get("d", "")) == 2  # type: ignore[union-attr]
    assert len(provider.findall(f"{SVG}circle")) == 25
    assert _by_id(svg, "estimate").find(f"{SVG}path").get("d") == ""  # type: ignore[union-attr]
    assert "Resting heart rate (bpm)" in svg


def test_the_day_shows_zone_bands_and_breaks_the_curve_at_gaps() -> None:
    zones = karvonen_zones(60)
    svg = day_svg(day_curve(day_with_two_gaps(), DAY, zones))
    for zone in zones:
        assert _by_id(svg, f"zone-{zone.name.upper()}").get("fill-opacity") == "0.6"
    assert _pieces(_by_id(svg, "heart-rate").get("d", "")) == 3
    assert "Local time (UTC+02:00)" in svg
    assert ">00:00<" in svg
    assert ">24:00<" in svg


def test_a_change_of_offset_is_a_dashed_line_and_an_empty_day_says_so() -> None:
    samples = [Sample(MIDNIGHT + t, 70, 120 if t < 43_200 else 60) for t in range(0, 86_400, 60)]
    span = Window(MIDNIGHT, MIDNIGHT + 90_000)
    chart = day_curve(samples, DAY, karvonen_zones(60), span=span, start_offset_min=120)
    svg = day_svg(chart)
    assert _by_id(svg, "offset-change-0").get("stroke-dasharray")
    assert "UTC+02:00 → UTC+01:00" in svg
    empty = day_svg(day_curve([], DAY, karvonen_zones(60)))
    assert "no samples this day" in empty
    _parse(empty)


def test_text_is_escaped() -> None:
    chart = day_curve([], DAY, karvonen_zones(60), title="Jo <Doe> & co")
    svg = day_svg(chart)
    assert "Jo &lt;Doe&gt; &amp; co" in svg
    _parse(svg)


def test_a_path_lifts_its_pen_at_nan() -> None:
    x = np.array([0.0, 1.0, math.nan, 2.0, 3.0, math.nan, 4.0])
    assert path_data(x, x) == "M0.0 0.0L1.0 1.0M2.0 2.0L3.0 3.0M4.0 4.0"


@given(
    st.floats(-1000, 1000, allow_nan=False),
    st.floats(0.01, 5000, allow_nan=False),
    st.integers(2, 12),
)
def test_ticks_are_round_evenly_spaced_and_within_the_range(
    low: float, span: float, most: int
) -> None:
    high = low + span
    ticks = nice_ticks(low, high, most=most)
    assert ticks
    assert all(low - 1e-6 <= t <= high + 1e-6 for t in ticks)
    assert len(ticks) <= 2.5 * most + 1
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1


def test_a_range_narrower_than_its_round_step_still_gets_ticks() -> None:
    """Found by hypothesis: [1, 4002] asked for 2 ticks rounds the step to 5000, which has no
    multiple in the range; the next smaller step (2000) labels it."""
    assert nice_ticks(1.0, 4002.0, most=2) == [2000.0, 4000.0]


def test_date_ticks_name_months_over_a_year_and_days_over_a_month() -> None:
    year = date_ticks(dt.date(2025, 11, 20), dt.date(2026, 11, 20))
    assert [name for _, name in year] == ["Jan 2026", "Mar", "May", "Jul", "Sep", "Nov"]
    assert year[0][0] == (dt.date(2026, 1, 1) - dt.date(2025, 11, 20)).days
    month = date_ticks(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert month[0] == (0, "01 Jun")
    assert all(name.endswith("Jun") for _, name in month)
