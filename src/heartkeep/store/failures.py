"""What went wrong with the database or its folder, in words a person can act on.

Every `sqlite3` error and every `OSError` the store meets passes through `store_failure`, which
picks one of the `StoreError` subclasses below (all exit 9) by what the person has to do about
it: a damaged file wants a backup or `.recover`, a read-only folder wants permissions or a
remount, a full disk wants space, a locked file wants the other program to finish.  Keeping the
classification here means the wording is the same whichever command met the failure.

A database that does not exist yet is not a store failure but "no data yet" (`NoDatabase`,
exit 10): readers never create files or folders, so a typo'd `--database` says so instead of
quietly making an empty database somewhere.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from heartkeep.errors import NoAccounts, StoreError

RECOVER_HINT = (
    "heartkeep will not write into a damaged file, so nothing gets worse.  Restore the file from "
    "a backup copy, or salvage what SQLite can still read:\n"
    "  sqlite3 {path} .recover | sqlite3 {path}.recovered\n"
    "then move the damaged file aside, put the recovered one in its place and run "
    "`heartkeep sync` to fetch again what the provider still serves."
)


class StoreDamaged(StoreError):
    """The file is a SQLite database whose pages no longer hold together."""

    reason = "damaged"


class NotAHeartkeepFile(StoreError):
    """The path holds something else: not SQLite at all, or another program's SQLite file."""

    reason = "not-heartkeep"


class StoreReadOnly(StoreError):
    """The file or its folder cannot be written (permissions, read-only mount)."""

    reason = "read-only"


class StoreFull(StoreError):
    """The disk (or a quota, or a file-size limit) has no room for what we must write."""

    reason = "full"


class StoreLocked(StoreError):
    """Another program holds a write lock on the file for longer than we wait."""

    reason = "locked"


class StoreUnavailable(StoreError):
    """Any other operating-system or SQLite failure (an unreadable file, an I/O error)."""

    reason = "unavailable"


class NoDatabase(NoAccounts):
    """A reader was pointed at a database that does not exist (yet)."""

    reason = "missing"


_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def damaged(path: Path, detail: str) -> StoreDamaged:
    """The message for a file that fails `PRAGMA quick_check` or breaks while being read."""
    return StoreDamaged(
        f"the database {path} is damaged ({detail})", hint=RECOVER_HINT.format(path=path)
    )


def not_heartkeep(path: Path, detail: str) -> NotAHeartkeepFile:
    return NotAHeartkeepFile(
        f"{path} is not a heartkeep database ({detail})",
        hint="heartkeep leaves other files alone.  Point --database (or HEARTKEEP_DATABASE) at "
        "your heartkeep file, or at a new path to start one.",
    )


def no_database(path: Path) -> NoDatabase:
    folder = path.parent
    where = "" if folder.is_dir() else f" (the folder {folder} does not exist either)"
    return NoDatabase(
        f"no accounts yet: there is no heartkeep database at {path}{where}",
        hint="Check --database / HEARTKEEP_DATABASE for a typo, or create it with "
        "`heartkeep sync` (after `heartkeep auth login`) or `heartkeep import`.",
    )


def read_only(path: Path, detail: str) -> StoreReadOnly:
    return StoreReadOnly(
        f"cannot write to {path}: {detail}",
        hint=f"Make {path.parent} and the files in it writable by you (or remount the disk "
        "read-write), then run the command again; nothing was changed.",
    )


def full(path: Path, detail: str) -> StoreFull:
    return StoreFull(
        f"no room to write {path}: {detail}",
        hint="Free some space on that disk (or raise the quota / file-size limit) and run the "
        "command again; what was committed before stays, the interrupted part is fetched again.",
    )


# Less room than this (a WAL frame batch plus the -shm index) counts as a full disk.
_NEARLY_FULL_BYTES = 1024 * 1024


def _free_bytes(path: Path) -> int:
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return _NEARLY_FULL_BYTES


def _nearly_full(path: Path) -> bool:
    return _free_bytes(path) < _NEARLY_FULL_BYTES


def store_failure(failure: BaseException, path: Path) -> StoreError:
    """Turn a `sqlite3.Error` or `OSError` met while using `path` into the right `StoreError`."""
    if isinstance(failure, StoreError):
        return failure
    detail = str(failure) or type(failure).__name__
    if isinstance(failure, OSError):
        if failure.errno in _READ_ONLY_ERRNOS:
            return read_only(path, detail)
        if failure.errno in _FULL_ERRNOS:
            return full(path, detail)
        return StoreUnavailable(
            f"cannot use {path}: {detail}",
            hint="Check that the disk is attached and readable, then run the command again.",
        )
    text = detail.lower()
    if "readonly" in text or "read-only" in text:
        return read_only(path, detail)
    if "disk is full" in text or "database or disk is full" in text:
        return full(path, detail)
    if "locked" in text or "busy" in text:
        return StoreLocked(
            f"the database {path} is locked by another program ({detail})",
            hint="Close the program that holds it (a sqlite3 shell, a DB browser) or wait for "
            "the running sync to finish, then run the command again.",
        )
    if "not a database" in text or "file is encrypted" in text:
        return not_heartkeep(path, detail)
    if "malformed" in text or "corrupt" in text:
        return damaged(path, detail)
    if "unable to open" in text:
        return StoreUnavailable(
            f"cannot open the database {path} ({detail})",
            hint=f"Check that {path.parent} exists and that you may read and write it.",
        )
    if "disk i/o error" in text and _nearly_full(path):
        # SQLite reports a failed -shm or WAL extension as an I/O error; free space tells why.
        return full(path, f"{detail}; the disk has {_free_bytes(path) // 1024} KiB free")
    if "disk i/o error" in text:
        return StoreUnavailable(
            f"the disk failed while using {path} ({detail})",
            hint="Check the disk (dmesg, free space, a removed drive), then run the command "
            "again; what was committed before stays.",
        )
    if isinstance(failure, sqlite3.DatabaseError) and not isinstance(
        failure, sqlite3.OperationalError | sqlite3.IntegrityError
    ):
        return damaged(path, detail)
    return StoreUnavailable(f"database {path}: {detail}")
