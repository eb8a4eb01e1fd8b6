"""The HTML report: one self-contained file with the summary, the charts and the daily table.

Charts are embedded as inline SVG written by `charts/svg.py` (no matplotlib: text in the
page's own font, nothing fetched), the CSS is inline, and nothing refers to the network: the
file opens offline, can be mailed, and prints.  Every value comes from `DayStats`; this module
only lays them out.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from heartkeep.analysis.daily import DayStats
from heartkeep.analysis.zones import ZONE_NAMES

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #666; margin-top: 0; }
.summary { display: flex; flex-wrap: wrap; gap: 1em; margin: 1.5em 0; }
.summary div { background: #f5f5f7; border-radius: 8px; padding: 0.7em 1.1em; }
.summary b { display: block; font-size: 1.4em; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
"""


@dataclass(frozen=True, slots=True)
class ReportFigure:
    """A chart for the report (an `<svg>` element) and its caption."""

    caption: str
    svg: str


def summary(stats: Sequence[DayStats]) -> dict[str, str]:
    """The headline numbers: days, samples, mean coverage, mean resting HR, range."""
    worn = [row for row in stats if row.samples]
    samples = sum(row.samples for row in stats)
    coverage = sum(row.coverage for row in worn) / len(worn) if worn else 0.0
    resting = [
        row.resting_provider if row.resting_provider is not None else row.resting_estimate
        for row in stats
    ]
    known = [value for value in resting if value is not None]
    low = min((row.min_bpm for row in worn if row.min_bpm is not None), default=None)
    high = max((row.max_bpm for row in worn if row.max_bpm is not None), default=None)
    return {
        "Days with data": f"{len(worn)}",
        "Samples": f"{samples:,}",
        "Mean coverage": f"{coverage:.0%}",
        "Mean resting HR": f"{sum(known) / len(known):.1f} bpm" if known else "–",
        "Range": f"{low}–{high} bpm" if low is not None else "–",
    }


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return html.escape(str(value))


def daily_table(stats: Sequence[DayStats]) -> str:
    """The per-day table as HTML."""
    heads = ["Day", "Day length (h)", "Samples", "Wear (h)", "Coverage", "Min", "Mean", "Max",
             "Resting (provider)", "Resting (estimate)",
             *(f"{name.title()} (min)" for name in ZONE_NAMES)]  # fmt: skip
    rows = []
    for row in stats:
        cells = [
            row.day.isoformat(),
            f"{row.day_length_s / 3600:g}",
            f"{row.samples:,}",
            row.wear_s / 3600,
            f"{row.coverage:.0%}",
            row.min_bpm,
            row.mean_bpm,
            row.max_bpm,
            row.resting_provider,
            row.resting_estimate,
            *(minutes for _, minutes in row.zone_minutes),
        ]
        rows.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_report(
    stats: Sequence[DayStats],
    figures: Sequence[ReportFigure],
    *,
    title: str,
    since: dt.date,
    until: dt.date,
    generated_at: dt.datetime,
) -> str:
    """The complete HTML document."""
    tiles = "".join(
        f"<div>{html.escape(name)}<b>{html.escape(value)}</b></div>"
        for name, value in summary(stats).items()
    )
    charts = "".join(
        f"<figure>{item.svg}<figcaption>{html.escape(item.caption)}</figcaption></figure>"
        for item in figures
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='meta'>{since.isoformat()} to {until.isoformat()} · generated "
        f"{generated_at.strftime('%Y-%m-%d %H:%M UTC')} by heartkeep</p>"
        f"<section class='summary'>{tiles}</section>{charts}"
        f"<h2>Day by day</h2>{daily_table(stats)}</body></html>\n"
    )


__all__ = ["ReportFigure", "daily_table", "render_report", "summary"]
