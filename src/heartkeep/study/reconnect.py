"""Reconnect invites: an enrolled participant whose Google grant is gone signs in again and
keeps their data.

Why not withdraw and invite again: withdrawal deletes everything of the participant — what a
participant who leaves asks for.  One who removed the study's access by mistake, or whose
Testing app's refresh token died after its week, is still taking part; the study must get
their access back without losing what it holds.

The link is an invite's (`invites.py`: signed, single use, expiring, the same page and OAuth
flow with its state cookie and PKCE) on a row of its own whose `reconnect_of` names the
participant's enrolled row.  The consent page says they are reconnecting.  At the callback the
Google account that signed in must be the enrolled one (the same `healthUserId`, so the same
account key): a participant cannot swap identity.  Another account is refused with nothing
changed — the old sealed pair and the grant state stay — and its fresh grant is revoked,
unless that account is itself enrolled in the study (Google ends a user's whole grant to the
client on revocation: another participant's must not go).  The same account: in one
transaction the new pair replaces the sealed one, the grant state is cleared (so the hourly
schedule syncs them again, `jobs.participants_with_tokens`) and the row becomes
`reconnected`; then the participant's sync is queued (the site's `on_enrolled`), which plans
from the stored cursor and fetches the days that were missed.  The old refresh token is not
revoked: at Google revoking any token of a grant ends the grant, new tokens included.

Who may get a link (`create_reconnect_invite`): an enrolled participant whose grant is gone
(`grant_state`: revoked, consent_scope_missing, no_refresh_token) or who has no tokens stored.
Anyone else enrolled is refused unless the operator forces it: the recorded state lags
reality (a participant who says they removed access is only noticed at their next sync), but
for `client_rejected` or a passing refresh failure a new sign-in fixes nothing.  A new link
replaces an earlier one still pending (that one becomes `replaced`, and its page says to use
the newest): one live link per participant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heartkeep.clock import Clock
from heartkeep.errors import NoAccounts, UsageError
from heartkeep.study import enrolment_tables as tables
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState
from heartkeep.study.invites import (
    DEFAULT_VALID_FOR_S,
    Invite,
    check_label,
    invite_token,
    invite_url,
)
from heartkeep.study.web_signing import Signer, random_token
from heartkeep.study.withdrawal import earlier_withdrawal

if TYPE_CHECKING:
    import psycopg

    from heartkeep.auth.token_client import TokenClient
    from heartkeep.model import TokenSet
    from heartkeep.store.postgres import PostgresStore

# Why a reconnect link would not help, by the state recorded (the grant itself works).
_NOT_THE_GRANT = {
    GrantState.CLIENT_REJECTED: "Google refuses the study's OAuth client (client_rejected), not "
    "the participant's grant: fix the client's id and secret in the study's config",
    GrantState.REFRESH_FAILED_TRANSIENT: "their last token refresh failed for a passing reason "
    "(refresh_failed_transient): the task queue retries by itself",
    GrantState.REFRESH_FAILED: "their last token refresh was refused (refresh_failed): "
    "`heartkeep study status` shows Google's answer",
}
_GONE = ", ".join(state.value for state in GrantState if state.grant_gone)


def create_reconnect_invite(
    store: PostgresStore,
    participant: str,
    *,
    signing_key: str,
    public_base_url: str,
    clock: Clock,
    valid_for_s: int = DEFAULT_VALID_FOR_S,
    force: bool = False,
) -> Invite:
    """A reconnect link for the enrolled `participant` (study id or account key).

    Raises `NoAccounts` (exit 10) when they are not enrolled (unknown, withdrawn, or their
    invite not finished) and `UsageError` (exit 2) for a malformed id, or — unless `force` —
    when no loss of their grant is recorded.  The caller's transaction, if any, holds it."""
    check_label(participant, valid_for_s)
    conn = tables.connection(store)
    tables.ensure_tables(conn)
    now_s = int(clock.now_s())
    with store.transaction():
        row = tables.enrolled(conn, participant)
        if row is None or row.account_key is None:
            raise _not_enrolled(conn, participant, now_s)
        if not force:
            _refuse_working_grant(store, row.label, row.account_key)
        conn.execute(  # an earlier link still pending stops working
            "UPDATE study_enrolment SET status = %s, state_digest = NULL "
            "WHERE reconnect_of = %s AND status IN (%s, %s)",
            (tables.REPLACED, row.invite_id, tables.INVITED, tables.CONSENTED),
        )
        new = tables.insert_invite(
            conn, row.label, random_token(), now_s, now_s + valid_for_s, reconnect_of=row.invite_id
        )
    token = invite_token(Signer(signing_key), new.nonce, new.expires_s)
    return Invite(
        row.label, invite_url(public_base_url, token), new.expires_s, new.invite_id, reconnect=True
    )


def _not_enrolled(conn: psycopg.Connection[Any], participant: str, now_s: int) -> NoAccounts:
    invites = [
        row
        for row in tables.all_enrolments(conn)
        if row.label == participant and row.reconnect_of is None
    ]
    fresh = f"Send them a new invite instead: `heartkeep study invite {participant}`."
    if invites:
        newest = invites[0]
        if newest.status == tables.DECLINED:
            why = "they declined their invite"
        elif newest.expires_s <= now_s:
            why = "their invite expired before they enrolled"
        else:
            why = "they have not finished enrolling (their invite link still works)"
        return NoAccounts(
            f"{participant} is not enrolled: {why}; a reconnect link is only for an enrolled "
            "participant whose Google access is gone",
            hint=fresh,
        )
    withdrawn = earlier_withdrawal(conn, participant)
    if withdrawn is not None:
        return NoAccounts(
            f"{participant} was withdrawn on {withdrawn[1]} UTC (audit record {withdrawn[0]}): "
            "their data is deleted, so there is nothing to reconnect",
            hint=f"To take them into the study again: `heartkeep study invite {participant}`.",
        )
    return NoAccounts(
        f"no participant {participant} in this study",
        hint="Name them by study id (as given to `study invite`) or account key; "
        "`heartkeep study status` lists who is enrolled.",
    )


def _refuse_working_grant(store: PostgresStore, label: str, account_key: str) -> None:
    if not store.has_tokens(account_key):
        return  # nothing to lose: the link is the only way to get tokens
    recorded = grant_state.states(tables.connection(store), [account_key]).get(account_key)
    if recorded is not None and recorded[0].grant_gone:
        return
    why = (
        "no failure of their Google access is recorded"
        if recorded is None
        else _NOT_THE_GRANT[recorded[0]]
    )
    raise UsageError(
        f"{label} does not need a reconnect link: {why}.  A reconnect link is for a "
        f"participant whose grant is gone ({_GONE})",
        hint="If you know their grant is gone (they removed the study's access at Google and "
        "no sync has noticed yet), add --force to make the link anyway.",
    )


def enrolled_row(conn: psycopg.Connection[Any], row: tables.Enrolment) -> tables.Enrolment | None:
    """The enrolled row a reconnect invite restores, while that participant is enrolled."""
    if row.reconnect_of is None:
        return None
    enrolled = tables.by_invite_id(conn, row.reconnect_of)
    if enrolled is None or enrolled.status != tables.ENROLLED or enrolled.account_key is None:
        return None
    return enrolled


def reconnect(
    conn: psycopg.Connection[Any],
    store: PostgresStore,
    row: tables.Enrolment,
    enrolled: tables.Enrolment,
    *,
    account_key: str,
    tokens: TokenSet,
    client: TokenClient,
    now_s: int,
) -> bool:
    """Put the new grant in place of the old (True), or refuse another Google account than
    the enrolled one (False: nothing stored or cleared).  Runs in the callback's transaction."""
    if account_key != enrolled.account_key:
        if tables.enrolled(conn, account_key) is None and not store.has_tokens(account_key):
            # A stray grant of an account the study does not know: never stored, so revoke it
            # (a failure to is harmless, as for a partial grant at enrolment).
            client.discard_grant(tokens)
        return False
    store.save_tokens(account_key, tokens)  # waits for a refresh in flight (its row lock)
    grant_state.clear(conn, account_key)
    tables.update(
        conn,
        row.invite_id,
        status=tables.RECONNECTED,
        account_key=account_key,
        enrolled_s=now_s,
        state_digest=None,
    )
    return True


# --- what the coordinator pages and `study status` show ------------------------------------

RECONNECT_INVITED = "reconnect invited"


def reconnect_state(row: tables.Enrolment, now_s: float) -> str:
    """What a reconnect invite that is not done says."""
    if row.status == tables.DECLINED:
        return "reconnect declined"
    if now_s >= row.expires_s:
        return "reconnect link expired"
    if row.status == tables.CONSENTED:
        return "reconnect under way"
    return RECONNECT_INVITED


@dataclass(frozen=True, slots=True)
class Participant:
    """The row that says who a participant is, and a reconnect invite not done yet."""

    row: tables.Enrolment
    reconnect: tables.Enrolment | None


def _participant(rows: list[tables.Enrolment]) -> Participant:
    enrolled = next((row for row in rows if row.status == tables.ENROLLED), None)
    if enrolled is None:
        plain = [row for row in rows if row.reconnect_of is None]
        return Participant((plain or rows)[0], None)
    newest = next((row for row in rows if row.reconnect_of == enrolled.invite_id), None)
    done = newest is None or newest.status == tables.RECONNECTED
    return Participant(enrolled, None if done else newest)


def participants(rows: Iterable[tables.Enrolment]) -> dict[str, Participant]:
    """Each participant by label (sorted), from invite rows newest first per label (as
    `tables.all_enrolments` gives them)."""
    by_label: dict[str, list[tables.Enrolment]] = {}
    for row in rows:
        by_label.setdefault(row.label, []).append(row)
    return {label: _participant(found) for label, found in sorted(by_label.items())}
