"""Settings: flag > environment (`HEARTKEEP_*`) > `config.toml` in the user's config dir > default.

Read once at the edge (the CLI, `api.py`) and passed down as a `Settings` value; nothing below
reads the environment itself.  Directories follow the platform's conventions (platformdirs);
tests point `HEARTKEEP_HOME` at a temporary folder so nothing touches the real home directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from heartkeep.errors import ConfigError

APP = "heartkeep"


class Settings(msgspec.Struct, frozen=True):
    """Everything configurable.  Paths are absolute once loaded."""

    data_dir: Path
    config_dir: Path
    database: str = ""
    trailing_days: int = 3
    google_client_file: Path | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
    fitbit_client_id: str | None = None
    fitbit_client_secret: str | None = None
    sandbox_url: str | None = None
    callback_port: int = 0
    http_timeout_s: float = 30.0
    # Google's per-user quota depends on whether the OAuth app passed verification: "unverified"
    # (every personal client in 'Testing', 2.5 requests/s) or "verified" (5 requests/s).
    app_class: str = "unverified"
    # Where `app_class` came from ("default", "config file", "environment", "override"): not a
    # setting itself, so `doctor` and `auth status` can say why a quota is assumed.
    app_class_source: str = "default"

    @property
    def vault_dir(self) -> Path:
        return self.data_dir / "vault"

    @property
    def database_path(self) -> Path:
        """The SQLite file (the default store) when `database` is a path, not a URL."""
        if "://" in self.database:
            raise ConfigError(f"database {self.database!r} is a URL, not a SQLite path")
        return Path(self.database)


_ENV_PREFIX = "HEARTKEEP_"
_PATH_FIELDS = {"data_dir", "config_dir", "google_client_file"}
_INT_FIELDS = {"trailing_days", "callback_port"}
_FLOAT_FIELDS = {"http_timeout_s"}
_DERIVED_FIELDS = {"app_class_source"}
APP_CLASSES = ("unverified", "verified")


def _coerce(name: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        if name in _PATH_FIELDS:
            return Path(str(value)).expanduser().resolve()
        if name in _INT_FIELDS:
            return int(value)
        if name in _FLOAT_FIELDS:
            return float(value)
        if name == "database" and "://" not in str(value):
            return str(Path(str(value)).expanduser())
    except (ValueError, RuntimeError) as error:  # RuntimeError: `~nosuchuser` in a path
        raise ConfigError(f"setting {name} = {value!r} is not valid: {error}") from error
    return str(value)


def default_dirs(env: Mapping[str, str]) -> tuple[Path, Path]:
    """Data and config dirs: under `HEARTKEEP_HOME` if set (tests, portable installs)."""
    home = env.get("HEARTKEEP_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return root / "data", root / "config"
    return Path(platformdirs.user_data_dir(APP)), Path(platformdirs.user_config_dir(APP))


def load_settings(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Merge the four layers.  Unknown keys in the TOML file are an error, not a silent typo."""
    env = os.environ if env is None else env
    data_dir, config_dir = default_dirs(env)
    names = {f.name for f in msgspec.structs.fields(Settings)} - _DERIVED_FIELDS
    values: dict[str, Any] = {}
    app_class_source = "default"

    config_dir = Path(env.get("HEARTKEEP_CONFIG_DIR", config_dir))
    toml_path = config_dir / "config.toml"
    if toml_path.exists():
        import tomllib  # only when there is a file to read: most installs have none

        try:
            table = tomllib.loads(toml_path.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{toml_path}: {error}") from error
        unknown = set(table) - names
        if unknown:
            raise ConfigError(f"{toml_path}: unknown settings {sorted(unknown)}")
        values.update(table)
        if "app_class" in table:
            app_class_source = f"config file {toml_path}"
    for name in names:
        key = _ENV_PREFIX + name.upper()
        if key in env:
            values[name] = env[key]
            if name == "app_class":
                app_class_source = f"environment {key}"
    for name, value in (overrides or {}).items():
        if name not in names:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
            if name == "app_class":
                app_class_source = "command line"

    coerced = {name: _coerce(name, value) for name, value in values.items()}
    settings = Settings(data_dir=data_dir, config_dir=config_dir)
    settings = msgspec.structs.replace(settings, **coerced, app_class_source=app_class_source)
    if settings.app_class not in APP_CLASSES:
        raise ConfigError(
            f"setting app_class = {settings.app_class!r} ({app_class_source}) is not valid",
            hint="Use 'unverified' (a personal OAuth client in Testing; the default) or "
            "'verified' (an app that passed Google's verification).",
        )
    if not settings.database:
        settings = msgspec.structs.replace(
            settings, database=str(settings.data_dir / "heartkeep.sqlite")
        )
    return settings


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parents readable by the owner only (0700).

    Heart rate and tokens are health and account data: the folders heartkeep creates for them
    are the owner's alone.  Folders that already exist are left as they are (tightening a
    person's own `~/Documents` behind their back would surprise them; `heartkeep doctor` warns
    about loose ones instead).  Raises `OSError` like `Path.mkdir`.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
