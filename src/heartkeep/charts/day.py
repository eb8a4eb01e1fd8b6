"""One day's intraday heart rate over the local day as lived, zones shaded, gaps drawn as gaps.

The x axis is time elapsed since the local day began (`timeline.lived_day_window`), labelled
with the wall clock: 24 hours on an ordinary day, 23 on spring-forward day (no hour to bridge),
25 on fall-back day (both 01:00 hours side by side), 18 or 30 on a flight six zones east or
west.  Where the offset changes a dashed line (`gid` `offset-change`) marks it, labelled with
the offsets on either side.  The line breaks (a NaN point is inserted) wherever two consecutive
samples are more than `gap_s` apart (default 5 minutes), so time without data is never drawn as
if it had been measured.  Each zone is a horizontal band with `gid` `zone-<NAME>`, the curve has
`gid` `heart-rate`, which also names them in SVG output.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from heartkeep import timeline
from heartkeep.aggregates import MinuteSeries
from heartkeep.model import Sample, Window, Zone

GAP_S = 300
ZONE_COLOURS = {
    "LIGHT": "#c6e9c6",
    "MODERATE": "#fde7a9",
    "VIGOROUS": "#fbc08a",
    "PEAK": "#f4978e",
}
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

if TYPE_CHECKING:  # matplotlib loads where the figure is drawn (the report draws its own SVG)
    from matplotlib.figure import Figure


class DayCurve(NamedTuple):
    """Everything the day's chart shows, however it is drawn (`draw_day` with matplotlib,
    `charts.svg.day_svg` for the report): the curve (hours since the day began, bpm; NaN at
    each gap), the offset changes, the zones, and the day's span and starting offset."""

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    changes: Sequence[tuple[int, int, int]]
    day: dt.date
    zones: Sequence[Zone]
    title: str | None
    span: Window
    start_offset_min: int

    @property
    def length_h(self) -> float:
        return self.span.seconds / 3600

    def x_label(self) -> str:
        """ "Local time (UTC+01:00)", or the offsets and the day's length when it is not an
        ordinary 24-hour day in one offset."""
        offsets = [self.start_offset_min] + [after for _, _, after in self.changes]
        if not len(self.y):
            return "Local time"
        if len(offsets) == 1 and round(self.length_h) == 24:
            return f"Local time ({offset_label(offsets[0])})"
        zone_text = " → ".join(offset_label(offset) for offset in offsets)
        return f"Local time ({zone_text}): a {self.length_h:g}-hour day"

    def y_range(self) -> tuple[int, int]:
        """(bottom, top) in bpm: every zone's floor and the curve, with room above."""
        y = self.y
        top = max([*(zone.min_bpm for zone in self.zones), int(np.nanmax(y)) if len(y) else 100])
        bottom = min(40, int(np.nanmin(y)) - 5) if len(y) else 40
        return bottom, top + 15


def offset_label(offset_min: int) -> str:
    """`UTC+01:00` for an offset in minutes east of UTC."""
    sign = "-" if offset_min < 0 else "+"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def day_span(samples: Sequence[Sample], day: dt.date) -> Window:
    """The day's span from its own samples when nothing else is known (24 h when empty)."""
    if not samples:
        midnight = timeline.day_start_s(day)
        return Window(midnight, midnight + 86_400)
    first, last = samples[0], samples[-1]
    return timeline.lived_day_window(
        day, (first.instant_s, first.offset_min), (last.instant_s, last.offset_min)
    )


def curve(
    samples: Sequence[Sample], day: dt.date, gap_s: int = GAP_S, *, span: Window | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(hours since the local day began, bpm) with NaN at every gap: the data the chart plots.

    `span` is the day's UTC span (default: `day_span` of the samples).
    """
    if not samples:
        return np.zeros(0), np.zeros(0)
    start_s = (span or day_span(samples, day)).start_s
    table = np.array(samples, dtype=np.int64).reshape(-1, 3)
    instant, bpm = table[:, 0], table[:, 1]
    hours = (instant - start_s) / 3600.0
    breaks = np.flatnonzero(np.diff(instant) > gap_s) + 1
    x = np.insert(hours, breaks, np.nan)
    y = np.insert(bpm.astype(np.float64), breaks, np.nan)
    return x, y


def offset_changes(
    samples: Sequence[Sample], span: Window, start_offset_min: int
) -> list[tuple[int, int, int]]:
    """(instant_s, offset before, offset after) wherever the offset changes within the day.

    A change at the day's very start (a flight east: the day began under the old offset, its
    first sample already carries the new one) is reported at `span.start_s`.
    """
    changes: list[tuple[int, int, int]] = []
    current = start_offset_min
    for sample in samples:
        if sample.offset_min != current:
            at = span.start_s if not changes and sample is samples[0] else sample.instant_s
            changes.append((at, current, sample.offset_min))
            current = sample.offset_min
    return changes


def wall_ticks(
    span: Window, start_offset_min: int, changes: Sequence[tuple[int, int, int]], every_h: int = 3
) -> tuple[list[float], list[str]]:
    """Tick positions (hours since the day began) and wall-clock labels, every `every_h` hours
    of wall time within each stretch of one offset and at each change; the day's end is
    labelled 24:00."""
    bounds = [(span.start_s, start_offset_min)] + [(at, after) for at, _, after in changes]
    positions: list[float] = []
    labels: list[str] = []
    midnight = timeline.day_start_s(timeline.local_date(span.start_s, start_offset_min))
    step_s = every_h * 3600
    for index, (begin_s, offset_min) in enumerate(bounds):
        end_s = bounds[index + 1][0] if index + 1 < len(bounds) else span.end_s
        last = index + 1 == len(bounds)
        wall_begin = begin_s + offset_min * 60 - midnight
        wall_end = end_s + offset_min * 60 - midnight
        wall = -(-wall_begin // step_s) * step_s
        if index and wall_begin < wall_end:
            # The wall time right after a change (the repeated 02:00 of a fall-back day) takes
            # the place of a tick the stretch before put within an hour of it.
            at_h = (begin_s - span.start_s) / 3600
            while positions and at_h - positions[-1] <= 1.0:
                positions.pop()
                labels.pop()
            positions.append(at_h)
            labels.append(f"{wall_begin // 3600:02d}:{wall_begin // 60 % 60:02d}")
        while wall < wall_end or (last and wall == wall_end):
            x = (wall - offset_min * 60 + midnight - span.start_s) / 3600
            if not positions or x - positions[-1] > 1.0:
                positions.append(x)
                labels.append(f"{wall // 3600:02d}:{wall // 60 % 60:02d}")
            wall += step_s
    return positions, labels


def day_figure(
    samples: Sequence[Sample],
    day: dt.date,
    zones: Sequence[Zone],
    *,
    title: str | None = None,
    gap_s: int = GAP_S,
    span: Window | None = None,
    start_offset_min: int | None = None,
) -> Figure:
    """The day's curve over the local day as lived, with zone bands; empty days say so.

    `span` is the day's UTC span and `start_offset_min` the offset in force when it began
    (both from `timeline.lived_day_window` and the sample before the day; by default from the
    day's own samples).
    """
    return draw_day(
        day_curve(
            samples, day, zones, title=title, gap_s=gap_s, span=span,
            start_offset_min=start_offset_min,
        )
    )  # fmt: skip


def day_curve(
    samples: Sequence[Sample],
    day: dt.date,
    zones: Sequence[Zone],
    *,
    title: str | None = None,
    gap_s: int = GAP_S,
    span: Window | None = None,
    start_offset_min: int | None = None,
) -> DayCurve:
    """What `day_figure` draws, from the day's samples."""
    span = span or day_span(samples, day)
    if start_offset_min is None:
        start_offset_min = (timeline.day_start_s(day) - span.start_s) // 60
    x, y = curve(samples, day, gap_s, span=span)
    changes = offset_changes(samples, span, start_offset_min)
    return DayCurve(x, y, changes, day, zones, title, span, start_offset_min)


def minute_day_figure(
    minutes: MinuteSeries,
    breaks: npt.NDArray[np.bool_],
    day: dt.date,
    zones: Sequence[Zone],
    *,
    span: Window,
    title: str | None = None,
) -> Figure:
    """`day_figure` of a day whose samples all carry one offset, the offset in force when the
    day began, drawn from the day's per-minute summaries (`minute_curve`) instead of its
    samples: the same chart at any size it is drawn, from ~1,440 rows instead of ~25,000.

    `breaks[i]` says that the curve breaks between minutes i and i + 1 (`minute_breaks`).
    """
    return draw_day(minute_day_curve(minutes, breaks, day, zones, span=span, title=title))


def minute_day_curve(
    minutes: MinuteSeries,
    breaks: npt.NDArray[np.bool_],
    day: dt.date,
    zones: Sequence[Zone],
    *,
    span: Window,
    title: str | None = None,
) -> DayCurve:
    """What `minute_day_figure` draws, from the day's per-minute summaries."""
    start_offset_min = (timeline.day_start_s(day) - span.start_s) // 60
    x, y = minute_curve(minutes, breaks, span)
    return DayCurve(x, y, [], day, zones, title, span, start_offset_min)


def minute_breaks(
    minute_s: npt.NDArray[np.int64],
    gap_between: Callable[[int, int], int],
    gap_s: int = GAP_S,
) -> npt.NDArray[np.bool_]:
    """Where the curve of the samples would break (two samples more than `gap_s` apart),
    told from the starts of the minutes that have samples: `d` minutes apart, their samples
    are between (d − 1) × 60 + 1 and (d + 1) × 60 − 1 seconds apart, so most pairs need no
    look at the samples; `gap_between(a, b)` gives the seconds between the last sample of the
    minute starting at `a` and the first of the one at `b` for the rest (a hole of 4–5
    minutes at the default 300 s)."""
    apart = np.diff(minute_s)
    breaks = (apart - 60 + 1) > gap_s
    for index in np.flatnonzero(~breaks & ((apart + 60 - 1) > gap_s)):
        a, b = int(minute_s[index]), int(minute_s[index + 1])
        breaks[index] = gap_between(a, b) > gap_s
    return breaks


def minute_curve(
    minutes: MinuteSeries, breaks: npt.NDArray[np.bool_], span: Window
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(hours since the day began, bpm) through each minute's lowest and highest bpm, with NaN
    where `breaks` says the samples' curve breaks.  A minute is well under a point wide at
    any size the chart is drawn, so the samples' curve shows there as one stroke from the
    minute's lowest to its highest value; drawing that stroke, each minute entered at the end
    nearer the previous minute's last point, paints the same pixels."""
    low = minutes.min_bpm.astype(np.float64)
    high = minutes.max_bpm.astype(np.float64)
    start_h = (minutes.start_s - span.start_s) / 3600.0
    x: list[float] = []
    y: list[float] = []
    last = float("nan")
    for index in range(len(start_h)):
        if index and breaks[index - 1]:
            x.append(float("nan"))
            y.append(float("nan"))
            last = float("nan")
        pair = (low[index], high[index])
        if not math.isnan(last) and abs(last - pair[1]) < abs(last - pair[0]):
            pair = (pair[1], pair[0])
        at_h = start_h[index]
        x += [at_h + _QUARTER_MINUTE_H, at_h + 3 * _QUARTER_MINUTE_H]
        y += pair
        last = pair[1]
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


_QUARTER_MINUTE_H = 15 / 3600


def draw_day(chart: DayCurve) -> Figure:
    """The chart of a curve (NaN at its gaps) over the day's span, with zone bands and the
    offset changes marked, as a matplotlib figure."""
    from matplotlib.figure import Figure

    x, y, changes, day, zones, title, span, start_offset_min = chart
    length_h = chart.length_h
    figure = Figure(figsize=(11, 4), layout="constrained")
    axes = figure.add_subplot()
    bottom, top = chart.y_range()
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
        axes.text(length_h / 2, (top + bottom) / 2, "no samples this day", ha="center", va="center")
    for at_s, before, after in changes:
        at_h = (at_s - span.start_s) / 3600
        axes.axvline(at_h, color="#333333", linestyle="--", linewidth=1.0, gid="offset-change")
        axes.annotate(
            f"{offset_label(before)} → {offset_label(after)}",
            (at_h, bottom),
            xytext=(3, 4),
            textcoords="offset points",
            fontsize="small",
        )
    axes.set_xlim(0, length_h)
    axes.set_ylim(bottom, top)
    axes.set_xticks(*wall_ticks(span, start_offset_min, changes))
    axes.set_xlabel(chart.x_label())
    axes.set_ylabel("Heart rate (bpm)")
    axes.set_title(title or f"Heart rate on {day.isoformat()}")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="upper right", fontsize="small", ncols=5)
    return figure


__all__ = [
    "GAP_S",
    "DayCurve",
    "curve",
    "day_curve",
    "day_figure",
    "day_span",
    "draw_day",
    "minute_breaks",
    "minute_curve",
    "minute_day_curve",
    "minute_day_figure",
    "offset_changes",
    "wall_ticks",
]
