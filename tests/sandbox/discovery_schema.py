"""Validate sandbox responses against the official discovery document's schemas.

The discovery document bundled with google-api-python-client (`health.v4.json`) is the
authority on shapes.  This walker checks types, proto3-JSON formats (int64 as decimal strings,
`google-datetime` as RFC 3339 with `Z`, `google-duration` as `"Ns"`), enums, and rejects any
field the schema does not define — stricter than jsonschema's defaults, as Google's own parsers
are.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

_INT64 = re.compile(r"^-?\d+$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
RPC_STATUSES = {
    "INVALID_ARGUMENT",
    "FAILED_PRECONDITION",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "RESOURCE_EXHAUSTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
}


@cache
def discovery() -> dict[str, Any]:
    root = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    return json.loads((root / "health.v4.json").read_text())


class SchemaError(AssertionError):
    pass


def validate(value: Any, schema_name: str) -> None:
    """Raise SchemaError when `value` does not fit the discovery schema `schema_name`."""
    _check(value, {"$ref": schema_name}, schema_name)


def validate_error(body: Any) -> None:
    """A Google error body: `{"error": Status + "status"}` (the JSON error format)."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        raise SchemaError(f"error body must be {{'error': ...}}: {body!r}")
    error = dict(body["error"])
    status = error.pop("status", None)
    if status not in RPC_STATUSES:
        raise SchemaError(f"unknown rpc status {status!r}")
    validate(error, "Status")


def _check(value: Any, schema: dict[str, Any], path: str) -> None:
    if "$ref" in schema:
        schema = discovery()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: expected an object, got {value!r}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], f"{path}.{key}")
            elif extra is not None:
                _check(item, extra, f"{path}.{key}")
            else:
                raise SchemaError(f"{path}: unknown field {key!r}")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise SchemaError(f"{path}: expected an array, got {value!r}")
        for index, item in enumerate(value):
            _check(item, schema["items"], f"{path}[{index}]")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise SchemaError(f"{path}: expected a string, got {value!r}")
        fmt = schema.get("format")
        if fmt in ("int64", "uint64") and not _INT64.match(value):
            raise SchemaError(f"{path}: {value!r} is not an int64 string")
        if fmt == "google-datetime" and not _DATETIME.match(value):
            raise SchemaError(f"{path}: {value!r} is not an RFC 3339 UTC timestamp")
        if fmt == "google-duration" and not _DURATION.match(value):
            raise SchemaError(f"{path}: {value!r} is not a duration")
        if "enum" in schema and value not in schema["enum"]:
            raise SchemaError(f"{path}: {value!r} not in {schema['enum']}")
        return
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SchemaError(f"{path}: expected an integer, got {value!r}")
        if schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
            raise SchemaError(f"{path}: {value} out of int32 range")
        return
    if kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise SchemaError(f"{path}: expected a number, got {value!r}")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SchemaError(f"{path}: expected a boolean, got {value!r}")
        return
    raise SchemaError(f"{path}: schema type {kind!r} not handled")
