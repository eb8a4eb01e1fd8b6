"""`heartkeep study init`'s files: a commented config with fresh secrets, the token keys, a consent
placeholder.

Why generated: a study's secrets (the webhook's shared authorization, the invite signing key,
the key that seals participants' tokens, the coordinator's password) must be random and never
reused between studies; writing them here means nobody invents one.  Every file holding a
secret is created 0600 in one step (never world-readable for an instant) and an existing
config is never replaced: `init` refuses rather than orphan the tokens sealed with its keys.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from heartkeep.config import make_private_dir
from heartkeep.errors import ConfigError, StoreError
from heartkeep.store.token_cipher import KEYS_FILE_VARIABLE, KEYS_VARIABLE, new_key
from heartkeep.study.config import CONFIG_VARIABLE, SETTINGS
from heartkeep.study.coordinator_auth import hash_password

KEYS_NAME = "study-token-keys"
CONSENT_NAME = "consent.md"
PLACEHOLDER_MARK = "REPLACE THIS TEXT"
CONSENT_PLACEHOLDER = f"""# {PLACEHOLDER_MARK} with your study's consent text

This file is what every participant reads and agrees to before connecting their Fitbit or
Pixel Watch.  Your ethics board's approved text goes here: who runs the study, what data is
collected (heart rate, second by second, for the study's duration), how it is kept (encrypted
tokens, access limited to the study team), how to withdraw, and whom to contact.
"""


@dataclass(frozen=True)
class NewStudy:
    """What `write_new_study` created; `coordinator_password` is shown once, never stored."""

    config_file: Path
    keys_file: Path
    consent_file: Path
    consent_created: bool
    coordinator_user: str
    coordinator_password: str


def write_new_study(
    path: Path,
    *,
    name: str,
    database_url: str,
    public_base_url: str,
    sandbox_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    app_class: str = "unverified",
    coordinator_user: str = "coordinator",
    coordinator_password: str | None = None,
    consent_file: Path | None = None,
    now: dt.datetime | None = None,
) -> NewStudy:
    """Create the config at `path` (0600), the token keys beside it (0600) and, unless
    `consent_file` names one, a consent placeholder.  `ConfigError` if `path` exists;
    `StoreError` if a file cannot be written."""
    refuse_existing(path)
    folder = path.parent
    try:
        make_private_dir(folder)
    except OSError as failure:
        raise StoreError(f"cannot create {folder}: {failure}") from failure
    keys_file = folder / KEYS_NAME
    consent = (consent_file or folder / CONSENT_NAME).expanduser().resolve()
    password = coordinator_password or new_password()
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    text = _config_text(
        stamp=stamp,
        name=name,
        consent=os.path.relpath(consent, folder),
        database_url=database_url,
        public_base_url=public_base_url,
        sandbox_url=sandbox_url or "",
        client_id=client_id or "",
        client_secret=client_secret or "",
        app_class=app_class,
        coordinator_user=coordinator_user,
        password_hash=hash_password(password),
    )
    consent_created = False
    try:
        if not keys_file.exists():  # a second study in the same folder shares the keys
            _write_private(keys_file, new_key() + "\n")
        if consent_file is None and not consent.exists():
            _write_private(consent, CONSENT_PLACEHOLDER)
            consent_created = True
        _write_private(path, text)
    except OSError as failure:
        raise StoreError(f"cannot write the study's files in {folder}: {failure}") from failure
    return NewStudy(path, keys_file, consent, consent_created, coordinator_user, password)


def new_password() -> str:
    """A random password for a new study's coordinator, easy to type (about 120 bits)."""
    return secrets.token_urlsafe(15)


def is_password_hash(stored: str) -> bool:
    """Whether `stored` has the shape `hash_password` writes (`study doctor` checks it)."""
    parts = stored.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(parts[1:])


def refuse_existing(path: Path) -> None:
    """`ConfigError` if a config is at `path`: its keys open participants' tokens."""
    if path.exists():
        raise ConfigError(
            f"{path} exists already; heartkeep study init never replaces a study's config",
            hint="Its keys open the participants' tokens: keep it.  To start another study, "
            "give another path (--config).",
        )


def _write_private(path: Path, text: str) -> None:
    """Create `path` with mode 0600 from the first byte (O_EXCL: never over another file)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


def _q(value: str) -> str:
    """A TOML basic string (JSON's escaping is a subset TOML reads)."""
    return json.dumps(value, ensure_ascii=False)


def _config_text(**v: str) -> str:
    var = {name: setting.variable for name, setting in SETTINGS.items()}
    webhook_secret = "Bearer " + secrets.token_urlsafe(32)
    invite_key = secrets.token_urlsafe(32)
    return f"""\
# heartkeep research study — written by `heartkeep study init` on {v["stamp"]}.
#
# This file holds secrets: it is mode 0600; keep it out of version control and backups that
# others can read.  Every host of the study (`study serve`, each `study worker`) reads it.
# Precedence: an environment variable HEARTKEEP_STUDY_<SETTING> (named beside each setting)
# wins over this file; this file wins over the defaults.  Relative paths are
# relative to this file.  Select another file with --config or {CONFIG_VARIABLE}.
# docs/studies.md explains every setting and how to set a study up for real.

[study]
# Shown to participants on the invite and consent pages.
name = {_q(v["name"])}  # {var["name"]}
# The consent text participants accept (your ethics board's approved wording; Markdown or plain).
consent_file = {_q(v["consent"])}  # {var["consent_file"]}
# "unverified": Google has not verified the OAuth app (at most 100 participants in total and
# 2.5 requests/s per participant); "verified" once it has (300 requests/min per participant).
app_class = {_q(v["app_class"])}  # {var["app_class"]}

[database]
# The study's PostgreSQL database (participants, samples, sealed tokens, the task queue).
url = {_q(v["database_url"])}  # {var["database_url"]}

[tokens]
# Keys that seal participants' OAuth tokens (AES-256-GCM), one base64 key a line; the first
# seals, all open.  Never in the database.  {KEYS_VARIABLE} (the keys themselves) or
# {KEYS_FILE_VARIABLE} (another file) win over this.  Rotation: docs/studies.md.
keys_file = {_q(KEYS_NAME)}  # {var["token_keys_file"]}

[provider]
# Empty: Google's real endpoints.  A URL: the built-in sandbox there (tests, demos, rehearsals).
sandbox_url = {_q(v["sandbox_url"])}  # {var["sandbox_url"]}
# The OAuth client of type "Web application" from Google Cloud Console, with
#   <public_base_url>/enrol/callback  registered as an authorized redirect URI.
client_id = {_q(v["client_id"])}  # {var["client_id"]}
client_secret = {_q(v["client_secret"])}  # {var["client_secret"]}
# ...or instead the JSON Console lets you download for that client:
# client_secrets_file = "client_secret_web.json"  # {var["client_secrets_file"]}

[web]
# Where participants and Google reach `heartkeep study serve` (HTTPS in production; a reverse
# proxy such as Caddy or nginx terminates TLS and forwards to listen_host:listen_port).
public_base_url = {_q(v["public_base_url"])}  # {var["public_base_url"]}
listen_host = "127.0.0.1"  # {var["listen_host"]}
listen_port = 8080  # {var["listen_port"]}
# The exact Authorization value Google's webhook notifications carry: give this same string
# as the subscriber's endpointAuthorization secret when registering the webhook.
webhook_authorization = {_q(webhook_secret)}  # {var["webhook_authorization"]}
# Signs invite links (changing it invalidates every invite not yet used).
invite_signing_key = {_q(invite_key)}  # {var["invite_signing_key"]}
invite_valid_days = 14  # {var["invite_valid_days"]}

[coordinator]
# The study team's login to the coordinator pages.  The password is kept only as a scrypt hash;
# `heartkeep study init` printed it once.
user = {_q(v["coordinator_user"])}  # {var["coordinator_user"]}
password_hash = {_q(v["password_hash"])}  # {var["coordinator_password_hash"]}

[worker]
# Sync jobs one `heartkeep study worker` process runs at once.
concurrency = 4  # {var["worker_concurrency"]}
"""  # noqa: S608 - a TOML file, not SQL (its comments' words look like a query to bandit)
