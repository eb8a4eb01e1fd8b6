"""`heartkeep study doctor`: what would stop a study enrolling or syncing, found before it does.

Checks, each ending in a finding with what to do: the config (file permissions, the consent
text still the placeholder, the OAuth web client, a public URL Google accepts), the OAuth
app's class (an unverified app is capped at 100 users in total and 2.5 requests/s per user:
a warning, a problem once the study is near or past the cap), the database (reachable, the
schema in place, no participant label enrolled twice), and the token keys (can they open
every participant's sealed tokens?  A key dropped too early makes those participants
unsyncable until it is put back).  Exit status as `heartkeep doctor`'s: 0 all well, 11
warnings only, 12 a problem.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from heartkeep.errors import HeartkeepError
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.config import StudyConfig
from heartkeep.study.config_template import PLACEHOLDER_MARK, is_password_hash

Level = Literal["ok", "warning", "problem"]
UNVERIFIED_USER_CAP = 100
UNVERIFIED_QPS = 2.5
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    message: str
    action: str = ""


@dataclass(frozen=True)
class StudyDoctorReport:
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        levels = {finding.level for finding in self.findings}
        return 12 if "problem" in levels else 11 if "warning" in levels else 0

    def as_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "findings": [asdict(f) for f in self.findings]}


def study_doctor(
    config: StudyConfig, open_store: Callable[[TokenCipher | None], PostgresStore]
) -> StudyDoctorReport:
    """Every check; `open_store(cipher)` opens the study's store with the configured keys (a
    failure to open is a finding, not a raise)."""
    findings = [*_config_findings(config)]
    cipher: TokenCipher | None = None
    try:
        cipher = config.token_cipher()
    except HeartkeepError as failure:
        findings.append(Finding("problem", "keys", failure.message, failure.hint or ""))
    try:
        with open_store(cipher) as store:
            participants = store.accounts()
            findings.append(
                Finding("ok", "database", f"reachable; {len(participants)} participants enrolled")
            )
            findings.extend(_labels_enrolled_twice(store))
            findings.append(_app_class(config, len(participants)))
            if cipher is not None:
                findings.append(_keys(store, [a.key for a in participants]))
    except HeartkeepError as failure:
        findings.append(
            Finding(
                "problem",
                "database",
                failure.message,
                failure.hint or "Check [database] url and that the server runs.",
            )
        )
        findings.append(_app_class(config, None))
    return StudyDoctorReport(findings)


def _config_findings(config: StudyConfig) -> list[Finding]:
    found = [Finding("ok", "config", f"read {config.path}")]
    for label, path in (("config", config.path), ("keys", config.token_keys_file)):
        if path is not None and path.exists() and path.stat().st_mode & 0o077:
            mode = stat.filemode(path.stat().st_mode)
            found.append(
                Finding(
                    "warning",
                    label,
                    f"{path} holds secrets but others may read it ({mode})",
                    f"chmod 600 {path}",
                )
            )
    try:
        text = config.consent_text()
    except HeartkeepError as failure:
        found.append(Finding("problem", "consent", failure.message, failure.hint or ""))
    else:
        if PLACEHOLDER_MARK in text:
            found.append(
                Finding(
                    "warning",
                    "consent",
                    f"{config.consent_file} still holds the placeholder `study init` wrote",
                    "Put your ethics board's approved consent text there before inviting anyone.",
                )
            )
    try:
        config.client()
    except HeartkeepError as failure:
        found.append(Finding("problem", "client", failure.message, failure.hint or ""))
    else:
        found.append(
            Finding("ok", "client", f"OAuth web client set; redirect URI {config.redirect_uri}")
        )
    found.append(_public_url(config))
    if not is_password_hash(config.coordinator_password_hash):
        found.append(
            Finding(
                "problem",
                "login",
                "[coordinator] password_hash is not a hash heartkeep wrote",
                "Run `heartkeep study init` for a new config, or put the scrypt hash back.",
            )
        )
    return found


def _public_url(config: StudyConfig) -> Finding:
    parts = urlsplit(config.public_base_url)
    if parts.scheme == "https":
        return Finding("ok", "web", f"participants and Google reach {config.public_base_url}")
    if (parts.hostname or "") in _LOOPBACK:
        return Finding(
            "warning" if not config.sandbox_url else "ok",
            "web",
            f"{config.public_base_url} is reachable from this machine only"
            + (" (fine against the sandbox)" if config.sandbox_url else ""),
            ""
            if config.sandbox_url
            else "Serve it behind HTTPS on a public name (docs/studies.md, 'HTTPS').",
        )
    return Finding(
        "problem",
        "web",
        f"{config.public_base_url} is plain HTTP: Google accepts HTTPS only for a web client's "
        "redirect URI and for webhook endpoints",
        "Put a TLS-terminating proxy in front of `study serve` and use its https:// URL.",
    )


def _labels_enrolled_twice(store: PostgresStore) -> list[Finding]:
    """A label enrolled with two Google accounts mixes two people's data under one id.  Only
    a study database from before invites of a label replaced each other can hold one; until
    none is left, the database's guard against it (a unique index) cannot be made."""
    conn = tables.connection(store)
    if not tables.current(conn):
        return []  # no invite table yet (or one nobody has used since reconnect invites)
    return [
        Finding(
            "problem",
            "labels",
            f"{label} is enrolled twice ({', '.join(keys)}): its data mixes two people",
            f"Find out which account is {label}'s participant and withdraw the other "
            f"(`heartkeep study withdraw {keys[-1]}`, which deletes that account's data); "
            "invite that person again under a label of their own if they take part.",
        )
        for label, keys in tables.duplicate_labels(conn).items()
    ]


def _app_class(config: StudyConfig, participants: int | None) -> Finding:
    if config.app_class == "verified":
        return Finding("ok", "app", "the OAuth app is verified (300 requests/min per user)")
    cap = (
        f"Google caps an unverified app at {UNVERIFIED_USER_CAP} users in total and "
        f"{UNVERIFIED_QPS} requests/s per user"
    )
    action = (
        "Submit the app for Google's verification of restricted scopes (docs/studies.md), "
        'then set [study] app_class = "verified".'
    )
    if participants is not None and participants >= UNVERIFIED_USER_CAP:
        return Finding(
            "problem",
            "app",
            f"{participants} participants enrolled: {cap}, so no one else can enrol",
            action,
        )
    return Finding("warning", "app", f"the OAuth client is unverified: {cap}", action)


def _keys(store: PostgresStore, keys: list[str]) -> Finding:
    opened = missing = 0
    failed: list[str] = []
    for key in keys:
        try:
            tokens = store.load_tokens(key)
        except HeartkeepError as failure:
            failed.append(f"{key}: {failure.message}")
            continue
        if tokens is None:
            missing += 1
        else:
            opened += 1
    if failed:
        return Finding(
            "problem",
            "keys",
            f"{len(failed)} participants' tokens do not open with the configured keys "
            f"(first: {failed[0]})",
            "Put back the key that sealed them (after the current one); then run "
            "`heartkeep study doctor` again.",
        )
    note = f"; {missing} participants hold no tokens (withdrawn or not yet consented)"
    return Finding(
        "ok",
        "keys",
        f"the keys open all {opened} participants' sealed tokens" + (note if missing else ""),
    )
