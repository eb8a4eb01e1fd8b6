"""The report's three charts written as SVG directly: no matplotlib to load, lay out or render.

A report is a year's heatmap, a year's trend and one day's curve, drawn from a few hundred
values and ~2,900 points: writing them as SVG elements takes milliseconds, where matplotlib's
import, constrained layout and SVG backend took about a second of the report's CPU (issue 11:
a year's report in ≤ 1.5 s).  The pictures are the ones `plot heatmap|trend|day` draw with
matplotlib, from the same data (`calendar_grid`, `month_ticks`, `trend_series`, `DayCurve`),
colours and element ids (`calendar`, `provider`, `estimate`, `mean`, `zone-<NAME>`,
`heart-rate`, `offset-change`), with real text instead of glyph outlines (smaller, selectable,
and in the page's own font) and a tooltip on each calendar day.  The primitives — an axes
box, ticks, a polyline broken at NaN — are in `charts/svg_axes.py`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

from heartkeep.analysis.daily import DayStats
from heartkeep.charts.calendar import WEEKDAYS, calendar_grid, month_ticks
from heartkeep.charts.day import ZONE_COLOURS, DayCurve, offset_label, wall_ticks
from heartkeep.charts.svg_axes import (
    Axes,
    colour_at,
    date_ticks,
    document,
    nice_ticks,
    path_data,
    text,
)
from heartkeep.charts.trend import trend_series

# ColorBrewer's 9-class "Greens": matplotlib's `Greens` colour map is these stops, linearly
# interpolated, so the report's calendar has the colours of `plot heatmap`.
GREENS = ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476",
          "#41ab5d", "#238b45", "#006d2c", "#00441b")  # fmt: skip
NO_VALUE = "#e6e6e6"
_CELL = 16  # px per day of the calendar, a 2 px gap included
_LABEL_CHAR_PX = 6.2  # a month label's characters at 10 px, wide enough to keep them apart


def calendar_svg(
    values: Mapping[dt.date, float | None],
    since: dt.date,
    until: dt.date,
    *,
    title: str,
    label: str,
    vmin: float = 0.0,
    vmax: float = 100.0,
    unit: str = "%",
    stops: Sequence[str] = GREENS,
) -> str:
    """The calendar heatmap: weeks left to right, Monday on top, month names above, a colour
    bar on the right; a day without a value is grey, never coloured."""
    grid, first_monday = calendar_grid(values, since, until)
    weeks = grid.shape[1]
    x_label = f"Weeks from {since.isoformat()} to {until.isoformat()}"
    width_px, height_px = weeks * _CELL, 7 * _CELL
    # A few weeks make a grid narrower than its caption: centre the grid under it instead.
    left = max(40.0, (len(x_label) * _LABEL_CHAR_PX * 1.1 - width_px) / 2 + 10)
    top = 52
    bar_x = left + width_px + 24
    total_w, total_h = bar_x + 84, top + height_px + 34
    parts = [text(total_w / 2, 18, title, size=14, anchor="middle")]
    for row, name in enumerate(WEEKDAYS):
        parts.append(text(left - 6, top + row * _CELL + 11, name, size=10, anchor="end"))
    for week, name in _month_labels(first_monday, weeks, since, until):
        parts.append(text(left + week * _CELL, top - 8, name, size=10))
    cells = []
    for week in range(weeks):
        for row in range(7):
            day = first_monday + dt.timedelta(days=week * 7 + row)
            if not since <= day <= until:
                continue
            value = float(grid[row, week])
            known = not math.isnan(value)
            fill = colour_at(stops, (value - vmin) / (vmax - vmin)) if known else NO_VALUE
            tip = f"{day.isoformat()}: {value:.0f}{unit}" if known else f"{day}: no data"
            cells.append(
                f'<rect x="{left + week * _CELL:g}" y="{top + row * _CELL}" width="{_CELL - 2}" '
                f'height="{_CELL - 2}" fill="{fill}"><title>{tip}</title></rect>'
            )
    parts.append(f'<g id="calendar">{"".join(cells)}</g>')
    parts.append(text(left + width_px / 2, top + height_px + 22, x_label, size=11, anchor="middle"))
    parts.append(_colour_bar(bar_x, top, height_px, stops, vmin, vmax, label))
    return document(round(total_w), total_h, "".join(parts), label=title)


def _month_labels(
    first_monday: dt.date, weeks: int, since: dt.date, until: dt.date
) -> list[tuple[int, str]]:
    """`month_ticks` without a collision: when the range starts late in a month, the first
    week's "Nov 2025" would overlap the next month's name a week or two later, so that one
    takes the year ("Dec 2025") and the first label goes."""
    labels = list(zip(*month_ticks(first_monday, weeks, since, until), strict=True))
    if (
        len(labels) > 1
        and (labels[1][0] - labels[0][0]) * _CELL < (len(labels[0][1]) + 1) * _LABEL_CHAR_PX
    ):
        week = labels[1][0]
        monday = first_monday + dt.timedelta(weeks=week)
        first = next(
            monday + dt.timedelta(days=i)
            for i in range(7)
            if (monday + dt.timedelta(days=i)).day == 1
        )
        labels = [(week, first.strftime("%b %Y")), *labels[2:]]
    return labels


def _colour_bar(
    x: float, top: float, height: float, stops: Sequence[str], vmin: float, vmax: float, label: str
) -> str:
    """A vertical gradient from `vmin` (bottom) to `vmax`, ticked, with its label turned up."""
    gradient = "".join(
        f'<stop offset="{i / (len(stops) - 1):.3f}" stop-color="{colour}"/>'
        for i, colour in enumerate(reversed(stops))
    )
    parts = [
        f'<defs><linearGradient id="calendar-scale" x1="0" y1="0" x2="0" y2="1">{gradient}'
        "</linearGradient></defs>",
        f'<rect x="{x}" y="{top}" width="12" height="{height}" fill="url(#calendar-scale)" '
        'stroke="#555" stroke-width="0.5"/>',
    ]
    for value in nice_ticks(vmin, vmax, most=5):
        y = top + height - (value - vmin) / (vmax - vmin) * height
        parts.append(f'<path d="M{x + 12} {y:.1f}h4" stroke="#555"/>')
        parts.append(text(x + 19, y + 4, f"{value:g}", size=10))
    parts.append(text(x + 60, top + height / 2, label, size=10, anchor="middle", turn=True))
    return "".join(parts)


def trend_svg(
    stats: Sequence[DayStats], since: dt.date, until: dt.date, *, title: str = "Resting heart rate"
) -> str:
    """The provider's resting HR and heartkeep's estimate as dots and thin lines, their
    7-day mean bold; a missing day breaks the lines."""
    days, provider, estimate, mean = trend_series(stats, since, until)
    finite = np.concatenate([v[~np.isnan(v)] for v in (provider, estimate)])
    low, high = (float(finite.min()) - 5, float(finite.max()) + 5) if len(finite) else (50, 80)
    axes = Axes(left=62, top=34, width=918, height=270, x0=0, x1=len(days), y0=low, y1=high)
    index = np.arange(len(days), dtype=np.float64)
    parts = [axes.grid(date_ticks(since, until), nice_ticks(low, high), both=True)]
    for name, values, colour, width, dots in (
        ("provider", provider, "#1f77b4", 0.8, True),
        ("estimate", estimate, "#ff7f0e", 0.8, True),
        ("mean", mean, "#333333", 2.2, False),
    ):
        px, py = axes.x(index), axes.y(values)
        marks = ""
        if dots:
            marks = "".join(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2"/>'
                for a, b in zip(px.tolist(), py.tolist(), strict=True)
                if not math.isnan(b)
            )
        parts.append(
            f'<g id="{name}" fill="{colour}"><path d="{path_data(px, py)}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}" stroke-linejoin="round"/>{marks}</g>'
        )
    parts.append(axes.frame())
    parts.append(
        axes.legend(
            [("Provider's resting HR", "#1f77b4", "dot"), ("heartkeep estimate", "#ff7f0e", "dot"),
             ("7-day mean", "#333333", "bold")], corner="left",
        )
    )  # fmt: skip
    parts.append(axes.labels(title, "Local date", "Resting heart rate (bpm)"))
    return document(1000, 350, "".join(parts), label=title)


def day_svg(chart: DayCurve) -> str:
    """One day's curve over the day as lived, zone bands behind it, each change of UTC offset
    a dashed line; an empty day says so."""
    bottom, top = chart.y_range()
    length_h = chart.length_h
    axes = Axes(left=62, top=34, width=918, height=290, x0=0, x1=length_h, y0=bottom, y1=top)
    ticks = wall_ticks(chart.span, chart.start_offset_min, chart.changes)
    parts = []
    legend: list[tuple[str, str, str]] = []
    for index, zone in enumerate(chart.zones):
        upper = chart.zones[index + 1].min_bpm if index + 1 < len(chart.zones) else top
        colour = ZONE_COLOURS.get(zone.name.upper(), "#dddddd")
        y_top, y_low = axes.y(min(upper, top)), axes.y(max(zone.min_bpm, bottom))
        if y_low > y_top:
            parts.append(
                f'<rect id="zone-{escape(zone.name.upper())}" x="{axes.left}" y="{y_top:.1f}" '
                f'width="{axes.width}" height="{y_low - y_top:.1f}" fill="{colour}" '
                'fill-opacity="0.6"/>'
            )
        legend.append((f"{zone.name.title()} ≥ {zone.min_bpm} bpm", colour, "band"))
    parts.append(axes.grid((list(zip(*ticks, strict=True))), nice_ticks(bottom, top), both=False))
    px, py = axes.x(chart.x), axes.y(chart.y)
    parts.append(
        f'<path id="heart-rate" d="{path_data(px, py)}" fill="none" stroke="#b3002d" '
        'stroke-width="0.8" stroke-linejoin="round"/>'
    )
    legend.append(("Heart rate", "#b3002d", "line"))
    if not len(chart.y):
        parts.append(
            text(axes.left + axes.width / 2, axes.top + axes.height / 2, "no samples this day",
                 size=12, anchor="middle")
        )  # fmt: skip
    for number, (at_s, before, after) in enumerate(chart.changes):
        x = axes.x((at_s - chart.span.start_s) / 3600)
        parts.append(
            f'<path id="offset-change-{number}" d="M{x:.1f} {axes.top}v{axes.height}" '
            'stroke="#333" stroke-dasharray="4 3"/>'
        )
        label = f"{offset_label(before)} → {offset_label(after)}"
        parts.append(text(x + 3, axes.top + axes.height - 5, label, size=10))
    parts.append(axes.frame())
    parts.append(axes.legend(legend, corner="right"))
    title = chart.title or f"Heart rate on {chart.day.isoformat()}"
    parts.append(axes.labels(title, chart.x_label(), "Heart rate (bpm)"))
    return document(1000, 370, "".join(parts), label=title)


__all__ = ["GREENS", "NO_VALUE", "calendar_svg", "day_svg", "trend_svg"]
