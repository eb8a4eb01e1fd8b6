"""The sandbox's webhook signing key: ECDSA P-256, published as a Tink public keyset.

Google signs every webhook body with ECDSA over NIST P-256 and puts the signature in the
`GOOGLE-HEALTH-API-SIGNATURE` header [disc `EndpointAuthorization`].  Receivers verify it
against Google's public keyset, a Tink JSON keyset published at
`https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json` [3P K-AP].  The
header is Tink's signature wire format, base64: one version byte `0x01`, the key id (4 bytes,
big-endian), then the DER-encoded signature of the raw body [3P K-AP; Tink's `TINK` output
prefix].  Each sandbox makes a fresh key, so a receiver configured with another sandbox's
keyset (a "wrong key") refuses its notifications, and the sandbox serves its own keyset at the
same path as gstatic does.  `rotate()` switches to a new key (a test's hook for Google's key
rotation, whose schedule is not published).

The Tink `EcdsaPublicKey` protobuf is written by hand here (four fields): the sandbox must not
share code with the receiver in `heartkeep.study`, which parses it on its own.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "GOOGLE-HEALTH-API-SIGNATURE"
KEYSET_PATH = "/googlehealthapi/webhooks/webhooks_public_keyset.json"
ECDSA_PUBLIC_KEY_TYPE_URL = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"

# Tink enums (proto/common.proto, proto/ecdsa.proto).
_HASH_SHA256 = 3
_CURVE_NIST_P256 = 2
_ENCODING_DER = 2
_TINK_PREFIX_VERSION = b"\x01"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _coordinate(value: int) -> bytes:
    """Big-endian, as Java's BigInteger writes it: a leading zero byte when the top bit is set."""
    raw = value.to_bytes(32, "big")
    return b"\x00" + raw if raw[0] & 0x80 else raw


class WebhookSigner:
    """One sandbox's signing key and its key id; signs bodies, publishes the public keyset."""

    def __init__(self) -> None:
        self._keys: dict[int, ec.EllipticCurvePrivateKey] = {}
        self.key_id = 0
        self.rotate()

    @property
    def _key(self) -> ec.EllipticCurvePrivateKey:
        return self._keys[self.key_id]

    def rotate(self, *, keep_old: bool = True) -> int:
        """Sign with a new key from now on; returns its id.  The keyset lists the new key as
        primary and, with `keep_old`, the previous ones still ENABLED (notifications signed
        before the rotation and still being retried stay verifiable).  How and how often Google
        rotates is not published: a test's hook, not a schedule."""
        # Tink key ids are uint32; keep the top bit clear as Tink's own generator does.
        key_id = secrets.randbelow(2**31 - 1) + 1
        while key_id in self._keys:
            key_id = secrets.randbelow(2**31 - 1) + 1
        if not keep_old:
            self._keys.clear()
        self._keys[key_id] = ec.generate_private_key(ec.SECP256R1())
        self.key_id = key_id
        return key_id

    def sign(self, body: bytes) -> str:
        """The `GOOGLE-HEALTH-API-SIGNATURE` value for `body` (the exact bytes sent)."""
        der = self._key.sign(body, ec.ECDSA(hashes.SHA256()))
        prefixed = _TINK_PREFIX_VERSION + self.key_id.to_bytes(4, "big") + der
        return base64.b64encode(prefixed).decode("ascii")

    def public_key_proto(self, key_id: int | None = None) -> bytes:
        """The serialized Tink `EcdsaPublicKey` (version 0, SHA-256, P-256, DER, x, y)."""
        key = self._keys[self.key_id if key_id is None else key_id]
        numbers = key.public_key().public_numbers()
        params = (
            _field_varint(1, _HASH_SHA256)
            + _field_varint(2, _CURVE_NIST_P256)
            + _field_varint(3, _ENCODING_DER)
        )
        return (
            _field_bytes(2, params)
            + _field_bytes(3, _coordinate(numbers.x))
            + _field_bytes(4, _coordinate(numbers.y))
        )

    def public_keyset(self) -> dict[str, Any]:
        """The Tink JSON public keyset, as served at `KEYSET_PATH`."""
        return {
            "primaryKeyId": self.key_id,
            "key": [
                {
                    "keyData": {
                        "typeUrl": ECDSA_PUBLIC_KEY_TYPE_URL,
                        "value": base64.b64encode(self.public_key_proto(key_id)).decode("ascii"),
                        "keyMaterialType": "ASYMMETRIC_PUBLIC",
                    },
                    "status": "ENABLED",
                    "keyId": key_id,
                    "outputPrefixType": "TINK",
                }
                for key_id in self._keys
            ],
        }
