"""Open mHealth export: `omh:heart-rate:2.0` data points in the `data-point` envelope, NDJSON.

One line per sample: `{"header": {...}, "body": {...}}`.  The body carries `heart_rate`
(`beats/min`) and an `effective_time_frame.date_time` in RFC 3339 local time with the reported
offset (an Open mHealth date-time without a zone would mean UTC, so the offset is always
written).  Header ids are UUIDv5 of account and instant, so re-exporting gives the same ids and
consumers can de-duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import orjson

from heartkeep.exporters.timefmt import columns, iso_local
from heartkeep.model import Account, Sample
from heartkeep.output_target import Writable
from heartkeep.timeline import format_rfc3339

SCHEMA_ID = {"namespace": "omh", "name": "heart-rate", "version": "2.0"}
_NAMESPACE = uuid.UUID("9a6c3f0e-5b7a-4f57-9d43-2f1c1b7f6e2a")


def write_omh(
    batches: Iterable[Sequence[Sample]], handle: Writable, *, account: Account, created_s: int
) -> None:
    """Stream batches as NDJSON Open mHealth heart-rate data points into a binary stream."""
    created = format_rfc3339(created_s)
    provenance = {"source_name": f"heartkeep ({account.provider})", "modality": "sensed"}
    prefix = f"{account.key}@"
    for batch in batches:
        instant, bpm, offset = columns(batch)
        for when, i, value in zip(
            iso_local(instant, offset), instant.tolist(), bpm.tolist(), strict=True
        ):
            point = {
                "header": {
                    "id": str(uuid.uuid5(_NAMESPACE, f"{prefix}{i}")),
                    "creation_date_time": created,
                    "schema_id": SCHEMA_ID,
                    "acquisition_provenance": provenance,
                    "user_id": account.key,
                },
                "body": {
                    "heart_rate": {"value": value, "unit": "beats/min"},
                    "effective_time_frame": {"date_time": when},
                },
            }
            handle.write(orjson.dumps(point))
            handle.write(b"\n")
