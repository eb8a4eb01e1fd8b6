"""The records of an import (issue 10): its files, provenance, what its write did, the recorded
run and what an undo took out.

Apart from the store's contract (`store/protocol.py`, which re-exports them) because only the
imports use them: each frozen dataclass costs its definition at start-up, and `status` or a
cron-run `sync` loads the store but never imports (issue 11).  `import_record.py` and
`sqlite_imports.py` load this module in the methods that make these records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImportFile:
    """One file (or folder) given to an import, by its content: name, sha256 and size."""

    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True)
class Provenance:
    """What an import reads and how: its kind, the zone its times were read in, its files.

    `digest` (sha256 over the sorted file digests) is the import's identity: the same files, in
    any order, give the same digest, so importing them again replaces the earlier import.
    """

    kind: str
    time_zone: str
    files: tuple[ImportFile, ...]

    @property
    def digest(self) -> str:
        import hashlib  # here: loading it (OpenSSL) was a tenth of `status`'s start-up

        joined = "\n".join(sorted(f.sha256 for f in self.files))
        return hashlib.sha256(joined.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ImportWrite:
    """What an import's write did under the precedence rule (`heartkeep.store.precedence`).

    `inserted`: new rows.  `replaced`: archive rows of another import it won over (kept aside
    for `undo`).  `kept`: its readings that lost to a stored row (synced, or a larger archive
    value).  `merged`: readings of one file in a second already taken by that file.
    `conflicts`: seconds or days where its own files disagreed (the winner is stored).
    """

    inserted: int = 0
    replaced: int = 0
    kept: int = 0
    merged: int = 0
    conflicts: int = 0

    def __add__(self, other: ImportWrite) -> ImportWrite:
        return ImportWrite(
            self.inserted + other.inserted,
            self.replaced + other.replaced,
            self.kept + other.kept,
            self.merged + other.merged,
            self.conflicts + other.conflicts,
        )


@dataclass(frozen=True, slots=True)
class ImportRun:
    """One import as recorded: when, what, in which zone, and what it did."""

    import_id: int
    account_key: str
    imported_s: int
    kind: str
    time_zone: str
    files: tuple[ImportFile, ...]
    digest: str
    samples_read: int
    samples: ImportWrite
    dailies: int
    first_s: int | None = None
    last_s: int | None = None


@dataclass(frozen=True, slots=True)
class UndoResult:
    """What `undo_import` took out and what it put back."""

    import_id: int
    samples_removed: int
    dailies_removed: int
    samples_restored: int
    dailies_restored: int
