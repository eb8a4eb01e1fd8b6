"""Parquet export: typed, zstd-compressed, one row per sample, row groups by UTC day.

Schema: `instant` `timestamp[s, tz=UTC]`, `utc_offset_min` `int64`, `bpm` `int64`: the store's
INTEGER columns are 64-bit, and a narrower type would wrap a value it cannot hold (an int16 once
turned a stored 1e9 into -13824) instead of exporting it.  Delta encoding and zstd make the
wider type cost nothing measurable on disk.  Parquet
has no seconds unit, so the file stores `instant` as TIMESTAMP(MILLIS, adjusted to UTC) and Arrow
readers see `timestamp[ms, tz=UTC]` holding the same whole seconds.  The account
is recorded in the file's key-value metadata (`heartkeep.account`, `heartkeep.time_zone`).  A
`ParquetWriter` receives one row group per UTC day, so readers can skip days they do not need
and memory stays at one day's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from heartkeep.exporters.timefmt import columns
from heartkeep.model import Account, Sample
from heartkeep.output_target import Writable

SCHEMA = pa.schema(
    [
        pa.field("instant", pa.timestamp("s", tz="UTC"), nullable=False),
        pa.field("utc_offset_min", pa.int64(), nullable=False),
        pa.field("bpm", pa.int64(), nullable=False),
    ]
)


def _table(
    instant: npt.NDArray[np.int64], offset: npt.NDArray[np.int64], bpm: npt.NDArray[np.int64]
) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(instant, type=pa.int64()).cast(pa.timestamp("s", tz="UTC")),
            pa.array(offset, type=pa.int64()),
            pa.array(bpm, type=pa.int64()),
        ],
        schema=SCHEMA,
    )


def write_parquet(
    batches: Iterable[Sequence[Sample]], handle: Writable, *, account: Account
) -> None:
    """Stream batches as Parquet, one row group per UTC day, into a binary stream.

    Parquet is written front to back (footer last), so a pipe works as well as a file.
    """
    schema = SCHEMA.with_metadata(
        {
            "heartkeep.account": account.key,
            "heartkeep.time_zone": account.time_zone,
            "heartkeep.columns": "instant: UTC; utc_offset_min: minutes east of UTC as reported",
        }
    )
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    current_day: int | None = None
    with pq.ParquetWriter(
        handle,
        schema,
        compression="zstd",
        use_dictionary=["utc_offset_min"],
        column_encoding={"instant": "DELTA_BINARY_PACKED", "bpm": "DELTA_BINARY_PACKED"},
    ) as writer:

        def flush() -> None:
            if parts:
                merged = [np.concatenate([part[i] for part in parts]) for i in range(3)]
                writer.write_table(_table(*merged).replace_schema_metadata(schema.metadata))
                parts.clear()

        for batch in batches:
            instant, bpm, offset = columns(batch)
            days = instant // 86_400
            start = 0
            # Split the batch where the UTC day changes; close the row group at each change.
            for cut in [*(np.flatnonzero(np.diff(days)) + 1).tolist(), len(instant)]:
                if cut == start:
                    continue
                day = int(days[start])
                if current_day is not None and day != current_day:
                    flush()
                current_day = day
                parts.append((instant[start:cut], offset[start:cut], bpm[start:cut]))
                start = cut
        flush()
