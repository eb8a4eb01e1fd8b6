"""A study's settings: one TOML file, overridden by environment variables.

Why one file: a study runs `serve` on one host and `worker` on many; each reads the same file
(copied, or on a shared volume), and a host that must not keep a secret on disk gets it from
its environment instead.  Precedence, highest first: the environment
(`HEARTKEEP_STUDY_<SETTING>`, e.g. `HEARTKEEP_STUDY_DATABASE_URL`; `SETTINGS` names each),
then the file, then the defaults below.  The token keys keep the names the store reads
(`HEARTKEEP_STUDY_TOKEN_KEYS`, then `HEARTKEEP_STUDY_TOKEN_KEYS_FILE`, which is also the
variable of the file's `[tokens] keys_file`).

The file's place: `--config PATH`, else `HEARTKEEP_STUDY_CONFIG`, else `study.toml` in
heartkeep's config folder.  Paths inside it are relative to the file.  `heartkeep study init`
writes a commented one with fresh secrets (`config_template.py`).  Everything wrong with it is
a `ConfigError` (exit 3) naming the file, the setting and the variable that would override it
— never a secret's value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from heartkeep.auth.client_secrets import read_client_file
from heartkeep.auth.endpoints import ProviderEndpoints, endpoints_for
from heartkeep.config import APP_CLASSES, default_dirs
from heartkeep.errors import ConfigError
from heartkeep.redaction import register_secret
from heartkeep.store.token_cipher import KEYS_FILE_VARIABLE, KEYS_VARIABLE, TokenCipher

CONFIG_VARIABLE = "HEARTKEEP_STUDY_CONFIG"
ENV_PREFIX = "HEARTKEEP_STUDY_"
CONFIG_NAME = "study.toml"
MAX_INVITE_VALID_DAYS = 365
"""An invite link works a year at most: a link is a key to enrol, and an expiry past what
dates can hold (year 9999) would fail where the link is made."""
MAX_WORKER_CONCURRENCY = 64
"""Sync jobs one worker process runs at once, at most: each slot holds a database connection
(PostgreSQL allows 100 by default) and a thread; more throughput comes from more processes."""


@dataclass(frozen=True)
class Setting:
    """One setting: where it sits in the file, its type, and whether a study needs it."""

    section: str
    key: str
    kind: type
    required: bool = False
    secret: bool = False
    path: bool = False
    variable: str = ""  # HEARTKEEP_STUDY_<FIELD>, filled in below


# The field of `StudyConfig` each setting fills, in the order the template writes them.
SETTINGS: dict[str, Setting] = {
    "name": Setting("study", "name", str, required=True),
    "consent_file": Setting("study", "consent_file", str, required=True, path=True),
    "app_class": Setting("study", "app_class", str),
    "database_url": Setting("database", "url", str, required=True, secret=True),
    "token_keys_file": Setting("tokens", "keys_file", str, path=True),
    "sandbox_url": Setting("provider", "sandbox_url", str),
    "client_id": Setting("provider", "client_id", str),
    "client_secret": Setting("provider", "client_secret", str, secret=True),
    "client_secrets_file": Setting("provider", "client_secrets_file", str, path=True),
    "public_base_url": Setting("web", "public_base_url", str, required=True),
    "listen_host": Setting("web", "listen_host", str),
    "listen_port": Setting("web", "listen_port", int),
    "webhook_authorization": Setting(
        "web", "webhook_authorization", str, required=True, secret=True
    ),
    "invite_signing_key": Setting("web", "invite_signing_key", str, required=True, secret=True),
    "invite_valid_days": Setting("web", "invite_valid_days", int),
    "coordinator_user": Setting("coordinator", "user", str),
    "coordinator_password_hash": Setting("coordinator", "password_hash", str, required=True),
    "worker_concurrency": Setting("worker", "concurrency", int),
}
SETTINGS = {
    name: replace(setting, variable=ENV_PREFIX + name.upper()) for name, setting in SETTINGS.items()
}


@dataclass(frozen=True)
class StudyConfig:
    """A study's settings, checked and with absolute paths.  Secrets are left out of `repr`
    and registered for redaction as soon as they are read."""

    path: Path
    name: str
    consent_file: Path
    database_url: str = field(repr=False)
    public_base_url: str
    webhook_authorization: str = field(repr=False)
    invite_signing_key: str = field(repr=False)
    coordinator_password_hash: str = field(repr=False)
    app_class: str = "unverified"
    token_keys_file: Path | None = None
    sandbox_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_secrets_file: Path | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    invite_valid_days: int = 14
    coordinator_user: str = "coordinator"
    worker_concurrency: int = 4
    # Where each setting came from ("file", "environment VAR", "default"), for `study doctor`.
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # The token-key variables as read at load time (the store reads nothing itself here).
    token_key_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def consent_text(self) -> str:
        """The consent text participants read; `ConfigError` if the file cannot be read."""
        try:
            text = self.consent_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as failure:
            raise ConfigError(
                f"{self.path}: cannot read the consent text {self.consent_file}: {failure}",
                hint=f"Write the study's consent text there, or point [study] consent_file "
                f"(or {SETTINGS['consent_file'].variable}) at it.",
            ) from failure
        if not text.strip():
            raise ConfigError(f"{self.path}: the consent text {self.consent_file} is empty")
        return text

    def token_cipher(self) -> TokenCipher:
        """The keys that seal participants' tokens: `HEARTKEEP_STUDY_TOKEN_KEYS`, else the file
        `HEARTKEEP_STUDY_TOKEN_KEYS_FILE` names, else `[tokens] keys_file`."""
        env = dict(self.token_key_env)
        if not env.get(KEYS_VARIABLE) and not env.get(KEYS_FILE_VARIABLE) and self.token_keys_file:
            env[KEYS_FILE_VARIABLE] = str(self.token_keys_file)
        try:
            return TokenCipher.from_environment(env)
        except ConfigError as failure:
            raise self._keys_problem(env, failure) from failure

    def _keys_problem(self, env: Mapping[str, str], failure: ConfigError) -> ConfigError:
        """The cipher's complaint, naming where the keys were read (the variable, or the file
        and the setting or variable that names it) and what to do: the keys cannot be made
        again, so the advice is to restore them, never to generate new ones."""
        if env.get(KEYS_VARIABLE):
            source = f"the token keys in {KEYS_VARIABLE}"
        elif env.get(KEYS_FILE_VARIABLE):
            named_by = (
                f"{KEYS_FILE_VARIABLE}"
                if self.token_key_env.get(KEYS_FILE_VARIABLE)
                else f"[tokens] keys_file in {self.path}"
            )
            source = f"the token keys file {env[KEYS_FILE_VARIABLE]} (named by {named_by})"
        else:
            return ConfigError(
                f"{self.path}: no token keys configured",
                hint="Set [tokens] keys_file (the file `heartkeep study init` wrote), or "
                f"{KEYS_FILE_VARIABLE} or {KEYS_VARIABLE}.",
            )
        cause = failure.__cause__
        if isinstance(cause, OSError):
            reason = f"cannot be read ({cause.strerror or cause})"
        elif "no key" in failure.message:
            reason = "holds no key"
        else:
            reason = failure.message.removeprefix(f"{KEYS_VARIABLE}: ")
        return ConfigError(
            f"{source}: {reason}",
            hint="Restore the keys from your backup: participants' tokens were sealed with "
            "them and open with nothing else (a new key would leave every participant to be "
            "invited again).  One base64 key of 32 bytes a line, the sealing one first "
            '(docs/studies.md, section "Participants\' tokens, sealed").',
        )

    def token_keys(self) -> list[str]:
        """The token keys as base64 text, the sealing one first (what a worker is given);
        `ConfigError` as `token_cipher` when they are missing or malformed."""
        self.token_cipher()  # checks them, and reads the same source as below
        env = dict(self.token_key_env)
        text = env.get(KEYS_VARIABLE, "")
        if not text:
            source = env.get(KEYS_FILE_VARIABLE) or str(self.token_keys_file or "")
            text = Path(source).expanduser().read_text()
        return text.replace(",", "\n").split()

    def client(self) -> tuple[str, str]:
        """The web client's (id, secret): the settings, else the client-secrets JSON file."""
        if self.client_id and self.client_secret:
            return self.client_id, self.client_secret
        if self.client_secrets_file is not None:
            credentials = read_client_file(self.client_secrets_file)
            if credentials.client_secret:
                return credentials.client_id, credentials.client_secret
        raise ConfigError(
            f"{self.path}: no OAuth web client configured",
            hint="Set [provider] client_id and client_secret (or "
            f"{SETTINGS['client_id'].variable} and {SETTINGS['client_secret'].variable}), or "
            "client_secrets_file = the JSON Google Cloud Console gives for a Web application "
            "client (docs/studies.md).",
        )

    def endpoints(self) -> ProviderEndpoints:
        """Google's OAuth and Health API endpoints, or the sandbox's when `sandbox_url` is set."""
        return endpoints_for("google", self.sandbox_url or None)

    @property
    def redirect_uri(self) -> str:
        """Where Google sends participants back: register exactly this on the web client."""
        from heartkeep.study.web_context import CALLBACK_PATH

        return self.public_base_url.rstrip("/") + CALLBACK_PATH


def config_path(given: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The file to use: `given`, else `HEARTKEEP_STUDY_CONFIG`, else the config folder's."""
    env = os.environ if env is None else env
    if given is not None:
        return given.expanduser().resolve()
    if env.get(CONFIG_VARIABLE):
        return Path(env[CONFIG_VARIABLE]).expanduser().resolve()
    return default_dirs(env)[1] / CONFIG_NAME


def load_study_config(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> StudyConfig:
    """Read, merge and check the study's settings.  `ConfigError` (exit 3) for a missing or
    unreadable file, bad TOML, an unknown setting, a missing required one or a bad value."""
    env = os.environ if env is None else env
    where = config_path(path, env)
    table = _read(where)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    known: dict[tuple[str, str], str] = {(s.section, s.key): name for name, s in SETTINGS.items()}
    for section, entries in table.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: {section!r} must be a [section], not a value")
        for key, value in entries.items():
            name = known.get((section, key))
            if name is None:
                raise ConfigError(
                    f"{where}: unknown setting [{section}] {key}",
                    hint="See the comments `heartkeep study init` writes, or docs/studies.md.",
                )
            values[name] = _typed(where, SETTINGS[name], value, "in the file")
            sources[name] = "file"
    for name, setting in SETTINGS.items():
        if setting.variable in env:
            values[name] = _typed(where, setting, env[setting.variable], setting.variable)
            sources[name] = f"environment {setting.variable}"
    for name, setting in SETTINGS.items():
        if setting.required and not values.get(name):
            raise ConfigError(
                f"{where}: [{setting.section}] {setting.key} is missing",
                hint=f"Set it in the file or in {setting.variable}.",
            )
        if setting.secret and values.get(name):
            register_secret(str(values[name]))
        if setting.path and values.get(name):
            # in the file: relative to the file; in the environment: to the working folder
            base = where.parent if sources.get(name) == "file" else Path.cwd()
            values[name] = (base / Path(values[name]).expanduser()).resolve()
        if name not in values:
            sources[name] = "default"
    values = {name: value for name, value in values.items() if value not in ("", None)}
    config = StudyConfig(
        path=where,
        sources=sources,
        token_key_env={k: env[k] for k in (KEYS_VARIABLE, KEYS_FILE_VARIABLE) if k in env},
        **values,
    )
    _check(config)
    return config


def _read(where: Path) -> dict[str, Any]:
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no study configuration at {where}",
            hint="Create one with `heartkeep study init` (or give --config PATH, or set "
            f"{CONFIG_VARIABLE}).",
        ) from None
    except (OSError, UnicodeDecodeError) as failure:
        raise ConfigError(f"cannot read the study configuration {where}: {failure}") from failure
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as failure:
        raise ConfigError(
            f"{where} is not valid TOML: {failure}",
            hint="Fix the line it names (strings need quotes).",
        ) from failure


def _typed(where: Path, setting: Setting, value: object, origin: str) -> object:
    """`value` as the setting's type; environment values arrive as strings."""
    label = f"[{setting.section}] {setting.key} ({origin})"
    if setting.kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: {label} must be a whole number")
        try:
            return int(str(value))
        except ValueError:
            raise ConfigError(f"{where}: {label} must be a whole number") from None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {label} must be a string (in quotes)")
    return value


def _check(config: StudyConfig) -> None:
    where = config.path
    if config.app_class not in APP_CLASSES:
        raise ConfigError(
            f"{where}: [study] app_class = {config.app_class!r} is not valid",
            hint="Use 'unverified' (Google has not verified the OAuth app: 100 users at most, "
            "2.5 requests/s each) or 'verified'.",
        )
    for name in ("public_base_url", "sandbox_url"):
        url = getattr(config, name)
        if url and not url.startswith(("http://", "https://")):
            setting = SETTINGS[name]
            raise ConfigError(
                f"{where}: [{setting.section}] {setting.key} = {url!r} is not an http(s) URL"
            )
    if not config.database_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            f"{where}: [database] url must be a postgresql:// URL",
            hint="A study keeps its data in PostgreSQL, e.g. "
            "postgresql://heartkeep@db.example.org/study.",
        )
    if not _parses_as_libpq(config.database_url):
        raise ConfigError(
            f"{where}: [database] url ({config.sources.get('database_url', 'file')}) is not a "
            "PostgreSQL URL libpq can read",
            hint="The form is postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (percent-encode "
            "special characters in the password).",
        )
    if not 0 <= config.listen_port <= 65_535:
        raise ConfigError(f"{where}: [web] listen_port {config.listen_port} is not a port")
    if not 1 <= config.invite_valid_days <= MAX_INVITE_VALID_DAYS:
        raise ConfigError(
            f"{where}: [web] invite_valid_days = {config.invite_valid_days} is not between 1 "
            f"and {MAX_INVITE_VALID_DAYS}",
            hint="Send a new invite when one expires (`heartkeep study invite` again).",
        )
    if not 1 <= config.worker_concurrency <= MAX_WORKER_CONCURRENCY:
        raise ConfigError(
            f"{where}: [worker] concurrency = {config.worker_concurrency} is not between 1 and "
            f"{MAX_WORKER_CONCURRENCY}",
            hint="Each slot holds a database connection: for more throughput start more "
            "`heartkeep study worker` processes.",
        )


def _parses_as_libpq(url: str) -> bool:
    """Whether libpq can read `url` (checked here so that a typo is exit 3 naming the setting,
    not a connection failure); True when psycopg is missing (the store says so itself)."""
    try:
        import psycopg
    except ImportError:
        return True
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return False
    return True
