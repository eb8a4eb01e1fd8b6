"""Why a participant's access failed, as a code: set where the failure is classified, read by
the coordinator pages and `study status`.

Why a code and not the error's text: the pages used to look for "revoked or expired" in the
last sync's message, which missed Google's 401 ("no longer accepts heartkeep's
authorization"), and any rewording of a message would silently hide revoked participants.
The failure's class already says what happened (`HeartkeepError.code`, the stable name the
CLI's JSON uses); the token client and the provider chose it from the OAuth error code or the
API's status and reason.  Here it becomes one of a few states a coordinator acts on:

- `revoked`: the refresh answered `invalid_grant`, or the API answered 401 with fresh
  tokens.  The participant must consent again (or be withdrawn).
- `consent_scope_missing`: the API answered 403 for a missing scope.  The participant must
  grant every permission.
- `no_refresh_token`: the stored pair has none.  The participant must consent again.
- `client_rejected`: the token endpoint refused the study's OAuth client.  The study team
  must fix the client's id or secret.
- `refresh_failed_transient`: the token endpoint could not be reached, or answered 5xx or
  429.  Nobody: the queue retries.
- `refresh_failed`: the token endpoint refused otherwise.  The study team reads the detail.

`study_grant_state` holds one row per participant with a problem (none: access works), keyed
by `account_id` so that withdrawal's `forget_account` deletes it with everything else.  A
sync that succeeds deletes the row.  Created with the queue's tables (`apply_schema`, which
`study init` and `study serve` run) and the site's, and on first write.  An existing
database gets the table on first use, filled from its participants' latest failed runs
(`migrate_from_runs`: the one place the old messages are read); a reader that finds no table
yet derives the same from the runs.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import psycopg

from heartkeep.errors import (
    ConfigError,
    HeartkeepError,
    ReauthorizationNeeded,
    ScopeMissing,
    TransientError,
)

if TYPE_CHECKING:
    from heartkeep.sync.report import AccountReport

Conn = psycopg.Connection[Any]
TABLE = "study_grant_state"


class GrantState(enum.StrEnum):
    """Why a participant's access failed (see the module's table)."""

    REVOKED = "revoked"
    CONSENT_SCOPE_MISSING = "consent_scope_missing"
    NO_REFRESH_TOKEN = "no_refresh_token"  # noqa: S105 - a state's name, not a secret
    CLIENT_REJECTED = "client_rejected"
    REFRESH_FAILED_TRANSIENT = "refresh_failed_transient"
    REFRESH_FAILED = "refresh_failed"

    @property
    def grant_gone(self) -> bool:
        """The participant's grant no longer works: only they can restore it."""
        return self in _GONE


_GONE = frozenset(
    {GrantState.REVOKED, GrantState.CONSENT_SCOPE_MISSING, GrantState.NO_REFRESH_TOKEN}
)

_CODES = ", ".join(f"'{state.value}'" for state in GrantState)
SCHEMA = (
    f"""
    CREATE TABLE IF NOT EXISTS {TABLE} (
        account_id  integer PRIMARY KEY REFERENCES account (id) ON DELETE CASCADE,
        state       text NOT NULL CHECK (state IN ({_CODES})),
        detail      text,             -- the failure's message, for people; never parsed
        since_s     bigint NOT NULL,  -- first seen in this state
        updated_s   bigint NOT NULL
    )
    """,
)

# The failure classes' stable codes (`HeartkeepError.code`) as states; an API answer's class
# is the provider's classification (401 → ReauthorizationNeeded, 403 scope → ScopeMissing).
_BY_CODE = {
    ReauthorizationNeeded.code: GrantState.REVOKED,
    ScopeMissing.code: GrantState.CONSENT_SCOPE_MISSING,
}


def from_refresh_failure(failure: HeartkeepError) -> GrantState:
    """The state a failed token refresh leaves (the token client classified it)."""
    if isinstance(failure, ReauthorizationNeeded):
        return GrantState.REVOKED
    if isinstance(failure, ConfigError):
        return GrantState.CLIENT_REJECTED
    if isinstance(failure, TransientError):
        return GrantState.REFRESH_FAILED_TRANSIENT
    return GrantState.REFRESH_FAILED


def from_report(report: AccountReport) -> GrantState | None:
    """The state a failed sync's report implies, if it is about access (else None: a
    network, provider or database failure says nothing about the grant)."""
    if report.ok or report.error_code is None:
        return None
    return _BY_CODE.get(report.error_code)


def ensure(conn: Conn) -> None:
    """Create the table if it is missing, and fill it from existing runs when it was."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.grant'))")
        row = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
        if row is not None and row[0] is not None:
            return
        for statement in SCHEMA:
            conn.execute(statement.encode())
        migrate_from_runs(conn)


# How the latest failed run's error read before states were recorded (auth/token_client.py's
# invalid_grant message, Google's 401, a pair without refresh token; providers/google_health.py's
# 403).  Only an old database's runs are read this way: once, when the table is created (or,
# read-only, while it does not exist yet).
_OLD_MESSAGES = (
    (GrantState.REVOKED, "access was revoked or expired%"),
    (GrantState.REVOKED, "Google no longer accepts heartkeep's authorization%"),
    (GrantState.NO_REFRESH_TOKEN, "% has no refresh token%"),
    (GrantState.CONSENT_SCOPE_MISSING, "heartkeep lacks a permission it needs%"),
)
_CASES = " ".join(
    f"WHEN r.error LIKE '{pattern}' THEN '{state.value}'" for state, pattern in _OLD_MESSAGES
).replace("heartkeep's", "heartkeep''s")
_FROM_RUNS = f"""
    SELECT r.account_id, a.key, CASE {_CASES} END AS state, r.error, r.started_s
      FROM sync_run AS r JOIN account AS a ON a.id = r.account_id
     WHERE r.status = 'failed'
       AND r.id = (SELECT max(l.id) FROM sync_run AS l WHERE l.account_id = r.account_id)
"""  # noqa: S608 - constants


def migrate_from_runs(conn: Conn) -> int:
    """An existing study's participants whose latest run failed for want of access get their
    state (from the run's message: the old records hold nothing else); how many."""
    return conn.execute(
        f"""INSERT INTO {TABLE} (account_id, state, detail, since_s, updated_s)
            SELECT account_id, state, error, started_s, started_s FROM ({_FROM_RUNS}) AS old
             WHERE state IS NOT NULL
            ON CONFLICT (account_id) DO NOTHING""".encode()  # noqa: S608 - constants
    ).rowcount


def record(conn: Conn, account_key: str, state: GrantState, detail: str, now_s: float) -> None:
    """Set the participant's state (`since_s` kept while the state stays the same)."""
    statement = f"""
        INSERT INTO {TABLE} (account_id, state, detail, since_s, updated_s)
        SELECT id, %(state)s, %(detail)s, %(now)s, %(now)s FROM account WHERE key = %(key)s
        ON CONFLICT (account_id) DO UPDATE SET
            state = excluded.state, detail = excluded.detail, updated_s = excluded.updated_s,
            since_s = CASE WHEN {TABLE}.state = excluded.state THEN {TABLE}.since_s
                           ELSE excluded.since_s END
    """  # noqa: S608 - a constant
    values = {"state": state.value, "detail": detail, "now": int(now_s), "key": account_key}
    try:
        conn.execute(statement.encode(), values)
    except psycopg.errors.UndefinedTable:
        if _in_transaction(conn):
            raise
        ensure(conn)
        conn.execute(statement.encode(), values)


def clear(conn: Conn, account_key: str) -> None:
    """Access worked: forget the participant's problem, if one was recorded."""
    try:
        conn.execute(
            f"DELETE FROM {TABLE} WHERE account_id = "  # noqa: S608 - a constant
            "(SELECT id FROM account WHERE key = %s)".encode(),
            (account_key,),
        )
    except psycopg.errors.UndefinedTable:
        if _in_transaction(conn):
            raise  # the caller's transaction is spoilt: let it end


def after_sync(conn: Conn, account_key: str, report: AccountReport, now_s: float) -> None:
    """After a sync job's run: success clears the participant's problem; a failure about
    access records its state; any other failure leaves what the refresh recorded (if any)."""
    if report.ok:
        clear(conn, account_key)
        return
    state = from_report(report)
    if state is not None:
        record(conn, account_key, state, report.error or state.value, now_s)


def _in_transaction(conn: Conn) -> bool:
    return conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def states(conn: Conn, account_keys: list[str] | None = None) -> dict[str, tuple[GrantState, int]]:
    """Recorded problems by account key: (state, since when); {} when none or no table."""
    row = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
    if row is None or row[0] is None:  # an old database nobody has written to since
        old = conn.execute(
            f"SELECT key, state, started_s FROM ({_FROM_RUNS}) AS old "  # noqa: S608
            "WHERE state IS NOT NULL".encode()
        ).fetchall()
        wanted = None if account_keys is None else set(account_keys)
        return {
            str(key): (GrantState(state), int(since))
            for key, state, since in old
            if wanted is None or key in wanted
        }
    query = (
        f"SELECT a.key, g.state, g.since_s FROM {TABLE} AS g "  # noqa: S608 - a constant
        "JOIN account AS a ON a.id = g.account_id"
    )
    if account_keys is None:
        rows = conn.execute(query.encode()).fetchall()
    else:
        rows = conn.execute((query + " WHERE a.key = ANY(%s)").encode(), (account_keys,)).fetchall()
    return {str(key): (GrantState(state), int(since)) for key, state, since in rows}
