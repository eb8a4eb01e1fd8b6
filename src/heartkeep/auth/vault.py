"""The token vault: one JSON file per account that never loses a valid refresh token.

Each connected account has `<vault_dir>/<provider>_<user_id>.json` (mode 0600, directory 0700)
holding the OAuth client, the current token pair and bookkeeping (when the refresh token was
issued, the last refresh, a journal of an in-flight refresh, the last access error).  Every write
is atomic: a temporary file in the same directory, fsync, `os.replace`, fsync of the directory —
so after a crash the file is either the old version or the new one, never a mix.  Writers hold an
inter-process `filelock` on `<file>.lock`; `compare_and_set` refuses to overwrite a refresh token
other than the one the caller spent.  The refresh *policy* (when, journaling, replay) lives in
`refresh.py`; this module only keeps the file honest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

# Which accounts have a vault: in a light module of its own (`status` and cron's `sync` ask).
from heartkeep.auth.accounts import SAFE_ID as _SAFE_ID
from heartkeep.auth.accounts import account_key_of_file as account_key_of_file
from heartkeep.auth.accounts import connected_accounts as connected_accounts
from heartkeep.auth.accounts import vault_files as vault_files
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.crashpoints import crash_point
from heartkeep.config import make_private_dir
from heartkeep.errors import NoAccounts, TransientError, VaultDamaged, VaultWriteFailed
from heartkeep.model import TokenSet
from heartkeep.redaction import register_secret

if TYPE_CHECKING:
    import filelock

# Two threads locking one Vault for the first time make one FileLock between them.
_MAKING_LOCK = threading.Lock()

FORMAT_VERSION = 1


def fingerprint(token: str) -> str:
    """A short, non-reversible name for a token, safe to store beside it and to compare."""
    import hashlib  # here: only a refresh needs it, and its import (OpenSSL) is a cron sync's

    return hashlib.sha256(token.encode()).hexdigest()[:16]


class PendingRefresh(msgspec.Struct, frozen=True):
    """Journal of a refresh request that was sent (or about to be) but whose answer is not saved.

    If the process dies, the next run repeats the same refresh request before anything else:
    Google does not rotate refresh tokens, and Fitbit answers an identical request within two
    minutes with the same new pair.
    """

    refresh_token_fingerprint: str
    started_at_s: float


class VaultRecord(msgspec.Struct, frozen=True):
    """Everything the vault keeps for one account."""

    account_key: str
    provider: str
    client: ClientCredentials
    tokens: TokenSet
    created_at_s: float
    refresh_token_issued_at_s: float
    last_refresh_at_s: float | None = None
    pending_refresh: PendingRefresh | None = None
    last_error: str | None = None
    last_error_at_s: float | None = None
    display_name: str = ""
    # The sandbox these tokens came from (None: the real provider), so later commands that are
    # not told about a sandbox still talk to the server that issued the tokens.
    sandbox_url: str | None = None

    def endpoints_base(self, settings_sandbox_url: str | None) -> str | None:
        """The sandbox to use for this account: the configured one, else the issuing one.

        Tokens only ever go to the kind of server that issued them: a real provider's tokens are
        never sent to a sandbox, even with HEARTKEEP_SANDBOX_URL set in the environment.
        """
        if self.sandbox_url is None:
            return None
        return settings_sandbox_url or self.sandbox_url

    def to_json(self) -> bytes:
        tokens = self.tokens
        document: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "account_key": self.account_key,
            "provider": self.provider,
            "display_name": self.display_name,
            "sandbox_url": self.sandbox_url,
            "client": {
                "client_id": self.client.client_id,
                "client_secret": self.client.client_secret,
                "source": self.client.source,
            },
            "tokens": tokens.to_fields(),
            "created_at_s": self.created_at_s,
            "refresh_token_issued_at_s": self.refresh_token_issued_at_s,
            "last_refresh_at_s": self.last_refresh_at_s,
            "pending_refresh": None
            if self.pending_refresh is None
            else {
                "refresh_token_fingerprint": self.pending_refresh.refresh_token_fingerprint,
                "started_at_s": self.pending_refresh.started_at_s,
            },
            "last_error": self.last_error,
            "last_error_at_s": self.last_error_at_s,
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> VaultRecord:
        document = orjson.loads(raw)
        tokens = document["tokens"]
        client = document["client"]
        pending = document.get("pending_refresh")
        record = cls(
            account_key=str(document["account_key"]),
            provider=str(document["provider"]),
            display_name=str(document.get("display_name") or ""),
            sandbox_url=document.get("sandbox_url"),
            client=ClientCredentials(
                client_id=str(client["client_id"]),
                client_secret=client.get("client_secret"),
                source=str(client.get("source") or "vault"),
            ),
            tokens=TokenSet.from_fields(tokens),
            created_at_s=float(document["created_at_s"]),
            refresh_token_issued_at_s=float(document["refresh_token_issued_at_s"]),
            last_refresh_at_s=document.get("last_refresh_at_s"),
            pending_refresh=None
            if not pending
            else PendingRefresh(
                refresh_token_fingerprint=str(pending["refresh_token_fingerprint"]),
                started_at_s=float(pending["started_at_s"]),
            ),
            last_error=document.get("last_error"),
            last_error_at_s=document.get("last_error_at_s"),
        )
        register_secret(record.tokens.access_token)
        register_secret(record.tokens.refresh_token)
        return record


def split_account_key(account_key: str) -> tuple[str, str]:
    """`"google-health:4809…"` → `("google-health", "4809…")`; rejects keys unsafe as file names."""
    provider, _, user_id = account_key.partition(":")
    if not provider or not _SAFE_ID.match(provider) or not _SAFE_ID.match(user_id):
        raise NoAccounts(
            f"{account_key!r} is not an account key",
            hint="Account keys look like google-health:<id>; `heartkeep auth status` lists them.",
        )
    return provider, user_id


def _damage(raw: bytes, failure: Exception) -> str:
    """In a few words, what is wrong with an unreadable vault file."""
    if not raw.strip():
        return "the file is empty"
    if isinstance(failure, orjson.JSONDecodeError):
        return "the file is not valid JSON (cut off or overwritten)"
    return "the file lacks what a vault holds"


def _write_failure(failure: OSError) -> str:
    """Why a write into the vault folder failed, in the person's terms."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the folder is on a read-only file system",
        errno.EACCES: "heartkeep may not write there",
        errno.EPERM: "heartkeep may not write there",
        errno.EFBIG: "the file size limit (ulimit -f) is too small",
    }
    return reasons.get(failure.errno or 0, failure.strerror or str(failure))


class Vault:
    """The file, lock and atomic writes for one account's tokens.

    Read with `load()` (no lock needed: the file is only ever replaced whole).  Change it only
    inside `with vault.lock():`, re-reading first, then `save()` or `compare_and_set()`.
    """

    def __init__(self, directory: Path, account_key: str, *, lock_timeout_s: float = 120.0):
        provider, user_id = split_account_key(account_key)
        self.directory = directory
        self.account_key = account_key
        self.path = directory / f"{provider}_{user_id}.json"
        self.lock_timeout_s = lock_timeout_s
        # Made by the first `lock()`: listing the vaults (`status`) or reading tokens that need
        # no refresh (an up-to-date cron sync) never imports filelock.
        self._lock: filelock.FileLock | None = None

    def __repr__(self) -> str:
        return f"Vault({self.account_key!r}, {str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the inter-process lock of this account (re-entrant within one thread)."""
        import filelock

        with _MAKING_LOCK:
            if self._lock is None:
                self._lock = filelock.FileLock(f"{self.path}.lock", timeout=self.lock_timeout_s)
        try:
            self._ensure_directory()
            self._lock.acquire()
        except OSError as failure:
            raise self._write_failed(failure) from None
        except filelock.Timeout:
            raise TransientError(
                f"another heartkeep process has held the token vault of {self.account_key} for "
                f"more than {self.lock_timeout_s:.0f} s",
                hint="Wait for it to finish and try again.",
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    def load(self) -> VaultRecord:
        """The saved record.  Raises `NoAccounts` if none, `VaultDamaged` if it is unreadable."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise NoAccounts(
                f"{self.account_key} is not connected",
                hint="Run `heartkeep auth login` to connect it.",
            ) from None
        except OSError as failure:  # a folder in its place, no permission, an I/O error
            raise self.damaged(f"it cannot be read: {failure.strerror or failure}") from None
        try:
            return VaultRecord.from_json(raw)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as bad:
            raise self.damaged(_damage(raw, bad)) from None

    def damaged(self, reason: str) -> VaultDamaged:
        """The error for this account's unreadable file, saying how to get access back."""
        provider = self.account_key.partition(":")[0]
        login = "heartkeep auth login" + (" --provider fitbit" if "fitbit" in provider else "")
        return VaultDamaged(
            f"the token vault of {self.account_key} is damaged ({reason}): {self.path}",
            path=str(self.path),
            account_key=self.account_key,
            hint=f"Run `{login}` to connect the account again: it keeps the damaged file "
            f"as {self.path.name}.damaged-<UTC time> and saves new tokens.  To forget the "
            f"account instead: `heartkeep auth logout --local {self.account_key}`.",
        )

    def set_aside(self, now_s: float) -> Path:
        """Rename the (damaged) file to `<file>.damaged-<UTC time>`, kept for inspection.

        The caller holds `lock()` and saves a new record next.  Returns the new name.
        """
        stamp = dt.datetime.fromtimestamp(now_s, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            os.replace(self.path, kept)
            self._fsync_directory()
        except OSError as failure:
            raise self._write_failed(failure) from None
        return kept

    def save(self, record: VaultRecord, *, crash_step: str = "during-write") -> None:
        """Replace the file atomically with `record`.  The caller holds `lock()`.

        `crash_step` names this write for the crash tests (see `crashpoints.py`).
        """
        if record.account_key != self.account_key:
            raise ValueError("record belongs to another account")
        try:
            self._write(record.to_json(), crash_step)
        except OSError as failure:
            raise self._write_failed(failure) from None

    def _write(self, data: bytes, crash_step: str) -> None:
        """The atomic replace: after any failure or crash the old file is still in place."""
        self._ensure_directory()
        self._remove_stale_temporaries()
        # os.urandom, as `secrets.token_hex` does, without loading `secrets` (hmac, hashlib) for it
        temporary = self.path.with_name(f"{self.path.name}.{os.urandom(4).hex()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                half = len(data) // 2
                handle.write(data[:half])
                handle.flush()
                crash_point(crash_step)
                handle.write(data[half:])
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        self._fsync_directory()

    def compare_and_set(self, spent_refresh_token: str | None, record: VaultRecord) -> bool:
        """Save `record` only if the file still holds `spent_refresh_token`; False otherwise.

        The caller holds `lock()`; a False means some writer ignored the lock, and the caller
        must re-read rather than overwrite a refresh token it never saw.
        """
        if self.exists() and self.load().tokens.refresh_token != spent_refresh_token:
            return False
        self.save(record)
        return True

    def _write_failed(self, failure: OSError) -> VaultWriteFailed:
        kept = (
            f"{self.path.name} is unchanged and its tokens still work."
            if self.path.is_file()
            else "Nothing was saved."
        )
        return VaultWriteFailed(
            f"cannot save the token vault of {self.account_key} in {self.directory}: "
            f"{_write_failure(failure)}",
            hint=f"{kept}  Free some space or make the folder writable, then run the command "
            "again.",
        )

    def delete(self) -> None:
        """Forget this account's tokens (the caller holds `lock()` and has revoked them)."""
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self._remove_stale_temporaries()
            self._fsync_directory()
        except OSError as failure:
            raise self._write_failed(failure) from None

    def _ensure_directory(self) -> None:
        if not self.directory.is_dir():
            # The data folder above the vault is created private too (0700), not 0755.
            make_private_dir(self.directory)
            os.chmod(self.directory, 0o700)

    def _remove_stale_temporaries(self) -> None:
        # Left behind only by a process killed mid-write; the real file is intact.
        for leftover in self.directory.glob(f"{self.path.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def _fsync_directory(self) -> None:
        if os.name != "posix":
            return
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
