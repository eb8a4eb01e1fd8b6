"""A sync page handed over as columns (a study's worker) writes what the same samples write: the
same rows, counts, merges and summaries, on both backends, whatever the order and collisions."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from import_readings import against_a_store

from heartkeep.model import Sample, SampleColumns, Source
from heartkeep.store.sample_batches import COLUMNS_FROM

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
    pages = []
    for rows in (first, second, first):
        samples = [Sample(T0 + i, b, o) for i, b, o in rows]
        rng.shuffle(samples)
        pages.append(samples)
    outcomes = [outcome(backend, pages, as_columns) for as_columns in (False, True)]
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][-1] == []


def outcome(backend, pages: list[list[Sample]], as_columns: bool) -> tuple[Any, ...]:
    """Everything a reader can see after `pages` were written (each as columns or not) into a
    fresh store and refreshed: counts, merges, samples, days and the aggregates' check."""
    with backend.fresh() as store:
        counts = []
        for page in pages:
            batch = SampleColumns.from_samples(page) if as_columns else page
            with store.transaction():
                counts.append(store.write_samples(KEY, batch, Source.GOOGLE_HEALTH))
        store.refresh_aggregates(KEY)
        return (
            counts,
            store.merged_samples(KEY),
            [s for chunk in store.iter_samples(KEY) for s in chunk],
            store.day_aggregates(KEY),
            store.aggregate_problems(KEY, full=True),
        )


@st.composite
def large_pages(draw: st.DrawFn) -> list[list[Sample]]:
    """A backfill's large pages, newest first, in the order a provider may serve them
    (ascending, descending or shuffled), then a re-read across them that changes some
    readings and collides within itself: what arrives as columns from the columnar parse."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = draw(st.integers(COLUMNS_FROM, COLUMNS_FROM + 1_500))
    instants = T0 + np.cumsum(rng.integers(1, draw(st.sampled_from([2, 6, 400])), 3 * size))
    offsets = np.where(np.arange(3 * size) < draw(st.integers(0, 3 * size)), 60, 120)
    rows = [
        Sample(int(i), int(b), int(o))
        for i, b, o in zip(instants, rng.integers(40, 200, 3 * size), offsets, strict=True)
    ]
    reread = rows[size // 2 : 2 * size] + rows[size : size + draw(st.integers(0, 50))]
    reread = [Sample(i, b + (k % 3 == 0), o) for k, (i, b, o) in enumerate(reread)]
    pages = [rows[2 * size :], rows[size : 2 * size], rows[:size], reread]
    order = draw(st.sampled_from(["ascending", "descending", "shuffled"]))
    for page in pages:
        if order == "descending":
            page.reverse()
        elif order == "shuffled":
            rng.shuffle(page)  # type: ignore[arg-type]
    return pages


@settings(against_a_store, max_examples=10)
@given(large_pages())
def test_large_column_pages_write_what_their_samples_write(backend, pages) -> None:
    """A backfill's pages as the columnar parse hands them over (sorted, counted and
    aggregated in numpy, the new ones inserted without an upsert) store exactly what the
    same samples store, and the aggregates equal a recomputation."""
    outcomes = [outcome(backend, pages, as_columns) for as_columns in (False, True)]
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][-1] == []
    assert outcomes[1][0][0].inserted == len(pages[0])
