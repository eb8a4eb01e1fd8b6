"""One day's intraday heart rate in local time, zones shaded, gaps drawn as gaps.

The x axis is the local wall-clock hour (0–24) under each sample's reported offset.  The line
breaks (a NaN point is inserted) wherever two consecutive samples are more than `gap_s` apart
(default 5 minutes) or the wall clock steps backwards (the repeated hour of a fall-back day), so
time without data is never drawn as if it had been measured.  Each zone is a horizontal band
with `gid` `zone-<NAME>`, the curve has `gid` `heart-rate`, which also names them in SVG output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from heartkeep.model import Sample, Zone

GAP_S = 300
ZONE_COLOURS = {
    "LIGHT": "#c6e9c6",
    "MODERATE": "#fde7a9",
    "VIGOROUS": "#fbc08a",
    "PEAK": "#f4978e",
}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def offset_label(offset_min: int) -> str:
    """`UTC+01:00` for an offset in minutes east of UTC."""
    sign = "-" if offset_min < 0 else "+"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def curve(
    samples: Sequence[Sample], day: dt.date, gap_s: int = GAP_S
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(local hour of day, bpm) with NaN inserted at every gap: the data the chart plots."""
    if not samples:
        return np.zeros(0), np.zeros(0)
    table = np.array(samples, dtype=np.int64).reshape(-1, 3)
    instant, bpm, offset = table[:, 0], table[:, 1], table[:, 2]
    midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86_400
    hours = (instant + offset * 60 - midnight) / 3600.0
    breaks = np.flatnonzero((np.diff(instant) > gap_s) | (np.diff(hours) < 0)) + 1
    x = np.insert(hours, breaks, np.nan)
    y = np.insert(bpm.astype(np.float64), breaks, np.nan)
    return x, y


def day_figure(
    samples: Sequence[Sample],
    day: dt.date,
    zones: Sequence[Zone],
    *,
    title: str | None = None,
    gap_s: int = GAP_S,
) -> Figure:
    """The day's curve over 00:00–24:00 local time with zone bands; empty days say so."""
    figure = Figure(figsize=(11, 4), layout="constrained")
    axes = figure.add_subplot()
    x, y = curve(samples, day, gap_s)
    top = max([*(zone.min_bpm for zone in zones), int(np.nanmax(y)) if len(y) else 100]) + 15
    bottom = min(40, int(np.nanmin(y)) - 5) if len(y) else 40
    for index, zone in enumerate(zones):
        upper = zones[index + 1].min_bpm if index + 1 < len(zones) else top
        axes.axhspan(
            zone.min_bpm,
            upper,
            color=ZONE_COLOURS.get(zone.name.upper(), "#dddddd"),
            alpha=0.6,
            linewidth=0,
            label=f"{zone.name.title()} ≥ {zone.min_bpm} bpm",
            gid=f"zone-{zone.name.upper()}",
        )
    axes.plot(x, y, color="#b3002d", linewidth=0.8, gid="heart-rate", label="Heart rate")
    if not len(y):
        axes.text(12, (top + bottom) / 2, "no samples this day", ha="center", va="center")
    axes.set_xlim(0, 24)
    axes.set_ylim(bottom, top)
    axes.set_xticks(range(0, 25, 3), [f"{hour:02d}:00" for hour in range(0, 25, 3)])
    offsets = sorted({sample.offset_min for sample in samples})
    zone_text = ", ".join(offset_label(offset) for offset in offsets) or "local"
    axes.set_xlabel(f"Local time ({zone_text})")
    axes.set_ylabel("Heart rate (bpm)")
    axes.set_title(title or f"Heart rate on {day.isoformat()}")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="upper right", fontsize="small", ncols=5)
    return figure


__all__ = ["GAP_S", "curve", "day_figure"]
