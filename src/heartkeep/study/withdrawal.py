"""Withdrawing a participant: revoke at Google, delete everything, keep an audit record.

Order matters.  First the grant is revoked at the provider with the stored tokens (a
participant who withdraws must not stay readable by the study's client); if the provider
cannot be reached, nothing is deleted and the caller is told to try again — deleting first
would lose the only token that can revoke.  Then, in one transaction: the store forgets the
account (samples, dailies, sync state and history, the sealed tokens: every table with an
`account_id`), the participant's invite rows go, and an audit record is written saying who
withdrew whom, when, and how many rows of each kind were deleted — counts and dates, never
heart-rate data.  Either all of that commits or none of it.

`withdraw` is what `heartkeep study withdraw` and the coordinator's button call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heartkeep.auth.token_client import TokenClient
from heartkeep.clock import Clock
from heartkeep.errors import NoAccounts
from heartkeep.study import enrolment_tables as tables

if TYPE_CHECKING:
    from heartkeep.store.postgres import PostgresStore

WITHDRAWAL = "withdrawal"


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
) -> WithdrawalReport:
    """Withdraw the participant named by study label (`P-017`) or account key.

    `token_client` revokes the grant at the provider (None: do not contact the provider, e.g.
    the grant is known to be gone; the audit record says so).  `actor` names who asked
    (`coordinator:alice`, `cli:bob`).  Raises `NoAccounts` (exit 10) when no such participant
    exists, `TransientError` (exit 6, nothing deleted) when the provider cannot be reached.
    """
    conn = tables.connection(store)
    tables.ensure_tables(conn)
    row = tables.enrolled(conn, participant)
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
            token_client.revoke(tokens.refresh_token or tokens.access_token)
            revoked = "revoked"
    now_s = int(clock.now_s())
    with store.transaction():
        forgotten = store.forget_account(account_key) if account_key is not None else None
        invites_deleted = tables.delete_participant(conn, label, account_key)
        details: dict[str, Any] = {
            "grant": revoked,
            "invites_deleted": invites_deleted,
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
