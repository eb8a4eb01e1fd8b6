"""Hypothesis inputs shared by the store's import tests: a file's readings, and the settings of
a test that writes them into the `backend` fixture's store (both backends, each example)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

readings = st.lists(
    st.tuples(st.integers(0, 30), st.integers(40, 200), st.sampled_from([0, 60, 120])),
    max_size=40,
)
"""(second, bpm, offset_min) readings of one file: few seconds, so files collide often."""

against_a_store = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Fewer examples (each writes to a real store) that reuse the function-scoped store."""
