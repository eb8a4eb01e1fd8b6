"""Where an import's files are: zips (split parts too), `.tgz`/`.tar` exports and folders.

`scan()` lists the files heartkeep reads, recognised by *name* wherever they sit in the tree (so
every generation of the Fitbit / Takeout layout works), and keeps each archive open once for the
whole import; members are opened one at a time and streamed, never unpacked to disk.
"""

from __future__ import annotations

import datetime as dt
import re
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO

from heartkeep.errors import ImportFormatError
from heartkeep.importers.limits import check_ratio, unsafe_name


class Kind(Enum):
    """The archive files heartkeep reads."""

    HEART_RATE_JSON = "heart_rate_json"
    HEART_RATE_CSV = "heart_rate_csv"
    RESTING_JSON = "resting_json"
    RESTING_CSV = "resting_csv"
    ZONES_JSON = "zones_json"


_PATTERNS: tuple[tuple[re.Pattern[str], Kind], ...] = (
    (re.compile(r"^heart_rate-(\d{4}-\d{2}-\d{2})\.json$"), Kind.HEART_RATE_JSON),
    (re.compile(r"^heart_rate_(\d{4}-\d{2}-\d{2})\.csv$"), Kind.HEART_RATE_CSV),
    (re.compile(r"^resting_heart_rate-(\d{4}-\d{2}-\d{2})\.json$"), Kind.RESTING_JSON),
    (re.compile(r"^daily_resting_heart_rate(?:_\d{4}-\d{2}-\d{2})?\.csv$"), Kind.RESTING_CSV),
    (re.compile(r"^time_in_heart_rate_zones-(\d{4}-\d{2}-\d{2})\.json$"), Kind.ZONES_JSON),
)


@dataclass(frozen=True, slots=True)
class Member:
    """One file of an archive: its path inside the archive, what it is, and how to open it."""

    name: str
    kind: Kind
    file_date: dt.date | None
    opener: Callable[[], AbstractContextManager[IO[bytes]]]


def classify(name: str) -> tuple[Kind, dt.date | None] | None:
    """The kind of an archive member by its base name, with the date in its name; None to skip."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for pattern, kind in _PATTERNS:
        match = pattern.match(base)
        if match:
            day = dt.date.fromisoformat(match.group(1)) if match.groups() else None
            return kind, day
    return None


class _ZipSource:
    """One zip, opened once and shared by its members (re-reading the central directory of a
    30,000-file archive per member would be quadratic)."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportFormatError(
                f"not a zip or tar archive, nor a folder ({error})", path=str(path)
            ) from error
        self._infos = {info.filename: info for info in self._zip.infolist() if not info.is_dir()}
        self.names = sorted(self._infos)
        _refuse_unsafe(path, self.names)

    def opener(self, name: str) -> Callable[[], AbstractContextManager[IO[bytes]]]:
        info = self._infos[name]

        def open_member() -> AbstractContextManager[IO[bytes]]:
            check_ratio(info.compress_size, info.file_size)
            return self._zip.open(info)

        return open_member

    def close(self) -> None:
        self._zip.close()


class _TarSource:
    """A `.tgz`/`.tar` export, read front to back: members are visited in archive order, so the
    compressed stream is only ever read forwards."""

    def __init__(self, path: Path) -> None:
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
            self._infos = {info.name: info for info in self._tar.getmembers() if info.isfile()}
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ImportFormatError(f"unreadable tar archive ({error})", path=str(path)) from error
        self.names = list(self._infos)
        _refuse_unsafe(path, self.names)

    def opener(self, name: str) -> Callable[[], AbstractContextManager[IO[bytes]]]:
        def open_member() -> AbstractContextManager[IO[bytes]]:
            handle = self._tar.extractfile(self._infos[name])
            if handle is None:
                raise OSError(f"{name} is not a regular file")
            return handle

        return open_member

    def close(self) -> None:
        self._tar.close()


def _refuse_unsafe(path: Path, names: Sequence[str]) -> None:
    """Refuse an archive with a member named outside it (`../x`, `/etc/x`): no export makes one."""
    for name in names:
        if unsafe_name(name):
            raise ImportFormatError(
                f"the archive holds a file named {name!r}, which points outside the archive; "
                "heartkeep refuses such archives (no Fitbit or Google export has one)",
                path=str(path),
            )


@dataclass(slots=True)
class Scan:
    """The files of an import: what heartkeep reads, how many it skips, and the open archives
    (closed by `close()` or by leaving the `with` block)."""

    members: list[Member]
    ignored: int
    _sources: list[_ZipSource | _TarSource]

    def close(self) -> None:
        for source in self._sources:
            source.close()

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan(paths: Sequence[Path]) -> Scan:
    """The files heartkeep reads in these zips, tars or folders, in a stable order.

    Raises `ImportFormatError` for a path that is neither a folder nor a readable archive.
    """
    members: list[Member] = []
    sources: list[_ZipSource | _TarSource] = []
    ignored = 0
    try:
        for path in paths:
            if path.is_dir():
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    found = classify(file.name)
                    if found is None:
                        ignored += 1
                        continue
                    members.append(Member(str(file), found[0], found[1], _file_opener(file)))
                continue
            if not path.is_file():
                raise ImportFormatError("no such file or folder", path=str(path))
            source: _ZipSource | _TarSource
            if zipfile.is_zipfile(path) or not tarfile.is_tarfile(path):
                source = _ZipSource(path)
            else:
                source = _TarSource(path)
            sources.append(source)
            for name in source.names:
                found = classify(name)
                if found is None:
                    ignored += 1
                    continue
                members.append(Member(f"{path}!{name}", found[0], found[1], source.opener(name)))
    except BaseException:
        for opened in sources:
            opened.close()
        raise
    return Scan(members, ignored, sources)


def _file_opener(file: Path) -> Callable[[], AbstractContextManager[IO[bytes]]]:
    return lambda: file.open("rb")


def archive_owner(paths: Sequence[Path]) -> str | None:
    """The person's name where the layout carries it.

    `MyFitbitData/<Name>/…` and `<Name>/user-site-export/` do; Takeout layouts do not.
    """
    for path in paths:
        names: list[str]
        if path.is_dir():
            names = [str(p.relative_to(path.parent)) for p in path.rglob("*") if p.is_dir()]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        elif tarfile.is_tarfile(path):
            with tarfile.open(path, "r:*") as archive:
                names = archive.getnames()
        else:
            continue
        for name in names:
            parts = name.replace("\\", "/").split("/")
            for index, part in enumerate(parts[:-1]):
                if part == "MyFitbitData" and parts[index + 1]:
                    return parts[index + 1]
                if part == "user-site-export" and index > 0:
                    return parts[index - 1]
    return None


__all__ = ["Kind", "Member", "Scan", "archive_owner", "classify", "scan"]
