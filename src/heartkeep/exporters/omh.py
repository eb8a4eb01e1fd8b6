"""Open mHealth export: `omh:heart-rate:2.0` data points in the `data-point` envelope, NDJSON.

One line per sample: `{"header": {...}, "body": {...}}`.  The body carries `heart_rate`
(`beats/min`) and an `effective_time_frame.date_time` in RFC 3339 local time with the reported
offset (an Open mHealth date-time without a zone would mean UTC, so the offset is always
written).  Header ids are UUIDv5 of account and instant, so re-exporting gives the same ids and
consumers can de-duplicate.

How it is written without a Python object per sample, as far as that goes.  orjson writes one
data point with markers where the id, the value and the time go (`sqltext.json_pieces`);
SQLite formats everything after the id for a batch of samples (`sqltext.py`).  The ids are the
one thing SQLite cannot compute (SHA-1): Python hashes each name (one `hashlib` call per sample,
the only per-sample step left), numpy sets the UUID version bits and writes all the ids of the
batch as hex in one array, and one `join` interleaves them with SQLite's lines.  The bytes are
those of `uuid.uuid5` and one `orjson.dumps` per sample (tests/exporters hold them to it).
"""

from __future__ import annotations

import uuid
from hashlib import sha1

import numpy as np
import numpy.typing as npt
import orjson

from heartkeep.exporters.jsonl import LOCAL_TIME_SQL
from heartkeep.exporters.source import SampleSource
from heartkeep.exporters.sqltext import json_pieces
from heartkeep.output_target import Writable
from heartkeep.timeline import format_rfc3339

SCHEMA_ID = {"namespace": "omh", "name": "heart-rate", "version": "2.0"}
_NAMESPACE = uuid.UUID("9a6c3f0e-5b7a-4f57-9d43-2f1c1b7f6e2a")
_MARKS = [b'"@@hk-id@@"', b'"@@hk-value@@"', b'"@@hk-when@@"']
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Where the 32 hex digits go in `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` (quotes included).
_DIGITS = np.array([i + 1 + sum(i >= cut for cut in (8, 12, 16, 20)) for i in range(32)])

# Everything after the id, formatted by SQLite: value, then the local time.
LINE_SQL = f""":p1 || bpm || :p2 || '"' || {LOCAL_TIME_SQL} || '"' || :p3"""


def uuid5_ids(names: list[bytes], namespace: uuid.UUID = _NAMESPACE) -> npt.NDArray[np.bytes_]:
    """`"<uuid5(namespace, name)>"` for each name (UTF-8 bytes), quotes included, as `S38`."""
    # SHA-1 is what RFC 4122 prescribes for version 5 names: an id, not a security measure.
    space = namespace.bytes
    digests = b"".join([sha1(space + name).digest() for name in names])  # noqa: S324
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    out = np.full((len(names), 38), ord("-"), dtype=np.uint8)
    out[:, 0] = out[:, 37] = ord('"')
    out[:, _DIGITS[0::2]] = _HEX[raw >> 4]
    out[:, _DIGITS[1::2]] = _HEX[raw & 0x0F]
    return out.view("S38").ravel()


def write_omh(source: SampleSource, handle: Writable, *, created_s: int) -> None:
    """Stream the samples as NDJSON Open mHealth heart-rate data points into a binary stream."""
    account = source.account
    point = {
        "header": {
            "id": "@@hk-id@@",
            "creation_date_time": format_rfc3339(created_s),
            "schema_id": SCHEMA_ID,
            "acquisition_provenance": {
                "source_name": f"heartkeep ({account.provider})",
                "modality": "sensed",
            },
            "user_id": account.key,
        },
        "body": {
            "heart_rate": {"value": "@@hk-value@@", "unit": "beats/min"},
            "effective_time_frame": {"date_time": "@@hk-when@@"},
        },
    }
    p0, p1, p2, p3 = json_pieces(orjson.dumps(point), _MARKS)
    head = p0.encode()
    prefix = f"{account.key}@".encode()
    parameters = {"p1": p1, "p2": p2, "p3": p3}
    for chunk in source.text(LINE_SQL, parameters=parameters, key_sql="instant"):
        ids = uuid5_ids([prefix + instant for instant in chunk.keys.split(b",")])
        parts: list[bytes] = [head] * (3 * chunk.count)
        parts[1::3] = ids.tolist()
        parts[2::3] = chunk.text.splitlines(keepends=True)
        handle.write(b"".join(parts))
