"""A participant's life in the study from the operator's side: invite, withdraw.

Part of the study's front door (`api_study.py`, which re-exports these names and loads this
module on first use): the wiring of config → store → the study's parts for `heartkeep study
invite` and `heartkeep study withdraw`, so `cli/study_participants.py` stays a skin.  Split
out of `api_study.py` by job: the front door had grown past 400 lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
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
    reconnect: bool = False,
    force: bool = False,
    clock: Clock | None = None,
) -> list[Invite]:
    """A single-use, expiring invite link for each study id in `labels` (`P-017`; one link for an
    id given twice); `UsageError` (exit 2) for a malformed id or one already enrolled, and then
    no link is made at all.

    `reconnect`: links for enrolled participants whose Google grant is gone, which keep their
    data (`study/reconnect.py`); `NoAccounts` (exit 10) for an id not enrolled (unknown,
    withdrawn, invite not finished), `UsageError` (exit 2) for one whose grant is not known
    to be gone, unless `force`."""
    from heartkeep.errors import UsageError
    from heartkeep.study.config import MAX_INVITE_VALID_DAYS
    from heartkeep.study.invites import create_invite
    from heartkeep.study.reconnect import create_reconnect_invite

    days = valid_days or config.invite_valid_days
    if not 1 <= days <= MAX_INVITE_VALID_DAYS:
        raise UsageError(
            f"an invite is valid for 1 to {MAX_INVITE_VALID_DAYS} days, not {days}",
            hint="Send a new invite when one expires.",
        )
    if force and not reconnect:
        raise UsageError(
            "--force goes with --reconnect (a reconnect link despite a working grant)",
            hint="A plain invite needs no --force.",
        )
    clock = clock or SystemClock()
    signing_key, base_url, valid_for_s = config.invite_signing_key, config.public_base_url, days

    # a reconnect link is an invite's, for an enrolled participant, with `force` besides
    create: Callable[..., Invite] = (
        partial(create_reconnect_invite, force=force) if reconnect else create_invite
    )

    def make(store: PostgresStore, label: str) -> Invite:
        return create(
            store,
            label,
            signing_key=signing_key,
            public_base_url=base_url,
            clock=clock,
            valid_for_s=valid_for_s * 86_400,
        )

    # All or none, once per id: a link made but never shown (a later id refused, Ctrl-C) would
    # stay valid with nobody knowing it.
    with open_study_store(config) as store, store.transaction():
        return [make(store, label) for label in dict.fromkeys(labels)]


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
    from heartkeep.study.withdrawal import earlier_withdrawal
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
            earlier = earlier_withdrawal(store.connection(), participant)
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
