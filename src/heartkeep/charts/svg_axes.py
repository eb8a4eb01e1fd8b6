"""SVG primitives for the report's charts (`charts/svg.py`): an axes box that maps data to
pixels and draws its frame, ticks, grid, labels and legend; a polyline broken at NaN; "nice"
tick values; colours interpolated along a colour map's stops.

Kept to what three charts need, and written for size: coordinates carry one decimal, a line is
one `<path>`, text is `<text>` in the page's font.  Nothing here knows heart rate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TypeVar

import numpy as np
import numpy.typing as npt

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_CHAR_W = 0.58  # mean advance of a character in the font, in ems: enough to lay out a legend

Number = TypeVar("Number", float, npt.NDArray[np.float64])


def document(width: float, height: float, body: str, *, label: str = "") -> str:
    """An `<svg>` element of `width` × `height` px that scales down with the page."""
    aria = f' role="img" aria-label="{escape(label)}"' if label else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="{_FONT}"{aria}>{body}</svg>'
    )


def text(
    x: float, y: float, content: str, *, size: float, anchor: str = "start", turn: bool = False
) -> str:
    """A line of text at (x, y) — its baseline; `turn` reads it bottom to top."""
    rotate = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if turn else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}"'
        f' fill="#222"{rotate}>{escape(content)}</text>'
    )


def path_data(px: npt.NDArray[np.float64], py: npt.NDArray[np.float64]) -> str:
    """A path's `d` through the points, lifted wherever x or y is NaN (a gap stays a gap)."""
    parts = []
    down = False
    for a, b in zip(px.tolist(), py.tolist(), strict=True):
        if math.isnan(a) or math.isnan(b):
            down = False
            continue
        parts.append(f"{'L' if down else 'M'}{a:.1f} {b:.1f}")
        down = True
    return "".join(parts)


def nice_ticks(low: float, high: float, *, most: int = 8) -> list[float]:
    """Round values (steps of 1, 2 or 5 × 10ⁿ) within [low, high], at most about `most`."""
    if not high > low:
        return [low]
    raw = (high - low) / most
    magnitude = 10.0 ** math.floor(math.log10(raw))
    steps = [m * magnitude for m in (0.5, 1, 2, 5, 10)]
    chosen = next(i for i, step in enumerate(steps) if step >= raw)
    # A step wider than the range may have no multiple within it ([1, 4002] by 5000): then
    # the next smaller one, which has (at most 2.5 times as many).
    for step in (steps[chosen], steps[chosen - 1]):
        first = math.ceil(low / step - 1e-9) * step
        count = math.floor((high - first) / step + 1e-9) + 1
        if count > 0:
            break
    return [round(first + i * step, 10) for i in range(count)]


def date_ticks(since: dt.date, until: dt.date) -> list[tuple[float, str]]:
    """(day index from `since`, label) for a date axis: days or weeks over a short range,
    months ("Jan 2026", "Feb", …) over a long one; at most about 10."""
    days = (until - since).days + 1
    if days <= 70:
        step = next(s for s in (1, 2, 7, 14) if days / s <= 10)
        start = since if step < 7 else since + dt.timedelta(days=-since.weekday() % 7)
        return [
            ((start - since).days + i, (start + dt.timedelta(days=i)).strftime("%d %b"))
            for i in range(0, days - (start - since).days, step)
        ]
    months = (until.year - since.year) * 12 + until.month - since.month + 1
    every = next(m for m in (1, 2, 3, 6, 12, 24, 60) if months / m <= 10)
    ticks: list[tuple[float, str]] = []
    year, month = since.year, since.month
    while (first := dt.date(year, month, 1)) <= until:
        if first >= since and (month - 1) % every == 0:
            name = first.strftime("%b %Y" if not ticks or month == 1 else "%b")
            ticks.append(((first - since).days, name))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks


def colour_at(stops: Sequence[str], fraction: float) -> str:
    """The colour at `fraction` (clipped to 0–1) along `stops` (#rrggbb), linearly mixed."""
    position = min(max(fraction, 0.0), 1.0) * (len(stops) - 1)
    index = min(int(position), len(stops) - 2)
    weight = position - index
    a, b = stops[index], stops[index + 1]
    mixed = (
        round(int(a[i : i + 2], 16) * (1 - weight) + int(b[i : i + 2], 16) * weight)
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


@dataclass(frozen=True, slots=True)
class Axes:
    """A plot area of `width` × `height` px at (`left`, `top`) showing x in [x0, x1] and y in
    [y0, y1] (y up)."""

    left: float
    top: float
    width: float
    height: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: Number) -> Number:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * self.width

    def y(self, value: Number) -> Number:
        return self.top + (self.y1 - value) / (self.y1 - self.y0) * self.height

    def frame(self) -> str:
        return (
            f'<rect x="{self.left}" y="{self.top}" width="{self.width}" height="{self.height}" '
            'fill="none" stroke="#222" stroke-width="0.8"/>'
        )

    def grid(
        self, x_ticks: Sequence[tuple[float, str]], y_ticks: Sequence[float], *, both: bool
    ) -> str:
        """Tick marks and labels on the bottom and left edges, faint grid lines across at
        each x tick (and each y tick when `both`)."""
        bottom = self.top + self.height
        lines, labels = [], []
        for value, name in x_ticks:
            x = self.x(value)
            if self.left - 0.5 <= x <= self.left + self.width + 0.5:
                lines.append(f"M{x:.1f} {self.top}V{bottom}")
                labels.append(f'<path d="M{x:.1f} {bottom}v4" stroke="#222"/>')
                labels.append(text(x, bottom + 16, name, size=11, anchor="middle"))
        for value in y_ticks:
            y = self.y(value)
            if both:
                lines.append(f"M{self.left} {y:.1f}H{self.left + self.width}")
            labels.append(f'<path d="M{self.left} {y:.1f}h-4" stroke="#222"/>')
            labels.append(text(self.left - 7, y + 4, f"{value:g}", size=11, anchor="end"))
        faint = f'<path d="{"".join(lines)}" stroke="#b0b0b0" stroke-opacity="0.6" fill="none"/>'
        return faint + "".join(labels)

    def labels(self, title: str, x_label: str, y_label: str) -> str:
        """The title above the area, the x axis' name below, the y axis' turned on the left."""
        middle = self.left + self.width / 2
        return (
            text(middle, self.top - 12, title, size=14, anchor="middle")
            + text(middle, self.top + self.height + 36, x_label, size=12, anchor="middle")
            + text(16, self.top + self.height / 2, y_label, size=12, anchor="middle", turn=True)
        )

    def legend(self, entries: Sequence[tuple[str, str, str]], *, corner: str) -> str:
        """A boxed legend in the area's top `corner` ("left": one entry per row; "right": one
        row).  Each entry is (label, colour, kind), kind one of dot, bold, line, band."""
        size, row_h, key_w = 11, 16, 22
        widths = [key_w + 6 + len(label) * size * _CHAR_W for label, _, _ in entries]
        if corner == "left":
            box_w, box_h = max(widths) + 12, row_h * len(entries) + 8
            x, y = self.left + 8, self.top + 8
            places = [(x + 6, y + 4 + row_h * i) for i in range(len(entries))]
        else:
            box_w, box_h = sum(widths) + 12 * len(entries), row_h + 8
            x, y = self.left + self.width - 8 - box_w, self.top + 8
            places, at = [], x + 6
            for width in widths:
                places.append((at, y + 4))
                at += width + 12
        parts = [
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w:.1f}" height="{box_h}" rx="3" '
            'fill="#fff" fill-opacity="0.8" stroke="#ccc"/>'
        ]
        for (label, colour, kind), (px, py) in zip(entries, places, strict=True):
            middle = py + row_h / 2
            if kind == "band":
                parts.append(
                    f'<rect x="{px:.1f}" y="{middle - 5:.1f}" width="{key_w}" height="10" '
                    f'fill="{colour}" fill-opacity="0.6"/>'
                )
            else:
                width = 2.2 if kind == "bold" else 1.2
                parts.append(
                    f'<path d="M{px:.1f} {middle:.1f}h{key_w}" stroke="{colour}" '
                    f'stroke-width="{width}"/>'
                )
                if kind == "dot":
                    parts.append(
                        f'<circle cx="{px + key_w / 2:.1f}" cy="{middle:.1f}" r="2.5" '
                        f'fill="{colour}"/>'
                    )
            parts.append(text(px + key_w + 6, middle + 4, label, size=size))
        return "".join(parts)


__all__ = ["Axes", "colour_at", "date_ticks", "document", "nice_ticks", "path_data", "text"]
