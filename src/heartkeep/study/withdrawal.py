"""Withdrawing a participant: revoke at Google, delete everything, keep an audit record.

Order matters.  First the grant is revoked at the provider with the stored tokens (a
participant who withdraws must not stay readable by the study's client); if the provider
cannot be reached, nothing is deleted and the caller is told to try again — deleting first
would lose the only token that can revoke.  Then a sync of the participant running on a
worker is waited for (its next request fails now), so that its last page cannot write the
participant back after the deletion.  Then, in one transaction: the store forgets the account
(samples, dailies, sync state and history, the sealed tokens: every table with an
`account_id`), the participant's invite rows go, the task queue's waiting jobs and pending
notifications of the participant go (their arguments name the account), and an audit record
is written saying who withdrew whom, when, and how many rows of each kind were deleted —
counts and dates, never heart-rate data.  Either all of that commits or none of it.

`withdraw` is what `heartkeep study withdraw` and the coordinator's button call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heartkeep.auth.token_client import TokenClient
from heartkeep.clock import Clock
from heartkeep.errors import NoAccounts, TransientError, UsageError
from heartkeep.study import enrolment_tables as tables

if TYPE_CHECKING:
    import psycopg

    from heartkeep.store.postgres import PostgresStore

WITHDRAWAL = "withdrawal"
RUNNING_WAIT_S = 120.0
_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class WithdrawalReport:
    """What a withdrawal did; `details` is exactly what the audit record holds."""

    label: str
    account_key: str | None
    revoked: str  # "revoked", "no tokens stored", "not asked"
    audit_id: int
    details: dict[str, Any]


def withdraw(
    store: PostgresStore,
    participant: str,
    *,
    token_client: TokenClient | None,
    clock: Clock,
    actor: str,
    wait_s: float = RUNNING_WAIT_S,
) -> WithdrawalReport:
    """Withdraw the participant named by study label (`P-017`) or account key.

    `token_client` revokes the grant at the provider (None: do not contact the provider, e.g.
    the grant is known to be gone; the audit record says so).  `actor` names who asked
    (`coordinator:alice`, `cli:bob`).  A sync of the participant running on a worker is waited
    for, up to `wait_s` (after the revocation it fails at its next request).  Raises
    `NoAccounts` (exit 10) when no such participant exists, `TransientError` (exit 6, nothing
    deleted) when the provider cannot be reached or a running sync does not end in time.
    """
    conn = tables.connection(store)
    tables.ensure_tables(conn)
    row = tables.enrolled(conn, participant)
    shared = _shared_label(conn, row, participant)
    if row is not None:
        label, account_key = row.label, row.account_key
    else:
        invites = [e for e in tables.all_enrolments(conn) if e.label == participant]
        known = store.account(participant) is not None
        if not invites and not known:
            raise NoAccounts(
                f"no participant {participant} in this study",
                hint="Name them by study id (as given to `study invite`) or account key.",
            )
        label, account_key = participant, (participant if known else None)
    revoked = "not asked"
    if account_key is not None and token_client is not None:
        tokens = store.load_tokens(account_key)
        if tokens is None:
            revoked = "no tokens stored"
        else:
            token_client.revoke_grant(tokens)
            revoked = "revoked"
    if account_key is not None:
        _wait_for_running_sync(conn, account_key, label, clock, wait_s)
    now_s = int(clock.now_s())
    with store.transaction():
        forgotten = store.forget_account(account_key) if account_key is not None else None
        if shared:  # the label's other account stays enrolled: only this one's rows go
            invites_deleted = tables.delete_participant(conn, "", account_key)
        else:
            invites_deleted = tables.delete_participant(conn, label, account_key)
        queued = _forget_queued_work(conn, account_key) if account_key is not None else 0
        details: dict[str, Any] = {
            "grant": revoked,
            "invites_deleted": invites_deleted,
            "queued_jobs_deleted": queued,
            "enrolled_s": row.enrolled_s if row else None,
            "consent_s": row.consent_s if row else None,
            "consent_sha256": row.consent_sha256 if row else None,
            "deleted": {} if forgotten is None else forgotten.as_json()["deleted"],
        }
        audit_id = tables.add_audit(
            conn,
            at_s=now_s,
            actor=actor,
            action=WITHDRAWAL,
            label=label,
            account_key=account_key,
            details=details,
        )
    return WithdrawalReport(label, account_key, revoked, audit_id, details)


def _shared_label(
    conn: psycopg.Connection[Any], row: tables.Enrolment | None, participant: str
) -> bool:
    """Whether `row`'s label is enrolled with another account too (a study database from
    before invites of a label replaced each other: `study doctor` reports it).  Named by
    the label, which of the two is meant is unknown: refused (exit 2)."""
    if row is None:
        return False
    keys = tables.duplicate_labels(conn).get(row.label)
    if not keys:
        return False
    if participant == row.label:
        raise UsageError(
            f"{row.label} is enrolled twice ({', '.join(keys)}): name the one to withdraw",
            hint=f"`heartkeep study withdraw {keys[-1]}` withdraws that account only; "
            f"the other stays enrolled as {row.label}.",
        )
    return True


def earlier_withdrawal(conn: psycopg.Connection[Any], participant: str) -> tuple[int, str] | None:
    """(audit id, UTC time) of the newest withdrawal of `participant` (study id or account
    key), if it was withdrawn before: a second `withdraw`, or a reconnect link asked for
    someone withdrawn, says so instead of "no such one"."""
    import datetime as dt

    row = conn.execute(
        "SELECT id, at_s FROM study_audit WHERE action = %s AND (label = %s OR "
        "account_key = %s) ORDER BY id DESC LIMIT 1",
        (WITHDRAWAL, participant, participant),
    ).fetchone()
    if row is None:
        return None
    at = dt.datetime.fromtimestamp(int(row[1]), dt.UTC)
    return int(row[0]), f"{at:%Y-%m-%d %H:%M}"


def _has_table(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _lock(account_key: str) -> str:
    from heartkeep.study.queue import participant_lock

    return participant_lock(account_key)


def _wait_for_running_sync(
    conn: psycopg.Connection[Any], account_key: str, label: str, clock: Clock, wait_s: float
) -> None:
    """Let a sync of the participant that a worker is running end first: deleting under it
    would let its last page write the participant back."""
    if not _has_table(conn, "procrastinate_jobs"):
        return
    deadline = clock.now_s() + wait_s
    while True:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE lock = %s AND status = 'doing'",
            (_lock(account_key),),
        ).fetchone()
        if not row or not row[0]:
            return
        if clock.now_s() >= deadline:
            raise TransientError(
                f"a sync of {label} is still running on a worker, so nothing was deleted",
                hint="Try again in a minute: the grant is revoked, so that sync ends soon.",
            )
        clock.sleep(_POLL_S)


def _forget_queued_work(conn: psycopg.Connection[Any], account_key: str) -> int:
    """Delete the task queue's jobs and pending notifications of the participant (their
    arguments name the account); how many jobs.  Nothing when the queue has no tables here."""
    deleted = 0
    if _has_table(conn, "procrastinate_jobs"):
        ids = "SELECT id FROM procrastinate_jobs WHERE lock = %s AND status <> 'doing'"
        conn.execute(
            f"UPDATE procrastinate_periodic_defers SET job_id = NULL WHERE job_id IN ({ids})",  # noqa: S608
            (_lock(account_key),),
        )
        deleted = conn.execute(
            "DELETE FROM procrastinate_jobs WHERE lock = %s AND status <> 'doing'",
            (_lock(account_key),),
        ).rowcount
    if _has_table(conn, "study_pending_sync"):
        conn.execute("DELETE FROM study_pending_sync WHERE account_key = %s", (account_key,))
    return deleted
