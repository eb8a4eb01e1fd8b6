"""The sandbox's heart-rate page bodies, built by numpy, are byte for byte what one f-string per
point wrote (the encoder before it, kept here as the model), whatever the points."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.sandbox.wire import HEART_RATE_SOURCE, heart_rate_points, heart_rate_points_bytes


def _time_of_day(second: int) -> str:
    hours, rest = divmod(second, 3600)
    minutes, seconds = divmod(rest, 60)
    named = (("hours", hours), ("minutes", minutes), ("seconds", seconds))
    return "{" + ",".join(f'"{k}":{v}' for k, v in named if v) + "}"


def one_string_per_point(instants, bpm, offsets, *, reconciled: bool) -> str:
    """What the sandbox served before: one f-string per point."""
    source = "{" if reconciled else HEART_RATE_SOURCE
    points = []
    for instant, beats, offset in zip(instants, bpm, offsets, strict=True):
        stamp = dt.datetime.fromtimestamp(instant, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        day, second = divmod(instant + offset, 86400)
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        date_text = f'{{"year":{date.year},"month":{date.month},"day":{date.day}}}'
        points.append(
            f'{source}"heartRate":{{"sampleTime":{{"physicalTime":"{stamp}Z","utcOffset":'
            f'"{offset}s","civilTime":{{"date":{date_text},"time":{_time_of_day(second)}}}}},'
            f'"beatsPerMinute":"{beats}"}}}}'
        )
    return ",".join(points)


points = st.lists(
    st.tuples(
        st.integers(946_684_800, 4_102_444_800),
        st.integers(-1, 1_000) | st.sampled_from([0, 5, 50, 255, 10_000, -40]),
        st.integers(-12 * 4, 14 * 4).map(lambda q: q * 900),
    ),
    max_size=60,
)


@given(points, st.booleans())
def test_numpy_bodies_are_the_f_string_bodies(rows, reconciled) -> None:
    instants, bpm, offsets = ([row[i] for row in rows] for i in range(3))
    arrays = [np.array(column, dtype=np.int64) for column in (instants, bpm, offsets)]
    expected = one_string_per_point(instants, bpm, offsets, reconciled=reconciled)
    assert heart_rate_points(*arrays, reconciled=reconciled) == expected
    assert heart_rate_points_bytes(*arrays, reconciled=reconciled) == expected.encode()


def test_a_page_of_points_in_order_of_time_with_a_change_of_offset() -> None:
    instants = 1_795_129_200 + np.arange(0, 10_000 * 5, 5, dtype=np.int64)
    offsets = np.where(instants < 1_795_129_200 + 20_000, 3600, 7200).astype(np.int64)
    bpm = 50 + instants % 90
    expected = one_string_per_point(
        instants.tolist(), bpm.tolist(), offsets.tolist(), reconciled=False
    )
    assert heart_rate_points(instants, bpm, offsets) == expected
