"""PostgreSQL failures as heartkeep errors: a `StoreError` (exit 9) with the server's message.

Why a module: every public method of the PostgreSQL store must end a database failure in a
documented exit code and a message, never a traceback (invariant 9), and a URL must never
reach a message with its password (invariant 6).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import psycopg

from heartkeep.errors import StoreError

_P = ParamSpec("_P")
_R = TypeVar("_R")


def guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A database failure in `method` becomes a `StoreError` (exit 9), never a traceback."""

    @wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except psycopg.Error as failure:
            raise StoreError(f"PostgreSQL: {str(failure).strip()}") from failure

    return call


def describe(url: str) -> str:
    """Where a URL points, without its password (invariant 6): 'host:port/dbname'."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the PostgreSQL database given"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
