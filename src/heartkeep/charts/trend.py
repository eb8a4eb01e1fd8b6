"""The resting-heart-rate trend: the provider's daily value, heartkeep's estimate, and their
7-day mean, over weeks to years.

Every calendar day in the range has an x position; a day without a value is NaN, so a missing
week is a break in the line rather than a straight segment across it.  The 7-day mean uses the
provider's value where there is one, else the estimate, and needs at least 4 of the 7 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heartkeep.analysis.daily import DayStats

if TYPE_CHECKING:  # matplotlib loads where the figure is drawn (the report draws its own SVG)
    from matplotlib.figure import Figure

WINDOW_DAYS = 7
MIN_DAYS_IN_WINDOW = 4


def trend_series(
    stats: Sequence[DayStats], since: dt.date, until: dt.date
) -> tuple[
    list[dt.date], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """(days, provider, estimate, 7-day mean), one entry per calendar day, NaN where missing."""
    count = (until - since).days + 1
    days = [since + dt.timedelta(days=i) for i in range(count)]
    provider = np.full(count, np.nan)
    estimate = np.full(count, np.nan)
    for row in stats:
        index = (row.day - since).days
        if 0 <= index < count:
            if row.resting_provider is not None:
                provider[index] = row.resting_provider
            if row.resting_estimate is not None:
                estimate[index] = row.resting_estimate
    best = np.where(np.isnan(provider), estimate, provider)
    mean = np.full(count, np.nan)
    for index in range(count):
        window = best[max(0, index - WINDOW_DAYS + 1) : index + 1]
        present = window[~np.isnan(window)]
        if len(present) >= MIN_DAYS_IN_WINDOW:
            mean[index] = present.mean()
    return days, provider, estimate, mean


def trend_figure(
    stats: Sequence[DayStats], since: dt.date, until: dt.date, *, title: str = "Resting heart rate"
) -> Figure:
    """Provider and estimated resting HR as points and lines, the 7-day mean as a bold line."""
    from matplotlib.figure import Figure

    days, provider, estimate, mean = trend_series(stats, since, until)
    x = np.array(days, dtype="datetime64[D]")
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(x, provider, marker=".", linewidth=0.8, color="#1f77b4", gid="provider",
              label="Provider's resting HR")  # fmt: skip
    axes.plot(x, estimate, marker=".", linewidth=0.8, color="#ff7f0e", gid="estimate",
              label="heartkeep estimate")  # fmt: skip
    axes.plot(x, mean, linewidth=2.2, color="#333333", gid="mean", label="7-day mean")
    axes.set_xlim(x[0], x[-1] + np.timedelta64(1, "D"))
    finite = np.concatenate([v[~np.isnan(v)] for v in (provider, estimate)])
    if len(finite):
        axes.set_ylim(float(finite.min()) - 5, float(finite.max()) + 5)
    axes.set_xlabel("Local date")
    axes.set_ylabel("Resting heart rate (bpm)")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return figure


__all__ = ["trend_figure", "trend_series"]
