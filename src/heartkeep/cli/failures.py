"""What an exception that is not a `HeartkeepError` means to the person who ran the command.

The library raises `HeartkeepError`s for the failures it foresees.  Whatever else reaches the
CLI — a file the operating system refused, Ctrl-C, a bug — is translated here into the error
class whose exit status and advice fit, so that no user ever sees a traceback (`--verbose`
still shows one for a bug, to report it).
"""

from __future__ import annotations

import errno
import sys

from heartkeep.errors import (
    ConfigError,
    HeartkeepError,
    InternalError,
    Interrupted,
    StoreError,
)

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_ALLOWED = {errno.EACCES, errno.EPERM}
_PORT_TAKEN = {errno.EADDRINUSE, errno.EADDRNOTAVAIL}


def interrupted() -> Interrupted:
    return Interrupted(
        "interrupted: stopped before finishing.",
        hint=(
            "What was already saved stays saved; run the command again to continue "
            "(a sync resumes where it stopped)."
        ),
    )


def _where(error: OSError) -> str:
    names = [str(name) for name in (error.filename, error.filename2) if name is not None]
    return " → ".join(names) if names else "a file or folder"


def from_os_error(error: OSError) -> HeartkeepError:
    """A refusal by the operating system, as the store/disk error it almost always is."""
    reason = error.strerror or str(error)
    where = _where(error)
    if error.errno in _PORT_TAKEN:
        return ConfigError(
            f"cannot listen on that port: {reason}.",
            hint="Choose another --port, or 0 to let the system pick a free one.",
        )
    if error.errno in _DISK_FULL:
        hint = "The disk (or your quota) is full: free some space and run the command again."
    elif error.errno in _NOT_ALLOWED:
        hint = "You may not write there: choose a folder you own, or fix its permissions."
    elif error.errno == errno.EROFS:
        hint = "That file system is read-only: choose a folder on a writable disk."
    elif error.errno in (errno.ENOENT, errno.ENOTDIR):
        hint = "Check the path: a folder on the way does not exist or is a file."
    elif error.errno == errno.EISDIR:
        hint = "That path is a folder; give a file name."
    else:
        hint = "Check the path, its permissions and the free disk space."
    return StoreError(f"cannot use {where}: {reason}.", hint=hint)


def translate(error: BaseException) -> HeartkeepError:
    """The `HeartkeepError` that stands for `error` at the command line."""
    if isinstance(error, HeartkeepError):
        return error
    if isinstance(error, KeyboardInterrupt):
        return interrupted()
    if isinstance(error, OSError):
        return from_os_error(error)
    # Only a program that loaded sqlite3 can have failed in it: a `--help` or a `sync` with
    # nothing connected need not load it to be sure.
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(error, sqlite3.Error):
        return StoreError(
            f"the database failed: {error}.",
            hint="Run `heartkeep doctor` to check it; restore it from a backup if it is damaged.",
        )
    return InternalError(
        f"heartkeep failed unexpectedly ({type(error).__name__}: {error}).",
        hint="This is a bug: run the command again with --verbose and report what it prints.",
    )
