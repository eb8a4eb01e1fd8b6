"""Coordinator sessions kept on the server: a row per login, so logging out really ends one.

Why server-side: a signed cookie that carries its own expiry stays valid until then, whatever
the server does — a coordinator who logs out on a shared computer (or whose cookie was copied)
would leave a working session behind for hours.  Here the cookie holds only a random session
id (signed, so a forged one is refused before any query); the database keeps its sha256 (a
copy of the table opens no session), who, since when, until when, and a keyed fingerprint of
the coordinator's user name and password hash in force at login.  A session is good while
its row exists, it has not expired (the injected clock), and neither the user name nor the
password has changed since: logout deletes the row, and a changed password or user name (the
study's configuration, then `study serve` restarted) ends every session at once — a renamed
coordinator account is a different login, whatever the old cookie says.  Each session's CSRF
token is a keyed hash of its id.

`study_coordinator_session` lives in the store's schema beside the enrolment tables, created
on first use; expired rows are purged at each login.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heartkeep.study.web_signing import Signer, random_token

if TYPE_CHECKING:
    import psycopg

    from heartkeep.study.coordinator_auth import CoordinatorLogin

SESSION_S = 8 * 3600
_PURPOSE = "coordinator-session"

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS study_coordinator_session (
        id_sha256       text PRIMARY KEY,   -- sha256 of the cookie's random id, never the id
        user_name       text NOT NULL,
        created_s       bigint NOT NULL,
        expires_s       bigint NOT NULL,
        password_stamp  text NOT NULL       -- keyed hash of user name + password hash at login
    )
    """,
)


@dataclass(frozen=True)
class Session:
    """A logged-in coordinator: who, since when, and the CSRF token their forms carry."""

    user: str
    issued_s: int
    csrf: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """Starts, reads and ends coordinator sessions in the study's database.

    `login`: the coordinator's current user name and password hash (`CoordinatorLogin`); a
    session started under another name or password is refused and deleted."""

    def __init__(self, signer: Signer, login: CoordinatorLogin, *, lifetime_s: int = SESSION_S):
        self._signer = signer
        # The name is part of the stamp, length first so that no two (name, hash) pairs collide.
        pair = f"{len(login.user)}:{login.user}{login.password_hash}"
        self._stamp = signer.digest("password-stamp", pair)
        self.lifetime_s = lifetime_s

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        return self._signer.unsign(_PURPOSE, cookie)

    def start(self, conn: psycopg.Connection[Any], user: str, now_s: float) -> str:
        """A new session for `user` (expired ones purged); the cookie's value."""
        session_id = random_token(24)
        with conn.transaction():
            conn.execute(
                "DELETE FROM study_coordinator_session WHERE expires_s <= %s", (int(now_s),)
            )
            conn.execute(
                "INSERT INTO study_coordinator_session (id_sha256, user_name, created_s, "
                "expires_s, password_stamp) VALUES (%s, %s, %s, %s, %s)",
                (
                    _digest(session_id),
                    user,
                    int(now_s),
                    int(now_s) + self.lifetime_s,
                    self._stamp,
                ),
            )
        return self._signer.sign(_PURPOSE, session_id)

    def read(
        self, conn: psycopg.Connection[Any], cookie: str | None, now_s: float
    ) -> Session | None:
        """The session `cookie` names, or None: missing, forged, logged out, expired, or
        started under a password or user name since changed (that row is deleted)."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return None
        row = conn.execute(
            "SELECT user_name, created_s, expires_s, password_stamp "
            "FROM study_coordinator_session WHERE id_sha256 = %s",
            (_digest(session_id),),
        ).fetchone()
        if row is None:
            return None
        user, created_s, expires_s, stamp = str(row[0]), int(row[1]), int(row[2]), str(row[3])
        if stamp != self._stamp:
            self.end(conn, cookie)
            return None
        if not created_s <= now_s < expires_s:
            return None
        return Session(user, created_s, self._signer.digest("csrf", session_id))

    def end(self, conn: psycopg.Connection[Any], cookie: str | None) -> bool:
        """Log out: delete the session `cookie` names (True when there was one)."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return False
        deleted = conn.execute(
            "DELETE FROM study_coordinator_session WHERE id_sha256 = %s",
            (_digest(session_id),),
        ).rowcount
        return deleted > 0

    def end_stale(self, conn: psycopg.Connection[Any], now_s: float) -> int:
        """Delete every expired session and every one started under another user name or
        password (what `study serve` does when it starts: a changed login ends every session);
        how many."""
        return conn.execute(
            "DELETE FROM study_coordinator_session WHERE expires_s <= %s OR password_stamp <> %s",
            (int(now_s), self._stamp),
        ).rowcount


def end_all_sessions(conn: psycopg.Connection[Any]) -> int:
    """Log every coordinator out (after a suspected leak, say); how many sessions ended."""
    return conn.execute("DELETE FROM study_coordinator_session").rowcount
