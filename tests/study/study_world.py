"""A study on loopback for the queue's tests: the sandbox with a few small participants, a real
PostgreSQL schema with the queue's tables, each participant's grant sealed into the store.

Shared by tests/study/test_worker*.py and the child process that a test kills
(tests/study/worker_child.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.model import Sample, TokenSet, Window
from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import KEYS_VARIABLE, TokenCipher, new_key
from heartkeep.study.queue import apply_schema

CLIENT = ClientCredentials(GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, source="sandbox")


def participant(number: int, days: int, start_s: float) -> UserSpec:
    """A synthetic participant who joined `days` days before the sandbox's start."""
    start_day = dt.datetime.fromtimestamp(start_s, dt.UTC).date()
    return UserSpec(
        health_user_id=f"{900000000000000000 + number}",
        legacy_user_id=f"P{number:05d}",
        display_name=f"Participant {number}",
        time_zone=("Europe/Berlin", "America/New_York", "Asia/Tokyo")[number % 3],
        member_since=start_day - dt.timedelta(days=days),
        seed=1_000 + number,
    )


def first_instant_s(spec: UserSpec) -> int:
    day = spec.member_since - dt.timedelta(days=1)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


@dataclass
class StudyWorld:
    sandbox: SandboxServer
    url: str
    keys: list[str]

    @property
    def state(self) -> Any:
        return self.sandbox.state

    @property
    def users(self) -> list[str]:
        return sorted(self.state.users)

    @staticmethod
    def key(user: str) -> str:
        return f"google-health:{user}"

    def worker_kwargs(self) -> dict[str, Any]:
        """`run_worker`'s arguments for this world (all but the database URL)."""
        return {
            "token_keys": self.keys,
            "endpoints": endpoints_for("google", self.sandbox.url),
            "client": CLIENT,
            "http_timeout_s": 10.0,
            "periodic": False,
            "keep_succeeded_jobs": True,
        }

    def truth(self, user: str) -> list[Sample]:
        """Everything the API serves for the participant now."""
        spec = self.state.users[user]
        window = Window(first_instant_s(spec), self.state.visible_end_s(user))
        rows = self.state.ground_truth_samples(user, window.start_s, window.end_s)
        return [Sample(i, b, o // 60) for i, b, o in rows]

    def stored(self, user: str) -> list[Sample]:
        with open_postgres_store(self.url) as store:
            return [s for batch in store.iter_samples(self.key(user)) for s in batch]

    def freeze_devices(self) -> None:
        """Nothing new becomes visible however the clock moves (paced requests move it)."""
        for user in self.users:
            self.state.set_last_sync(user, self.state.now_s() - self.state.config.sync_lag_s)

    def jobs(self) -> list[tuple[str, str, int]]:
        """(task, status, attempts) of every job, in order."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT task_name, status::text, attempts FROM procrastinate_jobs ORDER BY id"
            ).fetchall()
        return [(str(a), str(b), int(c)) for a, b, c in rows]


def enrol_all(sandbox: SandboxServer, url: str, users: Sequence[str]) -> StudyWorld:
    """Create the study's schema and seal a fresh grant per participant, its access token
    already expired (so the first job refreshes it, through the shared grant bucket)."""
    apply_schema(url)
    keys = [new_key()]
    cipher = TokenCipher.from_environment({KEYS_VARIABLE: ",".join(keys)})
    state = sandbox.state
    now = state.clock.now_s()
    scopes = endpoints_for("google", sandbox.url).scopes
    with open_postgres_store(url, token_cipher=cipher) as store:
        for user in users:
            with state.lock:
                issued = state.grants.issue_direct(GOOGLE_CLIENT_ID, user, scopes, now - 7_200)
            store.save_tokens(
                StudyWorld.key(user),
                TokenSet(
                    access_token=issued["access_token"],
                    refresh_token=issued["refresh_token"],
                    expires_at_s=now - 3_600,
                    scopes=scopes,
                    obtained_at_s=now - 7_200,
                    user_id=user,
                ),
            )
    return StudyWorld(sandbox, url, keys)
