"""Sealing OAuth tokens for the study database: AES-256-GCM with keys the operator holds.

Why: a study's database holds thousands of participants' refresh tokens, each a key to their
health data; a stolen backup or a read-only SQL account must not be enough to use them.  So a
token pair is stored only sealed: AES-GCM (`cryptography`) with a random 96-bit nonce, the
account key as associated data (a sealed pair copied onto another participant's row does not
open), and the id of the key that sealed it, so keys can be rotated.

Keys come from the environment, never from the database: `HEARTKEEP_STUDY_TOKEN_KEYS` (or a
file named by `HEARTKEEP_STUDY_TOKEN_KEYS_FILE`) holds one or more base64 keys of 32 bytes,
comma- or line-separated; the first seals, all open.  Rotation: put a new key first, keep the
old ones after it, run `PostgresStore.reseal_tokens()`, then drop the old keys
(docs/studies.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heartkeep.errors import ConfigError, StoreError
from heartkeep.model import TokenSet

KEYS_VARIABLE = "HEARTKEEP_STUDY_TOKEN_KEYS"
KEYS_FILE_VARIABLE = "HEARTKEEP_STUDY_TOKEN_KEYS_FILE"
NONCE_BYTES = 12
_VERSION = b"\x01"


def new_key() -> str:
    """A fresh key, base64, for `HEARTKEEP_STUDY_TOKEN_KEYS`."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def key_id(key: bytes) -> str:
    """A short public name of a key (not a secret: a hash prefix), stored beside each seal."""
    return hashlib.sha256(b"heartkeep token key\x00" + key).hexdigest()[:12]


class TokenCipher:
    """Seals and opens `TokenSet`s; the first key seals, every key opens."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigError(
                "no key to encrypt participants' tokens with",
                hint=f"Set {KEYS_VARIABLE} (or {KEYS_FILE_VARIABLE}) to a base64 key of 32 "
                "bytes, e.g. from `python -c 'from heartkeep.store.token_cipher import "
                "new_key; print(new_key())'`.",
            )
        for key in keys:
            if len(key) != 32:
                raise ConfigError(f"a token key must be 32 bytes, not {len(key)}")
        self._keys = {key_id(key): AESGCM(key) for key in keys}
        self.current_id = key_id(keys[0])

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TokenCipher:
        """The keys in `HEARTKEEP_STUDY_TOKEN_KEYS`, else in the file `..._KEYS_FILE` names."""
        env = os.environ if environ is None else environ
        text = env.get(KEYS_VARIABLE, "")
        if not text and env.get(KEYS_FILE_VARIABLE):
            path = Path(env[KEYS_FILE_VARIABLE]).expanduser()
            try:
                text = path.read_text()
            except OSError as failure:
                raise ConfigError(f"cannot read the token keys file {path}: {failure}") from failure
        keys = []
        for part in text.replace(",", "\n").split():
            try:
                keys.append(base64.b64decode(part, validate=True))
            except binascii.Error as failure:
                raise ConfigError(f"{KEYS_VARIABLE}: a key is not valid base64") from failure
        return cls(keys)

    def seal(self, account_key: str, tokens: TokenSet) -> tuple[str, bytes]:
        """(key id, sealed bytes) of a token pair for this account."""
        plain = orjson.dumps(tokens.to_fields())
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_id].encrypt(nonce, plain, account_key.encode())
        return self.current_id, _VERSION + nonce + sealed

    def open(self, account_key: str, used_key: str, sealed: bytes) -> TokenSet:
        """The token pair sealed for this account; `StoreError` if no key opens it."""
        aead = self._keys.get(used_key)
        if aead is None:
            raise StoreError(
                f"the tokens of {account_key} were sealed with key {used_key}, which is not "
                f"among {KEYS_VARIABLE}",
                hint="Add that key back (after the current one) and reseal the tokens.",
            )
        if sealed[:1] != _VERSION:
            raise StoreError(f"the tokens of {account_key} are in an unknown format")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            fields = orjson.loads(aead.decrypt(nonce, body, account_key.encode()))
        except InvalidTag as failure:
            raise StoreError(
                f"the tokens of {account_key} do not open with key {used_key}: damaged, "
                "or sealed for another participant"
            ) from failure
        return TokenSet.from_fields(fields)
