"""Forgetting an account: every row the store holds for it, deleted in one transaction.

A person may want one account's heart rate gone from their disk (a shared machine, a test
account, a watch sold).  "Everything" means the samples, the daily values, the sync state that
says which spans are complete (left behind, it would make a later sync skip history it no
longer has), the fetch ledger, the run history, the merge counts, the import records and the
account row itself.  Rather than a list that a new table could be missing from, every table
with an `account_id` column is cleared; the report names the well-known ones and counts the
rest as `other_rows`.  The caller compacts the file afterwards (VACUUM) so the deleted pages do
not linger on disk.
"""

from __future__ import annotations

import sqlite3

import msgspec

# Table → what the report calls its rows.
_TABLES = (
    ("heart_rate", "samples"),
    ("daily", "dailies"),
    ("sync_state", "sync_states"),
    ("fetch_ledger", "ledger_entries"),
    ("sync_run", "runs"),
    ("sample_merge", "merge_counts"),
)


class ForgetReport(msgspec.Struct, frozen=True):
    """How many rows of each kind `forget_account` deleted (all zero: nothing was stored)."""

    account_key: str
    samples: int = 0
    dailies: int = 0
    sync_states: int = 0
    ledger_entries: int = 0
    runs: int = 0
    merge_counts: int = 0
    other_rows: int = 0  # import records and any other per-account table

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account_key,
            "deleted": {
                field: getattr(self, field) for field in (*dict(_TABLES).values(), "other_rows")
            },
        }


def delete_account_rows(db: sqlite3.Connection, account_key: str) -> ForgetReport:
    """Delete the account's rows from every table; the caller holds a write transaction."""
    found = db.execute("SELECT id FROM account WHERE key = ?", (account_key,)).fetchone()
    if found is None:
        return ForgetReport(account_key)
    (account_id,) = found
    tables = [
        name
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if any(column[1] == "account_id" for column in db.execute(f'PRAGMA table_info("{name}")'))
    ]
    named = dict(_TABLES)
    counts: dict[str, int] = {"other_rows": 0}
    for table in tables:
        deleted = db.execute(
            f'DELETE FROM "{table}" WHERE account_id = ?',  # noqa: S608 - names from sqlite_master
            (account_id,),
        ).rowcount
        field = named.get(table, "other_rows")
        counts[field] = counts.get(field, 0) + deleted
    db.execute("DELETE FROM account WHERE id = ?", (account_id,))
    return ForgetReport(account_key, **counts)
