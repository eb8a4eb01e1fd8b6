"""A participant's access token for a sync job: from the study database, refreshed at most once.

Why here: the refresh policy (`heartkeep.auth.refresh`) keeps one person's tokens in a vault
file on one machine; a study's workers run on many hosts and share the database.  This joins
the two halves: the store seals the pair and serialises refreshes with a row lock
(`PostgresStore.refresh_tokens`), the `TokenClient` spends the refresh token at the provider.
"""

from __future__ import annotations

import contextlib

import psycopg

from heartkeep.auth.refresh import DEFAULT_LEEWAY_S
from heartkeep.auth.token_client import LOGIN_AGAIN, TokenClient
from heartkeep.errors import HeartkeepError, ReauthorizationNeeded
from heartkeep.model import TokenSet
from heartkeep.store.postgres import PostgresStore
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState


def participant_tokens(
    store: PostgresStore,
    account_key: str,
    client: TokenClient,
    *,
    leeway_s: float = DEFAULT_LEEWAY_S,
) -> TokenSet:
    """Tokens valid for at least `leeway_s` (refreshed at the provider if needed, by exactly
    one of the workers that ask at once).  Raises `ReauthorizationNeeded` when the grant is
    gone (the participant revoked it, or a Testing app's week is over).  A refresh that
    fails records why in the participant's grant state (`grant_state.py`): the token client
    classified the answer (`invalid_grant`, a rejected client, the endpoint unreachable)."""

    refused: list[GrantState] = []

    def spend(current: TokenSet) -> TokenSet:
        if not current.refresh_token:
            refused.append(GrantState.NO_REFRESH_TOKEN)
            raise ReauthorizationNeeded(f"{account_key} has no refresh token, {LOGIN_AGAIN}")
        try:
            return client.refresh(current.refresh_token, previous=current)
        except HeartkeepError as failure:
            refused.append(grant_state.from_refresh_failure(failure))
            raise

    try:
        return store.refresh_tokens(account_key, spend, clock=client.clock, leeway_s=leeway_s)
    except HeartkeepError as failure:
        if refused:  # recorded after the refresh's transaction ended (it rolled back)
            with contextlib.suppress(psycopg.Error):  # the refusal matters more than its note
                grant_state.record(
                    store.connection(),
                    account_key,
                    refused[0],
                    failure.message,
                    client.clock.now_s(),
                )
        raise
