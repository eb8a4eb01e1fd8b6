"""Participants' OAuth tokens in the study database: sealed at rest, refreshed under a row lock.

Why in the database: the workers that sync a study run on many hosts, and each needs the
participant's current access token; a vault file per machine cannot be shared.  Why sealed: see
`token_cipher.py`.  Why a row lock: an access token lasts an hour and two workers may find it
expiring at once; `refresh_tokens` takes `SELECT … FOR UPDATE` on the participant's row, so the
second waits, then finds the pair the first stored and spends nothing.  The new pair is
committed before the access token is handed out, and the stored refresh token stays valid
throughout (Google does not rotate it; a provider that does sends the new one in the answer
that is committed), so a valid refresh token is durable at every instant — the vault's
invariant, across hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from heartkeep.errors import NoAccounts
from heartkeep.model import TokenSet

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import psycopg

    from heartkeep.clock import Clock
    from heartkeep.store.token_cipher import TokenCipher


class TokensMixin:
    """The token half of `PostgresStore` (which supplies the connection and the cipher)."""

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _writable_account_id(self, key: str) -> int: ...

        def _sql(self, query: str, parameters: Any = ()) -> psycopg.Cursor[tuple[Any, ...]]: ...

        def _token_cipher(self) -> TokenCipher: ...

    def save_tokens(self, account_key: str, tokens: TokenSet) -> None:
        """Store the account's token pair, sealed (replacing any pair it had)."""
        used_key, sealed = self._token_cipher().seal(account_key, tokens)
        with self.transaction():
            account_id = self._writable_account_id(account_key)
            self._sql(
                "INSERT INTO participant_token (account_id, key_id, sealed, expires_at_s, "
                "updated_s) VALUES (%s, %s, %s, %s, extract(epoch FROM now())::bigint) "
                "ON CONFLICT (account_id) DO UPDATE SET key_id = excluded.key_id, "
                "sealed = excluded.sealed, expires_at_s = excluded.expires_at_s, "
                "updated_s = excluded.updated_s",
                (account_id, used_key, sealed, tokens.expires_at_s),
            )

    def load_tokens(self, account_key: str, *, lock: bool = False) -> TokenSet | None:
        """The account's token pair, or None; `lock` (inside a transaction) holds its row."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return None
        row = self._sql(
            "SELECT key_id, sealed FROM participant_token WHERE account_id = %s"  # noqa: S608
            + (" FOR UPDATE" if lock else ""),
            (account_id,),
        ).fetchone()
        if row is None:
            return None
        return self._token_cipher().open(account_key, row[0], bytes(row[1]))

    def has_tokens(self, account_key: str) -> bool:
        """Whether the account has a pair stored, without opening it (no key needed: what
        `study invite --reconnect` asks before it makes a link)."""
        account_id = self._account_id(account_key, create=False)
        if account_id is None:
            return False
        row = self._sql(
            "SELECT 1 FROM participant_token WHERE account_id = %s", (account_id,)
        ).fetchone()
        return row is not None

    def refresh_tokens(
        self,
        account_key: str,
        refresh: Callable[[TokenSet], TokenSet],
        *,
        clock: Clock,
        leeway_s: float = 300.0,
    ) -> TokenSet:
        """Tokens valid for at least `leeway_s`: the stored pair, or — at most once among all
        workers — the pair `refresh(stored)` returns, committed before it is returned.

        `refresh` runs while this participant's row is locked (it spends the refresh token at
        the provider); a second caller waits for it, then returns the pair it stored.  Raises
        `NoAccounts` when no tokens are stored; whatever `refresh` raises (the row unchanged).
        """
        held = self.load_tokens(account_key)
        if held is None:
            raise NoAccounts(
                f"no tokens are stored for {account_key}",
                hint="The participant has to enrol (or log in) first.",
            )
        if not held.expires_within(clock.now_s(), leeway_s):
            return held
        with self.transaction():
            current = self.load_tokens(account_key, lock=True)
            assert current is not None  # the row outlives the lock wait unless forgotten
            if not current.expires_within(clock.now_s(), leeway_s):
                return current  # a peer refreshed while this one waited
            fresh = refresh(current)
            self.save_tokens(account_key, fresh)
        return fresh

    def reseal_tokens(self) -> int:
        """Seal every stored pair again with the current key (after a key rotation); how many."""
        resealed = 0
        with self.transaction():
            rows = self._sql(
                "SELECT a.key FROM participant_token AS t JOIN account AS a "
                "ON a.id = t.account_id ORDER BY t.account_id FOR UPDATE OF t"
            ).fetchall()
            for (key,) in rows:
                tokens = self.load_tokens(key)
                assert tokens is not None
                self.save_tokens(key, tokens)
                resealed += 1
        return resealed
