"""Which accounts are connected: the vault files in the vault folder, named by their account.

Kept apart from `vault.py` (reading, locking and writing a vault) because `status` and a
cron-run `sync` only ask which accounts there are, and should not load the vault's hashing,
locking and token handling to learn it (start-up, issue 11).  `vault.py` re-exports these.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from heartkeep.config import Settings

SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
"""A provider name or user id that is safe as part of a file name."""


def account_key_of_file(path: Path) -> str | None:
    """The account a vault file belongs to, from its name alone (`google-health_4809….json`).

    The name is what `Vault` derives from the key, so it names the account even when the content
    is damaged; None for a file whose name is not a vault's.
    """
    provider, separator, user_id = path.stem.partition("_")
    if not separator or not SAFE_ID.match(provider) or not SAFE_ID.match(user_id):
        return None
    return f"{provider}:{user_id}"


def vault_files(directory: Path) -> list[Path]:
    """The vault files in `directory` (temporary and lock files excluded)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob("*.json") if path.is_file())


def connected_accounts(settings: Settings) -> list[str]:
    """Account keys that have a vault on disk, sorted — damaged ones included.

    The key comes from the file's name, so a damaged vault still names its account: the
    commands that use it then say it is damaged and how to recover (`VaultDamaged`), rather
    than claiming nothing is connected.
    """
    keys: set[str] = set()
    for path in vault_files(settings.vault_dir):
        key = account_key_of_file(path)
        if key is None:
            try:  # a vault file renamed by hand: its content may still say whose it is
                key = str(orjson.loads(path.read_bytes())["account_key"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
        keys.add(key)
    return sorted(keys)
