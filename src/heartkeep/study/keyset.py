"""Verify Google Health webhook signatures against a Tink public keyset.

Google signs each notification body with ECDSA P-256 (SHA-256) and sends the signature in the
`GOOGLE-HEALTH-API-SIGNATURE` header [reference §12, disc `EndpointAuthorization`].  The
public keys are a Tink JSON keyset (gstatic's `webhooks_public_keyset.json`), and the header is
Tink's signature wire format in base64: a version byte `0x01`, the 4-byte big-endian id of the
key that signed, then the DER signature of the exact body bytes [3P K-AP].  The key material
is a serialized Tink `EcdsaPublicKey` protobuf (`params` = field 2, `x` = 3, `y` = 4); this
module reads those few fields itself rather than pulling in Tink's native library, and leaves
the cryptography to `cryptography` (OpenSSL).  Only ENABLED keys of the ECDSA type, on P-256
with SHA-256 and DER encoding, are accepted; everything else verifies as False.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "GOOGLE-HEALTH-API-SIGNATURE"
GOOGLE_KEYSET_URL = "https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json"
_ECDSA_TYPE_URL = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"
_PARAMS_WANTED = {1: 3, 2: 2, 3: 2}  # hash SHA256, curve NIST_P256, encoding DER
_MAX_KEY_BYTES = 4096


class KeysetError(ValueError):
    """The keyset JSON is not a usable Tink public keyset (says which part is wrong)."""


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise KeysetError("truncated varint in the key material")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> dict[int, int | bytes]:
    """A flat protobuf message: field number → varint or bytes (the last occurrence wins)."""
    out: dict[int, int | bytes] = {}
    at = 0
    while at < len(data):
        tag, at = _read_varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            out[number], at = _read_varint(data, at)
        elif wire == 2:
            size, at = _read_varint(data, at)
            if at + size > len(data):
                raise KeysetError("truncated field in the key material")
            out[number] = data[at : at + size]
            at += size
        else:
            raise KeysetError(f"unexpected protobuf wire type {wire} in the key material")
    return out


def _public_key(value_b64: str) -> ec.EllipticCurvePublicKey:
    try:
        raw = base64.b64decode(value_b64, validate=True)
    except (binascii.Error, ValueError):
        raise KeysetError("key material is not base64") from None
    if len(raw) > _MAX_KEY_BYTES:
        raise KeysetError("key material is too large")
    fields = _fields(raw)
    params, x, y = fields.get(2), fields.get(3), fields.get(4)
    if not isinstance(params, bytes) or not isinstance(x, bytes) or not isinstance(y, bytes):
        raise KeysetError("key material lacks params, x or y")
    if _fields(params) != _PARAMS_WANTED:
        raise KeysetError("key is not ECDSA P-256 with SHA-256 and DER signatures")
    try:
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        return numbers.public_key()
    except ValueError:
        raise KeysetError("key is not a point on P-256") from None


def signing_key_id(signature_header: str | None) -> int | None:
    """The Tink key id a signature header names, or None if it is not a Tink signature."""
    if not signature_header:
        return None
    try:
        raw = base64.b64decode(signature_header, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 6 or raw[0] != 1:
        return None
    return int.from_bytes(raw[1:5], "big")


@dataclass(frozen=True)
class Keyset:
    """The enabled public keys by Tink key id.  Build one with `parse_keyset`."""

    keys: Mapping[int, ec.EllipticCurvePublicKey]

    def verify(self, signature_header: str | None, body: bytes) -> bool:
        """True only if `signature_header` is a valid signature of `body` by an enabled key."""
        key_id = signing_key_id(signature_header)
        key = None if key_id is None else self.keys.get(key_id)
        if key is None or signature_header is None:
            return False
        raw = base64.b64decode(signature_header)
        try:
            key.verify(raw[5:], body, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def parse_keyset(document: bytes | str | Mapping[str, Any]) -> Keyset:
    """The usable keys of a Tink JSON public keyset; raises KeysetError if none is usable."""
    try:
        data = orjson.loads(document) if isinstance(document, bytes | str) else document
    except orjson.JSONDecodeError:
        raise KeysetError("the keyset is not JSON") from None
    entries = data.get("key") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise KeysetError("the keyset has no 'key' list")
    keys: dict[int, ec.EllipticCurvePublicKey] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("status") != "ENABLED":
            continue
        key_data = entry.get("keyData")
        key_id = entry.get("keyId")
        if (
            not isinstance(key_data, Mapping)
            or key_data.get("typeUrl") != _ECDSA_TYPE_URL
            or entry.get("outputPrefixType") != "TINK"
            or not isinstance(key_id, int)
            or not isinstance(key_data.get("value"), str)
        ):
            continue
        keys[key_id] = _public_key(key_data["value"])
    if not keys:
        raise KeysetError("the keyset has no enabled ECDSA P-256 key")
    return Keyset(keys)
