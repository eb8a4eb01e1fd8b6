"""Keyset parsing and signature checks by property: a signature is accepted only for the exact
body and key that made it, and no header or keyset, however mangled, raises anything but
KeysetError (for keysets) or verifies as True."""

from __future__ import annotations

import base64

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.sandbox.signing import WebhookSigner
from heartkeep.study import Keyset, KeysetError, parse_keyset

SIGNER = WebhookSigner()
KEYSET = parse_keyset(orjson.dumps(SIGNER.public_keyset()))


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_a_signature_verifies_its_body_only(body: bytes, other: bytes) -> None:
    header = SIGNER.sign(body)
    assert KEYSET.verify(header, body)
    assert KEYSET.verify(header, other) == (other == body)


@given(st.text(max_size=200) | st.binary(max_size=120).map(lambda b: base64.b64encode(b).decode()))
def test_a_mangled_header_never_verifies(header: str) -> None:
    assert not KEYSET.verify(header, b'{"data": {}}')


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_a_signature_naming_another_key_id_fails(key_id: int) -> None:
    raw = base64.b64decode(SIGNER.sign(b"x"))
    forged = base64.b64encode(raw[:1] + key_id.to_bytes(4, "big") + raw[5:]).decode()
    assert KEYSET.verify(forged, b"x") == (key_id == SIGNER.key_id)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_arbitrary_json_is_a_keyset_error(value: object) -> None:
    for candidate in (value, {"key": value}, {"key": [value]}):
        with pytest.raises(KeysetError):
            parse_keyset(orjson.dumps(candidate))


@given(st.binary(max_size=200))
def test_arbitrary_key_material_is_a_keyset_error(material: bytes) -> None:
    document = SIGNER.public_keyset()
    document["key"][0]["keyData"]["value"] = base64.b64encode(material).decode()
    with pytest.raises(KeysetError):
        parse_keyset(orjson.dumps(document))


def test_disabled_keys_and_other_key_types_are_not_used() -> None:
    document = SIGNER.public_keyset()
    disabled = {**document["key"][0], "status": "DISABLED"}
    other_type = {
        **document["key"][0],
        "keyData": {**document["key"][0]["keyData"], "typeUrl": "type.googleapis.com/x"},
    }
    for key in (disabled, other_type):
        with pytest.raises(KeysetError):
            parse_keyset(orjson.dumps({**document, "key": [key]}))
    assert isinstance(parse_keyset(orjson.dumps(document)), Keyset)
