"""Is this the study's database?  Checked before a study command touches it.

Why a check of its own: the store's writer creates its schema wherever it is pointed, and the
task queue's connection pool retries a refused connection forever.  So a `[database] url` with
a typo would quietly get a study's tables (an invite there is one no `study serve` accepts),
and a worker started against a server that is down would hang, logging the URL.  `require_study`
says which it is, as a `StoreError` (exit 9) naming the database without its password and
what to do; `apply_schema` is `study init`'s and `study serve`'s creation of the schema, its
failures said the same way.  `require_keys_open` is a worker's check that its token keys are
the study's: with the wrong ones every job fails (and is retried) without a word on its
terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from heartkeep.errors import ConfigError, HeartkeepError, StoreError
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.postgres_failures import describe

KEY_SAMPLE = 5


def require_study(database_url: str) -> None:
    """Check that `database_url` reaches a database holding a study (the store's tables and the
    task queue's, as `study init` makes them) that its user may use.

    Raises `StoreError` (exit 9) naming the database (never its password) and what to do: the
    server cannot be reached, the URL names a database without a study, or its user lacks the
    privileges.  Why before anything else: a worker would otherwise retry its connection pool
    forever, and a reader or writer would create a study's tables in the wrong database."""
    where = describe(database_url)
    try:
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute(
                "SELECT to_regclass('store_meta') IS NOT NULL, "
                "to_regclass('procrastinate_jobs') IS NOT NULL"
            ).fetchone()
            if not found or not all(found):
                raise StoreError(
                    f"the PostgreSQL database at {where} holds no heartkeep study",
                    hint="Check [database] url (or HEARTKEEP_STUDY_DATABASE_URL) names the "
                    "study's database; `heartkeep study init --database-url …` creates a study "
                    "in an empty one.",
                )
            conn.execute("SELECT 1 FROM store_meta, procrastinate_jobs LIMIT 0")
    except psycopg.errors.InsufficientPrivilege as failure:
        raise StoreError(
            f"PostgreSQL at {where}: {first_line(failure)}",
            hint="The user in [database] url may not use the study's tables: connect as the "
            "role that ran `heartkeep study init`, or GRANT this one access to them.",
        ) from failure
    except psycopg.Error as failure:
        raise StoreError(
            f"could not connect to PostgreSQL at {where}: {first_line(failure)}",
            hint="Check that the server runs and the URL (host, port, user, database).",
        ) from failure


def first_line(failure: BaseException) -> str:
    """The first line of a psycopg message (the rest repeats the query or adds hints)."""
    return (str(failure).strip().splitlines() or [""])[0]


def apply_schema(apply: Callable[[str], bool], database_url: str) -> None:
    """The store's and the queue's schema; psycopg's failures as `StoreError` (exit 9)."""
    try:
        apply(database_url)
    except psycopg.Error as failure:
        raise StoreError(
            f"could not create the study's schema in PostgreSQL at {describe(database_url)}: "
            f"{first_line(failure)}",
            hint="Check that the server runs and the URL (host, port, user, database).",
        ) from failure


def require_keys_open(store: PostgresStore, sample: int = KEY_SAMPLE) -> None:
    """`ConfigError` (exit 3) when the configured keys open none of the first `sample`
    participants' sealed tokens (the wrong keys file, or a key dropped too early); quiet when
    some open (`study doctor` reports the rest) or no one holds tokens yet."""
    tried = 0
    first_failure = ""
    for account in store.accounts():
        try:
            if store.load_tokens(account.key) is None:
                continue
        except HeartkeepError as failure:
            tried += 1
            first_failure = first_failure or failure.message
            if tried >= sample:
                break
            continue
        return  # one opens: these are the study's keys
    if tried:
        raise ConfigError(
            f"the token keys open none of the {tried} participants' tokens tried "
            f"(first: {first_failure})",
            hint="This worker has the wrong keys: give it the study's keys file (the one "
            "`heartkeep study init` wrote, or the backup), with any older key after the current "
            "one; `heartkeep study doctor` checks every participant.",
        )
