"""CSV export: one row per sample, readable by a spreadsheet and by the csv module alike.

Columns: `instant_utc` (ISO-8601 with `Z`), `local_time` (wall time under the reported offset,
no suffix, so spreadsheets show it as-is), `utc_offset_min` (minutes east of UTC), `bpm`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from heartkeep.exporters.timefmt import columns, iso_utc, iso_wall
from heartkeep.model import Sample

HEADER = ("instant_utc", "local_time", "utc_offset_min", "bpm")


def write_csv(batches: Iterable[Sequence[Sample]], dest: Path) -> None:
    """Stream batches into a CSV file with a header row."""
    with dest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for batch in batches:
            instant, bpm, offset = columns(batch)
            writer.writerows(
                zip(
                    iso_utc(instant),
                    iso_wall(instant, offset),
                    offset.tolist(),
                    bpm.tolist(),
                    strict=True,
                )
            )
