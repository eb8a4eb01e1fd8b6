"""A sync page handed over as columns (a study's worker) writes what the same samples write: the
same rows, counts, merges and summaries, on both backends, whatever the order and collisions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from import_readings import against_a_store

from heartkeep.model import Sample, SampleColumns, Source

KEY = "google-health:me"
T0 = 1_790_000_000

page = st.lists(
    st.tuples(
        st.integers(0, 9_000), st.integers(30, 220), st.sampled_from([-300, 0, 60, 120, 345])
    ),
    max_size=80,
)


@against_a_store
@given(page, page, st.randoms())
def test_columns_write_what_their_samples_write(backend, first, second, rng) -> None:
    outcomes = []
    for as_columns in (False, True):
        with backend.fresh() as store:
            counts = []
            for rows in (first, second, first):
                samples = [Sample(T0 + i, b, o) for i, b, o in rows]
                rng.shuffle(samples)
                batch = SampleColumns.from_samples(samples) if as_columns else samples
                with store.transaction():
                    counts.append(store.write_samples(KEY, batch, Source.GOOGLE_HEALTH))
            store.refresh_aggregates(KEY)
            outcomes.append(
                (
                    counts,
                    store.merged_samples(KEY),
                    [s for chunk in store.iter_samples(KEY) for s in chunk],
                    store.day_aggregates(KEY),
                    store.aggregate_problems(KEY, full=True),
                )
            )
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][-1] == []
