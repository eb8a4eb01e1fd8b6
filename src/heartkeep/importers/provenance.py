"""The identity of an import: each file given on the command line by its sha256 digest.

Why digests and not names: a re-download of the same archive keeps its content but not always
its name, and a corrected `--time-zone` must find the earlier import of the same files to
replace it.  A folder's digest covers every file below it (relative names and contents), so an
unpacked archive is recognised too.  Files are read in 1 MiB chunks: memory stays flat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from heartkeep.errors import ImportFormatError
from heartkeep.store.protocol import ImportFile, Provenance

_CHUNK = 1 << 20


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def describe(path: Path) -> ImportFile:
    """`path` (a file or a folder) as name, sha256 and size in bytes."""
    try:
        if path.is_dir():
            folder = hashlib.sha256()
            total = 0
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                sha, size = _file_digest(file)
                folder.update(f"{file.relative_to(path).as_posix()}\0{sha}\n".encode())
                total += size
            return ImportFile(path.name, folder.hexdigest(), total)
        sha, size = _file_digest(path)
        return ImportFile(path.name, sha, size)
    except OSError as failure:
        raise ImportFormatError(
            f"cannot read the file ({failure.strerror})", path=str(path)
        ) from None


def provenance(kind: str, time_zone: str, paths: Sequence[Path]) -> Provenance:
    """The provenance of an import of `paths` read in `time_zone`."""
    return Provenance(kind=kind, time_zone=time_zone, files=tuple(describe(p) for p in paths))
