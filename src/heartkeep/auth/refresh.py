"""The refresh policy and `VaultAuth`, the `http_client.Auth` every provider request goes through.

Policy, in the order a request meets it:

1. Use the access token in memory unless it expires within `leeway_s` (5 minutes by default).
2. Otherwise take the vault's inter-process lock and re-read the file: another process may have
   refreshed already, in which case its tokens are used and nothing is spent.
3. If the file holds a journal of an interrupted refresh, repeat exactly that refresh first.
4. To refresh: journal the attempt in the vault (durably), send it, write the new pair with
   compare-and-set on the spent refresh token, and only then hand out the access token.  So a
   valid refresh token is on disk at every instant, and one process's answer is never lost to a
   crash: Google keeps accepting the same refresh token, Fitbit repeats the same answer for two
   minutes, and the journal makes the next run use that window.
5. On a 401 the request is replayed once after a refresh (unless a peer refreshed meanwhile).

The blocking lock and token request run inside the auth flow, also under `http_client.AsyncClient`;
refreshes happen about once an hour, so that brief block is accepted.
"""

from __future__ import annotations

import threading
from collections.abc import Generator

import msgspec

from heartkeep import http_client
from heartkeep.auth.crashpoints import crash_point
from heartkeep.auth.endpoints import FITBIT_LEGACY, ProviderEndpoints
from heartkeep.auth.token_client import LOGIN_AGAIN, RetryHook, RetryPolicy, TokenClient
from heartkeep.auth.vault import PendingRefresh, Vault, VaultRecord, fingerprint
from heartkeep.clock import Clock
from heartkeep.errors import ProviderGone, ReauthorizationNeeded
from heartkeep.model import TokenSet

DEFAULT_LEEWAY_S = 300.0
FITBIT_REPLAY_WINDOW_S = 120.0


def _spend(
    vault: Vault,
    record: VaultRecord,
    endpoints: ProviderEndpoints,
    *,
    clock: Clock,
    timeout_s: float,
    retry: RetryPolicy | None,
    on_retry: RetryHook | None,
) -> TokenSet:
    """Spend the record's refresh token and persist the answer.  The caller holds the lock."""
    refresh_token = record.tokens.refresh_token
    if not refresh_token:
        raise ReauthorizationNeeded(
            f"{record.account_key} has no refresh token, {LOGIN_AGAIN}",
        )
    pending = record.pending_refresh
    replaying = pending is not None and pending.refresh_token_fingerprint == fingerprint(
        refresh_token
    )
    if not replaying:
        record = msgspec.structs.replace(
            record, pending_refresh=PendingRefresh(fingerprint(refresh_token), clock.now_s())
        )
        vault.save(record, crash_step="during-journal-write")
    crash_point("before-request")
    try:
        with TokenClient(
            endpoints,
            record.client,
            clock=clock,
            timeout_s=timeout_s,
            retry=retry,
            on_retry=on_retry,
        ) as token_client:
            tokens = token_client.refresh(refresh_token, previous=record.tokens)
    except ReauthorizationNeeded as refused:
        now_s = clock.now_s()
        vault.save(
            msgspec.structs.replace(
                record, pending_refresh=None, last_error="invalid_grant", last_error_at_s=now_s
            )
        )
        if replaying and pending is not None and endpoints.provider == FITBIT_LEGACY:
            late_s = now_s - pending.started_at_s
            if late_s > FITBIT_REPLAY_WINDOW_S:
                raise ReauthorizationNeeded(
                    f"a token refresh of {record.account_key} was interrupted {late_s:.0f} s ago "
                    "and Fitbit repeats a refresh answer for only 2 minutes; access is lost, "
                    f"{LOGIN_AGAIN}",
                    provider_code=refused.provider_code,
                ) from None
        raise
    except ProviderGone:
        vault.save(
            msgspec.structs.replace(
                record,
                pending_refresh=None,
                last_error="gone",
                last_error_at_s=clock.now_s(),
            )
        )
        raise
    crash_point("after-response")
    now_s = clock.now_s()
    rotated = tokens.refresh_token != refresh_token
    updated = msgspec.structs.replace(
        record,
        tokens=tokens,
        pending_refresh=None,
        last_refresh_at_s=now_s,
        refresh_token_issued_at_s=now_s if rotated else record.refresh_token_issued_at_s,
        last_error=None,
        last_error_at_s=None,
    )
    if not vault.compare_and_set(refresh_token, updated):
        # Someone wrote without the lock; their pair is the newer one on disk: use it.
        return vault.load().tokens
    crash_point("after-write")
    return tokens


def current_tokens(
    vault: Vault,
    endpoints: ProviderEndpoints,
    *,
    clock: Clock,
    leeway_s: float = DEFAULT_LEEWAY_S,
    stale_access_token: str | None = None,
    force: bool = False,
    timeout_s: float = 30.0,
    retry: RetryPolicy | None = None,
    on_retry: RetryHook | None = None,
) -> TokenSet:
    """Tokens good for at least `leeway_s`, refreshing under the vault lock if needed.

    `stale_access_token` names a token the server just refused (401): it is replaced even if its
    recorded expiry is far off — unless a peer already replaced it.  `force` refreshes regardless.
    Raises `ReauthorizationNeeded`, `ProviderGone`, `TransientError` (tokens kept), `NoAccounts`.
    """
    # Tokens still good need no lock (the file is only ever replaced whole): the cron case, a
    # sync with nothing to fetch, then costs neither filelock's import nor a lock file.  A peer
    # that refreshes meanwhile is no harm: a refused token comes back as a 401, and that path
    # decides under the lock.
    if stale_access_token is None and not force:
        record = vault.load()
        if record.pending_refresh is None and _still_good(record.tokens, clock, leeway_s, None):
            return record.tokens
    with vault.lock():
        record = vault.load()
        tokens = record.tokens
        fresh = _still_good(tokens, clock, leeway_s, stale_access_token)
        if record.pending_refresh is None and not force and fresh:
            return tokens
        return _spend(
            vault,
            record,
            endpoints,
            clock=clock,
            timeout_s=timeout_s,
            retry=retry,
            on_retry=on_retry,
        )


def _still_good(
    tokens: TokenSet, clock: Clock, leeway_s: float, stale_access_token: str | None
) -> bool:
    """Not expiring within `leeway_s`, or (after a 401) already replaced by a peer."""
    if stale_access_token is None:
        return not tokens.expires_within(clock.now_s(), leeway_s)
    return tokens.access_token != stale_access_token


class VaultAuth(http_client.Auth):
    """Bearer authentication backed by the vault: lazy refresh before expiry, one replay on 401.

    Thread-safe; several `VaultAuth` objects (in one process or many) may share an account, the
    vault lock serialises their refreshes and none spends a refresh token another already spent.
    """

    def __init__(
        self,
        vault: Vault,
        endpoints: ProviderEndpoints,
        *,
        clock: Clock,
        leeway_s: float = DEFAULT_LEEWAY_S,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        on_retry: RetryHook | None = None,
    ) -> None:
        self.vault = vault
        self.endpoints = endpoints
        self.clock = clock
        self.leeway_s = leeway_s
        self.timeout_s = timeout_s
        self.retry = retry
        self.on_retry = on_retry
        self._tokens: TokenSet | None = None
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"VaultAuth({self.vault.account_key!r})"

    def tokens(self, *, stale_access_token: str | None = None, force: bool = False) -> TokenSet:
        """Current tokens, refreshed if they expire within the leeway (or are stale / forced)."""
        with self._mutex:
            cached = self._tokens
            if (
                cached is not None
                and not force
                and stale_access_token is None
                and not cached.expires_within(self.clock.now_s(), self.leeway_s)
            ):
                return cached
            self._tokens = current_tokens(
                self.vault,
                self.endpoints,
                clock=self.clock,
                leeway_s=self.leeway_s,
                stale_access_token=stale_access_token,
                force=force,
                timeout_s=self.timeout_s,
                retry=self.retry,
                on_retry=self.on_retry,
            )
            return self._tokens

    def refresh(self) -> TokenSet:
        """Spend the refresh token now, whatever the expiry says (used by tests and `--force`)."""
        return self.tokens(force=True)

    def auth_flow(
        self, request: http_client.Request
    ) -> Generator[http_client.Request, http_client.Response, None]:
        tokens = self.tokens()
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            tokens = self.tokens(stale_access_token=tokens.access_token)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request
