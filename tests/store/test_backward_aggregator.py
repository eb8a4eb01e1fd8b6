"""Day aggregates of a history fed newest first equal those of the same history fed oldest first.

A sync's backfill writes its pages newest first; `BackwardAggregator` turns them into days as
they come (no read-back), and must give exactly what `Aggregator` gives on the samples in
ascending order — whatever the page cuts, gaps, offsets (up to a day either side of UTC,
changing anywhere, even going back across midnight) and the samples around the stream.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartkeep.aggregates import DayAggregate
from heartkeep.day_aggregator import Aggregator, BackwardAggregator

T0 = 1_790_200_800
OFFSETS = (-1440, -300, 0, 60, 120, 540, 1440)


@st.composite
def histories(draw: st.DrawFn) -> tuple[np.ndarray, list[int], tuple[int, int] | None, int | None]:
    """Ascending rows over up to a few days (gaps from a second to a day), offsets that change
    anywhere, cut into pages; and the samples just before and after them, if any."""
    steps = draw(
        st.lists(st.one_of(st.integers(1, 150), st.integers(150, 90_000)), min_size=1, max_size=200)
    )
    instants = np.cumsum([T0 + draw(st.integers(0, 86_400)), *steps])
    offsets = []
    offset = draw(st.sampled_from(OFFSETS))
    for _ in instants:
        if draw(st.integers(0, 30)) == 0:
            offset = draw(st.sampled_from(OFFSETS))
        offsets.append(offset)
    bpm = draw(st.lists(st.integers(0, 320), min_size=len(instants), max_size=len(instants)))
    table = np.column_stack([instants, bpm, offsets]).astype(np.int64)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(table) - 1)), max_size=8))))
    before = None
    if draw(st.booleans()):
        before = (int(instants[0]) - draw(st.integers(1, 200_000)), draw(st.sampled_from(OFFSETS)))
    after = int(instants[-1]) + draw(st.integers(1, 200_000)) if draw(st.booleans()) else None
    return table, [c for c in cuts if c < len(table)], before, after


def forward(table: np.ndarray, before: tuple[int, int] | None, after: int | None) -> list:
    aggregator = Aggregator(before=before)
    return aggregator.feed(table) + aggregator.close(after)


def backward(
    table: np.ndarray, cuts: list[int], before: tuple[int, int] | None, after: int | None
) -> list[DayAggregate]:
    aggregator = BackwardAggregator(after_s=after)
    days: list[DayAggregate] = []
    bounds = [0, *cuts, len(table)]
    for lo, hi in reversed(list(pairwise(bounds))):
        got = aggregator.feed(table[lo:hi])
        # A day handed back can get no more samples: all that is still to come is older
        # than a day before its midnight.
        for day in got:
            midnight_s = (day.day.toordinal() - 719_163) * 86_400
            assert lo == 0 or int(table[lo - 1, 0]) < midnight_s - 86_400
        days = got + days
    return sorted(days + aggregator.close(before), key=lambda day: day.day)


@settings(max_examples=300, deadline=None)
@given(history=histories())
def test_days_fed_newest_first_equal_days_fed_oldest_first(history) -> None:
    table, cuts, before, after = history
    assert backward(table, cuts, before, after) == forward(table, before, after)


def test_one_second_days_across_a_dst_change_in_pages_of_ten_thousand() -> None:
    """Three days of one-second data, the offset going from +120 to +60 at a local 03:00, fed
    as 10,000-sample pages newest first: the same days, each handed back once complete."""
    instants = np.arange(T0, T0 + 3 * 86_400, dtype=np.int64)
    offsets = np.where(instants < T0 + 86_400 + 3_600, 120, 60)
    table = np.column_stack([instants, 50 + instants % 97, offsets]).astype(np.int64)
    cuts = list(range(10_000, len(table), 10_000))
    assert backward(table, cuts, None, None) == forward(table, None, None)


def test_tables_must_come_newest_first() -> None:
    aggregator = BackwardAggregator()
    aggregator.feed(np.array([[T0, 60, 0]], dtype=np.int64))
    with pytest.raises(ValueError, match="newest first"):
        aggregator.feed(np.array([[T0 + 1, 60, 0]], dtype=np.int64))


@settings(max_examples=300, deadline=None)
@given(history=histories())
def test_days_fed_oldest_first_in_pieces_equal_days_fed_whole(history) -> None:
    """The forward `Aggregator` hands a day back only when no sample still to come can fall on
    it — at offsets of a whole day either side of UTC too (a day was handed back twice)."""
    table, cuts, before, after = history
    aggregator = Aggregator(before=before)
    days: list[DayAggregate] = []
    for lo, hi in pairwise([0, *cuts, len(table)]):
        days += aggregator.feed(table[lo:hi])
    assert days + aggregator.close(after) == forward(table, before, after)


def test_a_day_is_not_handed_back_before_a_sample_a_whole_day_behind_it() -> None:
    midnight_s = 20_000 * 86_400
    rows = [[midnight_s - 3_600, 60, 0], [midnight_s, 70, 1440], [midnight_s + 1, 80, -1440]]
    aggregator = Aggregator()
    days: list[DayAggregate] = []
    for row in rows:
        days += aggregator.feed(np.array([row], dtype=np.int64))
    days += aggregator.close()
    assert [day.samples for day in days] == [2, 1]
