"""Bytes of a saved file → text or JSON, the way people's files really are encoded.

Files reach heartkeep after passing through editors, PowerShell redirects and scripts: a UTF-8
byte-order mark in front (Notepad, Excel's "CSV UTF-8"), UTF-16 with a BOM (`curl … > file` in
Windows PowerShell 5), or a response saved *double-encoded* — `json.dump(response.text, f)`
writes a JSON string whose content is the response.  Every importer decodes through this one
module, so each of those is accepted in every file kind, and a file that still cannot be read
is refused with a description of what it holds instead of a parser's complaint.
"""

from __future__ import annotations

import codecs
from typing import Any

import msgspec
import orjson

from heartkeep.importers.limits import check_json_tokens

MAX_NESTED_ENCODINGS = 3
"""A response JSON-encoded up to this many times over is unwrapped (seen: twice, thrice)."""

# Longest BOMs first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (pass it to `heartkeep import takeout`)"),
    (b"\x1f\x8b", "gzip-compressed data (unpack it first)"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


class TextError(ValueError):
    """Why bytes are not the text or JSON expected; the message says what was found."""


def decode(raw: bytes | bytearray) -> str:
    """The text of a file: UTF-8 (with or without a BOM), UTF-16/32 with a BOM, or UTF-16
    without one when its zero bytes give it away (ASCII text in UTF-16 is every other byte 0).

    Raises `TextError` naming the encoding problem and what the file starts with.
    """
    encoding = _bomless_utf16(raw) or "utf-8"
    body = raw
    for bom, name in _BOMS:
        if raw.startswith(bom):
            encoding, body = name, raw[len(bom) :]
            break
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as error:
        raise TextError(
            f"not {encoding.upper()} text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}; found {describe(raw)})"
        ) from error


def _bomless_utf16(raw: bytes | bytearray) -> str | None:
    head = raw[:64]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\x00") and even.strip(b"\x00"):
        return "utf-16-le"
    if not even.strip(b"\x00") and odd.strip(b"\x00"):
        return "utf-16-be"
    return None


def describe(raw: bytes | bytearray, *, width: int = 40) -> str:
    """A short, printable account of what a file starts with, for error messages."""
    if not raw.strip():
        return "an empty file" if not raw else "only white space"
    for signature, what in _SIGNATURES:
        if raw.startswith(signature):
            return what
    head = raw[: width * 4]
    for bom, name in _BOMS:
        if head.startswith(bom):
            try:
                text = head[len(bom) :].decode(name, errors="replace")
            except LookupError:  # pragma: no cover - every name above is a stdlib codec
                text = ""
            break
    else:
        text = head.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if text.lstrip().startswith("<"):
        return f"HTML or XML (a saved web page or error page?): {_clip(text, width)!r}"
    return repr(_clip(text, width))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "…"


def load_json(raw: bytes | bytearray) -> Any:
    """Parse a JSON file whatever its encoding; unwrap a response saved as a JSON string.

    Raises `TextError` saying what the file holds when it is not JSON, or is a JSON string
    that does not itself hold JSON; `LimitExceeded` for more values than a day file holds.
    """
    check_json_tokens(raw)
    # orjson refuses a BOM; a view past it avoids copying a file of tens of megabytes.
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    data: Any
    try:
        data = _parse(memoryview(raw)[skip:])
    except orjson.JSONDecodeError as error:
        if (
            not any(raw.startswith(bom) for bom, _ in _BOMS)
            and not _bomless_utf16(raw)
            and _is_utf8(raw)
        ):
            raise TextError(f"not valid JSON ({error}; found {describe(raw)})") from error
        data = _loads_text(decode(raw), raw)
    for _ in range(MAX_NESTED_ENCODINGS):
        if not isinstance(data, str):
            return data
        inner = data.strip()
        if not inner.startswith(("{", "[", '"')):
            raise TextError(
                f"the file holds a JSON string, not a response or records (found {describe(raw)})"
            )
        data = _loads_text(inner, raw)
    if isinstance(data, str):
        raise TextError(
            f"JSON encoded more than {MAX_NESTED_ENCODINGS} times over (found {describe(raw)})"
        )
    return data


def _is_utf8(raw: bytes | bytearray) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _loads_text(text: str, raw: bytes | bytearray) -> Any:
    try:
        return _parse(text)
    except orjson.JSONDecodeError as error:
        raise TextError(f"not valid JSON ({error}; found {describe(raw)})") from error


def _parse(document: memoryview | str) -> Any:
    """msgspec first: it keeps integers beyond 64 bits exact, where orjson makes them floats.
    orjson on failure, for its message: it says where a broken file breaks."""
    try:
        return msgspec.json.decode(document)
    except msgspec.DecodeError:
        return orjson.loads(document)


def kind_of(data: Any) -> str:
    """What a parsed JSON document is, in words: for messages about the wrong shape."""
    if isinstance(data, dict):
        keys = ", ".join(repr(key) for key in list(data)[:5])
        more = ", …" if len(data) > 5 else ""
        return f"an object with keys {keys}{more}" if data else "an empty object"
    if isinstance(data, list):
        return f"an array of {len(data)} items"
    return f"a JSON {type(data).__name__} {_clip(repr(data), 40)}"


__all__ = ["MAX_NESTED_ENCODINGS", "TextError", "decode", "describe", "kind_of", "load_json"]
