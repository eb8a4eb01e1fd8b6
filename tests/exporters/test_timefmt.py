"""The vectorised time formatting every text export relies on, against the standard library."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from heartkeep.exporters.timefmt import columns, iso_local, iso_utc, iso_wall, offset_suffix
from heartkeep.model import Sample

samples = st.lists(
    st.builds(
        Sample,
        st.integers(0, 4_102_444_800),  # 1970 .. 2100
        st.integers(20, 250),
        st.integers(-12 * 60, 14 * 60),
    ),
    max_size=50,
)


@given(samples)
def test_formatting_matches_datetime(batch: list[Sample]) -> None:
    instant, bpm, offset = columns(batch)
    assert list(zip(instant.tolist(), bpm.tolist(), offset.tolist(), strict=True)) == batch
    for sample, utc, wall, local in zip(
        batch, iso_utc(instant), iso_wall(instant, offset), iso_local(instant, offset), strict=True
    ):
        zone = dt.timezone(dt.timedelta(minutes=sample.offset_min))
        moment = dt.datetime.fromtimestamp(sample.instant_s, zone)
        assert utc == moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert wall == moment.replace(tzinfo=None).isoformat()
        assert dt.datetime.fromisoformat(local) == moment
        assert dt.datetime.fromisoformat(local).utcoffset() == moment.utcoffset()


@given(st.integers(-24 * 60 + 1, 24 * 60 - 1))
def test_offset_suffix_is_rfc3339(offset_min: int) -> None:
    text = offset_suffix(offset_min)
    parsed = dt.datetime.fromisoformat(f"2026-01-01T00:00:00{text}").utcoffset()
    assert parsed == dt.timedelta(minutes=offset_min)
