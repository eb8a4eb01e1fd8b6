"""JSON Lines export: one sample per line, for jq, DuckDB, pandas and streaming readers.

Each line: `{"time": "2026-11-20T13:00:00+01:00", "instant_s": 1795179600, "utc_offset_min": 60,
"bpm": 64}` — `time` is RFC 3339 local time with the reported offset (one field that carries
both the instant and the local clock), `instant_s` the UTC epoch second for easy arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from heartkeep.exporters.timefmt import columns, iso_local
from heartkeep.model import Sample
from heartkeep.output_target import Writable


def write_jsonl(batches: Iterable[Sequence[Sample]], handle: Writable) -> None:
    """Stream batches as UTF-8 JSON Lines, one object per line, into a binary stream."""
    for batch in batches:
        instant, bpm, offset = columns(batch)
        handle.write(
            "".join(
                f'{{"time":"{time}","instant_s":{i},"utc_offset_min":{o},"bpm":{b}}}\n'
                for time, i, o, b in zip(
                    iso_local(instant, offset),
                    instant.tolist(),
                    offset.tolist(),
                    bpm.tolist(),
                    strict=True,
                )
            ).encode()
        )
