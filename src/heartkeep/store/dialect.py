"""What still differs between SQLite's and PostgreSQL's SQL in the statements both stores share.

Why a module: the few-rows-a-day tables (accounts, dailies, sync state, the fetch ledger, run
history, the import record) are column for column the same in both schemas, so their
statements are written once (`accounts.py`, `ledger.py`, `import_record.py`) in the SQL both
servers accept: `?` placeholders, `ON CONFLICT … DO UPDATE` / `DO NOTHING`, `RETURNING`,
`CAST(day AS TEXT)` for a local day read back as 'YYYY-MM-DD'.  A `Dialect` carries the rest:
how a statement's placeholders are spelled for the driver, and how a local day is passed (SQLite
keeps days as ISO text, PostgreSQL as `date`).  A store names its dialect and runs the shared
statements through `_run`, which applies it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class Rows(Protocol):
    """What the shared statements read from a cursor, whichever driver made it."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...


class SharedStatements:
    """The base of the mixins that hold shared statements (`accounts.py`, `ledger.py`,
    `import_record.py`): what the store class supplies them."""

    if TYPE_CHECKING:
        _dialect: Dialect

        def _run(self, sql: str, parameters: Any = ()) -> Rows:
            """Run a shared statement (? placeholders) through the store's connection."""

        def transaction(self) -> AbstractContextManager[None]: ...

        def _account_id(self, key: str, *, create: bool) -> int | None: ...

        def _writable_account_id(self, key: str) -> int: ...


class Dialect(msgspec.Struct, frozen=True):
    """One database's spelling of the shared statements (see the module's docstring)."""

    name: str
    pyformat: bool  # the driver takes %s placeholders (psycopg), not ? (sqlite3)
    day: Callable[[dt.date], object]  # a local day as a statement parameter
    first_day: object  # a parameter below every stored day (a `dailies` with no start)
    past_last_day: object  # a parameter above every stored day (no end)

    def statement(self, sql: str) -> str:
        """`sql`, written with ? placeholders, as this database's driver takes it."""
        return _pyformat(sql) if self.pyformat else sql


@cache
def _pyformat(sql: str) -> str:
    # A literal % must be doubled for psycopg; the shared statements hold no literal ?.
    return sql.replace("%", "%%").replace("?", "%s")


def _same_day(day: dt.date) -> dt.date:
    return day


SQLITE = Dialect(
    name="sqlite",
    pyformat=False,
    day=dt.date.isoformat,
    first_day="0000-00-00",
    past_last_day="9999-99-99",
)
POSTGRES = Dialect(
    name="postgresql",
    pyformat=True,
    day=_same_day,
    first_day=dt.date.min,
    past_last_day=dt.date.max,
)
