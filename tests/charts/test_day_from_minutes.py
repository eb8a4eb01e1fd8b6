"""The day chart drawn from the store's per-minute summaries is the chart of the samples.

`plot day` and the report's last-day chart read a day's ~1,440 minute rows instead of its
~25,000 samples when every sample carries the offset in force when the day began; the picture
must not change: the same axes, ticks, labels, zones and title, the curve broken at the same
gaps (including holes of 4–5 minutes, where only the samples can tell) and covering the same
heart rates in every minute.  A day with an offset change is still drawn from its samples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from heartkeep import api
from heartkeep.api_outputs import _day_figure
from heartkeep.charts.day import minute_breaks
from heartkeep.config import Settings, load_settings
from heartkeep.model import Account, Sample, SampleColumns, Source
from heartkeep.store import open_store

DAY = dt.date(2026, 6, 1)
MIDNIGHT = int(dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC).timestamp())  # 00:00 in Berlin
ACCOUNT = Account("google-health", "minutes", "Min Utes", "Europe/Berlin")


def worn(spans: Sequence[tuple[int, int]], step_s: int = 7, offset_min: int = 120) -> list[Sample]:
    """Samples every `step_s` over each (start_s, end_s) since midnight, a wandering bpm."""
    return [
        Sample(MIDNIGHT + t, 55 + (t * 7919) % 97 // 3 + (t // 600) % 30, offset_min)
        for start, end in spans
        for t in range(start, end, step_s)
    ]


def _store_day(settings: Settings, samples: list[Sample]) -> None:
    with open_store(settings.database) as store:
        store.upsert_account(ACCOUNT)
        store.write_samples(ACCOUNT.key, samples, Source.GOOGLE_HEALTH)
        store.refresh_aggregates(ACCOUNT.key)


class _SamplesOnly:
    """The store, except that its columnar read finds nothing: the chart is drawn from the
    samples, as before the minutes were used."""

    def __init__(self, store: object) -> None:
        self._store = store

    def sample_columns(self, *_: object) -> SampleColumns:
        empty = np.zeros(0, dtype=np.int64)
        return SampleColumns(empty, empty, empty)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def _figures(settings: Settings) -> tuple[Figure, Figure]:
    """The day's chart as `plot day` and the report draw it, and drawn from every sample."""
    with open_store(settings.database, readonly=True) as store:
        chosen = _day_figure(store, ACCOUNT, DAY, 190)
        reference = _day_figure(_SamplesOnly(store), ACCOUNT, DAY, 190)  # type: ignore[arg-type]
    return chosen, reference


def _curve(figure: Figure) -> tuple[np.ndarray, np.ndarray]:
    (line,) = [ln for ln in figure.axes[0].get_lines() if ln.get_gid() == "heart-rate"]
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def _pieces(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Each unbroken piece of the curve: (first x, last x, lowest y, highest y)."""
    out = []
    finite = ~np.isnan(y)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(int), [0]])))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        out.append((x[start], x[end - 1], y[start:end].min(), y[start:end].max()))
    return out


def _per_minute(x: np.ndarray, y: np.ndarray) -> dict[int, tuple[float, float]]:
    finite = ~np.isnan(y)
    minute = np.floor(x[finite] * 60 + 1e-9).astype(int)
    values = y[finite]
    return {
        int(m): (values[minute == m].min(), values[minute == m].max()) for m in np.unique(minute)
    }


def _same_picture(chosen: Figure, reference: Figure) -> None:
    a, b = chosen.axes[0], reference.axes[0]
    assert a.get_xlim() == b.get_xlim()
    assert a.get_ylim() == b.get_ylim()
    assert list(a.get_xticks()) == list(b.get_xticks())
    assert [t.get_text() for t in a.get_xticklabels()] == [
        t.get_text() for t in b.get_xticklabels()
    ]
    assert (a.get_xlabel(), a.get_ylabel(), a.get_title()) == (
        b.get_xlabel(),
        b.get_ylabel(),
        b.get_title(),
    )
    assert [p.get_gid() for p in a.patches] == [p.get_gid() for p in b.patches]
    assert [ln.get_gid() for ln in a.get_lines()] == [ln.get_gid() for ln in b.get_lines()]
    (cx, cy), (rx, ry) = _curve(chosen), _curve(reference)
    ours, theirs = _pieces(cx, cy), _pieces(rx, ry)
    assert len(ours) == len(theirs)
    for (o0, o1, olo, ohi), (t0, t1, tlo, thi) in zip(ours, theirs, strict=True):
        # Each piece starts and ends within the same minutes and spans the same heart rates.
        assert int(o0 * 60 + 1e-9) == int(t0 * 60 + 1e-9)
        assert int(o1 * 60 + 1e-9) == int(t1 * 60 + 1e-9)
        assert (olo, ohi) == (tlo, thi)
    assert _per_minute(cx, cy) == _per_minute(rx, ry)


def test_a_day_with_gaps_is_drawn_from_its_minutes_as_from_its_samples(
    settings: Settings,
) -> None:
    # Off for an hour in the morning and half an hour in the evening.
    samples = worn([(0, 8 * 3600), (9 * 3600, 20 * 3600), (20 * 3600 + 1800, 86_400)])
    _store_day(settings, samples)
    chosen, reference = _figures(settings)
    _same_picture(chosen, reference)
    assert len(_curve(chosen)[0]) < len(_curve(reference)[0]) / 3  # drawn from the minutes


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    holes=st.lists(
        st.tuples(st.integers(600, 20_000), st.integers(200, 420)), min_size=1, max_size=6
    ),
    step_s=st.sampled_from([3, 13, 60]),
)
def test_holes_near_five_minutes_break_the_curve_where_the_samples_do(
    home: Path,
    tmp_path_factory: pytest.TempPathFactory,
    holes: list[tuple[int, int]],
    step_s: int,
) -> None:
    """Minutes 5 apart may hold samples 241–359 s apart: the samples decide those."""
    spans, at = [], 0
    for start, length in sorted(holes):
        if start > at:
            spans.append((at, start))
            at = start + length
    spans.append((at, 6 * 3600))  # a morning's wear: the holes are what matters
    folder = tmp_path_factory.mktemp("minutes")
    settings_ = load_settings({"database": str(folder / "heartkeep.sqlite")})
    _store_day(settings_, worn(spans, step_s))
    chosen, reference = _figures(settings_)
    _same_picture(chosen, reference)


def test_minute_breaks_asks_the_samples_only_when_the_minutes_cannot_tell() -> None:
    asked: list[tuple[int, int]] = []

    def gap_between(a: int, b: int) -> int:
        asked.append((a, b))
        return 301

    starts = np.array([0, 60, 300, 600, 960, 1320], dtype=np.int64)  # 1, 4, 5, 6, 6 minutes
    breaks = minute_breaks(starts, gap_between)
    assert breaks.tolist() == [False, False, True, True, True]
    assert asked == [(300, 600)]


def test_a_day_with_an_offset_change_is_drawn_from_its_samples(settings: Settings) -> None:
    """A flight mid-day: the minutes do not know the offsets; the samples draw the chart."""
    samples = worn([(0, 12 * 3600)]) + worn([(12 * 3600, 20 * 3600)], offset_min=60)
    _store_day(settings, samples)
    chosen, reference = _figures(settings)
    assert len(_curve(chosen)[0]) == len(_curve(reference)[0])
    assert [ln.get_gid() for ln in chosen.axes[0].get_lines()].count("offset-change") == 1


def test_the_report_says_the_same_with_its_day_chart_from_minutes(
    settings: Settings, tmp_path: Path
) -> None:
    samples = worn([(0, 8 * 3600), (9 * 3600, 86_400)])
    _store_day(settings, samples)
    stamp = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
    html = api.report(settings, tmp_path / "r.html", generated_at=stamp).read_text()
    stats = api.daily_report(settings)
    (row,) = stats
    assert f"<td>{DAY.isoformat()}</td>" in html
    assert f"{row.samples:,}" in html
