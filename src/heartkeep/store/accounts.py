"""Accounts, for both stores: the small integer id behind each `provider:user_id` key.

Why one module for two databases: the `account` table is the same in SQLite and PostgreSQL
(ids 0, 1, 2… keep every sample row short), so looking an account up, listing accounts and
refreshing one's name and zone are written once (`store/dialect.py` says how).  Only making a
new id is the backend's own (`_insert_account`): SQLite's writer holds the file's lock, many
PostgreSQL writers take turns on an advisory lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heartkeep.errors import StoreError
from heartkeep.model import Account
from heartkeep.store.dialect import SharedStatements
from heartkeep.store.rows import account_from_row

_ACCOUNT_COLUMNS = "provider, user_id, display_name, time_zone, CAST(member_since AS TEXT)"


class AccountsMixin(SharedStatements):
    """Account lookup and upkeep of `SqliteStore` and `PostgresStore`."""

    if TYPE_CHECKING:
        _account_ids: dict[str, int]  # key → id, filled as accounts are looked up

        def _insert_account(self, account: Account) -> int: ...

    def upsert_account(self, account: Account) -> None:
        """Add the account or refresh its name, zone and membership date; its id never changes."""
        member_since = self._dialect.day(account.member_since) if account.member_since else None
        with self.transaction():
            row = self._run("SELECT id FROM account WHERE key = ?", (account.key,)).fetchone()
            if row is None:
                self._insert_account(account)
            self._run(
                "UPDATE account SET display_name = ?, time_zone = ?, member_since = ? "
                "WHERE key = ?",
                (account.display_name, account.time_zone, member_since, account.key),
            )

    def accounts(self) -> list[Account]:
        rows = self._run(f"SELECT {_ACCOUNT_COLUMNS} FROM account ORDER BY key").fetchall()  # noqa: S608
        return [account_from_row(row) for row in rows]

    def account(self, key: str) -> Account | None:
        row = self._run(
            f"SELECT {_ACCOUNT_COLUMNS} FROM account WHERE key = ?",  # noqa: S608
            (key,),
        ).fetchone()
        return None if row is None else account_from_row(row)

    def _account_keys(self, only: str | None = None) -> list[str]:
        """Every account's key in order, or just `only` if it is stored."""
        rows = self._run(
            "SELECT key FROM account WHERE CAST(? AS TEXT) IS NULL OR key = ? ORDER BY key",
            (only, only),
        ).fetchall()
        return [row[0] for row in rows]

    def _account_id(self, key: str, *, create: bool) -> int | None:
        """The small integer behind an account key; writes create unknown accounts on the fly."""
        cached = self._account_ids.get(key)
        if cached is not None:
            return cached
        row = self._run("SELECT id FROM account WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self._account_ids[key] = int(row[0])
            return int(row[0])
        if not create:
            return None
        provider, _, user_id = key.partition(":")
        if not provider or not user_id:
            raise StoreError(f"account key {key!r} is not of the form provider:user_id")
        with self.transaction():
            return self._insert_account(Account(provider=provider, user_id=user_id))

    def _writable_account_id(self, key: str) -> int:
        account_id = self._account_id(key, create=True)
        assert account_id is not None
        return account_id
