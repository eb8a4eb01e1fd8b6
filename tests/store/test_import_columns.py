"""Imports write columns: the same rows and counts as sorted `Sample` batches, in any order."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from import_readings import against_a_store, readings

from heartkeep.model import Sample, SampleColumns, Source
from heartkeep.store.precedence import sample_wins, samples_win
from heartkeep.store.protocol import ImportFile, ImportWrite, Provenance

KEY = "takeout:me"
T0 = 1_790_000_000

pairs = st.tuples(st.integers(20, 300), st.sampled_from([-300, 0, 60, 120, 345]))


@given(st.lists(st.tuples(pairs, pairs), min_size=1, max_size=30))
def test_the_column_rule_is_the_sample_rule(contests) -> None:
    new = np.array([n for n, _ in contests])
    old = np.array([o for _, o in contests])
    wins = samples_win(new[:, 0], new[:, 1], old[:, 0], old[:, 1])
    assert wins.tolist() == [sample_wins(n, o) for n, o in contests]


@against_a_store
@given(readings, readings, st.randoms())
def test_shuffled_columns_write_what_sorted_samples_write(backend, first, second, rng) -> None:
    outcomes = []
    for as_columns in (False, True):
        counts = []
        with backend.fresh() as store, store.transaction():
            synced = [Sample(T0 + 5, 99, 0)]
            store.write_samples(KEY, synced, Source.GOOGLE_HEALTH)
            for number, rows in enumerate((first, second, first)):
                files = (ImportFile(f"f{number}", f"{number:064x}", 1),)
                run = store.begin_import(KEY, Provenance("takeout", "UTC", files), 0)
                batch = sorted(Sample(T0 + i, b, o) for i, b, o in rows)
                if as_columns:
                    rng.shuffle(batch)
                    batch = SampleColumns.from_samples(batch)
                counts.append(store.write_import_samples(KEY, run, batch, Source.TAKEOUT))
            samples = [s for chunk in store.iter_samples(KEY) for s in chunk]
            displaced = backend.rows(
                store, "SELECT * FROM import_displaced_sample ORDER BY displaced_by, instant"
            )
        outcomes.append((counts, samples, displaced))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:2] == row_by_row((first, second, first))


def row_by_row(files):
    """What the store wrote before it wrote columns: its per-row loop, kept here as the model."""
    stored = {T0 + 5: (99, 0, Source.GOOGLE_HEALTH.code)}
    counts = []
    for run, rows in enumerate(files, start=1):
        unique = {s[0]: s for s in sorted(Sample(T0 + i, b, o) for i, b, o in rows)}
        inserted = replaced = kept = conflicts = 0
        for instant, bpm, offset in unique.values():
            old = stored.get(instant)
            if old is None:
                inserted += 1
            elif old[2] < 16 or (bpm, offset) == old[:2]:
                kept += (bpm, offset) != old[:2]
                continue
            elif not sample_wins((bpm, offset), old[:2]):
                kept += old[2] // 16 != run
                conflicts += old[2] // 16 == run
                continue
            elif old[2] // 16 == run:
                conflicts += 1
            else:
                replaced += 1
            stored[instant] = (bpm, offset, run * 16 + Source.TAKEOUT.code)
        merged = len(rows) - len(unique)
        counts.append(ImportWrite(inserted, replaced, kept, merged, conflicts))
    return counts, [Sample(i, b, o) for i, (b, o, _) in sorted(stored.items())]
