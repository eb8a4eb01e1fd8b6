"""`heartkeep study init`'s options, checked before anything is made.

Why first: `init` creates the schema and then writes the config, and it never replaces a config
it wrote (its keys open the participants' tokens).  A config written with a bad value — an
empty name, an ftp:// public URL, a consent file that does not exist — would be refused by
every later command and could not simply be made again, so each value is refused here, as a
usage error (exit 2) naming the option, before the database is touched.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from heartkeep.errors import UsageError


def check_init_options(
    name: str,
    database_url: str,
    public_base_url: str,
    sandbox_url: str | None,
    consent_file: Path | None,
) -> None:
    """`study init`'s options, checked before the database is touched or a file written: a
    config written with a bad value would be refused by every later command, and `init` never
    replaces it.  `UsageError` (exit 2) naming the option, never echoing the database URL
    (it may hold a password)."""
    if not name.strip():
        raise UsageError("--name is empty: participants see the study's name")
    postgres = ("postgresql://", "postgres://")
    try:
        parsed = database_url.startswith(postgres) and psycopg.conninfo.conninfo_to_dict(
            database_url
        )
    except psycopg.ProgrammingError:
        parsed = False
    if not parsed:
        raise UsageError(
            "--database-url is not a postgresql:// URL libpq can read",
            hint="The form is postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (percent-encode "
            "special characters in the password).",
        )
    for option, url in (("--public-url", public_base_url), ("--sandbox-url", sandbox_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise UsageError(f"{option} {url!r} is not an http:// or https:// URL")
    if consent_file is not None:
        try:
            text = consent_file.expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as failure:
            reason = getattr(failure, "strerror", None) or failure
            raise UsageError(
                f"--consent: cannot read {consent_file} ({reason})",
                hint="Give the file with the consent text participants accept (UTF-8 text), or "
                "leave --consent out for a placeholder to edit.",
            ) from failure
        if not text.strip():
            raise UsageError(f"--consent: {consent_file} is empty")
