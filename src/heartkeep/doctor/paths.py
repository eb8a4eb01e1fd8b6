"""Where heartkeep keeps things, and whether anyone else can read them.

Heart rate is health data and the vault holds account access: folders should be 0700 and files
0600.  heartkeep creates them that way; a folder made by hand, a restored backup or a copy to
another disk may not be, so the doctor names every path in use and warns about loose ones.
"""

from __future__ import annotations

import stat
from pathlib import Path

from heartkeep.auth.vault import vault_files
from heartkeep.config import Settings
from heartkeep.doctor.findings import Finding

CHECK = "paths"


def check_paths(settings: Settings) -> list[Finding]:
    database = settings.database_path if "://" not in settings.database else None
    folders = [("config", settings.config_dir), ("data", settings.data_dir)]
    folders.append(("vault", settings.vault_dir))
    files: list[tuple[str, Path]] = [
        ("vault file", path) for path in vault_files(settings.vault_dir)
    ]
    if database is not None:
        if database.parent != settings.data_dir:
            folders.append(("database", database.parent))
        files.append(("database", database))
        files += [
            ("database", database.with_name(database.name + suffix)) for suffix in ("-wal", "-shm")
        ]
    findings = [_folder(name, path) for name, path in folders]
    findings += [_file(name, path) for name, path in files if path.exists()]
    return findings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _folder(name: str, path: Path) -> Finding:
    if not path.exists():
        return Finding(CHECK, "ok", f"{name} folder {path} (not created yet)")
    mode = _mode(path)
    if mode & 0o077:
        return Finding(
            CHECK,
            "warning",
            f"{name} folder {path} is {mode:04o}: other users on this machine can look inside",
            f"chmod 700 {path}",
        )
    return Finding(CHECK, "ok", f"{name} folder {path} ({mode:04o})")


def _file(name: str, path: Path) -> Finding:
    mode = _mode(path)
    if mode & 0o077:
        return Finding(
            CHECK,
            "warning",
            f"{name} {path} is {mode:04o}: other users on this machine can read it",
            f"chmod 600 {path}",
        )
    return Finding(CHECK, "ok", f"{name} {path} ({mode:04o})")
