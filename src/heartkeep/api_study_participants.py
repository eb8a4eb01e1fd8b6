"""A participant's life in the study from the operator's side: invite, withdraw.

Part of the study's front door (`api_study.py`, which re-exports these names and loads this
module on first use): the wiring of config → store → the study's parts for `heartkeep study
invite` and `heartkeep study withdraw`, so `cli/study_participants.py` stays a skin.  Split
out of `api_study.py` by job: the front door had grown past 400 lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from heartkeep.api_study import open_study_store
from heartkeep.clock import Clock, SystemClock

if TYPE_CHECKING:
    from heartkeep.store.postgres import PostgresStore
    from heartkeep.study.config import StudyConfig
    from heartkeep.study.invites import Invite
    from heartkeep.study.withdrawal import WithdrawalReport


def invite(
    config: StudyConfig,
    labels: Sequence[str],
    *,
    valid_days: int | None = None,
    clock: Clock | None = None,
) -> list[Invite]:
    """A single-use, expiring invite link for each study id in `labels` (`P-017`; one link for an
    id given twice); `UsageError` (exit 2) for a malformed id or one already enrolled, and then
    no link is made at all."""
    from heartkeep.errors import UsageError
    from heartkeep.study.config import MAX_INVITE_VALID_DAYS
    from heartkeep.study.invites import create_invite

    days = valid_days or config.invite_valid_days
    if not 1 <= days <= MAX_INVITE_VALID_DAYS:
        raise UsageError(
            f"an invite is valid for 1 to {MAX_INVITE_VALID_DAYS} days, not {days}",
            hint="Send a new invite when one expires.",
        )
    # All or none, once per id: a link made but never shown (a later id refused, Ctrl-C) would
    # stay valid with nobody knowing it.
    with open_study_store(config) as store, store.transaction():
        return [
            create_invite(
                store,
                label,
                signing_key=config.invite_signing_key,
                public_base_url=config.public_base_url,
                clock=clock or SystemClock(),
                valid_for_s=days * 86_400,
            )
            for label in dict.fromkeys(labels)
        ]


def withdraw(
    config: StudyConfig,
    participant: str,
    *,
    revoke: bool = True,
    actor: str = "cli",
    clock: Clock | None = None,
) -> WithdrawalReport:
    """Withdraw a participant (study id or account key): revoke the grant at the provider
    (unless `revoke` is False), delete their data and tokens, keep an audit record."""
    from heartkeep.auth.client_secrets import ClientCredentials
    from heartkeep.auth.token_client import TokenClient
    from heartkeep.errors import NoAccounts, StoreError, TransientError
    from heartkeep.study.withdrawal import withdraw as withdraw_participant

    clock = clock or SystemClock()
    with open_study_store(config, token_cipher=config.token_cipher()) as store:
        try:
            if not revoke:
                return withdraw_participant(
                    store, participant, token_client=None, clock=clock, actor=actor
                )
            client_id, client_secret = config.client()
            with TokenClient(
                config.endpoints(),
                ClientCredentials(client_id, client_secret, source=str(config.path)),
                clock=clock,
            ) as token_client:
                return withdraw_participant(
                    store, participant, token_client=token_client, clock=clock, actor=actor
                )
        except NoAccounts as failure:
            earlier = _earlier_withdrawal(store, participant)
            if earlier is None:
                raise
            raise NoAccounts(
                f"no participant {participant} in this study any more: withdrawn already on "
                f"{earlier[1]} UTC (audit record {earlier[0]}), nothing of them is left",
                hint="Nothing to do.  To enrol them again, send a new invite "
                "(`heartkeep study invite`).",
            ) from failure
        except TransientError as failure:
            if "revoke" not in failure.message or "still running" in failure.message:
                raise
            raise TransientError(
                f"{failure.message}; nothing was deleted",
                hint="Try again in a few minutes.  Only if the participant's grant is known to "
                "be gone already (they revoked it at Google), `--no-revoke` deletes without "
                "asking Google.",
            ) from failure
        except StoreError as failure:
            if "sealed with key" not in failure.message and "do not open" not in failure.message:
                raise
            raise StoreError(
                f"cannot revoke {participant}'s grant: {failure.message}; nothing was deleted",
                hint="Put back the token key that sealed it (after the current one) and run "
                "the command again; `heartkeep study doctor` checks the keys.",
            ) from failure


def _earlier_withdrawal(store: PostgresStore, participant: str) -> tuple[int, str] | None:
    """(audit id, UTC time) of the newest withdrawal of `participant` (study id or account
    key), if it was withdrawn before: a second `withdraw` says so instead of "no such one"."""
    import datetime as dt

    from heartkeep.study import enrolment_tables as tables
    from heartkeep.study.withdrawal import WITHDRAWAL

    row = (
        tables.connection(store)
        .execute(
            "SELECT id, at_s FROM study_audit WHERE action = %s AND (label = %s OR "
            "account_key = %s) ORDER BY id DESC LIMIT 1",
            (WITHDRAWAL, participant, participant),
        )
        .fetchone()
    )
    if row is None:
        return None
    at = dt.datetime.fromtimestamp(int(row[1]), dt.UTC)
    return int(row[0]), f"{at:%Y-%m-%d %H:%M}"
