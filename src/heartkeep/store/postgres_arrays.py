"""Packed rows over the wire in PostgreSQL's binary format, built from and read into numpy arrays.

Why: an `hr_hour` row carries an hour's samples as four arrays, and psycopg's generic adapters
convert every element on its own — dumping a list for `COPY` checks and escapes each number as
text, loading one builds a Python int per element.  At a study's volume (hundreds of millions of
samples a day) that per-element Python work was most of a worker's CPU.  Here the elements
cross as fixed-width big-endian records that numpy writes and reads whole: `copy_rows` builds a
`COPY … (FORMAT BINARY)` stream (the element records of a column are one `tobytes()`, only the
few headers per row are packed one by one), and `fetch_rows` reads `smallint[]`/`integer[]`
columns through a binary cursor whose loaders return int64 numpy arrays.  PostgreSQL parses the
binary form more cheaply than array text, too.

Values must fit the column's type: callers check (`postgres_hours.check_values`), since a
numpy cast would wrap silently where PostgreSQL would have refused.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

from heartkeep.errors import StoreError

Column = npt.NDArray[np.int64]

INT2, INT4 = "int2", "int4"
# Each element of a binary array: its length (always the type's width here), then its value.
_ELEMENTS = {
    INT2: np.dtype([("length", ">i4"), ("value", ">i2")]),
    INT4: np.dtype([("length", ">i4"), ("value", ">i4")]),
}
_ELEMENT_OID = {INT2: 21, INT4: 23}
_ARRAY_OID = {INT2: 1005, INT4: 1007}
_LIMITS = {INT2: (-(2**15), 2**15 - 1), INT4: (-(2**31), 2**31 - 1)}

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"
# Field count, then account_id and hour (int4 each, with their lengths).
_ROW_HEAD = struct.Struct("!hiiii")
# Field length, then the array header: 1 dimension, no nulls, element type, size, lower bound 1.
_ARRAY_HEAD = struct.Struct("!iiiiii")
_ARRAY_PREFIX = struct.Struct("!iii")


def copy_rows(
    account_id: int,
    hours: Sequence[int],
    starts: Sequence[int],
    columns: Sequence[tuple[Column, str]],
) -> bytes:
    """A binary `COPY` stream of rows (account_id, hour, array, …): row i holds elements
    `starts[i]:starts[i + 1]` of each column (the last row runs to the end); `columns` are
    (values, "int2" | "int4") pairs of equal length."""
    total = len(columns[0][0]) if columns else 0
    encoded = []
    for values, kind in columns:
        low, high = _LIMITS[kind]
        if len(values) and (int(values.min()) < low or int(values.max()) > high):
            raise StoreError(f"a value does not fit PostgreSQL's {kind}: not stored")
        elements = np.empty(len(values), dtype=_ELEMENTS[kind])
        elements["length"] = _ELEMENTS[kind]["value"].itemsize
        elements["value"] = values
        encoded.append((elements, _ELEMENTS[kind].itemsize, _ELEMENT_OID[kind]))
    parts = [_COPY_HEADER]
    fields = 2 + len(columns)
    ends = [*starts[1:], total]
    for hour, start, end in zip(hours, starts, ends, strict=True):
        parts.append(_ROW_HEAD.pack(fields, 4, account_id, 4, hour))
        size = end - start
        for elements, width, oid in encoded:
            parts.append(_ARRAY_HEAD.pack(20 + size * width, 1, 0, oid, size, 1))
            parts.append(elements[start:end].tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


def _array_loader(kind: str) -> type[Loader]:
    dtype = _ELEMENTS[kind]

    class ArrayLoader(Loader):
        format = Format.BINARY

        def load(self, data: Buffer) -> Column:
            dims, nulls, _ = _ARRAY_PREFIX.unpack_from(data)
            if dims == 0:
                return np.zeros(0, dtype=np.int64)
            if dims != 1 or nulls:
                raise StoreError("a packed column holds a nested array or NULLs: not heartkeep's")
            (size,) = struct.unpack_from("!i", data, 12)
            records = np.frombuffer(data, dtype=dtype, count=size, offset=20)
            return records["value"].astype(np.int64)

    ArrayLoader.__name__ = f"{kind.capitalize()}ArrayToNumpy"
    return ArrayLoader


_LOADERS = {_ARRAY_OID[kind]: _array_loader(kind) for kind in (INT2, INT4)}


def fetch_rows(
    conn: psycopg.Connection[tuple[Any, ...]], query: str, parameters: Any = ()
) -> list[tuple[Any, ...]]:
    """The rows of `query`, its `smallint[]` and `integer[]` columns as int64 numpy arrays."""
    with conn.cursor(binary=True) as cursor:
        for oid, loader in _LOADERS.items():
            cursor.adapters.register_loader(oid, loader)
        return cursor.execute(query.encode(), parameters).fetchall()
