"""Where `export`, `report` and `plot` write: one rule for every output path.

A temporary file renamed over the destination is the right way to replace a *regular file* (a
failed run never leaves half a file under the requested name), and the wrong way for anything
else: renamed over `/dev/stdout` it once replaced the machine's symlink with a regular file.
So the kind of destination decides:

    `-`                         standard output (binary formats too), never closed
    a symlink, FIFO, device     written through: opened and written in place, never renamed over
    a regular file / nothing    temp file in the same folder, fsync, rename (atomic); new 0600

A reader that stops early (`heartkeep export -o - | head -3`) is not an error: the rest of the
output is dropped quietly, standard output is pointed at /dev/null so the interpreter's final
flush cannot print "Exception ignored", and the command ends normally.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from heartkeep.errors import StoreError

STDOUT = "-"
NEW_FILE_MODE = 0o600


def is_stdout(path: Path | str) -> bool:
    """True for the conventional `-`: write to standard output."""
    return str(path) == STDOUT


def describe(path: Path | str) -> str:
    """How to name the destination in a message: the path, or "standard output" for `-`."""
    return "standard output" if is_stdout(path) else str(path)


def cannot_write(path: Path | str, error: OSError) -> StoreError:
    """The one message for an output that cannot be written (exit 9, disk)."""
    return StoreError(
        f"cannot write {describe(path)}: {error.strerror or error}",
        hint="check that the folder exists and is writable, and that the disk has room",
    )


class Writable(Protocol):
    """What the writers need of their destination: `write(bytes)`.  `Sink` is one."""

    def write(self, data: bytes, /) -> int: ...


class Sink:
    """The binary stream an output is written to, counting bytes (pipes have no size to stat).

    Has `write`, `flush` and `tell`, so Parquet and matplotlib can write to it directly, and
    `closed`/`writable` for the libraries that ask.  `tell()` is the count, never a seek.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.bytes = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        written = self._raw.write(data)
        self.bytes += len(data)
        return written if written is not None else len(data)

    def flush(self) -> None:
        self._raw.flush()

    def tell(self) -> int:
        return self.bytes

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


class OutputTarget:
    """`with OutputTarget(path) as sink:` — write bytes to `sink`; see the module docstring.

    On a clean exit a regular destination is fsynced and renamed into place; on an exception the
    temporary file is removed and whatever `path` named before is untouched.  `OSError`s become
    `StoreError` (exit 9) naming the path; a reader closing standard output early ends the
    block quietly (`reader_left` is then True).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.reader_left = False
        self._temp: Path | None = None
        self._raw: BinaryIO | None = None
        self._sink: Sink | None = None

    @property
    def bytes(self) -> int:
        """Bytes written so far."""
        return self._sink.bytes if self._sink else 0

    def __enter__(self) -> Sink:
        try:
            self._raw = self._open()
        except OSError as error:
            raise cannot_write(self.path, error) from error
        self._sink = Sink(self._raw)
        return self._sink

    def _open(self) -> BinaryIO:
        if is_stdout(self.path):
            sys.stdout.flush()  # text already printed goes first
            return sys.stdout.buffer
        try:
            found = os.lstat(self.path)
        except FileNotFoundError:
            found = None
        if found is not None and not stat.S_ISREG(found.st_mode):
            # A symlink (even one to nothing yet), a FIFO, a device, or a folder (which fails
            # here with "Is a directory"): open in place, never rename over it.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, NEW_FILE_MODE)
            return os.fdopen(fd, "wb")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        self._temp = Path(name)  # mkstemp makes it 0600
        if found is not None:  # replacing: the person's chosen permissions stay
            os.fchmod(fd, stat.S_IMODE(found.st_mode))
        return os.fdopen(fd, "wb")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        raw, temp = self._raw, self._temp
        if raw is None:
            return False
        if is_stdout(self.path):
            return self._finish_stdout(raw, error)
        if isinstance(error, BrokenPipeError):  # a FIFO whose reader left: done, quietly
            self.reader_left = True
            _close_quietly(raw)
            return True
        try:
            if error is None:
                raw.flush()
                if temp is not None:
                    os.fsync(raw.fileno())
            raw.close()
            if error is None and temp is not None:
                os.replace(temp, self.path)
                _fsync_folder(self.path.parent)
                temp = None
        except BrokenPipeError:
            self.reader_left = True
            _close_quietly(raw)
            return True
        except OSError as failure:
            raise cannot_write(self.path, failure) from failure
        finally:
            if temp is not None:
                _close_quietly(raw)
                temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise cannot_write(self.path, error) from error
        return False

    def _finish_stdout(self, raw: BinaryIO, error: BaseException | None) -> bool:
        if error is None:
            try:
                raw.flush()
            except BrokenPipeError as closed:
                error = closed
        if isinstance(error, BrokenPipeError):
            self.reader_left = True
            silence_stdout()
            return True
        if isinstance(error, OSError):
            raise cannot_write(self.path, error) from error
        return False


def _close_quietly(raw: BinaryIO) -> None:
    """Close after a failure; a second failure while closing adds nothing worth reporting."""
    with contextlib.suppress(OSError):
        raw.close()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: some filesystems refuse fsync on folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def silence_stdout() -> None:
    """Point standard output at /dev/null: the reader is gone, and the interpreter's last flush
    must not fail with "Exception ignored ... BrokenPipeError" on stderr."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test runner's buffer): nothing will flush into a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


__all__ = [
    "STDOUT",
    "OutputTarget",
    "Sink",
    "Writable",
    "cannot_write",
    "describe",
    "is_stdout",
    "silence_stdout",
]
