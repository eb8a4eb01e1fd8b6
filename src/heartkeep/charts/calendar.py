"""A calendar heatmap of one value per local day (coverage or resting HR) over weeks or years.

Columns are ISO weeks (Monday first), rows the days of the week; a day without a value is left
blank (grey), never filled.  The plotted grid is exposed by `calendar_grid` so what the chart
shows can be checked without reading pixels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # matplotlib loads where the figure is drawn (the report draws its own SVG)
    from matplotlib.figure import Figure

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def calendar_grid(
    values: Mapping[dt.date, float | None], since: dt.date, until: dt.date
) -> tuple[npt.NDArray[np.float64], dt.date]:
    """A 7 × weeks array (NaN where no value or outside the range) and the first Monday."""
    first_monday = since - dt.timedelta(days=since.weekday())
    weeks = (until - first_monday).days // 7 + 1
    grid = np.full((7, weeks), np.nan)
    day = since
    while day <= until:
        value = values.get(day)
        if value is not None:
            offset = (day - first_monday).days
            grid[offset % 7, offset // 7] = value
        day += dt.timedelta(days=1)
    return grid, first_monday


def calendar_figure(
    values: Mapping[dt.date, float | None],
    since: dt.date,
    until: dt.date,
    *,
    label: str,
    title: str,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """The heatmap with month labels on top, weekday labels on the left and a colour bar."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    grid, first_monday = calendar_grid(values, since, until)
    weeks = grid.shape[1]
    figure = Figure(figsize=(max(4.0, 1.5 + weeks * 0.22), 2.8), layout="constrained")
    axes = figure.add_subplot()
    colours = colormaps[cmap].with_extremes(bad="#e6e6e6")
    image = axes.imshow(
        np.ma.masked_invalid(grid),
        aspect="equal",
        cmap=colours,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        gid="calendar",
    )
    axes.set_yticks(range(7), WEEKDAYS, fontsize="small")
    axes.set_xticks(*month_ticks(first_monday, weeks, since, until), fontsize="small")
    axes.xaxis.tick_top()
    axes.set_xlabel(f"Weeks from {since.isoformat()} to {until.isoformat()}")
    axes.set_title(title)
    bar = figure.colorbar(image, ax=axes, shrink=0.8)
    bar.set_label(label)
    return figure


def month_ticks(
    first_monday: dt.date, weeks: int, since: dt.date, until: dt.date
) -> tuple[list[int], list[str]]:
    """The week columns that get a month's name ("Jan 2026", "Feb", …) and the names."""
    ticks: list[int] = []
    names: list[str] = []
    for week in range(weeks):
        monday = first_monday + dt.timedelta(weeks=week)
        days = (monday + dt.timedelta(days=i) for i in range(7))
        firsts = [day for day in days if day.day == 1 and since <= day <= until]
        # Label the week in which each month starts (and the first week, unless a month
        # starts right after it and the two labels would collide).
        if firsts:
            start = firsts[0]
        elif week == 0 and since.day <= 21:
            start = since
        else:
            continue
        ticks.append(week)
        names.append(start.strftime("%b %Y" if not names or start.month == 1 else "%b"))
    return ticks, names


__all__ = ["WEEKDAYS", "calendar_figure", "calendar_grid", "month_ticks"]
