"""The study's own tables beside the store's: one row per invite, and the audit trail.

Why tables of their own, keyed by the account's *key* and never by `account_id`: the store's
`forget_account` deletes every row of every table with an `account_id` column, and the audit
record of a withdrawal must outlive the participant; the enrolment rows are deleted by the
withdrawal itself, in the same transaction, so nothing of the participant stays but the audit.

`study_enrolment` — one invite and what became of it:
  status `invited` → `consented` (the consent page was accepted, OAuth under way) → `enrolled`
  (tokens stored), or `declined`, or `replaced` (a newer plain invite for the same label was
  made before this one was used: one live link per label, so one label never enrols two
  Google accounts).  A reconnect invite (`reconnect.py`) is a row of its own
  whose `reconnect_of` names the enrolled row it restores: `invited` → `consented` →
  `reconnected` (the same Google account's new tokens replaced the old), or `declined`, or
  `replaced` (a newer reconnect link was made before this one was used); it
  never becomes `enrolled`, so the enrolled row stays the participant's one identity.
  No secret is stored: the invite's `nonce` is useless without
  the signing key, the OAuth `state` is kept as a keyed hash, and the PKCE verifier is derived
  from the state with the key, never written down.
`study_audit` — who did what to whom, when, with counts; never heart-rate data.
`study_coordinator_session` — logged-in coordinators (`coordinator_sessions.py`).
`study_grant_state` — why a participant's access fails, as a code (`grant_state.py`).

Created on first use (`ensure_tables`, idempotent, under an advisory lock), in the store's
schema.  Every function takes the store's psycopg connection and runs inside the caller's
transaction when there is one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import psycopg

from heartkeep.study import coordinator_sessions as sessions
from heartkeep.study import grant_state

if TYPE_CHECKING:
    from heartkeep.store.postgres import PostgresStore

INVITED, CONSENTED, DECLINED, ENROLLED = "invited", "consented", "declined", "enrolled"
RECONNECTED = "reconnected"  # a reconnect invite's end (`reconnect.py`)
REPLACED = "replaced"  # an invite (plain or reconnect) a newer one replaced before it was used
# At most one enrolled row per label.  Not in `_SCHEMA`: a study database made before this
# guard may hold a label enrolled twice, and a failed CREATE must not stop the study working
# (`study doctor` reports such labels; the index is made once none is left).
ONE_LABEL_INDEX = "study_enrolment_one_label"

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS study_enrolment (
        invite_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        label             text NOT NULL,     -- the study's participant id (e.g. P-017)
        nonce             text NOT NULL UNIQUE,
        created_s         bigint NOT NULL,
        expires_s         bigint NOT NULL,
        status            text NOT NULL,     -- invited | consented | declined | enrolled
                                             -- | reconnected | replaced
        consent_s         bigint,
        consent_sha256    text,              -- the consent text the participant accepted
        declined_s        bigint,
        state_digest      text,              -- keyed hash of the OAuth state under way
        oauth_started_s   bigint,
        scope_refusals    integer NOT NULL DEFAULT 0,
        account_key       text,              -- provider:user_id once enrolled
        enrolled_s        bigint,
        backfill_queued_s bigint,
        reconnect_of      bigint             -- a reconnect invite: the enrolled row's invite_id
    )
    """,
    "CREATE INDEX IF NOT EXISTS study_enrolment_by_label ON study_enrolment (label)",
    "CREATE UNIQUE INDEX IF NOT EXISTS study_enrolment_state ON study_enrolment (state_digest)",
    "CREATE UNIQUE INDEX IF NOT EXISTS study_enrolment_one_account ON study_enrolment "
    "(account_key) WHERE status = 'enrolled'",
    """
    CREATE TABLE IF NOT EXISTS study_audit (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at_s        bigint NOT NULL,
        actor       text NOT NULL,    -- 'coordinator:<user>' or 'cli:<os user>'
        action      text NOT NULL,    -- 'withdrawal'
        label       text,
        account_key text,
        details     jsonb NOT NULL    -- what was deleted and revoked; counts only
    )
    """,
)

_COLUMNS = (
    "invite_id, label, nonce, created_s, expires_s, status, consent_s, consent_sha256, "
    "declined_s, state_digest, oauth_started_s, scope_refusals, account_key, enrolled_s, "
    "backfill_queued_s, reconnect_of"
)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One invite's row."""

    invite_id: int
    label: str
    nonce: str
    created_s: int
    expires_s: int
    status: str
    consent_s: int | None
    consent_sha256: str | None
    declined_s: int | None
    state_digest: str | None
    oauth_started_s: int | None
    scope_refusals: int
    account_key: str | None
    enrolled_s: int | None  # enrolled, or (a reconnect invite) reconnected
    backfill_queued_s: int | None
    reconnect_of: int | None = None  # a reconnect invite: the enrolled row's invite_id


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit trail."""

    id: int
    at_s: int
    actor: str
    action: str
    label: str | None
    account_key: str | None
    details: dict[str, Any]


def connection(store: PostgresStore) -> psycopg.Connection[Any]:
    """The store's connection (`PostgresStore.connection`): the study's rows commit in the
    store's transactions (a withdrawal deletes the data and writes its audit record
    atomically)."""
    return store.connection()


def ensure_tables(conn: psycopg.Connection[Any]) -> None:
    """Create the study's tables if they are missing (one creator at a time)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.study_web'))")
        for statement in (*_SCHEMA, *sessions.SCHEMA):
            conn.execute(statement.encode())
        if not current(conn):  # a study made before reconnect invites (an ALTER only then:
            # it takes the table's strongest lock even when the column is there)
            conn.execute("ALTER TABLE study_enrolment ADD COLUMN reconnect_of bigint")
        if _missing_one_label_index(conn) and not duplicate_labels(conn):
            # Writers still running may enrol a duplicate in between: then it stays missing.
            with contextlib.suppress(psycopg.errors.UniqueViolation), conn.transaction():
                conn.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {ONE_LABEL_INDEX} ON study_enrolment "
                    "(label) WHERE status = 'enrolled'"
                )
    grant_state.ensure(conn)


def _missing_one_label_index(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (ONE_LABEL_INDEX,)).fetchone()
    return row is None or row[0] is None


def duplicate_labels(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Labels enrolled more than once, with their account keys (oldest first): only a study
    database from before invites of a label replaced each other can hold one."""
    rows = conn.execute(
        "SELECT label, array_agg(coalesce(account_key, '?') ORDER BY invite_id) "
        "FROM study_enrolment WHERE status = 'enrolled' GROUP BY label HAVING count(*) > 1 "
        "ORDER BY label"
    ).fetchall()
    return {str(label): list(keys) for label, keys in rows}


def lock_label(conn: psycopg.Connection[Any], label: str) -> None:
    """Serialise, until the transaction ends, everything that enrols `label`.  An advisory
    lock, not row locks: each completing callback already holds its own invite's row, and
    locking the label's other rows too would deadlock two completions of one label."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.study_label'), hashtext(%s))",
        (label,),
    )


def replace_pending_invites(conn: psycopg.Connection[Any], label: str) -> int:
    """Mark `label`'s plain invites not yet used `replaced` (waiting for a completion under
    way on one of them); how many.  The OAuth state stays, so a callback already on its way
    back from Google finds the row and shows the "replaced" page."""
    return conn.execute(
        "UPDATE study_enrolment SET status = %s WHERE label = %s AND reconnect_of IS NULL "
        "AND status IN (%s, %s)",
        (REPLACED, label, INVITED, CONSENTED),
    ).rowcount


def enrolled_as(conn: psycopg.Connection[Any], label: str) -> Enrolment | None:
    """The row enrolled under `label` (by label only, never by account key)."""
    query = (
        f"SELECT {_COLUMNS} FROM study_enrolment WHERE status = 'enrolled' "  # noqa: S608
        "AND label = %s ORDER BY invite_id LIMIT 1"
    )
    return _row(conn.execute(query, (label,)).fetchone())


def current(conn: psycopg.Connection[Any]) -> bool:
    """Whether `study_enrolment` exists with every column this module reads (a read-only
    `study status` on an older study, which nobody has served or invited to since, reads
    nothing from it)."""
    row = conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'study_enrolment' AND column_name = 'reconnect_of'"
    ).fetchone()
    return bool(row and row[0])


def _row(values: tuple[Any, ...] | None) -> Enrolment | None:
    return None if values is None else Enrolment(*values)


def insert_invite(
    conn: psycopg.Connection[Any],
    label: str,
    nonce: str,
    created_s: int,
    expires_s: int,
    *,
    reconnect_of: int | None = None,
) -> Enrolment:
    row = conn.execute(
        "INSERT INTO study_enrolment (label, nonce, created_s, expires_s, status, "  # noqa: S608
        f"reconnect_of) VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (label, nonce, created_s, expires_s, INVITED, reconnect_of),
    ).fetchone()
    assert row is not None
    enrolment = _row(row)
    assert enrolment is not None
    return enrolment


def by_nonce(conn: psycopg.Connection[Any], nonce: str, *, lock: bool = False) -> Enrolment | None:
    query = f"SELECT {_COLUMNS} FROM study_enrolment WHERE nonce = %s"  # noqa: S608
    return _row(conn.execute(query + (" FOR UPDATE" if lock else ""), (nonce,)).fetchone())


def by_state(conn: psycopg.Connection[Any], state_digest: str) -> Enrolment | None:
    query = f"SELECT {_COLUMNS} FROM study_enrolment WHERE state_digest = %s FOR UPDATE"  # noqa: S608
    return _row(conn.execute(query, (state_digest,)).fetchone())


def enrolled(conn: psycopg.Connection[Any], label_or_key: str) -> Enrolment | None:
    """The enrolled row of a participant named by label or account key."""
    query = (
        f"SELECT {_COLUMNS} FROM study_enrolment WHERE status = 'enrolled' "  # noqa: S608
        "AND (label = %s OR account_key = %s) ORDER BY invite_id DESC LIMIT 1"
    )
    return _row(conn.execute(query, (label_or_key, label_or_key)).fetchone())


def by_invite_id(conn: psycopg.Connection[Any], invite_id: int) -> Enrolment | None:
    query = f"SELECT {_COLUMNS} FROM study_enrolment WHERE invite_id = %s"  # noqa: S608
    return _row(conn.execute(query, (invite_id,)).fetchone())


def all_enrolments(conn: psycopg.Connection[Any]) -> list[Enrolment]:
    """Every invite (reconnect invites too), by label, newest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM study_enrolment ORDER BY label, invite_id DESC"  # noqa: S608
    ).fetchall()
    return [Enrolment(*row) for row in rows]


def update(conn: psycopg.Connection[Any], invite_id: int, **values: Any) -> None:
    """Set the named columns of one invite's row (names from this module's own callers)."""
    names = [name for name in values if name in _COLUMNS.split(", ")]
    assert len(names) == len(values), f"unknown columns: {values.keys() - set(names)}"
    assignments = ", ".join(f"{name} = %s" for name in names)
    conn.execute(
        f"UPDATE study_enrolment SET {assignments} WHERE invite_id = %s".encode(),  # noqa: S608
        (*values.values(), invite_id),
    )


def delete_participant(conn: psycopg.Connection[Any], label: str, account_key: str | None) -> int:
    """Delete every invite row of the participant (by label, and by account key); how many."""
    return conn.execute(
        "DELETE FROM study_enrolment WHERE label = %s OR account_key = %s",
        (label, account_key or ""),
    ).rowcount


def add_audit(
    conn: psycopg.Connection[Any],
    *,
    at_s: int,
    actor: str,
    action: str,
    label: str | None,
    account_key: str | None,
    details: dict[str, Any],
) -> int:
    row = conn.execute(
        "INSERT INTO study_audit (at_s, actor, action, label, account_key, details) "
        "VALUES (%s, %s, %s, %s, %s, %s::jsonb) RETURNING id",
        (at_s, actor, action, label, account_key, orjson.dumps(details).decode()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def audit_records(conn: psycopg.Connection[Any], *, limit: int = 200) -> list[AuditRecord]:
    """The newest audit records first."""
    rows = conn.execute(
        "SELECT id, at_s, actor, action, label, account_key, details FROM study_audit "
        "ORDER BY id DESC LIMIT %s",
        (limit,),
    ).fetchall()
    return [AuditRecord(*row) for row in rows]
