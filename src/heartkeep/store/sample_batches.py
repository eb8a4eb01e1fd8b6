"""The batches `SqliteStore.write_samples` writes: rows sorted ascending, and numpy tables of them.

Why a module of its own: a batch is what every later step of a write reads — the upsert takes
its rows, the merge count and the aggregates' upkeep its table — and a sync page now arrives in
either of two forms.  A large page (a backfill's) comes as `SampleColumns` from the provider's
columnar parse, and is sorted and tabled in numpy with no `Sample` per reading; a small one (an
hourly sync's few hundred readings) comes as `Sample`s and is handled in plain Python, so an
up-to-date sync never loads numpy.  Both give the same rows in the same order: sorted as whole
(instant, bpm, offset) tuples, so readings of one second end with the largest, which the upsert
(last wins) keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import TYPE_CHECKING

from heartkeep.model import Sample, SampleColumns

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Rows per executemany: large enough to amortise the Python overhead, small enough that memory
# stays flat however long the iterable is.
WRITE_BATCH = 10_000
# A batch this large is also read into numpy columns (merges, offsets and the aggregates come
# from them); a smaller one (a sync that finds a few new minutes) never loads numpy.
COLUMNS_FROM = 1_000


def sample_batches(
    samples: Iterable[Sample],
) -> Iterator[tuple[Sequence[Sample], npt.NDArray[np.int64] | None]]:
    """(rows sorted ascending, the same rows as an n x 3 int64 table or None) of up to
    `WRITE_BATCH` samples each, in the order given.  The table is there for columns of at
    least `COLUMNS_FROM` rows (their rows are then [instant, bpm, offset] lists, which
    `executemany` and indexing read as they read a `Sample`) and for `Sample` batches that
    large whose values fit in int64 (a value that does not is refused by `executemany`, with
    the reason)."""
    if isinstance(samples, SampleColumns) and len(samples) >= COLUMNS_FROM:
        for start in range(0, len(samples), WRITE_BATCH):
            table = sorted_table(samples[start : start + WRITE_BATCH])
            yield table.tolist(), table
        return
    iterator = iter(samples)
    while batch := list(islice(iterator, WRITE_BATCH)):
        batch.sort()
        yield batch, (table_of(batch) if len(batch) >= COLUMNS_FROM else None)


def sorted_table(columns: SampleColumns) -> npt.NDArray[np.int64]:
    """The columns as an n x 3 int64 table sorted as whole (instant, bpm, offset) tuples: a
    page in ascending or descending order of distinct instants (Google's and the sandbox's)
    costs no sort."""
    import numpy as np

    instants, bpm, offsets = columns.instants_s, columns.bpm, columns.offsets_min
    steps = instants[1:] - instants[:-1]
    if len(instants) < 2 or bool((steps > 0).all()):
        order: slice | npt.NDArray[np.intp] = slice(None)
    elif bool((steps < 0).all()):
        order = slice(None, None, -1)
    else:
        order = np.lexsort((offsets, bpm, instants))
    return np.column_stack([instants[order], bpm[order], offsets[order]]).astype(
        np.int64, copy=False
    )


def table_of(batch: list[Sample]) -> npt.NDArray[np.int64] | None:
    """The batch as an n x 3 int64 table, or None if a value does not fit (`executemany` then
    refuses the batch with the reason)."""
    import numpy as np  # here: start-up and small writes never pay for numpy

    try:
        flat = np.fromiter(chain.from_iterable(batch), dtype=np.int64, count=3 * len(batch))
    except (OverflowError, TypeError, ValueError):
        return None
    return flat.reshape(-1, 3)
